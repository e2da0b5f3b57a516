import assert from "node:assert/strict";
import { test } from "node:test";
import { MIN, makeGuard, tokyo } from "../../test/support/guard.js";
import type { CallRecord } from "../core/call-events.js";
import { Replayer } from "./replay.js";

const rec = (callId: string, account: string, to: string, start: number, billsec: number): CallRecord => ({
  callId,
  account,
  to,
  start,
  answer: billsec > 0 ? start + 5000 : undefined,
  end: start + 5000 + billsec * 1000,
  billsec,
  disposition: billsec > 0 ? "ANSWERED" : "NO ANSWER",
});

test("replay in event time: a fraud night is blocked early and the savings are counted on the alert", () => {
  const g = makeGuard([{ id: "victim", ...{ international: { mode: "all" as const } } }]);
  const r = new Replayer(g);
  const start = tokyo(2026, 11, 20, 23);
  // Written at hang-up: ordered by end time, as Master.csv is.
  const records = Array.from({ length: 200 }, (_, i) =>
    rec(`f${i}`, "victim", `+23276${100000 + i * 37}`, start + i * 40_000, 30),
  );
  for (const x of records.sort((a, b) => a.end - b.end)) r.push(x);
  r.finish();
  assert.equal(r.stats.records, 200);
  assert.ok(r.stats.allowed <= 5, `allowed ${r.stats.allowed}`);
  const block = r.alerts.find((a) => a.decision === "block");
  assert.ok(block, "an alert blocked the account");
  assert.ok(block.saved > 150 * 90, `the block saved ${block.saved}`);
  assert.ok(Math.abs(r.stats.saved - (200 - r.stats.allowed) * 90) < 1);
});

test("replay ends a long call at its limit and counts only the minutes after it as saved", () => {
  const g = makeGuard([
    { id: "a", international: { mode: "all" }, caps: { maxInternationalCallSeconds: 600 } },
  ]);
  const r = new Replayer(g);
  const at = tokyo(2026, 11, 24, 11);
  r.push(rec("long", "a", "+12125551234", at, 3600));
  r.push(rec("short", "a", "+12125551234", at + 4000 * 1000, 60));
  r.finish();
  assert.equal(r.stats.terminated, 1);
  const t = r.alerts.find((a) => a.rule === "max-duration");
  assert.equal(t?.decision, "terminate");
  // 3,000 s past the limit (within one tick) at the US rate.
  assert.ok(Math.abs((t?.saved ?? 0) - (3000 / 60) * 9) < 9 * 0.5, `saved ${t?.saved}`);
});

test("records that arrive later than the horizon are still replayed, and counted as late", () => {
  const g = makeGuard([{ id: "a", international: { mode: "all" } }]);
  const r = new Replayer(g, { horizonMs: 10 * MIN });
  const at = tokyo(2026, 11, 24, 11);
  r.push(rec("x", "a", "0312345678", at + 60 * MIN, 10));
  r.push(rec("y", "a", "0312345678", at + 20 * MIN, 10)); // within the horizon: reordered, not late
  r.push(rec("z", "a", "0312345678", at + 200 * MIN, 10));
  r.push(rec("w", "a", "0312345678", at, 10)); // 3 h before calls already replayed
  r.finish();
  assert.equal(r.stats.records, 4);
  assert.equal(r.stats.late, 1);
  assert.equal(r.stats.allowed, 4);
});
