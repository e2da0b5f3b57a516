/**
 * The call guard in the call path of a real switch: Kamailio on the shipped configuration asks the real
 * Mamori service (`mamori serve`, no stand-in) before each call, SIPp places the calls and stands in for
 * the trunk. Everything runs on 127.0.0.1 and is stopped at the end, failed or not.
 *
 * What it proves: domestic calls of an ordinary office go through; a burst to +232 goes through until
 * the destination-burst detector blocks the account, after which the calls are refused with 403 and
 * never reach the trunk; the answer and hang-up notices that Kamailio sends are accepted by the strict
 * API, so the live-call counts return to zero; a call can be ended over Kamailio's JSON-RPC; and with
 * Mamori stopped, Kamailio fails open by default and closed (503) with MAMORI_FAIL_CLOSED.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Dialog, type Kamailio, kamailioSkipReason, startKamailio, until } from "../support/kamailio.js";
import { client, type MamoriProcess, startMamori } from "../support/mamori-process.js";
import { artifactsDir, freePort, stopAll } from "../support/peers.js";
import {
  type Call,
  callOutcomes,
  finish,
  header,
  messagesStarting,
  requestsReceived,
  requestUser,
  Sipp,
  stopUas,
} from "../support/sipp.js";

const skip = kamailioSkipReason();

let runDir = "";
function dir(): string {
  if (!runDir) runDir = artifactsDir("kamailio-call-path", `run-${Date.now()}-${process.pid}`);
  return runDir;
}
const sipp = new Sipp(dir);

// Business hours all day, every day, and no holidays: the off-hours detector must not depend on when
// the test runs. The rate caps are raised so that refusals come from the fraud detectors, not from
// SIPp's bursts landing several calls in one second.
const everyDay = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const ordinary = {
  country: "JP",
  timeZone: "Asia/Tokyo",
  businessHours: { days: everyDay, start: "00:00", end: "24:00" },
  holidays: { calendar: "none" },
  international: { mode: "all" },
  caps: { callsPerSecond: 50, callsPerMinute: 600 },
};
// Five calls to one country code in an hour are the most this account may make: the sliding hour makes
// the sixth call the one that blocks, whichever minute the burst starts in (the per-minute count
// uses calendar minutes, so a burst across a minute boundary would move the point).
const BURST_LIMIT = 5;
const ACCOUNTS = {
  office: { name: "Office", ...ordinary },
  // An international call from this account may last 2 s: Mamori ends it through Kamailio's RPC.
  drip: { name: "Slow drip", ...ordinary, caps: { ...ordinary.caps, maxInternationalCallSeconds: 2 } },
  fraudco: {
    name: "Hacked PBX",
    ...ordinary,
    rules: { "destination-burst": { perMinute: BURST_LIMIT, perHour: BURST_LIMIT } },
  },
};

// Tokyo numbers, dialled as the office's phones dial them.
const OFFICE_CALLS: readonly Call[] = Array.from({ length: 10 }, (_, i) => [
  "office",
  `03${12_345_670 + i}`,
  `20${10 + i}`,
]);
// Sierra Leone mobiles, each in a range of its own so that the sequential-numbers detector stays out.
const FRAUD_CALLS: readonly Call[] = Array.from({ length: 12 }, (_, i) => [
  "fraudco",
  `+23276${110_000 + i * 7_919}`,
  "2001",
]);

describe("Kamailio with the real Mamori in the call path", { skip }, () => {
  let mamori: MamoriProcess | undefined;
  let admin: ReturnType<typeof client>;
  let kamailio: Kamailio;
  let switchKey = "";
  let trunkPort = 0;
  let rpcPort = 0;

  before(
    async () => {
      rpcPort = await freePort();
      mamori = await startMamori({
        config: `callGuard:\n  kamailio:\n    rpcUrl: "http://127.0.0.1:${rpcPort}/RPC"\n`,
      });
      assert.ok(mamori.adminKey, "Mamori printed its first admin key");
      admin = client(mamori.url, mamori.adminKey);
      const key = await admin("POST", "/v1/keys", { name: "kamailio", role: "switch" });
      assert.equal(key.status, 201, key.text);
      switchKey = key.json.secret;
      for (const [id, policy] of Object.entries(ACCOUNTS)) {
        const put = await admin("PUT", `/v1/accounts/${id}`, policy);
        assert.equal(put.status, 201, put.text);
      }
      trunkPort = await freePort();
      kamailio = await startKamailio({
        name: "main",
        dir: dir(),
        mamoriUrl: mamori.url,
        apiKey: switchKey,
        nextHopPort: trunkPort,
        rpcPort,
      });
    },
    { timeout: 40_000 },
  );

  after(async () => {
    await stopAll();
    await mamori?.stop();
  });

  const liveCalls = async (account: string): Promise<number> => {
    const res = await admin("GET", `/v1/accounts/${account}`);
    assert.equal(res.status, 200, res.text);
    return res.json.liveCalls;
  };

  type Decision = { callId: string; decision: string; answeredAt: string | null; endedAt: string | null };
  const decisions = async (account: string): Promise<Decision[]> => {
    const res = await admin("GET", `/v1/decisions?account=${account}&limit=1000`);
    assert.equal(res.status, 200, res.text);
    return res.json.decisions;
  };

  it("relays an office's domestic calls, which complete at the trunk", { timeout: 30_000 }, async () => {
    const trunk = await sipp.startUas("uas.xml", trunkPort, OFFICE_CALLS.length, "trunk-office");
    const callers = await sipp.uac("uac.xml", kamailio.sipPort, OFFICE_CALLS, "office");
    const trunkResult = await finish(trunk);

    assert.deepEqual(
      { successful: callers.successful, failed: callers.failed, code: callers.code },
      { successful: OFFICE_CALLS.length, failed: 0, code: 0 },
      `callers; see ${dir()}`,
    );
    assert.equal(trunkResult.successful, OFFICE_CALLS.length);
    const reached = requestsReceived(trunkResult.messages, "INVITE").map(requestUser).sort();
    assert.deepEqual(reached, OFFICE_CALLS.map(([, dialled]) => dialled).sort());

    const logged = await decisions("office");
    assert.equal(logged.length, OFFICE_CALLS.length);
    assert.ok(logged.every((d) => d.decision === "allow"));
  });

  it("lets a burst to +232 through until the account is blocked, then refuses with 403 before the trunk", {
    timeout: 30_000,
  }, async () => {
    const trunk = await sipp.startUas("uas.xml", trunkPort, FRAUD_CALLS.length, "trunk-fraud");
    const callers = await sipp.uac("uac-answered-or-refused.xml", kamailio.sipPort, FRAUD_CALLS, "fraud", {
      rate: 5,
    });
    const trunkResult = await stopUas(trunk);

    assert.equal(callers.successful, FRAUD_CALLS.length, `every call answered or refused; see ${dir()}`);
    const outcomes = callOutcomes(callers.messages);
    assert.equal(outcomes.length, FRAUD_CALLS.length);
    const statuses = outcomes.map((o) => o.status);
    const firstRefused = statuses.indexOf(403);
    assert.equal(firstRefused, BURST_LIMIT, `the sixth call is the first refused: ${statuses.join(" ")}`);
    assert.ok(
      statuses.every((s, i) => s === (i < firstRefused ? 200 : 403)),
      `answered, then refused: ${statuses.join(" ")}`,
    );

    const reasons = outcomes.slice(firstRefused).map((o) => header(o.response ?? "", "X-Mamori-Reason"));
    assert.match(reasons[0] ?? "", /^(destination-burst|cost-velocity): /, "the detector that blocked");
    for (const reason of reasons.slice(1)) assert.match(reason ?? "", /^account-blocked: /);

    // The trunk saw the calls before the block and none after it.
    const reached = requestsReceived(trunkResult.messages, "INVITE").map(requestUser).sort();
    const answered = outcomes.slice(0, firstRefused).map((o) => o.dialled);
    assert.deepEqual(reached, answered.sort());

    const blocks = await admin("GET", "/v1/blocks?account=fraudco&active=true");
    assert.equal(blocks.status, 200, blocks.text);
    assert.equal(blocks.json.blocks.length, 1);
    assert.match(blocks.json.blocks[0].rule, /^(destination-burst|cost-velocity)$/);
    assert.equal(await liveCalls("office"), 0, "the office's calls are not blocked");
  });

  it("hears of every answer and hang-up: no call is left counted as live", { timeout: 15_000 }, async () => {
    for (const account of ["office", "fraudco"]) {
      await until(`${account}'s live calls back to 0`, 5000, async () =>
        (await liveCalls(account)) === 0 ? true : undefined,
      );
      const allowed = (await decisions(account)).filter((d) => d.decision === "allow");
      assert.ok(allowed.length > 0);
      for (const d of allowed) {
        assert.ok(d.answeredAt && d.endedAt, `answer and hang-up recorded for ${d.callId}`);
      }
    }
    // Kamailio logs every notice that Mamori refused (the API rejects unknown keys with 400).
    assert.doesNotMatch(kamailio.process.output(), /mamori: \w+ notice for .* failed/);
  });

  it("ends a live call with dlg.end_dlg over Kamailio's JSON-RPC", { timeout: 20_000 }, async () => {
    const trunk = await sipp.startUas("uas-hold.xml", trunkPort, 1, "trunk-end-dlg");
    const caller = await sipp.startUac(
      "uac.xml",
      kamailio.sipPort,
      [["office", "0312340000", "2001"]],
      "end",
    );
    const live = await until("an answered dialog", 10_000, async () =>
      ((await kamailio.rpc("dlg.list")) as Dialog[]).find((d) => d.state === 4),
    );
    const callId = live["call-id"];
    const answered = async () => (await decisions("office")).find((d) => d.callId === callId);
    await until("Mamori to hear of the answer", 5000, async () =>
      (await answered())?.answeredAt ? true : undefined,
    );
    assert.equal(await liveCalls("office"), 1);

    const reason = 'Reason: Q.850;cause=21;text="mamori: fraud"\r\n';
    await kamailio.rpc("dlg.end_dlg", [live.h_entry, live.h_id, reason]);
    assert.equal((await finish(caller)).successful, 1, "the caller got a BYE");
    const trunkResult = await finish(trunk);
    assert.equal(trunkResult.successful, 1, "the trunk got a BYE");
    assert.match(messagesStarting(trunkResult.messages, "BYE ")[0] ?? "", /^Reason: Q\.850;cause=21;/m);
    await until("the proxy's hang-up notice", 5000, async () =>
      (await liveCalls("office")) === 0 && (await answered())?.endedAt ? true : undefined,
    );
  });

  it("Mamori itself ends a live international call past its limit, through Kamailio's JSON-RPC", {
    timeout: 25_000,
  }, async () => {
    const trunk = await sipp.startUas("uas-hold.xml", trunkPort, 1, "trunk-drip");
    const caller = await sipp.startUac(
      "uac.xml",
      kamailio.sipPort,
      [["drip", "+12125550100", "3001"]],
      "drip",
    );
    // Nobody but Mamori hangs this call up: its limit is 2 s and its tick runs every second.
    assert.equal((await finish(caller)).successful, 1, "the caller got a BYE");
    const trunkResult = await finish(trunk);
    assert.equal(trunkResult.successful, 1, "the trunk got a BYE");
    assert.match(messagesStarting(trunkResult.messages, "BYE ")[0] ?? "", /mamori max-duration/);
    await until("the call to end in Mamori", 5000, async () =>
      (await liveCalls("drip")) === 0 ? true : undefined,
    );
    const audit = await admin("GET", "/v1/audit?subject=drip");
    assert.ok(
      audit.json.entries.some(
        (e: { action: string; detail: { rule?: string } }) =>
          e.action === "call.terminate" && e.detail.rule === "max-duration",
      ),
    );
  });

  it("asks about calls whose fields the API would refuse, instead of failing open on a 400", {
    timeout: 20_000,
  }, async () => {
    // Whoever writes the header or the From user chooses these; a 400 must not let the call through.
    const odd: readonly Call[] = [
      ["no such account!", "+23276123456", "2001"],
      ["unknown-pbx", "+23276123457", "9".repeat(200)],
    ];
    const trunk = await sipp.startUas("uas.xml", trunkPort, odd.length, "trunk-odd");
    const callers = await sipp.uac("uac-answered-or-refused.xml", kamailio.sipPort, odd, "odd");
    // A Call-ID too long for the API cannot be shortened without mixing up calls: refused outright.
    const longId = await sipp.uac("uac-answered-or-refused.xml", kamailio.sipPort, [odd[0]!], "long-id", {
      extra: ["-cid_str", `%u-%p@%s-${"x".repeat(300)}`],
    });
    const trunkResult = await stopUas(trunk);
    const outcomes = callOutcomes(callers.messages);
    assert.deepEqual(
      outcomes.map((o) => [o.status, header(o.response ?? "", "X-Mamori-Reason")?.split(":")[0]]),
      odd.map(() => [403, "international-barred"]),
    );
    assert.deepEqual(
      callOutcomes(longId.messages).map((o) => o.status),
      [400],
    );
    assert.equal(requestsReceived(trunkResult.messages, "INVITE").length, 0, "no INVITE reached the trunk");
  });

  it("with Mamori stopped, fails open by default: the call reaches the trunk", {
    timeout: 20_000,
  }, async () => {
    await mamori?.stop();
    const trunk = await sipp.startUas("uas.xml", trunkPort, 1, "trunk-fail-open");
    const caller = await sipp.uac(
      "uac.xml",
      kamailio.sipPort,
      [["office", "0312349999", "2001"]],
      "fail-open",
    );
    const trunkResult = await finish(trunk);
    assert.equal(caller.successful, 1, `caller: code ${caller.code}, failed ${caller.failed}`);
    assert.deepEqual(requestsReceived(trunkResult.messages, "INVITE").map(requestUser), ["0312349999"]);
    assert.match(kamailio.process.output(), /mamori: unavailable, fail-open/);
  });

  it("and with MAMORI_FAIL_CLOSED refuses the call with 503", { timeout: 20_000 }, async () => {
    assert.ok(mamori, "started in before()");
    const closedTrunkPort = await freePort();
    const closed = await startKamailio({
      name: "fail-closed",
      dir: dir(),
      mamoriUrl: mamori.url,
      apiKey: switchKey,
      nextHopPort: closedTrunkPort,
      defines: ["MAMORI_FAIL_CLOSED"],
    });
    const trunk = await sipp.startUas("uas.xml", closedTrunkPort, 1, "trunk-fail-closed");
    const caller = await sipp.uac(
      "uac-rejected.xml",
      closed.sipPort,
      [["office", "0312349998", "2001"]],
      "fail-closed",
    );
    const trunkResult = await stopUas(trunk);
    assert.equal(caller.successful, 1, `caller: code ${caller.code}, failed ${caller.failed}`);
    const refusal = messagesStarting(caller.messages, "SIP/2.0 503")[0] ?? "";
    assert.match(header(refusal, "X-Mamori-Reason") ?? "", /^mamori-unavailable: /);
    assert.equal(requestsReceived(trunkResult.messages, "INVITE").length, 0, "no INVITE reached the trunk");
    await closed.process.stop();
  });
});
