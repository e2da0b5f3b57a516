import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { pino } from "pino";
import { loadConfig } from "../config/load.js";
import { buildApp } from "./build.js";

/** The billing shield inside the service: proxies to the billing API, metrics on the API port. */
test("the shield configured in the service proxies requests and reports its metrics", async () => {
  const backend = createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ path: req.url, client: req.headers["x-mamori-client"] ?? null }));
  });
  await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
  const upstream = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  const config = loadConfig({
    overrides: { "store.sqlite": ":memory:", "server.port": 0, shield: { enabled: true, upstream, port: 0 } },
  });
  const app = await buildApp(config, { log: pino({ level: "silent" }), manualClock: true });
  try {
    await app.listen();
    const gw = app.shieldAddress();
    assert.ok(gw);
    const r = await fetch(`${gw}/v1/balance?x=1`, { signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { path: "/v1/balance?x=1", client: "127.0.0.1" });
    const metrics = await app.http.inject({ method: "GET", url: "/metrics" });
    assert.match(metrics.body, /mamori_shield_admitted_total\{class="anonymous"\} 1/);
    const health = (await app.http.inject({ method: "GET", url: "/health" })).json();
    assert.equal(health.checks.shield.mode, "normal");
  } finally {
    await app.close();
    await new Promise<void>((r) => backend.close(() => r()));
  }
});

test("an enabled shield without an upstream stops the start with a message naming the key", () => {
  assert.throws(() => loadConfig({ overrides: { shield: { enabled: true } } }), /shield\.upstream/);
});
