/**
 * The rates the flow guard keeps per host and per prefix, as indexes into flat typed arrays.
 *
 * Every counter row holds IN_BASE..IN_BASE+PER_DIRECTION-1 for traffic towards the protected address
 * and OUT_BASE.. for traffic from it. "Other" protocols are not stored: they are the total minus TCP,
 * UDP and ICMP, which keeps a row (and the per-record work) smaller.
 */
export const Metric = {
  packets: 0,
  bytes: 1,
  flows: 2,
  tcpPackets: 3,
  tcpBytes: 4,
  udpPackets: 5,
  udpBytes: 6,
  icmpPackets: 7,
  icmpBytes: 8,
  synPackets: 9,
  fragmentPackets: 10,
} as const;
export type MetricIndex = (typeof Metric)[keyof typeof Metric];

export const PER_DIRECTION = 11;
export const IN_BASE = 0;
export const OUT_BASE = PER_DIRECTION;
export const METRICS = 2 * PER_DIRECTION;

export const Proto = { icmp: 1, tcp: 6, udp: 17, icmp6: 58 } as const;

/** Rates of one direction, per second; bits for the volume so that they read like link speeds. */
export type Rates = {
  readonly pps: number;
  readonly bps: number;
  readonly flowsPerSecond: number;
  readonly tcpPps: number;
  readonly tcpBps: number;
  readonly udpPps: number;
  readonly udpBps: number;
  readonly icmpPps: number;
  readonly icmpBps: number;
  readonly otherPps: number;
  readonly synPps: number;
  readonly fragmentPps: number;
};

export const ZERO_RATES: Rates = {
  pps: 0,
  bps: 0,
  flowsPerSecond: 0,
  tcpPps: 0,
  tcpBps: 0,
  udpPps: 0,
  udpBps: 0,
  icmpPps: 0,
  icmpBps: 0,
  otherPps: 0,
  synPps: 0,
  fragmentPps: 0,
};

/** Reads one direction of a row of per-second values (bytes) into Rates (bits). */
export function ratesOf(v: ArrayLike<number>, base: number): Rates {
  const g = (i: number): number => round(v[base + i] ?? 0);
  const pps = g(Metric.packets);
  const tcp = g(Metric.tcpPackets);
  const udp = g(Metric.udpPackets);
  const icmp = g(Metric.icmpPackets);
  return {
    pps,
    bps: g(Metric.bytes) * 8,
    flowsPerSecond: g(Metric.flows),
    tcpPps: tcp,
    tcpBps: g(Metric.tcpBytes) * 8,
    udpPps: udp,
    udpBps: g(Metric.udpBytes) * 8,
    icmpPps: icmp,
    icmpBps: g(Metric.icmpBytes) * 8,
    otherPps: Math.max(0, pps - tcp - udp - icmp),
    synPps: g(Metric.synPackets),
    fragmentPps: g(Metric.fragmentPackets),
  };
}

/** The larger of each field, for peaks. */
export function maxRates(a: Rates, b: Rates): Rates {
  const out: Record<string, number> = {};
  for (const k of Object.keys(a) as (keyof Rates)[]) out[k] = Math.max(a[k], b[k]);
  return out as Rates;
}

function round(n: number): number {
  return n < 10 ? Math.round(n * 100) / 100 : Math.round(n);
}

/**
 * Threshold keys as operators write them, and the metric (and unit factor: Mbit/s to bytes/s) that
 * each compares against.
 */
export const THRESHOLD_KEYS = {
  pps: { metric: Metric.packets, factor: 1 },
  mbps: { metric: Metric.bytes, factor: 1e6 / 8 },
  flowsPerSecond: { metric: Metric.flows, factor: 1 },
  tcpPps: { metric: Metric.tcpPackets, factor: 1 },
  tcpMbps: { metric: Metric.tcpBytes, factor: 1e6 / 8 },
  udpPps: { metric: Metric.udpPackets, factor: 1 },
  udpMbps: { metric: Metric.udpBytes, factor: 1e6 / 8 },
  icmpPps: { metric: Metric.icmpPackets, factor: 1 },
  icmpMbps: { metric: Metric.icmpBytes, factor: 1e6 / 8 },
  synPps: { metric: Metric.synPackets, factor: 1 },
  fragmentPps: { metric: Metric.fragmentPackets, factor: 1 },
} as const;
export type ThresholdKey = keyof typeof THRESHOLD_KEYS;
export const THRESHOLD_NAMES = Object.keys(THRESHOLD_KEYS) as ThresholdKey[];

/** Metric index back to the operator's key, for messages. */
export const KEY_OF_METRIC: readonly ThresholdKey[] = (() => {
  const out: ThresholdKey[] = [];
  for (const k of THRESHOLD_NAMES) out[THRESHOLD_KEYS[k].metric] = k;
  return out;
})();

/** Operator thresholds (any subset) to one direction's vector in per-second units; Infinity when unset. */
export function thresholdVector(
  t: { readonly [K in ThresholdKey]?: number | undefined } | undefined,
): Float64Array {
  const v = new Float64Array(PER_DIRECTION).fill(Number.POSITIVE_INFINITY);
  if (!t) return v;
  for (const k of THRESHOLD_NAMES) {
    const x = t[k];
    if (x !== undefined) v[THRESHOLD_KEYS[k].metric] = x * THRESHOLD_KEYS[k].factor;
  }
  return v;
}

/** A value in per-second units back to the operator's unit for `metric`. */
export function toOperatorUnit(metric: number, value: number): number {
  const key = KEY_OF_METRIC[metric];
  return key === undefined ? value : value / THRESHOLD_KEYS[key].factor;
}
