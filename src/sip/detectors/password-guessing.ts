import type { BucketWindow } from "../../core/windows.js";
import type { PbxGuardSettings } from "../settings.js";
import type { Sink } from "../types.js";
import { addSample, countIn, MINUTE, pruneMap, putBounded, slidingCount } from "./common.js";

type State = { fails: BucketWindow; accounts: string[]; lastAt: number };

/**
 * Password guessing from one address: failed logins within a window. A phone that mistypes its
 * password a few times stays far below the threshold; svcrack sends hundreds a minute. The count
 * starts again after the rule fires, so a source that keeps going fires again (and the guard, which
 * remembers its bans, does not ban twice).
 */
export class PasswordGuessing {
  private readonly states = new Map<string, State>();
  private readonly windowMs: number;

  constructor(private readonly settings: PbxGuardSettings) {
    this.windowMs = settings.rules["password-guessing"].windowMinutes * MINUTE;
  }

  failure(address: string, at: number, account: string | undefined, established: boolean, sink: Sink): void {
    const rule = this.settings.rules["password-guessing"];
    if (rule.mode === "off") return;
    let s = this.states.get(address);
    if (!s) {
      s = { fails: slidingCount(this.windowMs), accounts: [], lastAt: at };
      putBounded(this.states, address, s, this.settings.limits.maxSources);
    }
    s.fails.add(at, 1);
    if (at > s.lastAt) s.lastAt = at;
    if (account !== undefined) addSample(s.accounts, account, 5);
    const threshold = rule.failures * (established ? this.settings.established.factor : 1);
    const n = countIn(s.fails, at);
    if (n < threshold) return;
    sink.signals.push({
      type: "ban",
      rule: "password-guessing",
      address,
      at,
      message: `${n} failed logins from ${address} within ${rule.windowMinutes} minutes`,
      evidence: {
        failures: n,
        windowMinutes: rule.windowMinutes,
        threshold,
        established,
        accounts: [...s.accounts],
      },
    });
    this.states.delete(address);
  }

  prune(now: number): void {
    pruneMap(this.states, (s) => now - s.lastAt > this.windowMs);
  }

  get size(): number {
    return this.states.size;
  }
}
