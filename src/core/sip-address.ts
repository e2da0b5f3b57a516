/**
 * IP addresses in one canonical text form, so that a ban counter keyed by address sees
 * `2001:DB8:0::5`, `[2001:db8::5]` and `2001:db8::5` as one source, and `::ffff:203.0.113.5` as the
 * IPv4 address it is. Pure: no node:net, so the core and the decoders share it.
 */
import type { IpFamily, SipAddress, SipTransport } from "./sip-events.js";

export type CanonicalIp = { readonly ip: string; readonly family: IpFamily };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4Octets(text: string): number[] | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  const out: number[] = [];
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    // Leading zeros read as octal in some resolvers; no PBX prints them, so refuse the ambiguity.
    if (part.length > 1 && part[0] === "0") return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** The eight 16-bit groups of an IPv6 address, or undefined when the text is not one. */
function ipv6Groups(text: string): number[] | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  let head = text;
  let v4: number[] | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.indexOf(".", lastColon) !== -1) {
    v4 = ipv4Octets(text.slice(lastColon + 1));
    if (!v4) return undefined;
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const want = v4 ? 6 : 8;
  const double = head.indexOf("::");
  if (double !== -1 && head.indexOf("::", double + 1) !== -1) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (double === -1) {
    const all = parse(head);
    if (!all || all.length !== want) return undefined;
    groups = all;
  } else {
    const left = parse(head.slice(0, double));
    const right = parse(head.slice(double + 2));
    if (!left || !right || left.length + right.length >= want) return undefined;
    groups = [...left, ...new Array<number>(want - left.length - right.length).fill(0), ...right];
  }
  if (v4) groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
  return groups;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(":");
  return hex.slice(0, bestStart).join(":") + "::" + hex.slice(bestStart + bestLen).join(":");
}

function fromGroups(groups: readonly number[]): CanonicalIp {
  // IPv4-mapped (::ffff:a.b.c.d): the same host as its IPv4 address, so one ban covers both.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const hi = groups[6]!;
    const lo = groups[7]!;
    return { ip: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: "ipv4" };
  }
  return { ip: formatIpv6(groups), family: "ipv6" };
}

/** Canonical form of an IPv4 or IPv6 address (brackets allowed around IPv6), or undefined. */
export function canonicalIp(text: string): CanonicalIp | undefined {
  let t = text;
  if (t.startsWith("[") && t.endsWith("]")) t = t.slice(1, -1);
  if (t.indexOf(":") === -1) {
    const o = ipv4Octets(t);
    return o ? { ip: o.join("."), family: "ipv4" } : undefined;
  }
  const g = ipv6Groups(t);
  return g ? fromGroups(g) : undefined;
}

/** Canonical text of a 4- or 16-byte address as a packet carries it. */
export function ipFromBytes(bytes: Uint8Array): CanonicalIp | undefined {
  if (bytes.length === 4) return { ip: `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`, family: "ipv4" };
  if (bytes.length !== 16) return undefined;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  return fromGroups(groups);
}

/**
 * `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address (no port) as a SipAddress.
 * Names are not resolved: a log that prints a host name yields undefined.
 */
export function parseHostPort(text: string, transport?: SipTransport): SipAddress | undefined {
  let host = text.trim();
  let port: number | undefined;
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    if (close === -1) return undefined;
    const rest = host.slice(close + 1);
    host = host.slice(1, close);
    if (rest !== "") {
      if (!/^:\d{1,5}$/.test(rest)) return undefined;
      port = Number(rest.slice(1));
    }
  } else {
    const first = host.indexOf(":");
    if (first !== -1 && first === host.lastIndexOf(":")) {
      const p = host.slice(first + 1);
      if (!/^\d{1,5}$/.test(p)) return undefined;
      port = Number(p);
      host = host.slice(0, first);
    }
  }
  if (port !== undefined && port > 65535) return undefined;
  const ip = canonicalIp(host);
  if (!ip) return undefined;
  return makeAddress(ip, port, transport);
}

export function makeAddress(ip: CanonicalIp, port?: number, transport?: SipTransport): SipAddress {
  const a: { ip: string; family: IpFamily; port?: number; transport?: SipTransport } = {
    ip: ip.ip,
    family: ip.family,
  };
  if (port !== undefined) a.port = port;
  if (transport !== undefined) a.transport = transport;
  return a;
}

const TRANSPORTS: Readonly<Record<string, SipTransport>> = {
  udp: "udp",
  tcp: "tcp",
  tls: "tls",
  ws: "ws",
  wss: "wss",
  sctp: "sctp",
};

/** A transport name in any case (`UDP`, `tls`), or undefined when it is not one we know. */
export function parseTransport(text: string): SipTransport | undefined {
  return TRANSPORTS[text.toLowerCase()];
}
