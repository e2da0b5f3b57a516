/**
 * Bounded "top" tables, one row of `k` entries per host or prefix, in typed arrays: the heaviest
 * source ports and source addresses towards a victim, for its attack signature.
 *
 * Space-Saving: a key not in the row replaces the lightest entry and inherits its weight as an error
 * bound, so any key heavier than total/k is guaranteed to be in the row and `count - error` never
 * overstates it. Counts decay at every tick so that a row shows the recent traffic, not the day's.
 * Keys are numbers (port keys, IPv4 addresses); IPv6 addresses are kept as text beside them (key -1).
 */
export type TopEntry = { readonly key: number; readonly text: string; readonly share: number };

const EMPTY = -1;

export class TopK {
  private keys: Float64Array;
  private texts: string[];
  private counts: Float64Array;
  private errors: Float64Array;
  private totals: Float64Array;

  constructor(
    readonly k: number,
    capacity: number,
  ) {
    this.keys = new Float64Array(capacity * k).fill(EMPTY);
    this.texts = new Array<string>(capacity * k).fill("");
    this.counts = new Float64Array(capacity * k);
    this.errors = new Float64Array(capacity * k);
    this.totals = new Float64Array(capacity);
  }

  grow(capacity: number): void {
    const k = this.k;
    const keys = new Float64Array(capacity * k).fill(EMPTY);
    keys.set(this.keys);
    this.keys = keys;
    const texts = new Array<string>(capacity * k).fill("");
    for (let i = 0; i < this.texts.length; i++) texts[i] = this.texts[i] as string;
    this.texts = texts;
    this.counts = grown(this.counts, capacity * k);
    this.errors = grown(this.errors, capacity * k);
    this.totals = grown(this.totals, capacity);
  }

  /** Adds weight `w` to a numeric key in a row. Hot path. */
  add(row: number, key: number, w: number): void {
    const k = this.k;
    const base = row * k;
    const keys = this.keys;
    const counts = this.counts;
    this.totals[row] = (this.totals[row] as number) + w;
    let min = base;
    let minCount = Number.POSITIVE_INFINITY;
    for (let i = base; i < base + k; i++) {
      if (keys[i] === key) {
        counts[i] = (counts[i] as number) + w;
        return;
      }
      const c = counts[i] as number;
      if (c < minCount) {
        minCount = c;
        min = i;
      }
    }
    // Only an entry that held a text key has a text to clear (and reading it costs a cache miss).
    if (keys[min] === EMPTY && minCount > 0) this.texts[min] = "";
    keys[min] = key;
    this.errors[min] = minCount;
    counts[min] = minCount + w;
  }

  /** Adds weight to a text key (IPv6 source). */
  addText(row: number, text: string, w: number): void {
    const k = this.k;
    const base = row * k;
    const texts = this.texts;
    const counts = this.counts;
    this.totals[row] = (this.totals[row] as number) + w;
    let min = base;
    let minCount = Number.POSITIVE_INFINITY;
    for (let i = base; i < base + k; i++) {
      if (this.keys[i] === EMPTY && texts[i] === text && text !== "") {
        counts[i] = (counts[i] as number) + w;
        return;
      }
      const c = counts[i] as number;
      if (c < minCount) {
        minCount = c;
        min = i;
      }
    }
    this.keys[min] = EMPTY;
    texts[min] = text;
    this.errors[min] = minCount;
    counts[min] = minCount + w;
  }

  /** Multiplies every weight by `factor` (0..1): old traffic fades. */
  decay(rows: number, factor: number): void {
    const n = rows * this.k;
    const counts = this.counts;
    const errors = this.errors;
    for (let i = 0; i < n; i++) {
      counts[i] = (counts[i] as number) * factor;
      errors[i] = (errors[i] as number) * factor;
    }
    const totals = this.totals;
    for (let r = 0; r < rows; r++) totals[r] = (totals[r] as number) * factor;
  }

  clear(row: number): void {
    const base = row * this.k;
    for (let i = base; i < base + this.k; i++) {
      this.keys[i] = EMPTY;
      this.texts[i] = "";
      this.counts[i] = 0;
      this.errors[i] = 0;
    }
    this.totals[row] = 0;
  }

  /**
   * The row's entries with at least `minShare` of the weight (guaranteed part only), heaviest first.
   * Allocates: called at tick time for victims, not per record.
   */
  top(row: number, minShare = 0): TopEntry[] {
    const total = this.totals[row] as number;
    if (!(total > 0)) return [];
    const out: TopEntry[] = [];
    const base = row * this.k;
    for (let i = base; i < base + this.k; i++) {
      const c = (this.counts[i] as number) - (this.errors[i] as number);
      const text = this.texts[i] as string;
      const key = this.keys[i] as number;
      if (c <= 0 || (key === EMPTY && text === "")) continue;
      const share = Math.min(1, c / total);
      if (share >= minShare) out.push({ key, text, share });
    }
    return out.sort((a, b) => b.share - a.share);
  }
}

function grown(a: Float64Array, size: number): Float64Array {
  const b = new Float64Array(size);
  b.set(a);
  return b;
}
