import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { loadConfig } from "../config/load.js";
import { failure, success } from "../sip/test-events.js";
import { buildApp } from "./build.js";
import type { BanEnforcer } from "./pbx-service.js";

/** The PBX guard wired into the service: events in, bans stored, enforced, listed, lifted. */
function recordingEnforcer() {
  const calls: string[] = [];
  const e: BanEnforcer = {
    name: "recording",
    async ban(a, ms) {
      calls.push(`ban ${a} ${Math.round(ms / 60_000)}m`);
    },
    async unban(a) {
      calls.push(`unban ${a}`);
    },
    async reconcile(d) {
      calls.push(`reconcile ${d.map((x) => x.address).join(",")}`);
    },
  };
  return { e, calls };
}

async function app(clock: () => number, enforcer: BanEnforcer, trusted: string[] = []) {
  const config = loadConfig({ overrides: { "store.sqlite": ":memory:", pbxGuard: { trusted } } });
  const a = await buildApp(config, {
    log: pino({ level: "silent" }),
    now: clock,
    manualClock: true,
    enforcers: [enforcer],
  });
  const key = a.initialAdminKey ?? "";
  const call = (method: "GET" | "POST" | "DELETE" | "PUT", url: string, payload?: object) =>
    a.http.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload ? { payload } : {}),
    });
  return { a, call };
}

test("password guessing from one address is banned, stored, enforced and lifted with a reason", async () => {
  let t = Date.UTC(2026, 2, 3, 9);
  const { e, calls } = recordingEnforcer();
  const { a, call } = await app(() => t, e);
  for (let i = 0; i < 12; i++) {
    t += 10_000;
    await a.pbx.ingest(failure(t, "203.0.113.5", "100"));
  }
  const bans = (await call("GET", "/v1/bans?active=true")).json().bans;
  assert.equal(bans.length, 1);
  assert.equal(bans[0].address, "203.0.113.5");
  assert.equal(bans[0].rule, "password-guessing");
  assert.deepEqual(
    calls.filter((c) => c.startsWith("ban")),
    ["ban 203.0.113.5 10m"],
  );
  const alerts = (await call("GET", "/v1/alerts?guard=pbx")).json().alerts;
  assert.ok(alerts.some((x: { rule: string }) => x.rule === "password-guessing"));

  const lifted = await call("DELETE", `/v1/bans/${bans[0].id}`, {
    reason: "the customer's phone had an old password",
  });
  assert.equal(lifted.statusCode, 200);
  assert.equal(lifted.json().active, false);
  assert.ok(calls.includes("unban 203.0.113.5"));
  const audit = (await call("GET", "/v1/audit?subject=203.0.113.5")).json().entries;
  assert.deepEqual(
    audit.map((x: { action: string }) => x.action),
    ["ban.lift", "ban.create"],
  );
  await a.close();
});

test("a trusted network is never banned, by the guard or by hand", async () => {
  let t = Date.UTC(2026, 2, 3, 9);
  const { e, calls } = recordingEnforcer();
  const { a, call } = await app(() => t, e, ["198.51.100.0/24"]);
  for (let i = 0; i < 30; i++) {
    t += 5_000;
    await a.pbx.ingest(failure(t, "198.51.100.7", "100"));
  }
  assert.equal((await call("GET", "/v1/bans")).json().bans.length, 0);
  assert.equal(calls.filter((c) => c.startsWith("ban")).length, 0);
  const manual = await call("POST", "/v1/bans", { address: "198.51.100.7", reason: "try anyway" });
  assert.equal(manual.statusCode, 409);
  await a.close();
});

test("the compromise chain blocks the account's international calls in the call guard", async () => {
  let t = Date.UTC(2026, 2, 3, 9);
  const { e } = recordingEnforcer();
  const { a, call } = await app(() => t, e, ["192.0.2.0/24"]);
  await call("PUT", "/v1/accounts/100", { international: { mode: "all" } });
  // Failures then a success for extension 100 from a trusted-looking office address is still suspicious.
  for (let i = 0; i < 6; i++) {
    t += 20_000;
    await a.pbx.ingest(failure(t, "192.0.2.50", "100"));
  }
  t += 20_000;
  await a.pbx.ingest(success(t, "192.0.2.50", "100"));
  t += 60_000;
  const first = await call("POST", "/v1/calls/authorize", {
    callId: "x1",
    account: "100",
    to: "+12125551234",
  });
  assert.equal(first.json().decision, "allow");
  t += 60_000;
  const next = await call("POST", "/v1/calls/authorize", {
    callId: "x2",
    account: "100",
    to: "+12125551234",
  });
  assert.equal(next.json().decision, "deny");
  assert.equal(next.json().reasons[0].rule, "account-blocked");
  const blocks = (await call("GET", "/v1/blocks?active=true&account=100")).json().blocks;
  assert.equal(blocks[0].createdBy, "pbx-guard");
  await a.close();
});
