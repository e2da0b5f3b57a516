import { SlotTable } from "./slot-table.js";

/**
 * Token buckets in event time. A bucket holds up to `burst` tokens and gains `perSecond` per second; a
 * request takes one. Time that goes backwards (events out of order) neither refills nor drains.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    at: number,
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new RangeError("perSecond must be > 0 and burst >= 1");
    this.tokens = burst;
    this.last = at;
  }

  /** Tokens available at `at` (refilled, capped at burst). */
  available(at: number): number {
    this.refill(at);
    return this.tokens;
  }

  /** Takes `n` tokens if there are that many; false leaves the bucket unchanged. */
  take(at: number, n = 1): boolean {
    this.refill(at);
    if (this.tokens + EPSILON < n) return false;
    this.tokens = Math.max(0, this.tokens - n);
    return true;
  }

  /** Milliseconds until `n` tokens are there (0 now; Infinity when n is above the burst). */
  waitMs(at: number, n = 1): number {
    this.refill(at);
    return waitFor(this.tokens, n, this.perSecond, this.burst);
  }

  private refill(at: number): void {
    if (at > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((at - this.last) / 1000) * this.perSecond);
      this.last = at;
    }
  }
}

/** Refills in fractions of a token round; a wait computed to the millisecond must be enough. */
const EPSILON = 1e-9;

function waitFor(tokens: number, n: number, perSecond: number, burst: number): number {
  if (tokens + EPSILON >= n) return 0;
  if (n > burst) return Number.POSITIVE_INFINITY;
  return Math.ceil(((n - tokens) / perSecond) * 1000);
}

/**
 * Many token buckets, one per key, in fixed memory (two doubles a key). Rate and burst are given at each
 * call, so a limit that tightens under attack applies at once to every key; a key seen for the first
 * time, or forgotten to make room, starts full.
 */
export class BucketMap {
  private readonly table: SlotTable;
  private readonly tokens: Float64Array;
  private readonly last: Float64Array;

  constructor(capacity: number) {
    this.table = new SlotTable(capacity);
    this.tokens = new Float64Array(capacity);
    this.last = new Float64Array(capacity);
  }

  get size(): number {
    return this.table.size;
  }

  /** Takes `n` tokens from the key's bucket; false when there are not enough (nothing is taken). */
  take(key: string, at: number, perSecond: number, burst: number, n = 1): boolean {
    const s = this.slot(key, at, perSecond, burst);
    const t = this.tokens[s] as number;
    if (t + EPSILON < n) return false;
    this.tokens[s] = Math.max(0, t - n);
    return true;
  }

  /** Tokens in the key's bucket at `at`; a key not held is full. */
  level(key: string, at: number, perSecond: number, burst: number): number {
    const s = this.table.find(key);
    if (s === -1) return burst;
    this.refill(s, at, perSecond, burst);
    return this.tokens[s] as number;
  }

  /** Milliseconds until the key's bucket has `n` tokens. */
  waitMs(key: string, at: number, perSecond: number, burst: number, n = 1): number {
    return waitFor(this.level(key, at, perSecond, burst), n, perSecond, burst);
  }

  private slot(key: string, at: number, perSecond: number, burst: number): number {
    const { slot, isNew } = this.table.claim(key);
    if (isNew) {
      this.tokens[slot] = burst;
      this.last[slot] = at;
    } else this.refill(slot, at, perSecond, burst);
    return slot;
  }

  private refill(s: number, at: number, perSecond: number, burst: number): void {
    const last = this.last[s] as number;
    if (at > last) {
      this.tokens[s] = Math.min(burst, (this.tokens[s] as number) + ((at - last) / 1000) * perSecond);
      this.last[s] = at;
    } else if ((this.tokens[s] as number) > burst) this.tokens[s] = burst;
  }
}
