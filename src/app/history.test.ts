import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { History } from "./history.js";

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const MIN = 60_000;

test("a running total becomes the increase in each minute", () => {
  const h = new History();
  h.sample("calls", "counter", T0, 100);
  h.sample("calls", "counter", T0 + 10_000, 103);
  h.sample("calls", "counter", T0 + MIN + 1, 110);
  h.sample("calls", "counter", T0 + 3 * MIN, 111);
  const v = h.read(T0 + 3 * MIN, 4);
  assert.deepEqual(v.at, [T0, T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]);
  assert.deepEqual(v.series.calls, [3, 7, 0, 1]);
  assert.equal(v.stepSeconds, 60);
});

test("a counter that restarts from zero starts a new baseline, not a negative minute", () => {
  const h = new History();
  h.sample("bans", "counter", T0, 50);
  h.sample("bans", "counter", T0 + 1000, 2);
  h.sample("bans", "counter", T0 + 2000, 5);
  assert.deepEqual(h.read(T0, 1).series.bans, [3]);
});

test("a signed total (spend corrected at hang-up) may give a negative minute", () => {
  const h = new History();
  h.sample("spend", "signed-counter", T0, 0);
  h.sample("spend", "signed-counter", T0 + MIN, 900);
  h.sample("spend", "signed-counter", T0 + 2 * MIN, 600);
  assert.deepEqual(h.read(T0 + 2 * MIN, 3).series.spend, [0, 900, -300]);
});

test("a gauge keeps the peak of each minute", () => {
  const h = new History();
  for (const [dt, v] of [
    [0, 10],
    [1000, 900],
    [2000, 20],
    [MIN, 5],
  ] as const)
    h.sample("pps", "gauge", T0 + dt, v);
  assert.deepEqual(h.read(T0 + MIN, 2).series.pps, [900, 5]);
});

test("the ring forgets minutes older than its size, and a long silence clears it", () => {
  const h = new History(MIN, 3);
  h.sample("x", "gauge", T0, 1);
  h.sample("x", "gauge", T0 + MIN, 2);
  h.sample("x", "gauge", T0 + 3 * MIN, 4);
  assert.deepEqual(h.read(T0 + 3 * MIN, 10).series.x, [2, 0, 4]);
  h.sample("x", "gauge", T0 + 100 * MIN, 7);
  assert.deepEqual(h.read(T0 + 100 * MIN, 3).series.x, [0, 0, 7]);
  // Too old for the ring: ignored rather than written over a newer minute.
  h.sample("x", "gauge", T0, 99);
  assert.deepEqual(h.read(T0 + 100 * MIN, 3).series.x, [0, 0, 7]);
});

test("the minutes of a counter add up to its growth inside the window (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 90_000 }), fc.nat(50)), { maxLength: 60 }),
      (steps) => {
        const h = new History(MIN, 1440);
        let t = T0;
        let total = 0;
        h.sample("c", "counter", t, total);
        for (const [dt, inc] of steps) {
          t += dt;
          total += inc;
          h.sample("c", "counter", t, total);
        }
        const v = h.read(t, 1440).series.c ?? [];
        assert.equal(
          v.reduce((a, b) => a + b, 0),
          total,
        );
        assert.ok(v.every((x) => x >= 0));
      },
    ),
  );
});
