import { type Cidr, parseCidr } from "../core/cidr.js";
import type { Finding } from "../core/findings.js";
import { type FlowRecord, Fragment, ipv4Number } from "../core/flow-records.js";
import { localTime } from "../core/local-time.js";
import { type Attack, portKey } from "./attack.js";
import { RateTable } from "./counters.js";
import { Detector, type DetectorHost } from "./detector.js";
import { IN_BASE, METRICS, Metric, OUT_BASE, Proto, type Rates, ratesOf } from "./metrics.js";
import { decideMitigation, type Mitigation } from "./mitigation.js";
import { MitigationBook } from "./mitigation-book.js";
import { DEFAULT_GROUP_INDEX, NOT_PROTECTED, overlapsAny, ProtectedSpace } from "./networks.js";
import { type HostProfile, Profiles } from "./profile.js";
import type { FlowGuardSettings } from "./settings.js";
import { Slots } from "./slots.js";
import { type CompiledGroup, compileGroups, learnedRule } from "./thresholds.js";

/**
 * The flow guard's engine: counts flow records per protected host and prefix, and on every tick
 * finds the hosts and prefixes under attack, classifies them and decides their mitigations.
 *
 * Pure, like the call guard: `count` takes the decoders' reused record and only moves numbers in
 * typed arrays; `tick(now)` takes its time from the caller (every second live, any pace in a replay
 * or a test) and returns what should be recorded and done. It does no I/O and keeps no clock.
 */
export type TickResult = {
  readonly attacksStarted: Attack[];
  readonly attacksUpdated: Attack[];
  readonly attacksEnded: Attack[];
  /** Mitigations to put in place (idempotent: a renewed or re-adopted one comes again with its new expiry). */
  readonly announce: Mitigation[];
  readonly withdraw: Mitigation[];
  readonly alerts: Finding[];
};

export type FlowGuardStats = {
  records: number;
  /** Records with neither address protected. */
  ignored: number;
  /** Records of hosts that could not be tracked one by one (the host table was full). */
  hostsRefused: number;
};

export type HostRates = {
  readonly address: string;
  readonly group: string;
  readonly inbound: Rates;
  readonly outbound: Rates;
};

const NOT_OURS_CACHE = 65_536;
/** Records per second from which the top tables are fed a sample (see count). */
const TOP_SAMPLE_FROM = 100_000;

export class FlowGuard implements DetectorHost {
  readonly settings: FlowGuardSettings;
  readonly stats: FlowGuardStats = { records: 0, ignored: 0, hostsRefused: 0 };
  readonly hosts: Slots;
  readonly prefixes: Slots;
  readonly hostTable: RateTable;
  readonly prefixTable: RateTable;
  readonly profiles: Profiles;
  readonly groups: readonly CompiledGroup[];
  readonly fallback: CompiledGroup;
  readonly book = new MitigationBook();
  private readonly space: ProtectedSpace;
  private readonly detector: Detector;
  private readonly allowList: readonly Cidr[];
  private readonly notOurs6 = new Set<string>();
  private lastTick = -1;
  private topCounter = 0;
  private topMask = 0;
  private recordsAtTick = 0;

  constructor(settings: FlowGuardSettings) {
    this.settings = settings;
    const s = settings;
    this.space = ProtectedSpace.parse(
      s.networks,
      s.hostGroups.map((g) => g.prefixes),
      s.aggregate.ipv4Bits,
      s.aggregate.ipv6Bits,
    );
    const tableOptions = {
      windowSeconds: s.windowSeconds,
      horizonSeconds: s.spread.horizonSeconds,
      spread: s.spread.enabled,
      topPorts: s.topK.sourcePorts,
      topSources: s.topK.sources,
    };
    const initialHosts = Math.min(s.maxHosts, 256);
    this.hostTable = new RateTable({ ...tableOptions, capacity: initialHosts });
    this.profiles = new Profiles(
      {
        percentile: s.baselines.profile.percentile,
        learningRate: s.baselines.profile.learningRate,
        minSamples: s.baselines.profile.minSamples,
        emaTimeConstantMinutes: s.baselines.ema.timeConstantMinutes,
        emaWarmupMinutes: s.baselines.ema.warmupMinutes,
      },
      initialHosts,
    );
    this.hosts = new Slots(s.maxHosts, initialHosts, (c) => {
      this.hostTable.grow(c);
      this.profiles.grow(c);
    });
    const initialPrefixes = Math.min(s.maxPrefixes, 64);
    this.prefixTable = new RateTable({ ...tableOptions, capacity: initialPrefixes });
    this.prefixes = new Slots(s.maxPrefixes, initialPrefixes, (c) => this.prefixTable.grow(c));
    const compiled = compileGroups(s);
    this.groups = compiled.groups;
    this.fallback = compiled.fallback;
    this.allowList = s.mitigation.allowList.flatMap((t) => {
      const r = parseCidr(t);
      return r.ok ? [r.value] : [];
    });
    this.detector = new Detector(this, learnedRule(s, this.profiles));
  }

  // ---- the hot path -------------------------------------------------------------------------------

  /** Counts one flow record. The record is the decoder's and is reused: nothing of it is kept. */
  count(rec: FlowRecord): void {
    const packets = rec.packets;
    if (!(packets > 0)) return;
    this.stats.records++;
    const proto = rec.protocol;
    const syn = proto === Proto.tcp && (rec.tcpFlags & 0x12) === 0x02;
    // Non-first fragments carry no ports: exporters that do not report fragmentation show them as
    // TCP or UDP flows with both ports 0.
    const frag =
      rec.fragment === Fragment.yes ||
      (rec.fragment === Fragment.unknown &&
        (proto === Proto.udp || proto === Proto.tcp) &&
        rec.srcPort === 0 &&
        rec.dstPort === 0);
    const seconds = rec.start > 0 && rec.end > rec.start ? (rec.end - rec.start) / 1000 : 0;
    let dst = -2;
    let src = -2;
    if (rec.ipVersion === 4) {
      // Most sources of a flood are outside every protected network: one comparison says so.
      const lo = this.space.v4Min;
      const hi = this.space.v4Max;
      const d4 = rec.dst4;
      const s4 = rec.src4;
      if (d4 >= lo && d4 <= hi) dst = this.hosts.v4.get(d4) ?? this.admit4(d4);
      if (s4 >= lo && s4 <= hi) src = this.hosts.v4.get(s4) ?? this.admit4(s4);
    } else if (rec.ipVersion === 6) {
      dst = this.hosts.v6.get(rec.dst6) ?? this.admit6(rec.dst6);
      src = this.hosts.v6.get(rec.src6) ?? this.admit6(rec.src6);
    }
    if (dst === -2 && src === -2) {
      this.stats.ignored++;
      return;
    }
    const bytes = rec.bytes;
    const ht = this.hostTable;
    ht.prepare(seconds);
    if (dst >= 0) {
      ht.add(dst, IN_BASE, proto, packets, bytes, syn, frag, ht);
      // The top tables are estimates: under a high record rate, one record in (mask + 1) updates
      // them, weighted up to match (heavy hitters stay heavy; the scans cost less).
      this.topCounter = (this.topCounter + 1) | 0;
      const top = (this.topCounter & this.topMask) === 0;
      const w = packets * (this.topMask + 1);
      const ported = top && !frag && (proto === Proto.tcp || proto === Proto.udp);
      if (ported) ht.ports.add(dst, portKey(proto, rec.srcPort), w);
      if (top) {
        if (rec.ipVersion === 4) ht.sources.add(dst, rec.src4, w);
        else ht.sources.addText(dst, rec.src6, w);
      }
      const p = this.hosts.parent[dst] as number;
      if (p >= 0) {
        const pt = this.prefixTable;
        pt.add(p, IN_BASE, proto, packets, bytes, syn, frag, ht);
        if (ported) pt.ports.add(p, portKey(proto, rec.srcPort), w);
        if (top) {
          if (rec.ipVersion === 4) pt.sources.add(p, rec.src4, w);
          else pt.sources.addText(p, rec.src6, w);
        }
      }
    }
    if (src >= 0) {
      ht.add(src, OUT_BASE, proto, packets, bytes, syn, frag, ht);
      const p = this.hosts.parent[src] as number;
      if (p >= 0) this.prefixTable.add(p, OUT_BASE, proto, packets, bytes, syn, frag, ht);
    }
    // The host table is full: the traffic still counts for its prefix (carpet bombing fills tables).
    if (dst === -1 && rec.ipVersion === 4) {
      const p = this.prefixRow4(rec.dst4);
      if (p >= 0) this.prefixTable.add(p, IN_BASE, proto, packets, bytes, syn, frag, ht);
    }
    if (src === -1 && rec.ipVersion === 4) {
      const p = this.prefixRow4(rec.src4);
      if (p >= 0) this.prefixTable.add(p, OUT_BASE, proto, packets, bytes, syn, frag, ht);
    }
  }

  private prefixRow4(a: number): number {
    const group = this.space.groupV4(a);
    if (group === NOT_PROTECTED) return -1;
    const agg = this.space.aggregateV4Of(a);
    return (
      this.prefixes.v4.get(agg.key) ?? this.prefixes.add4(agg.key, agg.bits, group, -1, this.hostTable.sec)
    );
  }

  /** Row of a protected IPv4 host seen for the first time; -2 when not protected, -1 when full. */
  private admit4(a: number): number {
    const group = this.space.groupV4(a);
    if (group === NOT_PROTECTED) return -2;
    const p = this.prefixRow4(a);
    const row = this.hosts.add4(a, 32, group, p, this.hostTable.sec);
    if (row < 0) this.stats.hostsRefused++;
    return row;
  }

  private admit6(text: string): number {
    if (text === "" || this.notOurs6.has(text)) return -2;
    const found = this.space.lookupV6(text);
    if (!found) {
      if (this.notOurs6.size >= NOT_OURS_CACHE) this.notOurs6.clear();
      this.notOurs6.add(text);
      return -2;
    }
    let p = this.prefixes.v6.get(found.aggregate);
    if (p === undefined) {
      const bits = Number(found.aggregate.slice(found.aggregate.indexOf("/") + 1));
      p = this.prefixes.add6(found.aggregate, bits, found.group, -1, this.hostTable.sec);
    }
    const row = this.hosts.add6(text, 128, found.group, p, this.hostTable.sec);
    if (row < 0) this.stats.hostsRefused++;
    return row;
  }

  // ---- the tick -----------------------------------------------------------------------------------

  /** Advances time to `now` (epoch ms): detection, classification, mitigation decisions. */
  tick(now: number): TickResult {
    const out: TickResult = {
      attacksStarted: [],
      attacksUpdated: [],
      attacksEnded: [],
      announce: [],
      withdraw: [],
      alerts: [],
    };
    const sec = Math.floor(now / 1000);
    const before = this.hostTable.sec;
    this.hostTable.advance(sec, this.hosts.used);
    this.prefixTable.advance(sec, this.prefixes.used);
    const elapsed = before < 0 ? 0 : Math.max(0, sec - before);
    if (elapsed > 0) {
      const perSecond = (this.stats.records - this.recordsAtTick) / elapsed;
      this.recordsAtTick = this.stats.records;
      this.topMask = perSecond > TOP_SAMPLE_FROM * 4 ? 7 : perSecond > TOP_SAMPLE_FROM ? 3 : 0;
      // The top tables and size bins show roughly the last window (at least 10 s) of traffic.
      const factor = Math.exp(-elapsed / Math.max(10, this.settings.windowSeconds));
      this.hostTable.decay(this.hosts.used, factor);
      this.prefixTable.decay(this.prefixes.used, factor);
    }
    const t = localTime(now, this.settings.baselines.timeZone);
    const hourOfWeek = t.weekday * 24 + Math.floor(t.minuteOfDay / 60);
    this.detector.run(now, elapsed, hourOfWeek, out);
    if (this.profiles.minuteClosed(Math.floor(now / 60_000))) this.detector.learnMinute(now, this.lastTick);
    const { renewed, withdraw } = this.book.due(now, (id) => id !== null && this.detector.isActive(id));
    out.announce.push(...renewed);
    out.withdraw.push(...withdraw);
    this.lastTick = now;
    return out;
  }

  // ---- DetectorHost: what the detector asks of the engine ----------------------------------------

  groupOf(index: number): CompiledGroup {
    return index === DEFAULT_GROUP_INDEX ? this.fallback : (this.groups[index] ?? this.fallback);
  }

  /** Decides and books the mitigation for a new (or reclassified) attack. */
  mitigate(a: Attack, group: CompiledGroup, now: number): { placed: Mitigation | undefined; note: string } {
    const d = decideMitigation(a, {
      settings: this.settings,
      kind: group.mitigation,
      now,
      isAllowListed: (prefix) => {
        const r = parseCidr(prefix);
        return r.ok && overlapsAny(this.allowList, r.value);
      },
    });
    if (d.type === "none") return { placed: undefined, note: d.reason };
    const ttl = d.mitigation.expiresAt - d.mitigation.createdAt;
    const placed = this.book.place(d.mitigation, ttl);
    return { placed, note: placed.dryRun ? "dry run" : "placed" };
  }

  attackEnded(mitigationId: string, withdrawAt: number): void {
    this.book.attackEnded(mitigationId, withdrawAt);
  }

  // ---- state for the API, the store and restarts -------------------------------------------------

  /** Seeds a mitigation that was in force before a restart; the next tick withdraws it if expired. */
  restoreMitigation(m: Mitigation): void {
    this.book.restore(m);
  }

  /** An operator removes a mitigation: returned for withdrawal; its attack is not mitigated again. */
  removeMitigation(id: string): Mitigation | undefined {
    const m = this.book.remove(id);
    if (m?.attackId) this.detector.suppress(m.attackId);
    return m;
  }

  mitigations(): Mitigation[] {
    return this.book.all();
  }

  /** Attacks going on now (copies). */
  attacks(): Attack[] {
    return this.detector.active();
  }

  /** A host's learned baseline, for the store to keep across restarts. */
  exportProfile(address: string): HostProfile | undefined {
    const row = this.rowOf(address);
    return row === undefined ? undefined : this.profiles.export(row);
  }

  /** Seeds a host's learned baseline saved before a restart. False when the host is not protected. */
  importProfile(address: string, profile: HostProfile): boolean {
    let row = this.rowOf(address);
    if (row === undefined) {
      const v4 = ipv4Number(address);
      row = Number.isNaN(v4) ? this.admit6(address) : this.admit4(v4);
    }
    return row >= 0 && this.profiles.import(row, profile);
  }

  /** Addresses of the hosts tracked now. */
  hostAddresses(): string[] {
    const out: string[] = [];
    for (let row = 0; row < this.hosts.used; row++)
      if (this.hosts.inUse(row)) out.push(this.hosts.label(row, false));
    return out;
  }

  private rowOf(address: string): number | undefined {
    const v4 = ipv4Number(address);
    return Number.isNaN(v4) ? this.hosts.v6.get(address) : this.hosts.v4.get(v4);
  }

  /** The busiest hosts by inbound packets per second, for `mamori flows` and the API. */
  topHosts(limit = 20): HostRates[] {
    const scratch = new Float64Array(METRICS);
    const rows: { row: number; pps: number }[] = [];
    for (let row = 0; row < this.hosts.used; row++) {
      if (!this.hosts.inUse(row) || this.hostTable.quiet(row)) continue;
      this.hostTable.rates(row, scratch);
      rows.push({
        row,
        pps: (scratch[Metric.packets] as number) + (scratch[OUT_BASE + Metric.packets] as number),
      });
    }
    rows.sort((a, b) => b.pps - a.pps);
    return rows.slice(0, limit).map(({ row }) => {
      this.hostTable.rates(row, scratch);
      return {
        address: this.hosts.label(row, false),
        group: this.groupOf(this.hosts.group[row] as number).name,
        inbound: ratesOf(scratch, IN_BASE),
        outbound: ratesOf(scratch, OUT_BASE),
      };
    });
  }
}
