import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { type ShieldHandle, startShield } from "../../src/adapters/http/shield-gateway.js";
import type { BanRequest, ModeChange } from "../../src/shield/types.js";
import {
  type BillingBackend,
  Customer,
  flood,
  loopbackAddresses,
  sleep,
  slowConnections,
  startBillingBackend,
} from "./shield-world.js";

/**
 * The billing shield on loopback, small scale: a backend of 4 workers × 40 ms (100 requests/s), 12
 * customers paying at about 60% of that, then a flood at 10× capacity from ~480 addresses with two
 * heavy hitters, and slow connections. Customers must keep paying; the flood must not reach the backend.
 */
describe("billing shield end to end", () => {
  let backend: BillingBackend;
  let shield: ShieldHandle;
  const registry = new Registry();
  const bans: BanRequest[] = [];
  const modes: ModeChange[] = [];

  before(async () => {
    backend = await startBillingBackend({ workers: 4, serviceMs: 40 });
    shield = await startShield({
      upstream: backend.url,
      port: 0,
      host: "127.0.0.1",
      registry,
      settings: {
        secrets: ["e2e-secret-that-is-long-enough-0123456789"],
        attack: { learnSeconds: 2, enterSeconds: 2, minRps: 30, exitSeconds: 2, minSeconds: 2 },
        challenge: { bits: 10 },
        bans: { strikes: 20, windowSeconds: 10 },
        server: { headersTimeoutMs: 2000, requestTimeoutMs: 4000, maxConnectionsPerAddress: 16 },
      },
      onBan: (b) => bans.push(b),
      onModeChange: (m) => modes.push(m),
    });
  });

  after(async () => {
    await shield?.close();
    await backend?.close();
  });

  it("keeps customers paying through a flood, bans heavy hitters, cuts slow connections, then stands down", async () => {
    const customers = Array.from(
      { length: 12 },
      (_, i) => new Customer(shield.address, `c${i}`, `127.0.1.${i + 1}`),
    );
    const t0 = Date.now();
    const logins = await Promise.all(customers.map((c) => c.login(t0 + 5000)));
    assert.deepEqual(logins, Array(12).fill(true));

    const floodStart = t0 + 3000;
    const floodMs = 8000;
    const stopAt = floodStart + floodMs;
    let begun = 0;
    let done = 0;
    const pay = async (c: Customer) => {
      while (Date.now() < stopAt) {
        const start = Date.now();
        const duringFlood = start >= floodStart;
        if (duringFlood) begun++;
        const ok = await c.transaction(start + 6000);
        if (duringFlood && ok) done++;
        await sleep(600);
      }
    };
    const background = flood({
      origin: shield.address,
      rps: 10,
      durationMs: stopAt - t0,
      addresses: ["127.0.0.10", "127.0.0.11", "127.0.0.12"],
      requests: [{ method: "GET", path: "/" }],
    });
    const paying = Promise.all(customers.map(pay));

    await sleep(floodStart - Date.now());
    const bots = loopbackAddresses(480);
    const [attack, heavy, slow] = await Promise.all([
      flood({
        origin: shield.address,
        rps: 1000,
        durationMs: floodMs,
        addresses: bots,
        requests: [
          { method: "POST", path: "/login", body: '{"user":"bot"}' },
          { method: "GET", path: "/" },
          { method: "POST", path: "/payments/complete", body: "{}" },
        ],
      }),
      flood({
        origin: shield.address,
        rps: 300,
        durationMs: floodMs,
        addresses: ["127.0.4.1", "127.0.4.2"],
        requests: [{ method: "POST", path: "/login", body: '{"user":"heavy"}' }],
      }),
      slowConnections(shield.address, 40, "127.0.5.1", 6000),
    ]);
    await paying;
    await background;
    for (const c of customers) await c.close();

    const share = done / begun;
    assert.ok(begun >= 40, `${begun} transactions begun during the flood`);
    assert.ok(share >= 0.9, `${done}/${begun} legitimate transactions completed during the flood`);
    const attackSent = attack.sent + heavy.sent;
    const reached = backend.reached.attack ?? 0;
    assert.ok(attack.sent >= 4000, `flood sent ${attack.sent}`);
    assert.ok(reached / attackSent < 0.1, `${reached} of ${attackSent} attack requests reached the backend`);

    assert.equal(modes[0]?.to, "attack");
    for (const h of ["127.0.4.1", "127.0.4.2"])
      assert.ok(
        bans.some((b) => b.address === h),
        `${h} banned`,
      );
    assert.ok(
      bans.every((b) => !b.address.startsWith("127.0.1.")),
      "no customer banned",
    );

    // 24 of the 40 slow connections are over the per-address cap and closed at once; the others at the
    // header time-out (2 s, checked every 250 ms). "At once" is anything before that time-out could
    // have fired: on a loaded machine the refusals themselves can take most of a second.
    assert.ok(slow.filter((ms) => ms < 2000).length >= 24, JSON.stringify(slow));
    assert.ok(Math.max(...slow) < 3500, `longest slow connection ${Math.max(...slow)} ms`);

    const text = await registry.metrics();
    assert.match(text, /mamori_shield_challenged_total\{class="(anonymous|suspicious)"\} [1-9]/);
    assert.match(text, /mamori_shield_admitted_total\{class="transaction"\} [1-9]/);

    // The flood is over: the shield leaves attack mode by itself.
    const deadline = Date.now() + 10_000;
    while (shield.stats.mode !== "normal" && Date.now() < deadline) await sleep(200);
    assert.equal(shield.stats.mode, "normal");
    assert.equal(modes.at(-1)?.to, "normal");
  });
});
