import type { Finding } from "../core/findings.js";
import { ipv4Text } from "../core/flow-records.js";
import { localTime } from "../core/local-time.js";
import {
  type Attack,
  attackId,
  type Classification,
  classify,
  type Exceeded,
  type Signature,
} from "./attack.js";
import type { RateTable } from "./counters.js";
import type { TickResult } from "./engine.js";
import { IN_BASE, METRICS, maxRates, OUT_BASE, ratesOf, THRESHOLD_KEYS } from "./metrics.js";
import type { Mitigation } from "./mitigation.js";
import type { Profiles } from "./profile.js";
import type { FlowGuardSettings } from "./settings.js";
import type { Slots } from "./slots.js";
import { type CompiledGroup, type LearnedRule, overThreshold } from "./thresholds.js";

/** What the detector needs from the engine that owns the counters and the policy. */
export interface DetectorHost {
  readonly settings: FlowGuardSettings;
  readonly hosts: Slots;
  readonly prefixes: Slots;
  readonly hostTable: RateTable;
  readonly prefixTable: RateTable;
  readonly profiles: Profiles;
  groupOf(index: number): CompiledGroup;
  mitigate(a: Attack, group: CompiledGroup, now: number): { placed: Mitigation | undefined; note: string };
  /** The mitigation's attack is over: it is withdrawn at `withdrawAt` (or at its expiry if sooner). */
  attackEnded(mitigationId: string, withdrawAt: number): void;
}

type State = {
  readonly attack: Attack;
  readonly group: CompiledGroup;
  belowSince: number | null;
  lastReported: number;
  reportedPeak: number;
  mitigationId: string | null;
  suppressed: boolean;
  /** A different vector must hold for a few ticks before the attack is reclassified. */
  pendingVector: string | null;
  pendingCount: number;
};

type Scope = { readonly kind: "host" | "prefix"; readonly table: RateTable; readonly slots: Slots };

const RECLASSIFY_TICKS = 3;

/** Starts, follows and ends attacks from the counters' window rates, once per tick. */
export class Detector {
  private readonly hostIn = new Map<number, State>();
  private readonly hostOut = new Map<number, State>();
  private readonly prefixIn = new Map<number, State>();
  private readonly byId = new Map<string, State>();
  private readonly r = new Float64Array(METRICS);
  private marks = new Uint8Array(0);
  private lastLearnMinute = -1;

  constructor(
    private readonly h: DetectorHost,
    private readonly rule: LearnedRule,
  ) {}

  isActive(id: string): boolean {
    return this.byId.has(id);
  }

  suppress(id: string): void {
    const st = this.byId.get(id);
    if (st) {
      st.suppressed = true;
      st.mitigationId = null;
    }
  }

  active(): Attack[] {
    return [...this.byId.values()].map((s) => ({ ...s.attack }));
  }

  run(now: number, elapsed: number, hourOfWeek: number, out: TickResult): void {
    const { hosts, hostTable: ht, prefixes, prefixTable: pt, profiles } = this.h;
    const r = this.r;
    if (this.marks.length < prefixes.capacity) this.marks = new Uint8Array(prefixes.capacity);
    this.marks.fill(0);
    const idleSeconds = this.h.settings.hostIdleHours * 3600;
    const hostScope: Scope = { kind: "host", table: ht, slots: hosts };
    for (let row = 0; row < hosts.used; row++) {
      if (!hosts.inUse(row)) continue;
      const sIn = this.hostIn.get(row);
      const sOut = this.hostOut.get(row);
      if (ht.quiet(row) && !sIn && !sOut) {
        if (
          ht.sec - ht.lastSeen(row) > idleSeconds &&
          ht.sec - (hosts.firstSeen[row] as number) > idleSeconds
        ) {
          hosts.release(row);
          ht.clear(row);
          profiles.clear(row);
        }
        continue;
      }
      ht.rates(row, r);
      if (elapsed > 0) profiles.accumulate(row, r[0] as number, r[1] as number, r[2] as number, elapsed);
      const g = this.h.groupOf(hosts.group[row] as number);
      const exIn = overThreshold(r, IN_BASE, g.inbound, g.learned ? this.rule : undefined, row, hourOfWeek);
      this.step(this.hostIn, hostScope, row, IN_BASE, g, exIn, now, out);
      const exOut = g.outbound
        ? overThreshold(r, OUT_BASE, g.outbound, undefined, row, hourOfWeek)
        : undefined;
      if (exOut || sOut) this.step(this.hostOut, hostScope, row, OUT_BASE, g, exOut, now, out);
      const p = hosts.parent[row] as number;
      if (p >= 0 && this.hostIn.has(row)) this.marks[p] = 1;
    }
    if (elapsed > 0) profiles.addSeconds(elapsed);
    const prefixScope: Scope = { kind: "prefix", table: pt, slots: prefixes };
    for (let p = 0; p < prefixes.used; p++) {
      if (!prefixes.inUse(p)) continue;
      const st = this.prefixIn.get(p);
      const g = this.h.groupOf(prefixes.group[p] as number);
      if ((!g.prefix || pt.quiet(p)) && !st) continue;
      pt.rates(p, r);
      let ex = g.prefix ? overThreshold(r, IN_BASE, g.prefix, undefined, p, hourOfWeek) : undefined;
      // A host over its own threshold is handled as that host's attack, not as carpet bombing.
      if (ex && !st && this.marks[p] === 1) ex = undefined;
      this.step(this.prefixIn, prefixScope, p, IN_BASE, g, ex, now, out);
    }
  }

  private step(
    map: Map<number, State>,
    scope: Scope,
    row: number,
    base: number,
    g: CompiledGroup,
    ex: Exceeded[] | undefined,
    now: number,
    out: TickResult,
  ): void {
    const st = map.get(row);
    const s = this.h.settings;
    const r = this.r;
    if (!ex) {
      if (!st) return;
      st.attack.current = ratesOf(r, base);
      st.belowSince ??= now;
      if (now - st.belowSince >= s.attacks.endAfterSeconds * 1000) {
        const a = st.attack;
        a.endedAt = st.belowSince;
        a.updatedAt = now;
        map.delete(row);
        this.byId.delete(a.id);
        if (st.mitigationId)
          this.h.attackEnded(st.mitigationId, now + s.mitigation.withdrawAfterSeconds * 1000);
        out.attacksEnded.push({ ...a });
      }
      return;
    }
    const over = new Set(ex.map((e) => THRESHOLD_KEYS[e.metric].metric as number));
    const inbound = base === IN_BASE;
    const ipv6 = (scope.slots.key4[row] as number) < 0;
    const ports = inbound ? scope.table.ports.top(row, 0.01) : [];
    const cls = classify(r, base, over, ports, s.attacks.signatureShare, ipv6);
    const current = ratesOf(r, base);
    if (!st) {
      const prefix = scope.slots.cidr(row);
      const direction = inbound ? "inbound" : "outbound";
      const a: Attack = {
        id: attackId(scope.kind, prefix, direction, now),
        victim:
          scope.kind === "host"
            ? { type: "host", address: scope.slots.label(row, false), prefix }
            : { type: "prefix", prefix },
        direction,
        group: g.name,
        kind: scope.kind === "prefix" ? "carpet-bombing" : cls.vector,
        vector: cls.vector,
        services: cls.services,
        signature: this.signature(scope, row, inbound, cls),
        startedAt: now,
        updatedAt: now,
        endedAt: null,
        peak: current,
        current,
        exceeded: ex,
      };
      const state: State = {
        attack: a,
        group: g,
        belowSince: null,
        lastReported: now,
        reportedPeak: current.pps,
        mitigationId: null,
        suppressed: false,
        pendingVector: null,
        pendingCount: 0,
      };
      map.set(row, state);
      this.byId.set(a.id, state);
      const m = this.h.mitigate(a, g, now);
      if (m.placed) {
        state.mitigationId = m.placed.id;
        out.announce.push(m.placed);
      }
      out.attacksStarted.push({ ...a });
      out.alerts.push(alertOf(a, m.placed, m.note, now, "started"));
      return;
    }
    const a = st.attack;
    st.belowSince = null;
    a.current = current;
    a.peak = maxRates(a.peak, current);
    a.exceeded = ex;
    a.updatedAt = now;
    let reclassified = false;
    if (cls.vector !== a.vector) {
      st.pendingCount = st.pendingVector === cls.vector ? st.pendingCount + 1 : 1;
      st.pendingVector = cls.vector;
      if (st.pendingCount >= RECLASSIFY_TICKS) {
        reclassified = true;
        a.vector = cls.vector;
        if (scope.kind === "host") a.kind = cls.vector;
        a.services = cls.services;
        a.signature = this.signature(scope, row, inbound, cls);
        st.pendingVector = null;
        if (!st.suppressed) this.remitigate(st, now, out);
      }
    } else st.pendingVector = null;
    if (
      reclassified ||
      a.peak.pps > st.reportedPeak * 1.2 ||
      now - st.lastReported >= s.attacks.updateEverySeconds * 1000
    ) {
      if (!reclassified) {
        // Keep the classified ports (the mitigation was derived from them), refresh what is observed.
        const fresh = this.signature(scope, row, inbound, cls);
        a.signature = { ...a.signature, topSourcePorts: fresh.topSourcePorts, topSources: fresh.topSources };
      }
      st.lastReported = now;
      st.reportedPeak = a.peak.pps;
      out.attacksUpdated.push({ ...a });
    }
  }

  /** A reclassified attack gets the mitigation of its new signature; the old one goes once it is in. */
  private remitigate(st: State, now: number, out: TickResult): void {
    const m = this.h.mitigate(st.attack, st.group, now);
    const old = st.mitigationId;
    if (m.placed && m.placed.id !== old) out.announce.push(m.placed);
    if (old && old !== m.placed?.id) this.h.attackEnded(old, now);
    st.mitigationId = m.placed?.id ?? null;
    out.alerts.push(alertOf(st.attack, m.placed, m.note, now, "reclassified"));
  }

  private signature(scope: Scope, row: number, inbound: boolean, cls: Classification): Signature {
    const t = scope.table;
    return {
      protocol: cls.protocol,
      sourcePorts: [...cls.sourcePorts],
      packetLength: inbound ? (t.sizeRange(row) ?? null) : null,
      synOnly: cls.vector === "syn-flood",
      fragments: cls.vector === "fragment-flood",
      topSourcePorts: inbound
        ? t.ports
            .top(row, 0.01)
            .map((e) => ({ protocol: Math.floor(e.key / 65536), port: e.key % 65536, share: round(e.share) }))
        : [],
      topSources: inbound
        ? t.sources
            .top(row, 0.01)
            .map((e) => ({ address: e.key >= 0 ? ipv4Text(e.key) : e.text, share: round(e.share) }))
        : [],
    };
  }

  /** Folds the minute that just closed into every host's baselines (minutes under attack are skipped). */
  learnMinute(now: number, lastTick: number): void {
    const { hosts, profiles } = this.h;
    const minute = Math.floor(now / 60_000);
    const elapsed = this.lastLearnMinute < 0 ? 1 : Math.max(1, minute - this.lastLearnMinute);
    this.lastLearnMinute = minute;
    const at = lastTick >= 0 ? lastTick : now;
    const t = localTime(at, this.h.settings.baselines.timeZone);
    const hourOfWeek = t.weekday * 24 + Math.floor(t.minuteOfDay / 60);
    for (let row = 0; row < hosts.used; row++) {
      if (!hosts.inUse(row)) continue;
      if (this.hostIn.has(row)) profiles.skip(row);
      else profiles.learn(row, hourOfWeek, elapsed);
    }
    profiles.reset(hosts.used);
  }
}

function alertOf(
  a: Attack,
  placed: Mitigation | undefined,
  note: string,
  now: number,
  what: string,
): Finding {
  const top = a.exceeded[0];
  const over = top ? `: ${top.metric} ${top.rate} over ${top.threshold} (${top.source})` : "";
  const services = a.services.length ? ` (${a.services.join(", ")})` : "";
  const subject = a.victim.type === "host" ? a.victim.address : a.victim.prefix;
  return {
    rule: a.direction === "outbound" ? "flows.outbound" : `flows.${a.kind}`,
    severity: "critical",
    remedy: placed && !placed.dryRun ? "block" : "alert",
    at: now,
    subject,
    message: `${a.direction} ${a.kind}${a.kind === "carpet-bombing" ? ` (${a.vector})` : ""}${services} ${what} ${a.direction === "inbound" ? "towards" : "from"} ${subject}${over}`,
    evidence: {
      attackId: a.id,
      direction: a.direction,
      group: a.group,
      kind: a.kind,
      vector: a.vector,
      services: a.services,
      exceeded: a.exceeded,
      rates: a.current,
      signature: a.signature,
      mitigation: placed ? { id: placed.id, type: placed.type, dryRun: placed.dryRun } : null,
      mitigationNote: note,
      startedAt: new Date(a.startedAt).toISOString(),
    },
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
