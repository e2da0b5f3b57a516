/**
 * Per-minute history of the live counters for the console's charts: calls allowed and denied,
 * international spend, SIP login failures, shield admissions, flow rates. Fixed memory (one ring of
 * minute buckets per series, a day by default) and kept in the process only: after a restart the
 * charts start again, while alerts, blocks and bans come from the store.
 *
 * Counters are given as running totals and stored as the increase in each minute; a total that goes
 * down (a counter reset by a restart of its source) starts a new baseline instead of a negative minute.
 * Gauges keep the highest value seen in each minute, so a short flood is not averaged away.
 */
export type SeriesKind = "counter" | "signed-counter" | "gauge";

type Series = { kind: SeriesKind; values: Float64Array; last: number | undefined };

export type HistoryView = {
  readonly stepSeconds: number;
  /** Start of each minute, ms since the epoch, oldest first. */
  readonly at: readonly number[];
  readonly series: Readonly<Record<string, readonly number[]>>;
};

export class History {
  private readonly series = new Map<string, Series>();
  /** Number (since the epoch) of the newest bucket held. */
  private head = -1;

  constructor(
    readonly stepMs = 60_000,
    readonly size = 1440,
  ) {}

  /**
   * Records the running total or gauge `value` of `name` at `at`. `signed-counter` totals may go down
   * (an estimate corrected later) and their minutes may be negative.
   */
  sample(name: string, kind: SeriesKind, at: number, value: number): void {
    if (!Number.isFinite(value)) return;
    let s = this.series.get(name);
    if (!s) {
      s = { kind, values: new Float64Array(this.size), last: undefined };
      this.series.set(name, s);
    }
    const n = Math.floor(at / this.stepMs);
    this.advance(n);
    if (n <= this.head - this.size) return;
    const i = n % this.size;
    if (kind === "gauge") {
      s.values[i] = Math.max(s.values[i] ?? 0, value);
      return;
    }
    const last = s.last;
    s.last = value;
    if (last === undefined) return;
    const delta = value - last;
    if (delta < 0 && kind === "counter") return;
    s.values[i] = (s.values[i] ?? 0) + delta;
  }

  /** The last `minutes` minutes ending at `at`, every series, oldest first. */
  read(at: number, minutes: number): HistoryView {
    const n = Math.floor(at / this.stepMs);
    this.advance(n);
    const span = Math.max(1, Math.min(minutes, this.size));
    const times: number[] = [];
    for (let b = n - span + 1; b <= n; b++) times.push(b * this.stepMs);
    const out: Record<string, number[]> = {};
    for (const [name, s] of this.series) {
      const v: number[] = [];
      for (let b = n - span + 1; b <= n; b++) v.push(b < 0 ? 0 : (s.values[b % this.size] ?? 0));
      out[name] = v;
    }
    return { stepSeconds: this.stepMs / 1000, at: times, series: out };
  }

  private advance(n: number): void {
    if (n <= this.head) return;
    const clearAll = this.head < 0 || n - this.head >= this.size;
    for (const s of this.series.values()) {
      if (clearAll) s.values.fill(0);
      else for (let b = this.head + 1; b <= n; b++) s.values[b % this.size] = 0;
    }
    this.head = n;
  }
}
