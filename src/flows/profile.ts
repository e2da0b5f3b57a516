/**
 * What is normal for each host, learned from its own traffic, so that thresholds need not be set by
 * hand for every host.
 *
 * Two baselines per host, for inbound packets, bytes and flows per second:
 *  - an exponential moving average, the baseline of the baseline: it is ready after a short warm-up
 *    and stands in until the profile has seen the hour;
 *  - a profile: a high percentile (p95 by default) of per-minute rates for each hour of the week,
 *    and for each hour of the day (used until the hour of the week has enough samples, since a week
 *    must pass before an hour of the week is seen again).
 *
 * Compactness: a percentile per bin is one float, updated by a streaming estimate in the log domain
 * (a sample above the estimate raises it by rate × p, one below lowers it by rate × (1 - p), which
 * settles where a fraction p of samples fall below). No samples are stored. With 192 bins × 3
 * metrics, a host costs about 2.5 KB. Minutes during an attack on the host are not learned.
 */
export const PROFILE_METRICS = 3;
const HOURS_OF_WEEK = 168;
const BINS = HOURS_OF_WEEK + 24;

export type ProfileOptions = {
  readonly percentile: number;
  readonly learningRate: number;
  readonly minSamples: number;
  readonly emaTimeConstantMinutes: number;
  readonly emaWarmupMinutes: number;
};

/** One host's learned baseline as plain typed arrays (the store keeps it as a blob). */
export type HostProfile = {
  readonly bins: Float32Array;
  readonly counts: Uint8Array;
  readonly ema: Float32Array;
  readonly emaMinutes: number;
};

export type Baseline = { readonly value: number; readonly source: "profile-week" | "profile-day" | "ema" };

export class Profiles {
  private bins: Float32Array;
  private counts: Uint8Array;
  private ema: Float32Array;
  private emaMinutes: Float32Array;
  /** Per-minute accumulation: rate × seconds, per host and metric. */
  private acc: Float32Array;
  private accSeconds = 0;
  private minute = -1;

  constructor(
    private readonly o: ProfileOptions,
    capacity: number,
  ) {
    this.bins = new Float32Array(capacity * BINS * PROFILE_METRICS);
    this.counts = new Uint8Array(capacity * BINS);
    this.ema = new Float32Array(capacity * PROFILE_METRICS);
    this.emaMinutes = new Float32Array(capacity);
    this.acc = new Float32Array(capacity * PROFILE_METRICS);
  }

  grow(capacity: number): void {
    this.bins = grow32(this.bins, capacity * BINS * PROFILE_METRICS);
    const counts = new Uint8Array(capacity * BINS);
    counts.set(this.counts);
    this.counts = counts;
    this.ema = grow32(this.ema, capacity * PROFILE_METRICS);
    this.emaMinutes = grow32(this.emaMinutes, capacity);
    this.acc = grow32(this.acc, capacity * PROFILE_METRICS);
  }

  clear(row: number): void {
    this.bins.fill(0, row * BINS * PROFILE_METRICS, (row + 1) * BINS * PROFILE_METRICS);
    this.counts.fill(0, row * BINS, (row + 1) * BINS);
    this.ema.fill(0, row * PROFILE_METRICS, (row + 1) * PROFILE_METRICS);
    this.emaMinutes[row] = 0;
    this.acc.fill(0, row * PROFILE_METRICS, (row + 1) * PROFILE_METRICS);
  }

  /** Adds `seconds` of a host's current rates (packets, bytes, flows per second) to this minute. */
  accumulate(
    row: number,
    pps: number,
    bytesPerSecond: number,
    flowsPerSecond: number,
    seconds: number,
  ): void {
    const i = row * PROFILE_METRICS;
    this.acc[i] = (this.acc[i] as number) + pps * seconds;
    this.acc[i + 1] = (this.acc[i + 1] as number) + bytesPerSecond * seconds;
    this.acc[i + 2] = (this.acc[i + 2] as number) + flowsPerSecond * seconds;
  }

  addSeconds(seconds: number): void {
    this.accSeconds += seconds;
  }

  /**
   * Called every tick with the minute number (epoch minutes). Returns true when a minute has just
   * closed, so that the caller folds each host's minute in with `learn` and then calls `reset`.
   */
  minuteClosed(minute: number): boolean {
    if (this.minute < 0) {
      this.minute = minute;
      return false;
    }
    if (minute === this.minute) return false;
    this.minute = minute;
    return this.accSeconds > 0;
  }

  /**
   * Folds the closed minute of a host into its baselines. `hourOfWeek` is that minute's local hour of
   * the week (0 = Sunday 00:00); `elapsedMinutes` how long since the previous fold (for the EMA).
   */
  learn(row: number, hourOfWeek: number, elapsedMinutes: number): void {
    const secs = this.accSeconds;
    if (!(secs > 0)) return;
    const i = row * PROFILE_METRICS;
    const alpha = 1 - Math.exp(-elapsedMinutes / this.o.emaTimeConstantMinutes);
    const first = this.emaMinutes[row] === 0;
    const week = row * BINS + hourOfWeek;
    const day = row * BINS + HOURS_OF_WEEK + (hourOfWeek % 24);
    for (let m = 0; m < PROFILE_METRICS; m++) {
      const v = (this.acc[i + m] as number) / secs;
      const e = this.ema[i + m] as number;
      this.ema[i + m] = first ? v : e + alpha * (v - e);
      this.update(week, m, v);
      this.update(day, m, v);
    }
    this.emaMinutes[row] = (this.emaMinutes[row] as number) + elapsedMinutes;
    if ((this.counts[week] as number) < 255) this.counts[week] = (this.counts[week] as number) + 1;
    if ((this.counts[day] as number) < 255) this.counts[day] = (this.counts[day] as number) + 1;
  }

  /** Drops a host's closed minute without learning it (the host was under attack). */
  skip(row: number): void {
    this.acc.fill(0, row * PROFILE_METRICS, (row + 1) * PROFILE_METRICS);
  }

  /** Ends the closed minute for every host (after learn/skip). */
  reset(rows: number): void {
    this.acc.fill(0, 0, rows * PROFILE_METRICS);
    this.accSeconds = 0;
  }

  private update(bin: number, m: number, v: number): void {
    const j = bin * PROFILE_METRICS + m;
    const x = Math.log2(1 + v);
    if (this.counts[bin] === 0) {
      this.bins[j] = x;
      return;
    }
    const q = this.bins[j] as number;
    const p = this.o.percentile;
    const step = this.o.learningRate;
    this.bins[j] = x > q ? q + step * p : q - step * (1 - p);
    if ((this.bins[j] as number) < 0) this.bins[j] = 0;
  }

  /** Where the last `baseline` value came from. */
  source: Baseline["source"] = "ema";

  /**
   * The host's baseline for metric m (0 packets, 1 bytes, 2 flows per second) at an hour of the week,
   * or NaN when nothing is learned yet; `source` says which baseline answered. No allocation: it runs
   * for every host at every tick.
   */
  baseline(row: number, m: number, hourOfWeek: number): number {
    const min = this.o.minSamples;
    const week = row * BINS + hourOfWeek;
    if ((this.counts[week] as number) >= min) {
      this.source = "profile-week";
      return 2 ** (this.bins[week * PROFILE_METRICS + m] as number) - 1;
    }
    const day = row * BINS + HOURS_OF_WEEK + (hourOfWeek % 24);
    if ((this.counts[day] as number) >= min) {
      this.source = "profile-day";
      return 2 ** (this.bins[day * PROFILE_METRICS + m] as number) - 1;
    }
    const minutes = this.emaMinutes[row] as number;
    if (minutes > 0 && minutes >= this.o.emaWarmupMinutes) {
      this.source = "ema";
      return this.ema[row * PROFILE_METRICS + m] as number;
    }
    return Number.NaN;
  }

  /** The whole profile of a host, for persistence (the store keeps it as a blob). */
  export(row: number): HostProfile {
    return {
      bins: this.bins.slice(row * BINS * PROFILE_METRICS, (row + 1) * BINS * PROFILE_METRICS),
      counts: this.counts.slice(row * BINS, (row + 1) * BINS),
      ema: this.ema.slice(row * PROFILE_METRICS, (row + 1) * PROFILE_METRICS),
      emaMinutes: this.emaMinutes[row] as number,
    };
  }

  import(row: number, p: HostProfile): boolean {
    if (
      p.bins.length !== BINS * PROFILE_METRICS ||
      p.counts.length !== BINS ||
      p.ema.length !== PROFILE_METRICS
    ) {
      return false;
    }
    this.bins.set(p.bins, row * BINS * PROFILE_METRICS);
    this.counts.set(p.counts, row * BINS);
    this.ema.set(p.ema, row * PROFILE_METRICS);
    this.emaMinutes[row] = p.emaMinutes;
    return true;
  }
}

function grow32(a: Float32Array, size: number): Float32Array {
  const b = new Float32Array(size);
  b.set(a);
  return b;
}
