import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CidrSet } from "../core/cidr.js";
import type { SipEvent } from "../core/sip-events.js";
import { PbxGuard, type PbxGuardOptions } from "./guard.js";
import { type PbxGuardSettingsInput, pbxGuardSettingsSchema } from "./settings.js";
import { challenge, DAY, failure, HOUR, MIN, response, SEC, success, T0 } from "./test-events.js";
import type { AccountFlag, BanRequest, PbxFinding, PbxOutcome } from "./types.js";

/** Feeds events and gathers everything the guard asked for. */
function run(g: PbxGuard, events: Iterable<SipEvent>) {
  const all = { findings: [] as PbxFinding[], bans: [] as BanRequest[], flags: [] as AccountFlag[] };
  for (const e of events) collect(all, g.ingest(e));
  return all;
}

function collect(all: ReturnType<typeof run>, o: PbxOutcome) {
  all.findings.push(...o.findings);
  all.bans.push(...o.bans);
  all.flags.push(...o.accountFlags);
  return all;
}

function guard(settings: PbxGuardSettingsInput = {}, opts: Omit<PbxGuardOptions, "settings"> = {}) {
  return new PbxGuard({
    historySince: T0 - 30 * DAY,
    ...opts,
    settings: pbxGuardSettingsSchema.parse(settings),
  });
}

const ATTACKER = "198.51.100.66";
const OFFICE = "203.0.113.20";

/** A phone's registration as Asterisk logs it: a challenge, then a successful login. */
function* register(at: number, ip: string, account: string): Generator<SipEvent> {
  yield challenge(at, ip, account);
  yield success(at + 50, ip, account);
}

describe("PBX guard: what must not be banned", () => {
  test("a phone that mistypes its password twice and then registers is left alone", () => {
    const g = guard();
    g.seedPlaces("101", [`${OFFICE.replace(/\.\d+$/, ".0")}/24`], [], T0 - 10 * DAY);
    const out = run(g, [
      challenge(T0, OFFICE, "101"),
      failure(T0 + 1 * SEC, OFFICE, "101"),
      challenge(T0 + 30 * SEC, OFFICE, "101"),
      failure(T0 + 31 * SEC, OFFICE, "101"),
      ...register(T0 + 60 * SEC, OFFICE, "101"),
      ...register(T0 + 61 * MIN, OFFICE, "101"),
    ]);
    assert.deepEqual(out.bans, []);
    assert.deepEqual(out.findings, []);
    // And an international call afterwards is just a call.
    assert.deepEqual(g.noteCall("101", T0 + 5 * MIN, true).findings, []);
  });

  test("an office NAT with 20 phones registering from one address is not banned", () => {
    const g = guard();
    const events: SipEvent[] = [];
    // Every phone registers at once after a power cut, then again every 2 minutes for an hour.
    for (let round = 0; round < 30; round++) {
      for (let p = 0; p < 20; p++)
        events.push(...register(T0 + round * 2 * MIN + p * 100, OFFICE, `${200 + p}`));
    }
    // HEP sees the same office: 401 challenges and 200s count for nothing but logins.
    for (let p = 0; p < 20; p++) {
      events.push(response(T0 + 61 * MIN + p, OFFICE, 401, "REGISTER", `${200 + p}`));
      events.push(response(T0 + 61 * MIN + p + 20, OFFICE, 200, "REGISTER", `${200 + p}`));
    }
    const out = run(g, events);
    assert.deepEqual(out.bans, []);
    assert.equal(out.findings.filter((f) => f.rule !== "new-network").length, 0);
  });

  test("one phone with a stale password behind an established office NAT is not banned", () => {
    const g = guard();
    const events: SipEvent[] = [...register(T0, OFFICE, "300")];
    // Retries every 30 s for 10 minutes: 20 failures, twice the per-address threshold.
    for (let i = 1; i <= 20; i++) events.push(failure(T0 + i * 30 * SEC, OFFICE, "301"));
    assert.deepEqual(run(g, events).bans, []);
  });

  test("a trusted address is never banned; the operator sees one warning per window", () => {
    const trusted = CidrSet.parse(["192.0.2.0/24", "2001:db8:5::/48"]);
    assert.ok(trusted.ok);
    if (!trusted.ok) return;
    const g = guard({}, { trusted: trusted.value });
    const events: SipEvent[] = [];
    for (let i = 0; i < 200; i++) events.push(failure(T0 + i * SEC, "192.0.2.77", `${1000 + (i % 50)}`));
    for (let i = 0; i < 50; i++) events.push(failure(T0 + i * SEC, "2001:db8:5::9", "100"));
    const out = run(g, events);
    assert.deepEqual(out.bans, []);
    assert.ok(out.findings.length > 0);
    // The account under attack is still flagged; only the bans are held back.
    assert.deepEqual(
      out.flags.map((f) => f.type),
      ["targeted"],
    );
    const banFindings = out.findings.filter((f) => f.decision !== "flag");
    assert.ok(banFindings.length > 0);
    for (const f of banFindings) {
      assert.equal(f.decision, "trusted");
      assert.equal(f.severity, "warning");
      assert.match(f.message, /would have banned trusted address/);
    }
    const keys = banFindings.map((f) => `${f.rule} ${f.subject}`);
    assert.equal(new Set(keys).size, keys.length, "one warning per rule and address");
    assert.equal(g.stats.trusted > banFindings.length, true);
  });
});

describe("PBX guard: bans", () => {
  function attack(g: PbxGuard, at: number, account = "100") {
    const all = { findings: [] as PbxFinding[], bans: [] as BanRequest[], flags: [] as AccountFlag[] };
    for (let i = 0; i < 12; i++) collect(all, g.ingest(failure(at + i * SEC, ATTACKER, account)));
    return all;
  }

  test("escalates for repeat offenders: 10 minutes, an hour, a day, a week, a week", () => {
    const g = guard();
    const durations: number[] = [];
    let at = T0;
    for (let round = 0; round < 5; round++) {
      // A new account each time, so that only the per-address rule fires.
      const out = attack(g, at, `${100 + round}`);
      assert.equal(out.bans.length, 1, `round ${round}`);
      const ban = out.bans[0]!;
      assert.equal(ban.address, ATTACKER);
      assert.equal(ban.rule, "password-guessing");
      assert.equal(ban.severity, "critical");
      assert.equal(ban.offence, round + 1);
      durations.push(ban.durationMs);
      at = ban.at + ban.durationMs + MIN;
      g.tick(at);
    }
    assert.deepEqual(durations, [10 * MIN, HOUR, DAY, 7 * DAY, 7 * DAY]);
  });

  test("the ladder continues from offences seeded from the store, and forgets after a month", () => {
    const g = guard();
    g.seedOffences(ATTACKER, 2, T0 - DAY);
    assert.equal(attack(g, T0).bans[0]?.durationMs, DAY);
    const g2 = guard();
    g2.seedOffences(ATTACKER, 3, T0 - 40 * DAY);
    assert.equal(attack(g2, T0).bans[0]?.durationMs, 10 * MIN);
  });

  test("the ladder is configurable", () => {
    const g = guard({ banLadderMinutes: [1, 2] });
    const a = attack(g, T0).bans[0]!;
    g.tick(a.at + 2 * MIN);
    const b = attack(g, a.at + 3 * MIN).bans[0]!;
    assert.deepEqual([a.durationMs, b.durationMs], [MIN, 2 * MIN]);
  });

  test("one ban per address while it is in force, from the guard or from the store", () => {
    const g = guard();
    const first = attack(g, T0);
    assert.equal(first.bans.length, 1);
    // Delayed log lines keep coming while the kernel already drops the address.
    assert.equal(attack(g, T0 + MIN).bans.length, 0);
    assert.ok(g.stats.alreadyBanned > 0);
    assert.equal(g.banInForce(ATTACKER, T0 + 2 * MIN)?.rule, "password-guessing");
    // An operator lifts it: the next offence bans again, one step up the ladder.
    assert.equal(g.liftBan(ATTACKER), true);
    assert.equal(attack(g, T0 + 3 * MIN).bans[0]?.offence, 2);

    const h = guard();
    h.applyBan({ address: "::ffff:198.51.100.66", until: T0 + HOUR, rule: "operator" });
    assert.equal(attack(h, T0).bans.length, 0);
    h.tick(T0 + HOUR);
    assert.deepEqual(h.activeBans(T0 + HOUR), []);
    assert.equal(attack(h, T0 + HOUR + MIN).bans.length, 1);
  });

  test("report mode records what would have been banned and bans nothing", () => {
    const g = guard({
      rules: { "password-guessing": { mode: "report" }, "account-guessing": { mode: "off" } },
    });
    const out = attack(g, T0);
    assert.deepEqual(out.bans, []);
    assert.equal(out.findings.length, 1);
    assert.equal(out.findings[0]?.decision, "report");
    assert.equal(g.offencesOf(ATTACKER, T0 + MIN), 0);
  });

  test("off means the rule does not look at all", () => {
    const g = guard({
      rules: {
        "password-guessing": { mode: "off" },
        "extension-enumeration": { mode: "off" },
        "account-guessing": { mode: "off" },
      },
    });
    const out = attack(g, T0);
    assert.deepEqual([out.bans, out.findings], [[], []]);
  });
});

describe("PBX guard: the compromise chain", () => {
  test("failures, then a success from the same address, then an international call: pbx-compromise", () => {
    const g = guard();
    g.seedPlaces("100", ["203.0.113.0/24"], [], T0 - 20 * DAY);
    const events: SipEvent[] = [];
    // Six guesses, below the per-address threshold, then the right password.
    for (let i = 0; i < 6; i++) events.push(failure(T0 + i * 10 * SEC, ATTACKER, "100"));
    events.push(success(T0 + 70 * SEC, ATTACKER, "100"));
    const out = run(g, events);
    assert.deepEqual(out.bans, []);
    const flagTypes = out.flags.map((f) => f.type).sort();
    assert.deepEqual(flagTypes, ["new-network", "suspicious-login"]);
    const suspicious = out.findings.find((f) => f.rule === "suspicious-login");
    assert.equal(suspicious?.severity, "critical");

    // A domestic call changes nothing; the international one completes the chain.
    assert.deepEqual(g.noteCall("100", T0 + 5 * MIN, false).findings, []);
    const call = g.noteCall("100", T0 + 6 * MIN, true);
    assert.equal(call.findings.length, 1);
    const f = call.findings[0]!;
    assert.equal(f.rule, "pbx-compromise");
    assert.equal(f.severity, "critical");
    assert.equal(f.decision, "block");
    assert.equal(f.blockAccount?.account, "100");
    assert.equal(f.blockAccount?.durationMs, DAY);
    assert.match(f.blockAccount?.reason ?? "", /login after failures/);
    assert.equal(f.blockAccount?.evidence.loginAddress, ATTACKER);
    assert.deepEqual(
      call.accountFlags.map((a) => a.type),
      ["compromised"],
    );
    // Once: the call guard's block takes over.
    assert.deepEqual(g.noteCall("100", T0 + 7 * MIN, true).findings, []);
  });

  test("failures for the account from many addresses, then a success from another one", () => {
    const g = guard({ rules: { "account-guessing": { mode: "off" } } });
    const events: SipEvent[] = [];
    for (let i = 0; i < 5; i++) events.push(failure(T0 + i * MIN, `198.51.100.${i + 1}`, "acme-100"));
    events.push(success(T0 + 10 * MIN, "198.51.100.200", "acme-100"));
    const out = run(g, events);
    assert.ok(out.flags.some((f) => f.type === "suspicious-login"));
    // The extension belongs to the call guard's account "acme".
    assert.equal(g.noteCall("acme", T0 + 11 * MIN, true).findings.length, 0, "no mapping given yet");

    const mapped = guard(
      { rules: { "account-guessing": { mode: "off" } } },
      { callAccountOf: (sip) => sip.split("-")[0] },
    );
    run(mapped, events);
    const f = mapped.noteCall("acme", T0 + 11 * MIN, true).findings[0];
    assert.equal(f?.blockAccount?.account, "acme");
    assert.equal(f?.blockAccount?.evidence.sipAccount, "acme-100");
  });

  test("a login from a new network, then an international call", () => {
    const g = guard();
    g.seedPlaces("100", ["203.0.113.0/24"], [], T0 - 20 * DAY);
    const out = run(g, [success(T0, "203.0.113.9", "100"), success(T0 + MIN, "192.0.2.200", "100")]);
    assert.deepEqual(
      out.flags.map((f) => f.type),
      ["new-network"],
    );
    assert.equal(out.findings[0]?.evidence.network, "192.0.2.0/24");
    const f = g.noteCall("100", T0 + 2 * HOUR, true).findings[0];
    assert.equal(f?.rule, "pbx-compromise");
    assert.match(f?.message ?? "", /new network/);
  });

  test("the watch ends: an international call the next day is just a call", () => {
    const g = guard();
    for (let i = 0; i < 6; i++) g.ingest(failure(T0 + i * SEC, ATTACKER, "100"));
    g.ingest(success(T0 + 10 * SEC, ATTACKER, "100"));
    g.tick(T0 + DAY);
    assert.deepEqual(g.noteCall("100", T0 + DAY, true).findings, []);
  });

  test("report mode: the finding says what would have happened, and asks for no block", () => {
    const g = guard({ rules: { "pbx-compromise": { mode: "report" } } });
    for (let i = 0; i < 6; i++) g.ingest(failure(T0 + i * SEC, ATTACKER, "100"));
    g.ingest(success(T0 + 10 * SEC, ATTACKER, "100"));
    const out = g.noteCall("100", T0 + MIN, true);
    assert.equal(out.findings[0]?.decision, "report");
    assert.equal(out.findings[0]?.blockAccount, undefined);
    assert.deepEqual(out.accountFlags, []);
  });
});

describe("PBX guard: guessing against one account", () => {
  test("distributed guessing against one extension from 50 addresses bans them all, not the phone", () => {
    const g = guard();
    // The extension's own phone mistypes once and logs in during the attack.
    const events: SipEvent[] = [failure(T0, OFFICE, "100"), ...register(T0 + 5 * SEC, OFFICE, "100")];
    for (let i = 0; i < 50; i++) {
      const ip = `198.51.${100 + Math.floor(i / 25)}.${10 + (i % 25)}`;
      for (let k = 0; k < 2; k++) events.push(failure(T0 + MIN + i * MIN + k * 20 * SEC, ip, "100"));
    }
    const out = run(g, events);
    const targeted = out.flags.filter((f) => f.type === "targeted");
    assert.equal(targeted.length, 1);
    assert.equal(targeted[0]?.evidence.kind, "distributed");
    const banned = new Set(out.bans.map((b) => b.address));
    assert.equal(banned.size, 50);
    assert.ok(!banned.has(OFFICE));
    assert.ok(out.bans.every((b) => b.rule === "account-guessing"));
    // Each address stayed below the per-address threshold.
    assert.ok(!out.findings.some((f) => f.rule === "password-guessing"));
  });

  test("slow guessing from one address over hours is caught by the account, not the address", () => {
    const g = guard();
    const events: SipEvent[] = [];
    for (let i = 0; i < 36; i++) events.push(failure(T0 + i * 5 * MIN, ATTACKER, "200"));
    const out = run(g, events);
    assert.equal(out.bans.length, 1);
    assert.equal(out.bans[0]?.rule, "account-guessing");
    assert.equal(out.bans[0]?.at, T0 + 29 * 5 * MIN, "on the 30th failure");
    assert.equal(out.flags[0]?.evidence.kind, "slow");
  });
});
