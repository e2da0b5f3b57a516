import { join } from "node:path";
import { CallGuard, type GuardOptions } from "../../src/calls/guard.js";
import { type AccountPolicy, shippedDefaults } from "../../src/calls/policy.js";
import type { Verdict } from "../../src/calls/verdict.js";
import { loadHolidays } from "../../src/config/holidays.js";
import { loadNumberingData } from "../../src/config/rules-files.js";
import { fromLocal } from "../../src/core/local-time.js";
import { repoRoot } from "./paths.js";

const rulesDir = join(repoRoot, "rules");
export const numbering = loadNumberingData(rulesDir);
export const holidays = loadHolidays(rulesDir);

/** A guard on the shipped rule pack and defaults, as `mamori serve` builds it. */
export function makeGuard(policies: AccountPolicy[] = [], opts: Partial<GuardOptions> = {}): CallGuard {
  const g = new CallGuard({ numbering, holidays, defaults: shippedDefaults, ...opts });
  for (const p of policies) g.setPolicy(p);
  return g;
}

/** Epoch ms of a Tokyo wall-clock time. */
export const tokyo = (y: number, mo: number, d: number, h: number, mi = 0, s = 0): number =>
  fromLocal(y, mo, d, h, mi, s, "Asia/Tokyo");

export const MIN = 60_000;

let seq = 0;
/** Places a whole call: authorize, and if allowed, answer after `ringSec` and hang up after `talkSec`. */
export function placeCall(
  g: CallGuard,
  account: string,
  to: string,
  at: number,
  talkSec = 60,
  ringSec = 5,
): Verdict {
  const callId = `call-${++seq}`;
  const v = g.authorize({ type: "call.attempt", at, callId, account, to });
  if (v.decision === "allow") {
    g.answer({ type: "call.answer", at: at + ringSec * 1000, callId });
    g.hangup({ type: "call.hangup", at: at + (ringSec + talkSec) * 1000, callId });
  }
  return v;
}

/** A deterministic pseudo-random source for scenario generation (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
