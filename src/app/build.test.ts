import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { pino } from "pino";
import type { SqliteStore } from "../adapters/store/sqlite/sqlite-store.js";
import { loadConfig } from "../config/load.js";
import { buildApp } from "./build.js";

const quiet = pino({ level: "silent" });

async function appWith(yaml: Record<string, unknown> = {}, now = () => Date.UTC(2026, 10, 24, 2)) {
  const config = loadConfig({ overrides: { "store.sqlite": ":memory:", ...yaml } });
  const app = await buildApp(config, { log: quiet, now, manualClock: true });
  const key = app.initialAdminKey ?? "";
  const call = (method: "GET" | "POST" | "PUT" | "DELETE", url: string, payload?: unknown) =>
    app.http.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  return { app, call };
}

test("when the store refuses writes, calls are still decided, /health says degraded and changes get 503", async () => {
  const { app, call } = await appWith();
  await call("PUT", "/v1/accounts/shop", { international: { mode: "off" } });
  const db = (app.store as SqliteStore).db;
  db.pragma("query_only = 1");

  const r = await call("POST", "/v1/calls/authorize", { callId: "x1", account: "shop", to: "+23276123456" });
  assert.equal(r.statusCode, 200);
  assert.equal(r.json().decision, "deny");
  assert.equal(r.json().stored, false);

  const h = (await call("GET", "/health")).json();
  assert.equal(h.status, "degraded");
  assert.match(h.checks.store.lastError, /readonly|read-only|query_only/i);

  const put = await call("PUT", "/v1/accounts/shop", { international: { mode: "all" } });
  assert.equal(put.statusCode, 503);
  assert.equal(put.json().error.code, "MAMORI_STORE_UNAVAILABLE");
  // The refused change did not reach the engine either.
  const again = await call("POST", "/v1/calls/authorize", {
    callId: "x2",
    account: "shop",
    to: "+23276123456",
  });
  assert.equal(again.json().decision, "deny");

  db.pragma("query_only = 0");
  await app.tick();
  assert.equal((await call("GET", "/health")).json().status, "ok");
  await app.close();
});

test("webhook alerts are retried with backoff until the target answers, without delaying decisions", async () => {
  const received: unknown[] = [];
  let failures = 2;
  const target = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      if (failures-- > 0) {
        res.writeHead(503).end();
        return;
      }
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
  const port = (target.address() as AddressInfo).port;
  let clock = Date.UTC(2026, 10, 24, 2);
  const { app, call } = await appWith(
    { webhooks: [{ url: `http://127.0.0.1:${port}/hook`, events: ["block"] }] },
    () => clock,
  );
  await call("PUT", "/v1/accounts/acme", {
    international: { mode: "all" },
    rules: { "high-risk-destination": { mode: "off" } },
  });
  // Two satellite calls in a minute trip cost velocity and block the account.
  await call("POST", "/v1/calls/authorize", { callId: "s1", account: "acme", to: "+881612345678" });
  clock += 30_000;
  const d = await call("POST", "/v1/calls/authorize", { callId: "s2", account: "acme", to: "+881612345999" });
  assert.equal(d.json().decision, "deny");
  assert.equal(received.length, 0, "nothing is sent on the decision path");
  for (let i = 0; i < 6 && received.length === 0; i++) {
    await app.tick();
    clock += 5_000;
  }
  assert.equal(received.length, 1);
  assert.equal((received[0] as { event: string }).event, "block");
  assert.equal((received[0] as { account: string }).account, "acme");
  assert.equal(app.webhooks.stats.retried, 2);
  await app.close();
  await new Promise<void>((r) => target.close(() => r()));
});

test("the first start creates one admin key; keys are stored hashed", async () => {
  const { app } = await appWith();
  assert.match(app.initialAdminKey ?? "", /^mk_admin_/);
  const keys = await app.store.listKeys();
  assert.equal(keys.length, 1);
  assert.notEqual(keys[0]?.hash, app.initialAdminKey);
  assert.equal(keys[0]?.hash.length, 64);
  await app.close();
});
