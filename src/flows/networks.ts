import { type Cidr, contains, formatCidr, type IpAddress, parseCidr, parseIp } from "../core/cidr.js";

/**
 * The protected address space: which addresses are counted, which host group each belongs to (the
 * longest prefix wins), and the aggregate prefix each is counted under.
 *
 * The configured prefixes are flattened once into sorted, disjoint ranges, each carrying its group,
 * so that the hot path answers "is this IPv4 address ours, and whose?" with a binary search over a
 * Float64Array (no allocation, no string). IPv6 goes through BigInt and is only looked up the first
 * time a host is seen.
 */
export const NOT_PROTECTED = -2;
/** Group index of hosts that are in `networks` but in no host group. */
export const DEFAULT_GROUP_INDEX = -1;

type Entry<T> = { start: T; end: T; bits: number; group: number };

export type Lookup = { group: number; aggregateBits: number };

export class ProtectedSpace {
  private readonly v4Starts: Float64Array;
  private readonly v4Ends: Float64Array;
  private readonly v4Group: Int32Array;
  private readonly v4Bits: Int32Array;
  private readonly v6: readonly Entry<bigint>[];
  readonly empty: boolean;
  /** Lowest and highest protected IPv4 address (a cheap first test; 1 and 0 when there is none). */
  readonly v4Min: number;
  readonly v4Max: number;

  /**
   * @param networks the protected networks (default group)
   * @param groups each group's prefixes, by group index
   */
  constructor(
    networks: readonly Cidr[],
    groups: readonly (readonly Cidr[])[],
    private readonly aggregateV4: number,
    private readonly aggregateV6: number,
  ) {
    const all: { c: Cidr; group: number }[] = networks.map((c) => ({ c, group: DEFAULT_GROUP_INDEX }));
    groups.forEach((cs, g) => {
      for (const c of cs) all.push({ c, group: g });
    });
    const v4 = flatten(
      all.filter((e) => e.c.family === "ipv4").map((e) => v4Entry(e.c as Cidr & { family: "ipv4" }, e.group)),
      (x) => x + 1,
    );
    this.v4Starts = Float64Array.from(v4.map((e) => e.start));
    this.v4Ends = Float64Array.from(v4.map((e) => e.end));
    this.v4Group = Int32Array.from(v4.map((e) => e.group));
    this.v4Bits = Int32Array.from(v4.map((e) => e.bits));
    this.v4Min = v4.length ? (v4[0] as Entry<number>).start : 1;
    this.v4Max = v4.length ? (v4[v4.length - 1] as Entry<number>).end : 0;
    this.v6 = flatten(
      all.filter((e) => e.c.family === "ipv6").map((e) => v6Entry(e.c as Cidr & { family: "ipv6" }, e.group)),
      (x) => x + 1n,
    );
    this.empty = v4.length === 0 && this.v6.length === 0;
  }

  static parse(
    networks: readonly string[],
    groups: readonly (readonly string[])[],
    aggregateV4: number,
    aggregateV6: number,
  ): ProtectedSpace {
    const p = (s: string): Cidr => {
      const r = parseCidr(s);
      if (!r.ok) throw new Error(r.error); // settings were validated; this is a programming error
      return r.value;
    };
    return new ProtectedSpace(
      networks.map(p),
      groups.map((g) => g.map(p)),
      aggregateV4,
      aggregateV6,
    );
  }

  /** Index of the range holding an IPv4 address, or -1. */
  private v4Index(a: number): number {
    const starts = this.v4Starts;
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((starts[mid] as number) <= a) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found !== -1 && a <= (this.v4Ends[found] as number) ? found : -1;
  }

  /** The group of an IPv4 address, or NOT_PROTECTED. Hot path. */
  groupV4(a: number): number {
    const i = this.v4Index(a);
    return i === -1 ? NOT_PROTECTED : (this.v4Group[i] as number);
  }

  /** The aggregate network (as a number) an IPv4 address is counted under, and its length. */
  aggregateV4Of(a: number): { key: number; bits: number } {
    const i = this.v4Index(a);
    const bits = Math.max(this.aggregateV4, i === -1 ? 0 : (this.v4Bits[i] as number));
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return { key: (a & mask) >>> 0, bits };
  }

  /** Group and aggregate of an IPv6 address (text), or undefined when it is not protected. */
  lookupV6(text: string): { group: number; aggregate: string; value: bigint } | undefined {
    if (this.v6.length === 0) return undefined;
    const r = parseIp(text);
    if (!r.ok || r.value.family !== "ipv6") return undefined;
    const a = r.value.value;
    let found: Entry<bigint> | undefined;
    for (const e of this.v6) {
      if (e.start <= a && a <= e.end) {
        found = e;
        break;
      }
    }
    if (!found) return undefined;
    const bits = Math.max(this.aggregateV6, found.bits);
    const mask = bits === 0 ? 0n : (((1n << 128n) - 1n) << BigInt(128 - bits)) & ((1n << 128n) - 1n);
    return {
      group: found.group,
      aggregate: formatCidr({ family: "ipv6", network: a & mask, bits }),
      value: a,
    };
  }
}

function v4Entry(c: { network: number; bits: number }, group: number): Entry<number> {
  return { start: c.network, end: c.network + 2 ** (32 - c.bits) - 1, bits: c.bits, group };
}

function v6Entry(c: { network: bigint; bits: number }, group: number): Entry<bigint> {
  return { start: c.network, end: c.network + (1n << BigInt(128 - c.bits)) - 1n, bits: c.bits, group };
}

/**
 * Disjoint ranges, each with the most specific entry that covers it (a group prefix inside a network
 * takes its part of the network; a group whose prefix equals a network's takes it too). Built once; O(n²) in the number of configured prefixes.
 */
function flatten<T extends number | bigint>(entries: Entry<T>[], next: (x: T) => T): Entry<T>[] {
  const cuts = new Set<T>();
  for (const e of entries) {
    cuts.add(e.start);
    cuts.add(next(e.end));
  }
  const points = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: Entry<T>[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i] as T;
    const endExclusive = points[i + 1] as T;
    let best: Entry<T> | undefined;
    for (const e of entries) {
      if (
        e.start <= start &&
        start <= e.end &&
        (!best || e.bits > best.bits || (e.bits === best.bits && best.group === DEFAULT_GROUP_INDEX))
      )
        best = e;
    }
    if (!best) continue;
    const end = (typeof start === "bigint"
      ? (endExclusive as bigint) - 1n
      : (endExclusive as number) - 1) as unknown as T;
    const last = out[out.length - 1];
    if (last && last.group === best.group && last.bits === best.bits && next(last.end) === start)
      last.end = end;
    else out.push({ start, end, bits: best.bits, group: best.group });
  }
  return out;
}

/** True when an address or prefix (victim) overlaps any prefix of the list. */
export function overlapsAny(list: readonly Cidr[], victim: Cidr): boolean {
  for (const c of list) {
    if (c.family !== victim.family) continue;
    const a: IpAddress =
      victim.family === "ipv4"
        ? { family: "ipv4", value: victim.network }
        : { family: "ipv6", value: victim.network };
    const b: IpAddress =
      c.family === "ipv4" ? { family: "ipv4", value: c.network } : { family: "ipv6", value: c.network };
    if (contains(c, a) || contains(victim, b)) return true;
  }
  return false;
}
