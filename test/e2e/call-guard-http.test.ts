import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { client, type MamoriProcess, startMamori } from "../support/mamori-process.js";

/**
 * End to end: the real `mamori serve` on loopback, driven over HTTP as a switch and an operator would.
 */
const allDay = { days: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"], start: "00:00", end: "24:00" };

describe("call guard over HTTP", () => {
  let m: MamoriProcess;
  let admin: ReturnType<typeof client>;
  let sw: ReturnType<typeof client>;
  let op: ReturnType<typeof client>;
  let keys = { admin: "", sw: "", op: "" };
  const connect = () => {
    admin = client(m.url, keys.admin);
    sw = client(m.url, keys.sw);
    op = client(m.url, keys.op);
  };
  let seq = 0;
  const callId = () => `e2e-${process.pid}-${++seq}`;

  before(async () => {
    m = await startMamori();
    assert.ok(m.adminKey, "the first start prints an admin key");
    admin = client(m.url, m.adminKey);
    const k1 = await admin("POST", "/v1/keys", { name: "kamailio", role: "switch" });
    const k2 = await admin("POST", "/v1/keys", { name: "noc", role: "operator" });
    assert.equal(k1.status, 201);
    keys = { admin: m.adminKey ?? "", sw: k1.json.secret, op: k2.json.secret };
    connect();
    for (const [id, policy] of [
      ["barred", { country: "JP", international: { mode: "off" } }],
      [
        "intl",
        {
          country: "JP",
          international: { mode: "all" },
          businessHours: allDay,
          holidays: { calendar: "none" },
          caps: { callsPerSecond: 100 },
        },
      ],
      ["calls", { country: "JP", caps: { concurrentCalls: 3 } }],
    ] as const) {
      const r = await admin("PUT", `/v1/accounts/${id}`, policy);
      assert.equal(r.status, 201, JSON.stringify(r.json));
    }
  });

  after(async () => {
    await m?.stop();
  });

  test("an account with international calling off is denied +232", async () => {
    const r = await sw("POST", "/v1/calls/authorize", {
      callId: callId(),
      account: "barred",
      to: "+23276123456",
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.decision, "deny");
    assert.equal(r.json.reasons[0].rule, "international-barred");
    assert.equal(r.json.number.country, "SL");
    const t = await sw("POST", "/v1/calls/authorize.txt", {
      callId: callId(),
      account: "barred",
      to: "+23276123456",
    });
    assert.match(t.text, /^deny international-barred: /);
  });

  test("an account allowed international gets its first +232 calls, then is blocked when cost velocity fires", async () => {
    const answers: { decision: string; rules: string[] }[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await sw("POST", "/v1/calls/authorize", {
        callId: callId(),
        account: "intl",
        to: `+2327${(6_100_000 + i * 7919).toString()}`,
      });
      answers.push({ decision: r.json.decision, rules: r.json.reasons.map((x: { rule: string }) => x.rule) });
    }
    assert.equal(answers[0]?.decision, "allow");
    const firstDeny = answers.findIndex((a) => a.decision === "deny");
    assert.ok(firstDeny > 1, `the first calls are allowed (${JSON.stringify(answers)})`);
    assert.ok(answers[firstDeny]?.rules.includes("cost-velocity"), JSON.stringify(answers[firstDeny]));
    assert.deepEqual(answers[firstDeny + 1]?.rules, ["account-blocked"]);

    const blocks = await op("GET", "/v1/blocks?active=true&account=intl");
    assert.equal(blocks.json.blocks.length, 1);
    assert.equal(blocks.json.blocks[0].active, true);
    const alerts = await op("GET", "/v1/alerts?account=intl");
    assert.ok(
      alerts.json.alerts.some(
        (a: { rule: string; decision: string }) => a.rule === "cost-velocity" || a.decision === "block",
      ),
    );
    const audit = await op("GET", "/v1/audit?subject=intl");
    assert.ok(audit.json.entries.some((e: { action: string }) => e.action === "block.create"));

    // Domestic calls still go through while international is blocked.
    const dom = await sw("POST", "/v1/calls/authorize", {
      callId: callId(),
      account: "intl",
      to: "0312345678",
    });
    assert.equal(dom.json.decision, "allow");
  });

  test("blocks survive a restart, and an operator lifts one with a reason", async () => {
    await m.stop();
    m = await startMamori({ db: m.db });
    connect();
    assert.equal(m.adminKey, undefined, "no new admin key on a store that has keys");
    const blocked = await sw("POST", "/v1/calls/authorize", {
      callId: callId(),
      account: "intl",
      to: "+12125551234",
    });
    assert.deepEqual(
      blocked.json.reasons.map((r: { rule: string }) => r.rule),
      ["account-blocked"],
    );
    const [b] = (await op("GET", "/v1/blocks?active=true&account=intl")).json.blocks;
    const lifted = await op("DELETE", `/v1/blocks/${b.id}`, {
      reason: "customer confirmed their PBX was reset",
    });
    assert.equal(lifted.status, 200);
    assert.equal(lifted.json.active, false);
    const again = await op("DELETE", `/v1/blocks/${b.id}`, { reason: "twice" });
    assert.equal(again.status, 409);
    const ok = await sw("POST", "/v1/calls/authorize", {
      callId: callId(),
      account: "intl",
      to: "+12125551234",
    });
    assert.notDeepEqual(
      ok.json.reasons.map((r: { rule: string }) => r.rule),
      ["account-blocked"],
    );
    const audit = await op("GET", "/v1/audit?subject=intl");
    assert.equal(audit.json.entries[0].action, "block.lift");
    assert.equal(audit.json.entries[0].detail.reason, "customer confirmed their PBX was reset");
  });

  test("answer and hang-up keep the concurrent count right when repeated or out of order", async () => {
    const ids = [callId(), callId(), callId()];
    for (const id of ids) {
      const r = await sw("POST", "/v1/calls/authorize", { callId: id, account: "calls", to: "0312345678" });
      assert.equal(r.json.decision, "allow");
    }
    const full = await sw("POST", "/v1/calls/authorize", {
      callId: callId(),
      account: "calls",
      to: "0312345678",
    });
    assert.equal(full.json.reasons[0].rule, "concurrent-calls");
    const [a, b, c] = ids as [string, string, string];
    await sw("POST", `/v1/calls/${a}/answer`, {});
    await sw("POST", `/v1/calls/${a}/answer`, {});
    await sw("POST", `/v1/calls/${a}/hangup`, {});
    await sw("POST", `/v1/calls/${a}/hangup`, {});
    await sw("POST", `/v1/calls/${b}/hangup`, {});
    await sw("POST", `/v1/calls/${b}/answer`, {});
    const unknown = await sw("POST", "/v1/calls/never-seen/hangup", {});
    assert.equal(unknown.json.known, false);
    assert.equal((await op("GET", "/v1/accounts/calls")).json.liveCalls, 1);
    await sw("POST", `/v1/calls/${c}/hangup`, { billsec: 42 });
    assert.equal((await op("GET", "/v1/accounts/calls")).json.liveCalls, 0);
    const log = await op("GET", "/v1/decisions?account=calls&decision=allow");
    const row = log.json.decisions.find((d: { callId: string }) => d.callId === c);
    assert.equal(row.billsec, 42);
  });

  test("access control: no key, the wrong role, and bad input are refused with a code and a hint", async () => {
    const anon = client(m.url);
    const r401 = await anon("POST", "/v1/calls/authorize", { callId: "x", account: "intl", to: "+1" });
    assert.equal(r401.status, 401);
    assert.equal(r401.json.error.code, "MAMORI_UNAUTHENTICATED");
    const r403 = await sw("PUT", "/v1/accounts/intl", { international: { mode: "off" } });
    assert.equal(r403.status, 403);
    assert.equal((await op("PUT", "/v1/accounts/intl", { international: { mode: "off" } })).status, 403);
    const lifts = await sw("GET", "/v1/blocks");
    assert.equal(lifts.status, 403);
    const bad = await sw("POST", "/v1/calls/authorize", { callId: "", account: "intl", to: 232 });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, "MAMORI_BAD_REQUEST");
    assert.ok(bad.json.error.details.some((d: { path: string }) => d.path === "body.to"));
    const badJson = await sw("POST", "/v1/calls/authorize", "{not json");
    assert.equal(badJson.json.error.code, "MAMORI_BAD_JSON");
    const replay = await sw("POST", "/v1/calls/authorize", {
      callId: "r",
      account: "intl",
      to: "+1",
      at: "2026-01-01T00:00:00Z",
    });
    assert.equal(replay.status, 403, "a switch key cannot set event time");
    const badPolicy = await admin("PUT", "/v1/accounts/intl", { international: { mode: "sometimes" } });
    assert.equal(badPolicy.status, 400);
    assert.match(badPolicy.json.error.message, /international\.mode/);
  });

  test("health, metrics and the OpenAPI document", async () => {
    const anon = client(m.url);
    const h = await anon("GET", "/health");
    assert.equal(h.json.status, "ok");
    const metrics = await anon("GET", "/metrics");
    assert.match(metrics.text, /mamori_call_decisions_total\{decision="(allow|deny)",rule="[^"]*"\} \d+/);
    const doc = await anon("GET", "/openapi.json");
    assert.equal(doc.json.openapi, "3.1.0");
    assert.ok(doc.json.paths["/v1/calls/authorize"].post.requestBody);
    assert.ok(doc.json.paths["/v1/blocks/{id}"].delete);
  });
});
