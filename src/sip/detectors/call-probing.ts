import type { BucketWindow } from "../../core/windows.js";
import type { PbxGuardSettings } from "../settings.js";
import type { Sink } from "../types.js";
import { addSample, countIn, MINUTE, pruneMap, putBounded, slidingCount } from "./common.js";

type State = { calls: BucketWindow; numbers: string[]; lastAt: number };

/**
 * Dialplan probing: calls from one address refused because no extension matched, the signature of
 * toll-fraud tools trying `00972…`, `9011…`, `+44…` until one of them reaches a trunk.
 */
export class CallProbing {
  private readonly states = new Map<string, State>();
  private readonly windowMs: number;

  constructor(private readonly settings: PbxGuardSettings) {
    this.windowMs = settings.rules["call-probing"].windowMinutes * MINUTE;
  }

  rejected(address: string, to: string, at: number, established: boolean, sink: Sink): void {
    const rule = this.settings.rules["call-probing"];
    if (rule.mode === "off") return;
    let s = this.states.get(address);
    if (!s) {
      s = { calls: slidingCount(this.windowMs), numbers: [], lastAt: at };
      putBounded(this.states, address, s, this.settings.limits.maxSources);
    }
    s.calls.add(at, 1);
    if (at > s.lastAt) s.lastAt = at;
    addSample(s.numbers, to.slice(0, 40), 10);
    const threshold = rule.calls * (established ? this.settings.established.factor : 1);
    const n = countIn(s.calls, at);
    if (n < threshold) return;
    sink.signals.push({
      type: "ban",
      rule: "call-probing",
      address,
      at,
      message: `${n} calls from ${address} refused for no matching extension within ${rule.windowMinutes} minutes`,
      evidence: {
        calls: n,
        windowMinutes: rule.windowMinutes,
        threshold,
        established,
        numbers: [...s.numbers],
      },
    });
    this.states.delete(address);
  }

  prune(now: number): void {
    pruneMap(this.states, (s) => now - s.lastAt > this.windowMs);
  }
}
