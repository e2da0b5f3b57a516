import { BucketMap } from "./token-bucket.js";

/**
 * An address's record: strikes (refusals for rate, forged or failed challenge answers, challenges left
 * unsolved), bans in force and the escalating ladder. Strikes drain from a bucket that refills over the
 * window, so an address is banned for sustained abuse, not for one burst; everything is bounded.
 */
export type AbuseOptions = {
  readonly strikes: number;
  readonly windowSeconds: number;
  readonly ladderMinutes: readonly number[];
  readonly memoryHours: number;
  readonly unsolvedLimit: number;
  readonly capacity: number;
};

export type ActiveShieldBan = { readonly until: number; readonly rule: string };

/** Unsolved challenges refill over ten minutes: a browser solves its first one, a script never does. */
const UNSOLVED_WINDOW_S = 600;

export class AbuseBook {
  private readonly strikeBuckets: BucketMap;
  private readonly unsolved: BucketMap;
  private readonly bans = new Map<string, ActiveShieldBan>();
  private readonly offences = new Map<string, { count: number; lastAt: number }>();

  constructor(private readonly o: AbuseOptions) {
    this.strikeBuckets = new BucketMap(o.capacity);
    this.unsolved = new BucketMap(o.capacity);
  }

  /** Adds strikes; true when the address has used up its allowance (time to ban). */
  strike(at: number, address: string, weight = 1): boolean {
    const o = this.o;
    return !this.strikeBuckets.take(address, at, o.strikes / o.windowSeconds, o.strikes, weight);
  }

  /** A challenge was sent to the address; true when it has had too many without solving one. */
  challenged(at: number, address: string): boolean {
    const n = this.o.unsolvedLimit;
    return !this.unsolved.take(address, at, n / UNSOLVED_WINDOW_S, n);
  }

  /** Bad history: half the strike allowance gone, or too many challenges left unsolved. */
  isSuspicious(at: number, address: string): boolean {
    const o = this.o;
    const strikes = this.strikeBuckets.level(address, at, o.strikes / o.windowSeconds, o.strikes);
    const n = o.unsolvedLimit;
    return strikes < o.strikes / 2 || this.unsolved.level(address, at, n / UNSOLVED_WINDOW_S, n) < 1;
  }

  banned(at: number, address: string): ActiveShieldBan | undefined {
    const b = this.bans.get(address);
    if (!b) return undefined;
    if (b.until > at) return b;
    this.bans.delete(address);
    return undefined;
  }

  /** Records a ban on the ladder and returns its length. */
  ban(at: number, address: string, rule: string): number {
    const prev = this.offences.get(address);
    const count = prev && at - prev.lastAt <= this.o.memoryHours * 3_600_000 ? prev.count + 1 : 1;
    const ladder = this.o.ladderMinutes;
    const minutes = ladder[Math.min(count, ladder.length) - 1] ?? ladder[ladder.length - 1] ?? 10;
    const durationMs = minutes * 60_000;
    this.put(this.offences, address, { count, lastAt: at });
    this.put(this.bans, address, { until: at + durationMs, rule });
    return durationMs;
  }

  /** Lifts a ban (an operator's decision). */
  lift(address: string): boolean {
    return this.bans.delete(address);
  }

  get activeBans(): number {
    return this.bans.size;
  }

  private put<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    if (map.size >= this.o.capacity) {
      const first = map.keys().next();
      if (!first.done) map.delete(first.value);
    }
    map.set(key, value);
  }
}
