import { createFlowRecord, type FlowRecord, Fragment, ipv4Number } from "../core/flow-records.js";
import type { FlowGuard, TickResult } from "./engine.js";

/**
 * Synthetic flow records over event time, for the engine's tests and the benchmarks: a scenario
 * states what crosses the router each second, and `run` counts it and ticks the guard, second by
 * second, collecting everything the ticks returned.
 */
export type SyntheticFlow = {
  readonly src: string;
  readonly dst: string;
  readonly protocol: number;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly packets: number;
  readonly bytes: number;
  readonly tcpFlags?: number;
  /** Flow duration (first to last packet); 0 or absent for a sample without duration. */
  readonly durationMs?: number;
  readonly fragment?: boolean;
};

/** A record as a decoder would hand it over, ending at `at`. */
export function syntheticRecord(
  f: SyntheticFlow,
  at: number,
  rec = createFlowRecord("netflow9"),
): FlowRecord {
  const v6 = f.dst.includes(":");
  rec.ipVersion = v6 ? 6 : 4;
  rec.src4 = v6 ? 0 : ipv4Number(f.src);
  rec.dst4 = v6 ? 0 : ipv4Number(f.dst);
  rec.src6 = v6 ? f.src : "";
  rec.dst6 = v6 ? f.dst : "";
  rec.protocol = f.protocol;
  rec.srcPort = f.srcPort ?? 0;
  rec.dstPort = f.dstPort ?? 0;
  rec.tcpFlags = f.tcpFlags ?? 0;
  rec.packets = f.packets;
  rec.bytes = f.bytes;
  rec.rawPackets = f.packets;
  rec.rawBytes = f.bytes;
  rec.samplingRate = 1;
  rec.end = at;
  rec.start = at - (f.durationMs ?? 0);
  rec.fragment = f.fragment === undefined ? Fragment.unknown : f.fragment ? Fragment.yes : Fragment.no;
  return rec;
}

export type Collected = {
  [K in keyof TickResult]: TickResult[K];
};

export function emptyCollected(): Collected {
  return { attacksStarted: [], attacksUpdated: [], attacksEnded: [], announce: [], withdraw: [], alerts: [] };
}

function collect(into: Collected, r: TickResult): void {
  into.attacksStarted.push(...r.attacksStarted);
  into.attacksUpdated.push(...r.attacksUpdated);
  into.attacksEnded.push(...r.attacksEnded);
  into.announce.push(...r.announce);
  into.withdraw.push(...r.withdraw);
  into.alerts.push(...r.alerts);
}

/**
 * Runs `seconds` seconds from `start`: before each tick, the flows `traffic(t)` returns for that
 * second are counted (t = epoch ms of the tick). Ticks every `tickSeconds` (1 by default).
 */
export function run(
  guard: FlowGuard,
  start: number,
  seconds: number,
  traffic: (t: number) => readonly SyntheticFlow[],
  tickSeconds = 1,
  into: Collected = emptyCollected(),
): Collected {
  const rec = createFlowRecord("netflow9");
  for (let s = tickSeconds; s <= seconds; s += tickSeconds) {
    const t = start + s * 1000;
    for (const f of traffic(t)) guard.count(syntheticRecord(f, t, rec));
    collect(into, guard.tick(t));
  }
  return into;
}

/** A deterministic pseudo-random source (mulberry32), so that scenarios repeat exactly. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random address in 198.18.0.0/15 (benchmarking space): attack sources. */
export function randomSource(r: () => number): string {
  const n = Math.floor(r() * 131072);
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}
