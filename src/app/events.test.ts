import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { loadConfig } from "../config/load.js";
import { buildApp } from "./build.js";

/** The event stream and the viewer role: what a console on call needs from the API. */
test("a viewer reads and follows /v1/events, and may change nothing", async () => {
  const config = loadConfig({ overrides: { "store.sqlite": ":memory:", "server.port": 0 } });
  const app = await buildApp(config, { log: pino({ level: "silent" }), manualClock: true });
  const base = await app.listen();
  try {
    const admin = { authorization: `Bearer ${app.initialAdminKey}`, "content-type": "application/json" };
    const mk = async (role: string) =>
      (
        (await (
          await fetch(`${base}/v1/keys`, {
            method: "POST",
            headers: admin,
            body: JSON.stringify({ name: role, role }),
          })
        ).json()) as { secret: string }
      ).secret;
    const viewer = { authorization: `Bearer ${await mk("viewer")}`, "content-type": "application/json" };
    const operator = { authorization: `Bearer ${await mk("operator")}`, "content-type": "application/json" };

    assert.equal((await fetch(`${base}/v1/blocks`, { headers: viewer })).status, 200);
    const refused = await fetch(`${base}/v1/blocks`, {
      method: "POST",
      headers: viewer,
      body: JSON.stringify({ account: "acme", reason: "test" }),
    });
    assert.equal(refused.status, 403);
    const asSwitch = await fetch(`${base}/v1/calls/authorize`, {
      method: "POST",
      headers: viewer,
      body: JSON.stringify({ callId: "v1", account: "acme", to: "0312345678" }),
    });
    assert.equal(asSwitch.status, 403, "a viewer does not place calls");

    const ctrl = new AbortController();
    const stream = await fetch(`${base}/v1/events`, { headers: viewer, signal: ctrl.signal });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get("content-type") ?? "", /text\/event-stream/);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    await fetch(`${base}/v1/blocks`, {
      method: "POST",
      headers: operator,
      body: JSON.stringify({ account: "acme", reason: "customer asked for a block", minutes: 60 }),
    });
    const deadline = Date.now() + 5000;
    while (!/event: block\n/.test(text) && Date.now() < deadline) {
      const r = await Promise.race([
        reader.read(),
        new Promise<{ done: true; value: undefined }>((res) =>
          setTimeout(() => res({ done: true, value: undefined }), 1000),
        ),
      ]);
      if (r.value) text += decoder.decode(r.value, { stream: true });
    }
    ctrl.abort();
    assert.match(text, /event: hello\n/);
    assert.match(text, /event: block\ndata: \{[^\n]*"account":"acme"/);
  } finally {
    await app.close();
  }
});
