import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { AdaptiveLimit, type AdaptiveLimitOptions } from "./adaptive-limit.js";
import { defaultShieldSettings } from "./settings.js";
import { Sim, SimBackend } from "./test-sim.js";

const options: AdaptiveLimitOptions = defaultShieldSettings.concurrency;

/**
 * Endless demand in front of a backend with `workers` and `serviceMs`: the gateway keeps exactly
 * `limit` requests in flight. Returns what the limit and the latency looked like over time.
 */
function saturate(phases: { untilMs: number; workers: number; serviceMs: number }[]) {
  const sim = new Sim();
  const limiter = new AdaptiveLimit(options);
  const backend = new SimBackend(sim, phases[0]?.workers ?? 1, phases[0]?.serviceMs ?? 1);
  let inflight = 0;
  const trace: { at: number; limit: number; rtt: number }[] = [];
  const fill = () => {
    while (inflight < limiter.limit) {
      inflight++;
      const sent = sim.now;
      const sentWith = inflight;
      backend.submit(() => {
        inflight--;
        const rtt = sim.now - sent;
        limiter.onSample(sim.now, rtt, sentWith, false);
        trace.push({ at: sim.now, limit: limiter.limit, rtt });
        fill();
      });
    }
  };
  for (const p of phases) {
    backend.workers = p.workers;
    backend.serviceMs = p.serviceMs;
    fill();
    sim.run(p.untilMs);
  }
  const window = (from: number, to: number) => {
    const t = trace.filter((x) => x.at >= from && x.at < to);
    const limits = t.map((x) => x.limit).sort((a, b) => a - b);
    return {
      // The median leaves out the short probes at half the limit.
      medianLimit: limits[Math.floor(limits.length / 2)] ?? 0,
      maxLimit: limits[limits.length - 1] ?? 0,
      meanRtt: t.reduce((s, x) => s + x.rtt, 0) / t.length,
      rate: t.length / ((to - from) / 1000),
    };
  };
  return { window };
}

describe("adaptive concurrency limit (event time)", () => {
  it("settles just above the backend's capacity, keeps it busy and its queue short", () => {
    // 10 workers × 50 ms: 200 requests/s at most, 50 ms without a queue.
    const { window } = saturate([{ untilMs: 60_000, workers: 10, serviceMs: 50 }]);
    const late = window(30_000, 60_000);
    assert.ok(late.medianLimit >= 10 && late.maxLimit <= 22, JSON.stringify(late));
    assert.ok(late.rate >= 0.95 * 200, `served ${late.rate}/s of 200/s`);
    assert.ok(late.meanRtt < 2 * 50, `mean latency ${late.meanRtt} ms`);
  });

  it("follows the backend down when it loses capacity, and back up when it recovers", () => {
    const { window } = saturate([
      { untilMs: 40_000, workers: 10, serviceMs: 50 },
      { untilMs: 80_000, workers: 4, serviceMs: 50 },
      { untilMs: 140_000, workers: 10, serviceMs: 50 },
    ]);
    const degraded = window(60_000, 80_000);
    assert.ok(degraded.medianLimit >= 4 && degraded.maxLimit <= 10, JSON.stringify(degraded));
    assert.ok(degraded.meanRtt < 2 * 50 && degraded.rate >= 0.9 * 80, JSON.stringify(degraded));
    const recovered = window(120_000, 140_000);
    assert.ok(recovered.medianLimit >= 10 && recovered.rate >= 0.9 * 200, JSON.stringify(recovered));
  });

  it("does not grow while demand leaves it half unused, and decays toward twice the use", () => {
    const l = new AdaptiveLimit({ ...options, initialLimit: 20 });
    let max = 0;
    for (let t = 0; t < 60_000; t += 10) {
      l.onSample(t, 5, 3, false);
      max = Math.max(max, l.limit);
    }
    assert.equal(max, 20);
    assert.ok(l.limit >= 6 && l.limit <= 8, `limit ${l.limit}`);
  });

  it("finds the knee: what the backend carries without a queue, whatever the limit allows", () => {
    // 10 workers × 50 ms: a knee of 10 in flight; the limit itself sits above it, by design.
    const sim = new Sim();
    const limiter = new AdaptiveLimit(options);
    const backend = new SimBackend(sim, 10, 50);
    let inflight = 0;
    const knees: number[] = [];
    const fill = () => {
      while (inflight < limiter.limit) {
        inflight++;
        const sent = sim.now;
        const sentWith = inflight;
        backend.submit(() => {
          inflight--;
          limiter.onSample(sim.now, sim.now - sent, sentWith, false);
          if (sim.now > 20_000) knees.push(limiter.knee);
          fill();
        });
      }
    };
    fill();
    sim.run(40_000);
    knees.sort((a, b) => a - b);
    const median = knees[Math.floor(knees.length / 2)] ?? 0;
    assert.ok(median >= 10 && median <= 13, `knee ${median}`);
    assert.ok(limiter.knee <= limiter.limit);
  });

  it("keeps the knee near what is in use while traffic is light, and equal to the limit before any window", () => {
    const l = new AdaptiveLimit({ ...options, initialLimit: 20 });
    assert.equal(l.knee, 20);
    // Three in flight at 100 ms: 30 answers a second.
    for (let t = 0; t < 10_000; t += 33) l.onSample(t, 100, 3, false);
    assert.ok(l.limit >= 6, `limit ${l.limit}`);
    assert.ok(l.knee >= 3 && l.knee <= 5, `knee ${l.knee}`);
  });

  it("backs off on overload errors without learning a false best latency from them", () => {
    const l = new AdaptiveLimit({ ...options, initialLimit: 100 });
    for (let t = 0; t < 2000; t += 10) l.onSample(t, 50, 100, false);
    const before = l.limit;
    for (let t = 2000; t < 6000; t += 10) l.onSample(t, 1, 100, true);
    assert.ok(l.limit < before * 0.7, `${before} → ${l.limit}`);
    assert.ok(l.baselineMs >= 49, `baseline ${l.baselineMs}`);
  });

  it("always stays within its bounds, whatever the samples", () => {
    const sample = fc.record({
      gap: fc.integer({ min: 0, max: 1000 }),
      rtt: fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constant(Number.NaN)),
      inflight: fc.integer({ min: 0, max: 2000 }),
      dropped: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.record({ min: fc.integer({ min: 1, max: 50 }), span: fc.integer({ min: 0, max: 500 }) }),
        fc.array(sample, { maxLength: 400 }),
        ({ min, span }, run) => {
          const l = new AdaptiveLimit({
            ...options,
            minLimit: min,
            maxLimit: min + span,
            windowMs: 50,
            windowSamples: 2,
          });
          let at = 0;
          for (const s of run) {
            at += s.gap;
            l.onSample(at, s.rtt, s.inflight, s.dropped);
            assert.ok(Number.isInteger(l.limit) && l.limit >= min && l.limit <= min + span, `${l.limit}`);
          }
        },
      ),
    );
  });
});
