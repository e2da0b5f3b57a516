import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { MinHeap } from "./heap.js";

test("property: pops come out in key order, stable in count", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 300 }), (keys) => {
      const h = new MinHeap<number>();
      for (const k of keys) h.push(k, k);
      const out: number[] = [];
      for (let v = h.pop(); v !== undefined; v = h.pop()) out.push(v);
      assert.deepEqual(
        out,
        [...keys].sort((a, b) => a - b),
      );
    }),
  );
});
