import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BucketWindow } from "./windows.js";

test("counts within the window and forgets what falls out of it", () => {
  const w = new BucketWindow(60_000, 60);
  const t0 = Date.UTC(2026, 0, 1);
  w.add(t0, 1);
  w.add(t0 + 30 * 60_000, 2);
  assert.equal(w.sum(t0 + 30 * 60_000), 3);
  assert.equal(w.sum(t0 + 30 * 60_000, 5), 2);
  assert.equal(w.sum(t0 + 61 * 60_000), 2);
  assert.equal(w.sum(t0 + 91 * 60_000), 0);
  assert.ok(w.isIdle(t0 + 91 * 60_000));
});

test("late events inside the ring still count; events older than the ring are refused", () => {
  const w = new BucketWindow(1000, 10);
  w.add(20_000, 1);
  assert.equal(w.add(15_000, 1), true);
  assert.equal(w.add(5_000, 1), false);
  assert.equal(w.sum(20_000), 2);
});

test("a jump far ahead clears the ring instead of walking it", () => {
  const w = new BucketWindow(1000, 10);
  w.add(1000, 5);
  w.add(10_000_000_000, 1);
  assert.equal(w.sum(10_000_000_000), 1);
});

test("property: the window sum equals an exact sum over the buckets it covers", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ t: fc.integer({ min: 0, max: 100_000 }), v: fc.integer({ min: 1, max: 9 }) }), {
        maxLength: 200,
      }),
      (events) => {
        const sorted = [...events].sort((a, b) => a.t - b.t);
        const w = new BucketWindow(1000, 20);
        for (const e of sorted) w.add(e.t, e.v);
        const last = sorted.at(-1)?.t ?? 0;
        const n = Math.floor(last / 1000);
        const exact = sorted.filter((e) => Math.floor(e.t / 1000) > n - 20).reduce((s, e) => s + e.v, 0);
        assert.equal(w.sum(last), exact);
      },
    ),
  );
});
