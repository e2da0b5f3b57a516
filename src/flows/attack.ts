import type { Rates, ThresholdKey } from "./metrics.js";
import { Metric, Proto } from "./metrics.js";
import type { TopEntry } from "./top-k.js";

/**
 * Attacks as the flow guard reports them, and how one is classified from the victim's rates and its
 * top source ports.
 */
export const ATTACK_VECTORS = [
  "amplification",
  "syn-flood",
  "fragment-flood",
  "icmp-flood",
  "udp-flood",
  "tcp-flood",
  "ip-flood",
] as const;
export type AttackVector = (typeof ATTACK_VECTORS)[number];
/** A prefix over its threshold while none of its hosts is over theirs is carpet bombing. */
export type AttackKind = AttackVector | "carpet-bombing";

/** UDP services abused for reflection and amplification, by source port. */
export const AMPLIFICATION_PORTS: Readonly<Record<number, string>> = {
  19: "chargen",
  53: "dns",
  123: "ntp",
  161: "snmp",
  389: "cldap",
  1900: "ssdp",
  3702: "ws-discovery",
  11211: "memcached",
};

export type Victim =
  | { readonly type: "host"; readonly address: string; readonly prefix: string }
  | { readonly type: "prefix"; readonly prefix: string };

export type Signature = {
  /** The IP protocol most of the traffic uses, when one does. */
  readonly protocol: number | null;
  /** Source ports (of `protocol`) that carry a large share of the packets. */
  readonly sourcePorts: readonly number[];
  /** Packet sizes (mean per flow) of most of the packets, when known. */
  readonly packetLength: { readonly min: number; readonly max: number } | null;
  readonly synOnly: boolean;
  readonly fragments: boolean;
  readonly topSourcePorts: readonly {
    readonly protocol: number;
    readonly port: number;
    readonly share: number;
  }[];
  readonly topSources: readonly { readonly address: string; readonly share: number }[];
};

export type Exceeded = {
  readonly metric: ThresholdKey;
  /** In the threshold's unit (pps, Mbit/s, flows/s). */
  readonly rate: number;
  readonly threshold: number;
  readonly source: "fixed" | "profile-week" | "profile-day" | "ema";
};

export type Attack = {
  readonly id: string;
  readonly victim: Victim;
  readonly direction: "inbound" | "outbound";
  readonly group: string;
  kind: AttackKind;
  vector: AttackVector;
  /** For amplification: the abused services ("ntp", "dns" ...). */
  services: readonly string[];
  signature: Signature;
  readonly startedAt: number;
  updatedAt: number;
  endedAt: number | null;
  peak: Rates;
  current: Rates;
  exceeded: readonly Exceeded[];
};

export type Classification = {
  readonly vector: AttackVector;
  readonly services: readonly string[];
  readonly protocol: number | null;
  readonly sourcePorts: readonly number[];
};

/** Port keys in the top tables: protocol << 16 | port. */
export const portKey = (protocol: number, port: number): number => protocol * 65536 + port;

/**
 * Names the vector of an attack. `r` holds one direction's per-second values at `base`; `over` is the
 * set of metrics above threshold; `ports` the victim's top (protocol, source port) entries.
 */
export function classify(
  r: ArrayLike<number>,
  base: number,
  over: ReadonlySet<number>,
  ports: readonly TopEntry[],
  signatureShare: number,
  ipv6: boolean,
): Classification {
  const v = (m: number): number => r[base + m] ?? 0;
  const pk = v(Metric.packets);
  const share = (x: number): number => (pk > 0 ? x / pk : 0);
  const tcp = share(v(Metric.tcpPackets));
  const udp = share(v(Metric.udpPackets));
  const icmp = share(v(Metric.icmpPackets));
  const frag = share(v(Metric.fragmentPackets));
  const synOfTcp = v(Metric.tcpPackets) > 0 ? v(Metric.synPackets) / v(Metric.tcpPackets) : 0;
  const portsOf = (protocol: number): number[] =>
    ports
      .filter((e) => Math.floor(e.key / 65536) === protocol && e.share >= signatureShare)
      .map((e) => e.key % 65536);

  const amp = ports.filter(
    (e) => Math.floor(e.key / 65536) === Proto.udp && AMPLIFICATION_PORTS[e.key % 65536],
  );
  const ampShare = amp.reduce((s, e) => s + e.share, 0);
  if (udp >= 0.5 && ampShare >= 0.5) {
    const used = amp.filter((e) => e.share >= signatureShare);
    return {
      vector: "amplification",
      services: used.map((e) => AMPLIFICATION_PORTS[e.key % 65536] as string),
      protocol: Proto.udp,
      sourcePorts: used.map((e) => e.key % 65536),
    };
  }
  const none = { services: [], sourcePorts: [] };
  if (over.has(Metric.synPackets) || (tcp >= 0.5 && synOfTcp >= 0.5)) {
    return { vector: "syn-flood", protocol: Proto.tcp, ...none };
  }
  const dominant = tcp >= 0.5 ? Proto.tcp : udp >= 0.5 ? Proto.udp : icmp >= 0.5 ? icmpOf(ipv6) : null;
  if (over.has(Metric.fragmentPackets) || frag >= 0.5) {
    return { vector: "fragment-flood", protocol: dominant, ...none };
  }
  const icmpOver = over.has(Metric.icmpPackets) || over.has(Metric.icmpBytes);
  const udpOver = over.has(Metric.udpPackets) || over.has(Metric.udpBytes);
  const tcpOver = over.has(Metric.tcpPackets) || over.has(Metric.tcpBytes);
  if (icmpOver || dominant === icmpOf(ipv6)) return { vector: "icmp-flood", protocol: icmpOf(ipv6), ...none };
  if (udpOver || dominant === Proto.udp) {
    return { vector: "udp-flood", protocol: Proto.udp, services: [], sourcePorts: portsOf(Proto.udp) };
  }
  if (tcpOver || dominant === Proto.tcp) {
    return { vector: "tcp-flood", protocol: Proto.tcp, services: [], sourcePorts: portsOf(Proto.tcp) };
  }
  return { vector: "ip-flood", protocol: dominant, ...none };
}

function icmpOf(ipv6: boolean): number {
  return ipv6 ? Proto.icmp6 : Proto.icmp;
}

/** Attack ids: deterministic (replays repeat them), short, URL-safe. */
export function attackId(scope: string, victim: string, direction: string, startedAt: number): string {
  return `fa-${Math.floor(startedAt / 1000).toString(36)}-${fnv1a(`${scope}|${victim}|${direction}`)}`;
}

/** 32-bit FNV-1a as 8 hex digits. */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}
