/**
 * An adaptive concurrency limit on the upstream, from measured latency, in event time.
 *
 * Gradient style: answers are gathered into windows (at least `windowMs` and `windowSamples`); each
 * window's mean latency is compared with the best window mean of the recent past (`baselineWindowMs`),
 * which stands for the backend's latency without a queue. While latency stays within `tolerance` of it
 * the limit grows by about √limit/2 per window; when latency rises the limit shrinks in proportion
 * (never by more than half per window), so a backend queue gives itself away before it costs time-outs.
 * A best-of-recent-window reference (rather than a long average) does not drift upward during a long
 * overload, and forgets an old best when the backend really got slower.
 *
 * The best latency must be seen now and then without a queue, or a backend that is never idle (the
 * state under attack) would teach a queued latency as its best and the limit would creep up: every
 * `probeEveryMs` the limit is halved for two windows (the first lets the queue drain, the second is
 * measured), as TCP BBR probes its round-trip time.
 *
 * Latencies under `latencyFloorMs` count as equal: at a millisecond, the differences are noise.
 *
 * Errors that mean overload (502, 503, 504, time-outs) are not latency samples (a fast 503 would teach
 * a false best) but cut the limit by `backoff`. While less than half the limit is in use the limit does
 * not grow but decays toward twice the use, so a quiet hour does not leave a huge limit for the first
 * flood to walk into. It comes down faster than it goes up.
 *
 * The limit keeps headroom on purpose (customers in a flash crowd start at once), but whatever is
 * admitted past the backend's worker count waits in the backend's own queue, first come first served,
 * where a customer's request sits behind every flood request let in before it. So a second, tighter
 * figure bounds the lower classes: the `knee`, the concurrency the backend has shown it carries without
 * a queue, by Little's law its best recent throughput (answers per second, the best of the last
 * `KNEE_WINDOWS` windows) times its best latency, plus a tenth and one to grow by. While the backend is
 * idle that is about what is in use; under a flood that fills it, about its worker count. It moves with
 * every window, so the first flood request meets a ceiling set by the traffic just before it, not by
 * the limit's slow decay.
 */
export type AdaptiveLimitOptions = {
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  readonly tolerance: number;
  readonly smoothing: number;
  readonly windowMs: number;
  readonly windowSamples: number;
  readonly baselineWindowMs: number;
  readonly backoff: number;
  readonly probeEveryMs: number;
  readonly latencyFloorMs: number;
};

const BASELINE_SLOTS = 10;
/** Windows over which the best throughput is kept for the knee (a few seconds at the default). */
const KNEE_WINDOWS = 8;
/** The knee's room to grow per window: this share, and one request. */
const KNEE_GROWTH = 0.1;
/** Per window while less than half the limit is used. */
const APP_LIMITED_DECAY = 0.95;

export class AdaptiveLimit {
  private value: number;
  private windowStart = Number.NaN;
  private count = 0;
  private drops = 0;
  private sum = 0;
  private maxInflight = 0;
  /** Best window mean per slot of the baseline window; slot numbers kept to tell stale slots apart. */
  private readonly bestMean = new Float64Array(BASELINE_SLOTS).fill(Number.POSITIVE_INFINITY);
  private readonly bestSlot = new Float64Array(BASELINE_SLOTS).fill(-1);
  private lastMean = Number.NaN;
  /** 0: not probing; 1: draining at the probe limit; 2: measuring at it. */
  private probe = 0;
  private probeLimit = 0;
  private lastProbe = Number.NEGATIVE_INFINITY;
  /** Answers per second of the last windows (a ring), for the knee. */
  private readonly rates = new Float64Array(KNEE_WINDOWS);
  private rateIndex = 0;
  private kneeValue = Number.NaN;

  constructor(private readonly o: AdaptiveLimitOptions) {
    if (!(o.minLimit >= 1 && o.maxLimit >= o.minLimit))
      throw new RangeError("need 1 <= minLimit <= maxLimit");
    this.value = clamp(o.initialLimit, o.minLimit, o.maxLimit);
  }

  /** The limit in force: whole requests in flight. */
  get limit(): number {
    return this.probe === 0 ? Math.floor(this.value) : this.probeLimit;
  }

  /**
   * The in-flight count the backend carries without a queue, with a little room to grow; never above
   * `limit`. Equal to `limit` until the first window has been measured.
   */
  get knee(): number {
    const limit = this.limit;
    return Number.isNaN(this.kneeValue) ? limit : Math.min(limit, this.kneeValue);
  }

  get probing(): boolean {
    return this.probe !== 0;
  }

  /** The best recent window mean latency (ms), or NaN before the first window. */
  get baselineMs(): number {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < BASELINE_SLOTS; i++)
      if ((this.bestMean[i] as number) < best) best = this.bestMean[i] as number;
    return Number.isFinite(best) ? best : Number.NaN;
  }

  /** The mean latency of the last closed window (ms). */
  get recentMs(): number {
    return this.lastMean;
  }

  /**
   * One answer from the upstream: its latency, how many requests were in flight when it was sent, and
   * whether it was an overload failure. Returns true when the limit or the knee changed.
   */
  onSample(at: number, rttMs: number, inflight: number, dropped: boolean): boolean {
    if (Number.isNaN(this.windowStart)) this.windowStart = at;
    if (dropped) this.drops++;
    else if (Number.isFinite(rttMs) && rttMs >= 0) {
      this.count++;
      this.sum += rttMs;
    }
    if (inflight > this.maxInflight) this.maxInflight = inflight;
    if (at - this.windowStart < this.o.windowMs || this.count + this.drops < this.o.windowSamples)
      return false;
    const before = this.limit;
    const kneeBefore = this.knee;
    this.measureKnee(at);
    if (this.probe === 1) this.probe = 2;
    else if (this.probe === 2) {
      if (this.count > 0) this.remember(at, Math.max(this.sum / this.count, 0.001));
      this.probe = 0;
      this.lastProbe = at;
    } else if (at - this.lastProbe >= this.o.probeEveryMs && this.maxInflight >= this.value / 2) {
      this.probe = 1;
      this.probeLimit = Math.max(this.o.minLimit, Math.floor(this.value / 2));
    } else this.update(at);
    this.windowStart = at;
    this.count = 0;
    this.drops = 0;
    this.sum = 0;
    this.maxInflight = 0;
    return this.limit !== before || this.knee !== kneeBefore;
  }

  private measureKnee(at: number): void {
    const seconds = (at - this.windowStart) / 1000;
    // Overload errors are not work the backend did: only real answers count.
    this.rates[this.rateIndex] = seconds > 0 ? this.count / seconds : 0;
    this.rateIndex = (this.rateIndex + 1) % KNEE_WINDOWS;
    const base = this.baselineMs;
    if (Number.isNaN(base)) return;
    let best = 0;
    for (let i = 0; i < KNEE_WINDOWS; i++)
      if ((this.rates[i] as number) > best) best = this.rates[i] as number;
    const carried = (best * Math.max(base, this.o.latencyFloorMs)) / 1000;
    this.kneeValue = Math.max(this.o.minLimit, Math.floor(carried * (1 + KNEE_GROWTH) + 1));
  }

  private update(at: number): void {
    const o = this.o;
    const limit = this.value;
    let estimate = limit;
    if (this.count > 0) {
      const mean = Math.max(this.sum / this.count, 0.001);
      this.lastMean = mean;
      this.remember(at, mean);
      const floor = o.latencyFloorMs;
      const gradient = clamp(
        (o.tolerance * Math.max(this.baselineMs, floor)) / Math.max(mean, floor),
        0.5,
        1,
      );
      estimate = limit * gradient + Math.max(1, Math.sqrt(limit) / 2);
      if (this.maxInflight < limit / 2) {
        // Unused limit is unproven capacity: it decays toward twice the use, so the first flood after
        // a quiet spell does not find a limit far above what the backend can take.
        const used = 2 * this.maxInflight + Math.max(1, Math.sqrt(limit) / 2);
        estimate = Math.min(estimate, Math.max(used, limit * APP_LIMITED_DECAY));
      }
    }
    if (this.drops > 0) estimate = Math.min(estimate, limit * o.backoff);
    // Down fast, up slowly: a queue costs every client at once, spare capacity only waits a moment.
    const w = estimate < limit ? Math.max(o.smoothing, 0.5) : o.smoothing;
    this.value = clamp(limit * (1 - w) + estimate * w, o.minLimit, o.maxLimit);
  }

  private remember(at: number, mean: number): void {
    const slotMs = this.o.baselineWindowMs / BASELINE_SLOTS;
    const slot = Math.floor(at / slotMs);
    const i = slot % BASELINE_SLOTS;
    if (this.bestSlot[i] !== slot) {
      this.bestSlot[i] = slot;
      this.bestMean[i] = mean;
    } else if (mean < (this.bestMean[i] as number)) this.bestMean[i] = mean;
    // Slots older than the window no longer speak for the backend.
    for (let k = 0; k < BASELINE_SLOTS; k++) {
      if (slot - (this.bestSlot[k] as number) >= BASELINE_SLOTS) {
        this.bestSlot[k] = -1;
        this.bestMean[k] = Number.POSITIVE_INFINITY;
      }
    }
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
