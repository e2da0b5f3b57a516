import { IN_BASE, METRICS, Metric, Proto } from "./metrics.js";
import { TopK } from "./top-k.js";

/**
 * Per-second rates for a table of rows (hosts, or aggregate prefixes), in flat typed arrays indexed
 * by row × METRICS + metric. Rows are handed out by the owner (see slots.ts); this class only moves
 * numbers.
 *
 * Spreading. A NetFlow/IPFIX record says "P packets between first and last", and arrives when the
 * exporter expires the flow, often a minute after it started. Counting P in the second it arrives
 * turns one steady long flow into a spike every active timeout; counting it back over the seconds it
 * covered leaves the newest seconds empty until the next export. So a record of duration d adds its
 * average rate P/d for the next d seconds from its arrival: a steady flow reads as steady (one export
 * late), and many staggered flows sum to the true rate. Each record costs two writes per metric: the
 * rate goes up now, and a decrement waits in a small ring of future buckets (`delta`), applied when
 * time reaches it. Records without a usable duration (sFlow samples, flows shorter than 2 s) count
 * in the current second (`point`).
 *
 * The window. Every second, a row's value is point + rate; the last `window` values are kept in a
 * ring and their mean is the rate that detection compares with thresholds.
 */
export const DELTA_BUCKETS = 16;
const TIMES = 4;
const SEEN = 0;
const PENDING = 1;
const NONZERO = 2;

export type RateTableOptions = {
  readonly capacity: number;
  readonly windowSeconds: number;
  readonly horizonSeconds: number;
  readonly spread: boolean;
  readonly topPorts: number;
  readonly topSources: number;
};

/** Packet-size bins (mean bytes per packet of a flow), for the signature's packet-length range. */
export const SIZE_EDGES = [0, 64, 128, 256, 512, 1024, 1280, 1501] as const;
export const SIZE_BINS = SIZE_EDGES.length;
/** Bin of a mean packet size, by size / 8 (the edges are multiples of 8 except 1501). */
const SIZE_BIN_OF = Uint8Array.from({ length: (1501 >> 3) + 1 }, (_, i) => {
  let bin = SIZE_BINS - 1;
  while (bin > 0 && i * 8 < (SIZE_EDGES[bin] as number)) bin--;
  return bin;
});

export class RateTable {
  capacity: number;
  readonly window: number;
  readonly bucketSeconds: number;
  readonly spread: boolean;
  point: Float64Array;
  rate: Float64Array;
  delta: Float32Array;
  ring: Float32Array;
  /**
   * Per row, side by side in one cache line: the second of its last record (SEEN), the second its
   * last spread ends (PENDING), the last second its window received a non-zero value (NONZERO).
   * Quiet rows are skipped by advance and detection.
   */
  times: Float64Array;
  sizes: Float32Array;
  readonly ports: TopK;
  readonly sources: TopK;
  /** The second up to which rows have been advanced; records count into the second after it. */
  sec = -1;
  private maxSpread: number;

  constructor(o: RateTableOptions) {
    this.capacity = o.capacity;
    this.window = o.windowSeconds;
    this.bucketSeconds = Math.max(1, Math.ceil(o.horizonSeconds / (DELTA_BUCKETS - 1)));
    this.maxSpread = this.bucketSeconds * (DELTA_BUCKETS - 1);
    this.spread = o.spread;
    const c = o.capacity;
    this.point = new Float64Array(c * METRICS);
    this.rate = new Float64Array(c * METRICS);
    this.delta = new Float32Array(c * METRICS * DELTA_BUCKETS);
    this.ring = new Float32Array(c * METRICS * this.window);
    this.times = new Float64Array(c * TIMES).fill(-1e12);
    this.sizes = new Float32Array(c * SIZE_BINS);
    this.ports = new TopK(o.topPorts, c);
    this.sources = new TopK(o.topSources, c);
  }

  grow(capacity: number): void {
    if (capacity <= this.capacity) return;
    const c = capacity;
    this.point = grow64(this.point, c * METRICS);
    this.rate = grow64(this.rate, c * METRICS);
    this.delta = grow32(this.delta, c * METRICS * DELTA_BUCKETS);
    this.ring = grow32(this.ring, c * METRICS * this.window);
    const times = new Float64Array(c * TIMES).fill(-1e12);
    times.set(this.times);
    this.times = times;
    this.sizes = grow32(this.sizes, c * SIZE_BINS);
    this.ports.grow(c);
    this.sources.grow(c);
    this.capacity = c;
  }

  /** Forgets a row, for reuse. */
  clear(row: number): void {
    const m = row * METRICS;
    this.point.fill(0, m, m + METRICS);
    this.rate.fill(0, m, m + METRICS);
    this.delta.fill(0, m * DELTA_BUCKETS, (m + METRICS) * DELTA_BUCKETS);
    this.ring.fill(0, m * this.window, (m + METRICS) * this.window);
    this.sizes.fill(0, row * SIZE_BINS, (row + 1) * SIZE_BINS);
    this.times.fill(-1e12, row * TIMES, (row + 1) * TIMES);
    this.ports.clear(row);
    this.sources.clear(row);
  }

  /**
   * Where a flow of `seconds` spreads to, computed once per record and shared by every row it
   * counts for (all tables advance together): sets `spreadBucket` (-1: count as a point volume),
   * `spreadUntil` and `spreadScale`.
   */
  spreadBucket = -1;
  spreadUntil = 0;
  spreadScale = 1;

  prepare(seconds: number): void {
    if (!this.spread || seconds < 2) {
      this.spreadBucket = -1;
      this.spreadScale = 1;
      return;
    }
    const span = Math.min(seconds, this.maxSpread);
    // The decrement's bucket must lie ahead (at least one second of rate) and within the ring.
    const B = this.bucketSeconds;
    const now = this.sec;
    const n = Math.max(
      Math.ceil((now + 2) / B),
      Math.min(Math.floor((now + 1 + span) / B + 0.5), Math.floor(now / B) + DELTA_BUCKETS),
    );
    this.spreadBucket = n % DELTA_BUCKETS;
    this.spreadUntil = n * B;
    this.spreadScale = 1 / seconds;
  }

  /**
   * Counts one flow for a row in one direction (base IN_BASE or OUT_BASE), spread as `prepare` (of
   * this table or one advanced in step with it) decided. Hot path: no allocation.
   */
  add(
    row: number,
    base: number,
    protocol: number,
    packets: number,
    bytes: number,
    syn: boolean,
    fragment: boolean,
    spread: RateTable,
  ): void {
    const o = row * METRICS + base;
    const times = this.times;
    times[row * TIMES + SEEN] = this.sec;
    const point = this.point;
    point[o + Metric.flows] = (point[o + Metric.flows] as number) + 1;
    const bucket = spread.spreadBucket;
    const p = packets * spread.spreadScale;
    const b = bytes * spread.spreadScale;
    // Metrics of the flow: packets and bytes always, the protocol's pair, SYN and fragments.
    let m2 = -1;
    let m3 = -1;
    if (protocol === Proto.tcp) {
      m2 = Metric.tcpPackets;
      if (syn) m3 = Metric.synPackets;
    } else if (protocol === Proto.udp) m2 = Metric.udpPackets;
    else if (protocol === Proto.icmp || protocol === Proto.icmp6) m2 = Metric.icmpPackets;
    const m4 = fragment ? Metric.fragmentPackets : -1;
    if (bucket < 0) {
      point[o] = (point[o] as number) + p;
      point[o + 1] = (point[o + 1] as number) + b;
      if (m2 >= 0) {
        point[o + m2] = (point[o + m2] as number) + p;
        point[o + m2 + 1] = (point[o + m2 + 1] as number) + b;
      }
      if (m3 >= 0) point[o + m3] = (point[o + m3] as number) + p;
      if (m4 >= 0) point[o + m4] = (point[o + m4] as number) + p;
    } else {
      const rate = this.rate;
      const delta = this.delta;
      // Bucket-major: the decrements of one row and bucket sit together in memory.
      const d = (row * DELTA_BUCKETS + bucket) * METRICS + base;
      rate[o] = (rate[o] as number) + p;
      rate[o + 1] = (rate[o + 1] as number) + b;
      delta[d] = (delta[d] as number) - p;
      delta[d + 1] = (delta[d + 1] as number) - b;
      if (m2 >= 0) {
        rate[o + m2] = (rate[o + m2] as number) + p;
        rate[o + m2 + 1] = (rate[o + m2 + 1] as number) + b;
        delta[d + m2] = (delta[d + m2] as number) - p;
        delta[d + m2 + 1] = (delta[d + m2 + 1] as number) - b;
      }
      if (m3 >= 0) {
        rate[o + m3] = (rate[o + m3] as number) + p;
        delta[d + m3] = (delta[d + m3] as number) - p;
      }
      if (m4 >= 0) {
        rate[o + m4] = (rate[o + m4] as number) + p;
        delta[d + m4] = (delta[d + m4] as number) - p;
      }
      const t = row * TIMES + PENDING;
      if (spread.spreadUntil > (times[t] as number)) times[t] = spread.spreadUntil;
    }
    if (base === IN_BASE && packets > 0) {
      const mean = bytes / packets;
      const s = row * SIZE_BINS + (mean >= 1501 ? SIZE_BINS - 1 : (SIZE_BIN_OF[mean >> 3] as number));
      this.sizes[s] = (this.sizes[s] as number) + packets;
    }
  }

  /**
   * Moves time to second `to` for rows [0, rows): point volumes counted since the last advance are
   * spread evenly over the elapsed seconds, due decrements are applied, and the window ring receives
   * each second's value. Rows idle for longer than the horizon and the window are skipped.
   */
  advance(to: number, rows: number): void {
    // Call once before counting: records counted before the first advance have no time to start from.
    if (this.sec < 0) this.sec = to - 1;
    const from = this.sec;
    if (to <= from) return;
    const elapsed = to - from;
    const B = this.bucketSeconds;
    const W = this.window;
    const firstBucket = Math.floor(from / B) + 1;
    const lastBucket = Math.floor(to / B);
    const allBuckets = lastBucket - firstBucket + 1 >= DELTA_BUCKETS;
    for (let row = 0; row < rows; row++) {
      if (this.quiet(row, from)) continue;
      const settled = to >= (this.times[row * TIMES + PENDING] as number);
      let nonZero = this.times[row * TIMES + NONZERO] as number;
      for (let m = 0; m < METRICS; m++) {
        const i = row * METRICS + m;
        const perSecond = (this.point[i] as number) / elapsed;
        this.point[i] = 0;
        const rBase = i * W;
        let rate = this.rate[i] as number;
        if (allBuckets) {
          rate = 0;
          for (let k = 0; k < DELTA_BUCKETS; k++) this.delta[(row * DELTA_BUCKETS + k) * METRICS + m] = 0;
        }
        const start = Math.max(from + 1, to - W + 1);
        // Seconds before `start` only matter for the decrements they would apply.
        if (!allBuckets) {
          for (let b = firstBucket; b <= Math.floor((start - 1) / B); b++) {
            const j = (row * DELTA_BUCKETS + (b % DELTA_BUCKETS)) * METRICS + m;
            rate += this.delta[j] as number;
            this.delta[j] = 0;
          }
        }
        for (let s = start; s <= to; s++) {
          if (!allBuckets && s % B === 0) {
            const j = (row * DELTA_BUCKETS + ((s / B) % DELTA_BUCKETS)) * METRICS + m;
            rate += this.delta[j] as number;
            this.delta[j] = 0;
          }
          if (rate < 1e-6) rate = 0;
          const value = perSecond + rate;
          this.ring[rBase + (s % W)] = value;
          if (value > 0 && s > nonZero) nonZero = s;
        }
        // Decrements are float32: once every spread of the row has ended, the rate is exactly 0.
        this.rate[i] = settled ? 0 : rate;
      }
      this.times[row * TIMES + NONZERO] = nonZero;
    }
    this.sec = to;
  }

  /** Mean of the window ring for every metric of a row, into `out` (length METRICS). */
  rates(row: number, out: Float64Array): Float64Array {
    const W = this.window;
    for (let m = 0; m < METRICS; m++) {
      const rBase = (row * METRICS + m) * W;
      let s = 0;
      for (let k = 0; k < W; k++) s += this.ring[rBase + k] as number;
      out[m] = s / W;
    }
    return out;
  }

  /**
   * True when the row's window holds only zeros and nothing is waiting to enter it: no record since
   * the last advance, no spread pending. Such rows are skipped by advance and by detection.
   */
  quiet(row: number, at = this.sec): boolean {
    const t = row * TIMES;
    return (
      (this.times[t + SEEN] as number) < at &&
      (this.times[t + PENDING] as number) <= at &&
      at - (this.times[t + NONZERO] as number) >= this.window
    );
  }

  /** The second of the row's last record. */
  lastSeen(row: number): number {
    return this.times[row * TIMES + SEEN] as number;
  }

  /** Decays the top tables and packet-size bins of rows [0, rows) by `factor`. */
  decay(rows: number, factor: number): void {
    this.ports.decay(rows, factor);
    this.sources.decay(rows, factor);
    const n = rows * SIZE_BINS;
    for (let i = 0; i < n; i++) this.sizes[i] = (this.sizes[i] as number) * factor;
  }

  /**
   * The narrowest run of packet-size bins holding `share` of the inbound packets, as a byte range,
   * or undefined when nothing was counted.
   */
  sizeRange(row: number, share = 0.9): { min: number; max: number } | undefined {
    const base = row * SIZE_BINS;
    let total = 0;
    for (let b = 0; b < SIZE_BINS; b++) total += this.sizes[base + b] as number;
    if (!(total > 0)) return undefined;
    let best: [number, number] | undefined;
    for (let lo = 0; lo < SIZE_BINS; lo++) {
      let sum = 0;
      for (let hi = lo; hi < SIZE_BINS; hi++) {
        sum += this.sizes[base + hi] as number;
        if (sum >= share * total) {
          if (!best || hi - lo < best[1] - best[0]) best = [lo, hi];
          break;
        }
      }
    }
    if (!best) return undefined;
    const max = best[1] + 1 < SIZE_BINS ? (SIZE_EDGES[best[1] + 1] as number) - 1 : 65535;
    return { min: SIZE_EDGES[best[0]] as number, max };
  }
}

function grow64(a: Float64Array, size: number): Float64Array {
  const b = new Float64Array(size);
  b.set(a);
  return b;
}

function grow32(a: Float32Array, size: number): Float32Array {
  const b = new Float32Array(size);
  b.set(a);
  return b;
}
