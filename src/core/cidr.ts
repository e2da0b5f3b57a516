/**
 * IP addresses and CIDR prefixes as numbers: IPv4 as an unsigned 32-bit number, IPv6 as a 128-bit
 * BigInt. Text goes through `canonicalIp`, so an allow-list, a ban and a detector key agree on what an
 * address is (`::ffff:203.0.113.5` is the IPv4 host, leading-zero octets are refused).
 *
 * Pure: no node:net, so the PBX guard, the billing shield and the nftables action share one parser.
 */
import { err, ok, type Result } from "./result.js";
import { canonicalIp, formatIpv6 } from "./sip-address.js";
import type { IpFamily } from "./sip-events.js";
export type Ipv4Address = { readonly family: "ipv4"; readonly value: number };
export type Ipv6Address = { readonly family: "ipv6"; readonly value: bigint };
export type IpAddress = Ipv4Address | Ipv6Address;

export type Ipv4Prefix = { readonly family: "ipv4"; readonly network: number; readonly bits: number };
export type Ipv6Prefix = { readonly family: "ipv6"; readonly network: bigint; readonly bits: number };
/** A network: the address with every host bit cleared, and the prefix length. */
export type Cidr = Ipv4Prefix | Ipv6Prefix;

export const MAX_BITS: Readonly<Record<IpFamily, number>> = { ipv4: 32, ipv6: 128 };

const V6_ALL = (1n << 128n) - 1n;
const TWO_32 = 2 ** 32;

function v4Mask(bits: number): number {
  // `>>> 0` keeps the mask unsigned; a shift by 32 is a no-op in JavaScript, hence the special case.
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

function v6Mask(bits: number): bigint {
  return bits === 0 ? 0n : (V6_ALL << BigInt(128 - bits)) & V6_ALL;
}

function v4FromText(text: string): number {
  let n = 0;
  for (const part of text.split(".")) n = n * 256 + Number(part);
  return n;
}

/** Canonical IPv6 text to its value; canonical text has at most one `::` and no embedded IPv4. */
function v6FromText(text: string): bigint {
  const double = text.indexOf("::");
  const left = double === -1 ? text : text.slice(0, double);
  const right = double === -1 ? "" : text.slice(double + 2);
  const l = left === "" ? [] : left.split(":");
  const r = right === "" ? [] : right.split(":");
  const groups = [...l, ...new Array<string>(8 - l.length - r.length).fill("0"), ...r];
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(Number.parseInt(g, 16));
  return v;
}

/** Parses an IPv4 or IPv6 address (brackets allowed); IPv4-mapped IPv6 reads as IPv4. */
export function parseIp(text: string): Result<IpAddress, string> {
  const c = canonicalIp(text.trim());
  if (!c) return err(`"${clip(text)}" is not an IPv4 or IPv6 address`);
  return ok(
    c.family === "ipv4"
      ? { family: "ipv4", value: v4FromText(c.ip) }
      : { family: "ipv6", value: v6FromText(c.ip) },
  );
}

/** The IPv6 value of any address text, without mapping `::ffff:a.b.c.d` to IPv4 (for prefixes). */
function rawV6(text: string): bigint | undefined {
  const c = canonicalIp(text);
  if (!c) return undefined;
  return c.family === "ipv6" ? v6FromText(c.ip) : (0xffffn << 32n) | BigInt(v4FromText(c.ip));
}

export function formatIp(ip: IpAddress): string {
  if (ip.family === "ipv4") {
    const v = ip.value;
    return `${Math.floor(v / 16777216) % 256}.${Math.floor(v / 65536) % 256}.${Math.floor(v / 256) % 256}.${v % 256}`;
  }
  return formatV6(ip.value);
}

/** RFC 5952 text, the same as every other address Mamori writes (see sip-address.ts). */
function formatV6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  return formatIpv6(groups);
}

export type ParseCidrOptions = {
  /**
   * Refuse a prefix with host bits set (`10.0.0.5/8`) instead of clearing them. Off by default: an
   * operator who writes the office's address with /24 means the office's network.
   */
  readonly strict?: boolean | undefined;
};

/**
 * Parses `a.b.c.d/n`, `v6/n` or a bare address (a host prefix, /32 or /128). `::ffff:a.b.c.d/n` with
 * n ≥ 96 is the IPv4 prefix it covers, so it matches the IPv4 form that events carry.
 */
export function parseCidr(text: string, options: ParseCidrOptions = {}): Result<Cidr, string> {
  const t = text.trim();
  const slash = t.indexOf("/");
  const addrText = slash === -1 ? t : t.slice(0, slash);
  let bits: number | undefined;
  if (slash !== -1) {
    const b = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b)) return err(`"${clip(text)}": the prefix length must be a number after "/"`);
    bits = Number(b);
  }
  const addr = parseIp(addrText);
  if (!addr.ok)
    return err(`"${clip(text)}": ${addrText === "" ? "no address" : "not an IPv4 or IPv6 address"}`);
  let family: IpFamily = addr.value.family;
  let value: number | bigint = addr.value.value;
  if (family === "ipv4" && addrText.includes(":") && bits !== undefined) {
    // Written as IPv6: the length counts IPv6 bits.
    if (bits >= 96) bits -= 96;
    else {
      family = "ipv6";
      value = rawV6(addrText) ?? 0n;
    }
  }
  const max = MAX_BITS[family];
  const len = bits ?? max;
  if (len > max) return err(`"${clip(text)}": an ${family} prefix length is 0 to ${max}`);
  if (family === "ipv4") {
    const network = ((value as number) & v4Mask(len)) >>> 0;
    if (options.strict && network !== value) {
      return err(
        `"${clip(text)}" has host bits set; the network is ${formatIp({ family, value: network })}/${len}`,
      );
    }
    return ok({ family, network, bits: len });
  }
  const network = (value as bigint) & v6Mask(len);
  if (options.strict && network !== value) {
    return err(`"${clip(text)}" has host bits set; the network is ${formatV6(network)}/${len}`);
  }
  return ok({ family: "ipv6", network, bits: len });
}

export function formatCidr(c: Cidr): string {
  return c.family === "ipv4"
    ? `${formatIp({ family: "ipv4", value: c.network })}/${c.bits}`
    : `${formatV6(c.network)}/${c.bits}`;
}

function toIp(ip: IpAddress | string): IpAddress | undefined {
  if (typeof ip !== "string") return ip;
  const r = parseIp(ip);
  return r.ok ? r.value : undefined;
}

/** True when the address lies in the prefix. An address of the other family, or unreadable text, is not. */
export function contains(prefix: Cidr, ip: IpAddress | string): boolean {
  const a = toIp(ip);
  if (!a || a.family !== prefix.family) return false;
  if (a.family === "ipv4") return (a.value & v4Mask(prefix.bits)) >>> 0 === prefix.network;
  return (a.value & v6Mask(prefix.bits)) === prefix.network;
}

/**
 * The network of `bits` around an address (/24 and /64 for "the same network"). `bits` is clamped to
 * the family's length, so one call with 64 gives a /32 host for IPv4: pass the family's own length.
 */
export function prefixOf(ip: IpAddress, bits: number): Cidr {
  const len = Math.max(0, Math.min(Math.floor(bits), MAX_BITS[ip.family]));
  if (ip.family === "ipv4") return { family: "ipv4", network: (ip.value & v4Mask(len)) >>> 0, bits: len };
  return { family: "ipv6", network: ip.value & v6Mask(len), bits: len };
}

/** The network of an address as text (`203.0.113.0/24`), with a length per family; undefined for bad text. */
export function networkKey(ip: IpAddress | string, v4Bits: number, v6Bits: number): string | undefined {
  const a = toIp(ip);
  if (!a) return undefined;
  return formatCidr(prefixOf(a, a.family === "ipv4" ? v4Bits : v6Bits));
}

/** First and last address of a prefix. */
function v4Range(c: Ipv4Prefix): [number, number] {
  return [c.network, c.network + TWO_32 / 2 ** c.bits - 1];
}

function v6Range(c: Ipv6Prefix): [bigint, bigint] {
  return [c.network, c.network | (~v6Mask(c.bits) & V6_ALL)];
}

/**
 * A set of prefixes for allow-lists: overlapping and adjacent prefixes merge into sorted, disjoint
 * ranges per family, and a lookup is a binary search (log n however long the list).
 */
export class CidrSet {
  /** The prefixes as given, for listing and messages. */
  readonly cidrs: readonly Cidr[];
  private readonly v4Starts: Float64Array;
  private readonly v4Ends: Float64Array;
  private readonly v6Starts: readonly bigint[];
  private readonly v6Ends: readonly bigint[];

  constructor(cidrs: readonly Cidr[]) {
    this.cidrs = [...cidrs];
    const v4 = mergeRanges(
      cidrs.filter((c): c is Ipv4Prefix => c.family === "ipv4").map(v4Range),
      (end, start) => start <= end + 1,
    );
    this.v4Starts = Float64Array.from(v4.map((r) => r[0]));
    this.v4Ends = Float64Array.from(v4.map((r) => r[1]));
    const v6 = mergeRanges(
      cidrs.filter((c): c is Ipv6Prefix => c.family === "ipv6").map(v6Range),
      (end, start) => start <= end + 1n,
    );
    this.v6Starts = v6.map((r) => r[0]);
    this.v6Ends = v6.map((r) => r[1]);
  }

  /** Parses a list of prefixes; the error names the first entry that is not one. */
  static parse(
    texts: readonly string[],
    options: ParseCidrOptions = {},
  ): Result<CidrSet, { index: number; message: string }> {
    const out: Cidr[] = [];
    for (let i = 0; i < texts.length; i++) {
      const r = parseCidr(texts[i] ?? "", options);
      if (!r.ok) return err({ index: i, message: r.error });
      out.push(r.value);
    }
    return ok(new CidrSet(out));
  }

  static readonly empty: CidrSet = new CidrSet([]);

  get size(): number {
    return this.cidrs.length;
  }

  /** True when some prefix of the set holds the address; unreadable text is never in the set. */
  has(ip: IpAddress | string): boolean {
    const a = toIp(ip);
    if (!a) return false;
    if (a.family === "ipv4") return search(this.v4Starts, this.v4Ends, a.value);
    return search(this.v6Starts, this.v6Ends, a.value);
  }
}

type Ranges<T> = { readonly length: number; readonly [i: number]: T };

/** Index of the last range starting at or before v, then whether v is inside it. */
function search<T extends number | bigint>(starts: Ranges<T>, ends: Ranges<T>, v: T): boolean {
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((starts[mid] as T) <= v) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found !== -1 && v <= (ends[found] as T);
}

function mergeRanges<T extends number | bigint>(
  ranges: [T, T][],
  touches: (end: T, start: T) => boolean,
): [T, T][] {
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: [T, T][] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && touches(last[1], r[0])) {
      if (r[1] > last[1]) last[1] = r[1];
    } else out.push([r[0], r[1]]);
  }
  return out;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
