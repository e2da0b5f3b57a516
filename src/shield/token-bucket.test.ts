import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SlotTable } from "./slot-table.js";
import { BucketMap, TokenBucket } from "./token-bucket.js";

/** A run of requests: gaps in ms between them (event time only moves forward) and token counts. */
const steps = fc.array(
  fc.record({ gap: fc.integer({ min: 0, max: 2000 }), n: fc.integer({ min: 1, max: 3 }) }),
  {
    maxLength: 300,
  },
);
const params = fc.record({
  perSecond: fc.double({ min: 0.1, max: 500, noNaN: true }),
  burst: fc.integer({ min: 1, max: 100 }),
});

describe("TokenBucket", () => {
  it("never admits more than burst + rate × elapsed time", () => {
    fc.assert(
      fc.property(params, steps, ({ perSecond, burst }, run) => {
        const b = new TokenBucket(perSecond, burst, 0);
        let at = 0;
        let taken = 0;
        for (const s of run) {
          at += s.gap;
          if (b.take(at, s.n)) taken += s.n;
          assert.ok(taken <= burst + (perSecond * at) / 1000 + 1e-6, `took ${taken} by ${at} ms`);
          assert.ok(b.available(at) >= 0 && b.available(at) <= burst);
        }
      }),
    );
  });

  it("admits again once waitMs has passed, and not sooner than it says", () => {
    fc.assert(
      fc.property(params, steps, ({ perSecond, burst }, run) => {
        const b = new TokenBucket(perSecond, burst, 0);
        let at = 0;
        for (const s of run) {
          at += s.gap;
          if (b.take(at, 1)) continue;
          const w = b.waitMs(at, 1);
          assert.ok(w > 0 && Number.isFinite(w));
          assert.equal(b.take(at + w, 1), true);
          at += w;
        }
      }),
    );
  });

  it("ignores time that runs backwards", () => {
    const b = new TokenBucket(10, 5, 10_000);
    for (let i = 0; i < 5; i++) assert.equal(b.take(10_000), true);
    assert.equal(b.take(5_000), false);
    assert.equal(b.available(10_000), 0);
    assert.equal(b.waitMs(10_000, 6), Number.POSITIVE_INFINITY);
  });
});

describe("BucketMap", () => {
  it("behaves like one TokenBucket per key", () => {
    fc.assert(
      fc.property(
        params,
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 500 }), key: fc.integer({ min: 0, max: 5 }) }), {
          maxLength: 200,
        }),
        ({ perSecond, burst }, run) => {
          const map = new BucketMap(16);
          const single = new Map<number, TokenBucket>();
          let at = 0;
          for (const s of run) {
            at += s.gap;
            let ref = single.get(s.key);
            if (!ref) {
              ref = new TokenBucket(perSecond, burst, at);
              single.set(s.key, ref);
            }
            assert.equal(map.take(`k${s.key}`, at, perSecond, burst), ref.take(at));
          }
        },
      ),
    );
  });

  it("holds at most its capacity, and a forgotten key starts full", () => {
    const map = new BucketMap(100);
    for (let i = 0; i < 10_000; i++) map.take(`10.0.${i >> 8}.${i & 255}`, i, 1, 2);
    assert.equal(map.size, 100);
    assert.equal(map.level("10.0.0.0", 10_000, 1, 2), 2);
  });
});

describe("SlotTable", () => {
  it("keeps keys in use and evicts those not touched since the hand passed", () => {
    const t = new SlotTable(4);
    for (const k of ["a", "b", "c", "d"]) t.claim(k);
    // "e" sweeps every bit clear and takes a's slot; "b" is touched again and outlives c and d.
    t.claim("e");
    assert.equal(t.find("a"), -1);
    t.find("b");
    t.claim("f");
    t.claim("g");
    assert.notEqual(t.find("b"), -1);
    assert.equal(t.find("c"), -1);
    assert.equal(t.find("d"), -1);
    assert.equal(t.size, 4);
  });
});
