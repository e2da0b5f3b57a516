import { ipv4Text } from "../core/flow-records.js";

/**
 * Row numbers for hosts (or aggregate prefixes): IPv4 keys in a Map<number, row> (the small-integer
 * path, no string per record), IPv6 keys in a Map<string, row>. Rows freed by idle hosts are reused;
 * the table never holds more than `max` rows, so spoofed floods over a large network cannot grow it
 * without bound.
 */
export class Slots {
  readonly v4 = new Map<number, number>();
  readonly v6 = new Map<string, number>();
  /** Rows handed out so far (the high-water mark); rows below it may be free. */
  used = 0;
  capacity: number;
  /** Per row: IPv4 key (or -1), IPv6 key (or ""), prefix length, group, owning aggregate row. */
  key4: Float64Array;
  key6: string[];
  bits: Uint8Array;
  group: Int32Array;
  parent: Int32Array;
  firstSeen: Float64Array;
  private readonly free: number[] = [];
  /** Rows refused because the table was full. */
  refused = 0;

  constructor(
    readonly max: number,
    initial: number,
    private readonly onGrow: (capacity: number) => void,
  ) {
    this.capacity = Math.min(max, initial);
    this.key4 = new Float64Array(this.capacity).fill(-1);
    this.key6 = new Array<string>(this.capacity).fill("");
    this.bits = new Uint8Array(this.capacity);
    this.group = new Int32Array(this.capacity);
    this.parent = new Int32Array(this.capacity).fill(-1);
    this.firstSeen = new Float64Array(this.capacity);
  }

  get size(): number {
    return this.v4.size + this.v6.size;
  }

  /** A new row for a key, or -1 when the table is full. */
  private take(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.used >= this.capacity) {
      if (this.capacity >= this.max) return -1;
      this.resize(Math.min(this.max, Math.max(16, this.capacity * 2)));
    }
    return this.used++;
  }

  private resize(capacity: number): void {
    const key4 = new Float64Array(capacity).fill(-1);
    key4.set(this.key4);
    this.key4 = key4;
    const key6 = new Array<string>(capacity).fill("");
    for (let i = 0; i < this.key6.length; i++) key6[i] = this.key6[i] as string;
    this.key6 = key6;
    const bits = new Uint8Array(capacity);
    bits.set(this.bits);
    this.bits = bits;
    const group = new Int32Array(capacity);
    group.set(this.group);
    this.group = group;
    const parent = new Int32Array(capacity).fill(-1);
    parent.set(this.parent);
    this.parent = parent;
    const first = new Float64Array(capacity);
    first.set(this.firstSeen);
    this.firstSeen = first;
    this.capacity = capacity;
    this.onGrow(capacity);
  }

  add4(key: number, bits: number, group: number, parent: number, at: number): number {
    const row = this.take();
    if (row < 0) {
      this.refused++;
      return -1;
    }
    this.v4.set(key, row);
    this.key4[row] = key;
    this.key6[row] = "";
    this.init(row, bits, group, parent, at);
    return row;
  }

  add6(key: string, bits: number, group: number, parent: number, at: number): number {
    const row = this.take();
    if (row < 0) {
      this.refused++;
      return -1;
    }
    this.v6.set(key, row);
    this.key4[row] = -1;
    this.key6[row] = key;
    this.init(row, bits, group, parent, at);
    return row;
  }

  private init(row: number, bits: number, group: number, parent: number, at: number): void {
    this.bits[row] = bits;
    this.group[row] = group;
    this.parent[row] = parent;
    this.firstSeen[row] = at;
  }

  release(row: number): void {
    const k4 = this.key4[row] as number;
    if (k4 >= 0) this.v4.delete(k4);
    else this.v6.delete(this.key6[row] as string);
    this.key4[row] = -1;
    this.key6[row] = "";
    this.parent[row] = -1;
    this.free.push(row);
  }

  inUse(row: number): boolean {
    return (this.key4[row] as number) >= 0 || this.key6[row] !== "";
  }

  /** The row's address ("192.0.2.1") or prefix ("192.0.2.0/24") as text. */
  label(row: number, prefix: boolean): string {
    const k4 = this.key4[row] as number;
    if (k4 < 0) return this.key6[row] as string;
    return prefix ? `${ipv4Text(k4)}/${this.bits[row]}` : ipv4Text(k4);
  }

  /** The row as a prefix (hosts as /32 or /128). */
  cidr(row: number): string {
    const k4 = this.key4[row] as number;
    if (k4 >= 0) return `${ipv4Text(k4)}/${this.bits[row]}`;
    const t = this.key6[row] as string;
    return t.includes("/") ? t : `${t}/128`;
  }
}
