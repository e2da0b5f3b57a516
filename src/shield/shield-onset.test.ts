import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSigner } from "./signed-token.js";
import {
  botnet,
  customer,
  customerPeer,
  facts,
  flood,
  login,
  quiet,
  type Tally,
  tally,
  World,
} from "./test-world.js";
import type { RequestFacts } from "./types.js";

/**
 * The first seconds of a flood, before attack mode could say anything: the benchmark's backend
 * (5 workers × 100 ms, 50 requests/s), customers at 60% of it, and a flood at 10× its capacity from a
 * botnet. Customers must not be the ones to wait: unknown traffic is kept to what the backend carries
 * without a queue, so customers' p99 stays well within twice what it is without the flood.
 */
const BACKEND = { workers: 5, serviceMs: 100 };
const CALM = [5_000, 20_000] as const;
const FLOOD = [20_000, 30_000] as const;

function p99(t: Tally, from: number, to: number): number {
  const lat = t.latencies.filter((_, i) => (t.began[i] as number) >= from && (t.began[i] as number) < to);
  lat.sort((a, b) => a - b);
  return lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] ?? Number.NaN;
}

function onset(extra: Partial<RequestFacts> = {}) {
  const w = new World(quiet, BACKEND);
  const peers = Array.from({ length: 20 }, (_, i) => customerPeer(i));
  const tokens = login(w, peers);
  w.sim.run(1000);
  assert.equal(tokens.size, 20);
  flood(w, 5, 1000, 40_000, (n) => `203.0.113.${n % 5}`, "/"); // ordinary anonymous visitors
  const t = tally();
  // 20 customers, a transaction of four requests each every 2.67 s, evenly spread as in the benchmark:
  // 7.5 transactions and 30 requests a second, 60% of capacity.
  let i = 0;
  for (const [p, token] of tokens) customer(w, p, token, 1000 + (i++ * 2667) / 20, 2667, 40_000, t);
  flood(w, 500, FLOOD[0], FLOOD[1], (n) => botnet(n % 5000), "/login", extra);
  w.sim.run(45_000);
  return { w, t, calm: p99(t, ...CALM), flooded: p99(t, ...FLOOD) };
}

describe("billing shield at a flood's onset (event time)", () => {
  it("keeps customers' p99 from the flood's first request, with no attack mode", () => {
    const { w, t, calm, flooded } = onset();
    assert.equal(w.engine.mode, "normal");
    assert.ok(t.done / t.begun >= 0.99, `${t.done}/${t.begun} completed`);
    // The goal allows twice; half the allowance is kept for a real network and a busy machine. Without
    // the knee (unknown traffic up to the whole limit) this is about 1.7×.
    assert.ok(flooded <= 1.5 * calm, `p99 ${flooded} ms under the flood, ${calm} ms before`);
    // The flood still got the spare capacity: the backend was not left idle to keep it out.
    const floodServed = w.forwardedBy.get("flood") ?? 0;
    assert.ok(floodServed >= 0.2 * 50 * 10, `${floodServed} flood requests served`);
  });

  it("gives a flood that forges the customer cookie no priority", () => {
    // Well formed, for a real customer id, signed with a key that is not the gateway's.
    const forged = new TokenSigner(["f".repeat(40)]).sign("c", "cust-198.51.0.1", "", 1e13);
    const { w, t, calm, flooded } = onset({ customerToken: forged });
    assert.ok(t.done / t.begun >= 0.99, `${t.done}/${t.begun} completed`);
    assert.ok(flooded <= 1.5 * calm, `p99 ${flooded} ms under the flood, ${calm} ms before`);
    const d = w.engine.decide(w.sim.now, facts(botnet(1), "GET", "/account", { customerToken: forged }));
    assert.ok(d.type !== "invalid" && d.cls !== "customer" && d.cls !== "transaction", JSON.stringify(d));
  });
});
