import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SipEvent } from "../../core/sip-events.js";
import { PbxGuard, type PbxGuardOptions } from "../guard.js";
import { parseScannerList } from "../scanner-list.js";
import { type PbxGuardSettingsInput, pbxGuardSettingsSchema } from "../settings.js";
import {
  challenge,
  DAY,
  failure,
  HOUR,
  MIN,
  rateLimited,
  rejectedCall,
  request,
  response,
  SEC,
  success,
  T0,
} from "../test-events.js";
import type { AccountFlag, BanRequest, PbxFinding } from "../types.js";
import { putBounded } from "./common.js";

function guard(settings: PbxGuardSettingsInput = {}, opts: Omit<PbxGuardOptions, "settings"> = {}) {
  return new PbxGuard({
    historySince: T0 - 30 * DAY,
    ...opts,
    settings: pbxGuardSettingsSchema.parse(settings),
  });
}

/** Feeds events; returns everything asked for, with the index of the event that caused each ban. */
function run(g: PbxGuard, events: readonly SipEvent[]) {
  const bans: (BanRequest & { index: number })[] = [];
  const findings: PbxFinding[] = [];
  const flags: AccountFlag[] = [];
  events.forEach((e, index) => {
    const o = g.ingest(e);
    for (const b of o.bans) bans.push({ ...b, index });
    findings.push(...o.findings);
    flags.push(...o.accountFlags);
  });
  return { bans, findings, flags };
}

const ATTACKER = "198.51.100.66";
const OFFICE = "203.0.113.20";

describe("password-guessing", () => {
  const onlyThis = { rules: { "account-guessing": { mode: "off" as const } } };

  test("bans at the 10th failure within 10 minutes, not before", () => {
    const events = Array.from({ length: 15 }, (_, i) => failure(T0 + i * 20 * SEC, ATTACKER, "100"));
    const out = run(guard(onlyThis), events);
    assert.equal(out.bans.length, 1);
    assert.equal(out.bans[0]?.index, 9);
    assert.equal(out.bans[0]?.rule, "password-guessing");
    assert.equal(out.bans[0]?.evidence.failures, 10);
  });

  test("the same failures spread over hours do not trip it", () => {
    const events = Array.from({ length: 40 }, (_, i) => failure(T0 + i * 3 * MIN, ATTACKER, "100"));
    assert.deepEqual(run(guard(onlyThis), events).bans, []);
  });

  test("an established address needs four times as many", () => {
    const events: SipEvent[] = [success(T0, OFFICE, "300")];
    for (let i = 0; i < 45; i++) events.push(failure(T0 + SEC + i * 5 * SEC, OFFICE, "301"));
    const out = run(guard(onlyThis), events);
    assert.equal(out.bans.length, 1);
    assert.equal(out.bans[0]?.index, 40);
    assert.equal(out.bans[0]?.evidence.established, true);
  });

  test("403 answers seen in HEP count against the client they answer, not the PBX", () => {
    const events = Array.from({ length: 10 }, (_, i) =>
      response(T0 + i * SEC, ATTACKER, 403, "REGISTER", "100"),
    );
    const out = run(guard(onlyThis), events);
    assert.deepEqual(
      out.bans.map((b) => b.address),
      [ATTACKER],
    );
  });

  test("refusals for load are not guesses", () => {
    const events = Array.from({ length: 20 }, (_, i) => failure(T0 + i * SEC, ATTACKER, "100", "limit"));
    assert.deepEqual(run(guard(onlyThis), events).bans, []);
  });
});

describe("extension-enumeration", () => {
  test("unknown accounts tried one after another: banned at the 10th name", () => {
    const events = Array.from({ length: 30 }, (_, i) =>
      failure(T0 + i * SEC, ATTACKER, `${100 + i}`, "unknown-account"),
    );
    const out = run(guard({ rules: { "password-guessing": { mode: "off" } } }), events);
    assert.equal(out.bans[0]?.rule, "extension-enumeration");
    assert.equal(out.bans[0]?.index, 9);
    assert.equal((out.bans[0]?.evidence.users as string[] | undefined)?.length, 10);
  });

  test("svwar through HEP: 404 answers to REGISTER and INVITE", () => {
    const events: SipEvent[] = [];
    for (let i = 0; i < 6; i++) events.push(response(T0 + i * SEC, ATTACKER, 404, "REGISTER", `${200 + i}`));
    for (let i = 0; i < 6; i++)
      events.push(response(T0 + 10 * SEC + i * SEC, ATTACKER, 404, "INVITE", `${300 + i}`));
    const out = run(guard(), events);
    assert.equal(out.bans[0]?.rule, "extension-enumeration");
    assert.equal(out.bans[0]?.index, 9);
  });

  test("the same name again and again is not enumeration; names older than the window drop off", () => {
    const same = Array.from({ length: 9 }, (_, i) => failure(T0 + i * MIN, ATTACKER, "100"));
    const slow = Array.from({ length: 20 }, (_, i) =>
      failure(T0 + HOUR + i * 2 * MIN, ATTACKER, `${400 + i}`),
    );
    const out = run(guard({ rules: { "account-guessing": { mode: "off" } } }), [...same, ...slow]);
    assert.deepEqual(out.bans, []);
  });
});

describe("scanner-user-agent", () => {
  const list = parseScannerList(
    "agents:\n  - match: friendly-scanner\n    note: svmap\n  - match: sipvicious\n    note: newer\n",
    "t.yaml",
  );
  assert.ok(list.ok);
  const scanners = list.ok ? list.value : undefined;

  test("one request from a scanner is enough, whatever the case; one ban per address", () => {
    const g = guard({}, { scanners });
    const out = run(g, [
      request(T0, ATTACKER, "OPTIONS", "100", "Friendly-Scanner"),
      request(T0 + SEC, ATTACKER, "REGISTER", "101", "friendly-scanner"),
      failure(T0 + 2 * SEC, "198.51.100.7", "100", "wrong-password", { userAgent: "SIPVicious 0.3.4" }),
    ]);
    assert.deepEqual(
      out.bans.map((b) => [b.address, b.rule, b.index]),
      [
        [ATTACKER, "scanner-user-agent", 0],
        ["198.51.100.7", "scanner-user-agent", 2],
      ],
    );
    assert.equal(out.bans[0]?.evidence.pattern, "friendly-scanner");
  });

  test("phones are not scanners, and without a list nothing matches", () => {
    const g = guard({}, { scanners });
    assert.deepEqual(run(g, [request(T0, OFFICE, "REGISTER", "100", "Yealink SIP-T46S")]).bans, []);
    assert.deepEqual(run(guard(), [request(T0, ATTACKER, "OPTIONS", "100", "friendly-scanner")]).bans, []);
  });
});

describe("register-flood and invite-flood", () => {
  test("200 REGISTERs in two seconds from one address", () => {
    const events = Array.from({ length: 200 }, (_, i) => request(T0 + i * 10, ATTACKER, "REGISTER", "100"));
    const out = run(guard(), events);
    assert.equal(out.bans.length, 1);
    assert.equal(out.bans[0]?.rule, "register-flood");
    assert.equal(out.bans[0]?.index, 99, "100 requests = 20/s over 5 s");
  });

  test("INVITEs counted from the security log (one event per request)", () => {
    const events = Array.from({ length: 60 }, (_, i) => challenge(T0 + i * 50, ATTACKER, "100", "INVITE"));
    const out = run(guard(), events);
    assert.equal(out.bans[0]?.rule, "invite-flood");
  });

  test("a phone registering every second for a minute is no flood", () => {
    const events = Array.from({ length: 60 }, (_, i) => request(T0 + i * SEC, OFFICE, "REGISTER", "100"));
    assert.deepEqual(run(guard(), events).bans, []);
  });
});

describe("call-probing and server-rate-limited", () => {
  test("five calls refused for no extension within ten minutes", () => {
    const numbers = [
      "00972591234567",
      "900972591234567",
      "011972591234567",
      "+972591234567",
      "0972591234567",
    ];
    const out = run(
      guard(),
      numbers.map((n, i) => rejectedCall(T0 + i * MIN, ATTACKER, n)),
    );
    assert.equal(out.bans[0]?.rule, "call-probing");
    assert.equal(out.bans[0]?.index, 4);
    assert.deepEqual(out.bans[0]?.evidence.numbers, numbers);
  });

  test("the SIP server's limiter blocking an address three times", () => {
    const out = run(guard(), [
      rateLimited(T0, ATTACKER),
      rateLimited(T0 + MIN, ATTACKER),
      rateLimited(T0 + 2 * MIN, ATTACKER),
    ]);
    assert.equal(out.bans[0]?.rule, "server-rate-limited");
    assert.equal(out.bans[0]?.index, 2);
  });
});

describe("new-network and new-country", () => {
  test("learns silently during the learning period, then flags a new /24 once", () => {
    const g = new PbxGuard({ settings: pbxGuardSettingsSchema.parse({}) });
    const learning = run(g, [success(T0, OFFICE, "100"), success(T0 + DAY, "203.0.113.99", "100")]);
    assert.deepEqual(learning.findings, []);
    const later = T0 + 8 * DAY;
    const out = run(g, [success(later, "192.0.2.50", "100"), success(later + MIN, "192.0.2.51", "100")]);
    assert.deepEqual(
      out.flags.map((f) => [f.type, f.evidence.network]),
      [["new-network", "192.0.2.0/24"]],
    );
    assert.equal(out.findings[0]?.severity, "warning");
    assert.equal(out.findings[0]?.decision, "flag");
  });

  test("IPv6 networks are /64s; learned places are handed back for the store", () => {
    const g = guard();
    g.seedPlaces("100", ["2001:db8:1:2::/64"], [], T0 - DAY);
    assert.deepEqual(g.ingest(success(T0, "2001:db8:1:2::99", "100")).accountFlags, []);
    const o = g.ingest(success(T0 + MIN, "2001:db8:1:3::1", "100"));
    assert.equal(o.accountFlags[0]?.evidence.network, "2001:db8:1:3::/64");
    assert.deepEqual(o.learned, [{ account: "100", at: T0 + MIN, network: "2001:db8:1:3::/64" }]);
  });

  test("the first login of an account is flagged, but does not arm the compromise watch", () => {
    const g = guard();
    const o = g.ingest(success(T0, OFFICE, "new-hire"));
    assert.equal(o.accountFlags[0]?.evidence.firstLogin, true);
    assert.deepEqual(g.noteCall("new-hire", T0 + MIN, true).findings, []);
  });

  test("a new country, with a GeoIP lookup", () => {
    const geo = (ip: string) => (ip.startsWith("203.") ? "JP" : ip.startsWith("198.") ? "NL" : undefined);
    const g = guard({ rules: { "new-network": { mode: "off" } } }, { geoip: geo });
    g.seedPlaces("100", [], ["jp"], T0 - DAY);
    const out = run(g, [
      success(T0, OFFICE, "100"),
      success(T0 + MIN, ATTACKER, "100"),
      success(T0 + 2 * MIN, "10.0.0.1", "100"),
    ]);
    assert.deepEqual(
      out.flags.map((f) => [f.type, f.evidence.country]),
      [["new-country", "NL"]],
    );
    assert.equal(g.noteCall("100", T0 + HOUR, true).findings[0]?.rule, "pbx-compromise");
  });
});

describe("alert suppression", () => {
  test("one report-only alert per rule and address within 30 minutes", () => {
    const g = guard(
      { rules: { "scanner-user-agent": { mode: "report" } } },
      {
        scanners: { source: "t", patterns: [{ match: "sipcli", note: "x" }] },
      },
    );
    const events = Array.from({ length: 50 }, (_, i) =>
      request(T0 + i * MIN, ATTACKER, "OPTIONS", "1", "sipcli/1"),
    );
    const out = run(g, events);
    assert.deepEqual(
      out.findings.map((f) => (f.at - T0) / MIN),
      [0, 30],
    );
    assert.ok(out.findings.every((f) => f.decision === "report"));
    assert.equal(g.stats.suppressed, 48);
  });
});

describe("memory bounds", () => {
  test("a map at its bound drops its oldest entries in a batch and never grows past it", () => {
    const m = new Map<number, number>();
    for (let i = 0; i < 10_000; i++) {
      putBounded(m, i, i, 100);
      assert.ok(m.size <= 100);
    }
    assert.ok(m.has(9_999));
    assert.ok(!m.has(0));
  });

  test("a botnet of 20,000 addresses does not stop the guard from seeing the next attacker", () => {
    const g = guard({ limits: { maxSources: 500, maxAccounts: 500 } });
    for (let i = 0; i < 20_000; i++)
      g.ingest(failure(T0 + i, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, `u${i}`));
    const out = run(
      g,
      Array.from({ length: 10 }, (_, i) => failure(T0 + 30 * SEC + i, ATTACKER, "100")),
    );
    assert.equal(out.bans[0]?.address, ATTACKER);
  });
});
