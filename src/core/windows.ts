/**
 * Sliding-window counters over event time, in fixed memory.
 *
 * A ring of buckets, each covering `bucketMs`; the window sum is the sum of the buckets that fall inside
 * it. Resolution is one bucket (a 60-minute window of 1-minute buckets may hold up to a minute more than
 * an exact window would), which is what fraud thresholds need, and keeps memory constant however many
 * calls an account makes. Events older than the ring are ignored; events from the future move the ring
 * forward. Typed arrays avoid per-event allocation on the hot path.
 */
export class BucketWindow {
  readonly bucketMs: number;
  readonly size: number;
  private readonly buckets: Float64Array;
  /** Index (bucket number since epoch) of the newest bucket held. */
  private head = -1;

  constructor(bucketMs: number, size: number) {
    if (!(bucketMs > 0) || !(size > 0)) throw new RangeError("bucketMs and size must be positive");
    this.bucketMs = bucketMs;
    this.size = size;
    this.buckets = new Float64Array(size);
  }

  /** Adds `value` at event time `at`. Returns false when `at` is too old for the ring. */
  add(at: number, value: number): boolean {
    const n = Math.floor(at / this.bucketMs);
    this.advance(n);
    if (n <= this.head - this.size) return false;
    this.buckets[n % this.size] = (this.buckets[n % this.size] ?? 0) + value;
    return true;
  }

  /** Sum of the last `spanBuckets` buckets ending at event time `at` (inclusive of its bucket). */
  sum(at: number, spanBuckets: number = this.size): number {
    const n = Math.floor(at / this.bucketMs);
    const span = Math.min(spanBuckets, this.size);
    let total = 0;
    for (let i = n - span + 1; i <= n; i++) {
      if (i > this.head || i <= this.head - this.size || i < 0) continue;
      total += this.buckets[i % this.size] ?? 0;
    }
    return total;
  }

  /** True when nothing has been counted within the ring ending at `at`. */
  isIdle(at: number): boolean {
    return this.head < 0 || Math.floor(at / this.bucketMs) - this.head >= this.size;
  }

  private advance(n: number): void {
    if (n <= this.head) return;
    const gap = n - this.head;
    if (this.head < 0 || gap >= this.size) {
      this.buckets.fill(0);
    } else {
      for (let i = this.head + 1; i <= n; i++) this.buckets[i % this.size] = 0;
    }
    this.head = n;
  }
}
