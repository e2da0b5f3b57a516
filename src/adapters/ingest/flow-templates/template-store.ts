/**
 * Template state per (exporter address, observation domain / source id), as RFC 3954 and RFC 7011
 * scope it: templates, what options data said about sampling and time, the sequence and uptime seen
 * last (to notice a restart), and a few data sets that arrived before their template.
 */
import type { Template } from "./template.js";

/** A data set held until its template arrives, with the header context needed to decode it later. */
export type PendingSet = {
  readonly templateId: number;
  readonly bytes: Uint8Array;
  readonly exportMs: number;
  readonly sysUptime: number;
  readonly receivedAt: number;
};

export type TemplateStoreOptions = {
  /** Forget a template not refreshed for this long (receive time, ms); 0 keeps templates forever. */
  templateLifetimeMs?: number;
  /** Data sets held per domain while their template is unknown; 0 disables holding. */
  pendingSets?: number;
  /** Bytes held per domain. */
  pendingBytes?: number;
  /** Held sets older than this (receive time, ms) are dropped rather than replayed. */
  pendingMaxAgeMs?: number;
  /** Exporters whose state is kept; past it the longest-known one is forgotten (spoofed sources). */
  maxExporters?: number;
};

export class DomainState {
  readonly templates = new Map<number, Template>();
  /** Sampler (or selector) id -> sampling rate, from options data. */
  readonly samplers = new Map<number, number>();
  /** Rate from options data that named no sampler; 0 when none was announced. */
  defaultRate = 0;
  /** The rate of the only sampler announced, for records that do not name theirs; 0 otherwise. */
  soleSamplerRate = 0;
  /** Epoch ms of the exporter's system start (IPFIX systemInitTimeMilliseconds); -1 unknown. */
  systemInit = -1;
  lastSequence = -1;
  lastUptime = -1;
  lastExportSec = -1;
  pending: PendingSet[] = [];
  pendingBytes = 0;

  constructor(
    readonly exporter: string,
    readonly id: number,
  ) {}

  /** Everything learned from the exporter goes: it restarted and may reuse template ids differently. */
  clear(): void {
    this.templates.clear();
    this.samplers.clear();
    this.defaultRate = 0;
    this.soleSamplerRate = 0;
    this.systemInit = -1;
    this.pending = [];
    this.pendingBytes = 0;
  }
}

export class TemplateStore {
  readonly lifetimeMs: number;
  readonly maxPendingSets: number;
  readonly maxPendingBytes: number;
  readonly pendingMaxAgeMs: number;
  readonly maxExporters: number;
  private readonly exporters = new Map<string, Map<number, DomainState>>();
  private last: DomainState | undefined;

  constructor(o: TemplateStoreOptions = {}) {
    this.lifetimeMs = o.templateLifetimeMs ?? 30 * 60_000;
    this.maxPendingSets = o.pendingSets ?? 16;
    this.maxPendingBytes = o.pendingBytes ?? 64 * 1024;
    this.pendingMaxAgeMs = o.pendingMaxAgeMs ?? 10_000;
    this.maxExporters = o.maxExporters ?? 10_000;
  }

  domain(exporter: string, id: number): DomainState {
    const last = this.last;
    if (last !== undefined && last.id === id && last.exporter === exporter) return last;
    let byId = this.exporters.get(exporter);
    if (byId === undefined) {
      if (this.exporters.size >= this.maxExporters) {
        const oldest = this.exporters.keys().next();
        if (oldest.done !== true) this.exporters.delete(oldest.value);
        this.last = undefined;
      }
      byId = new Map();
      this.exporters.set(exporter, byId);
    }
    let d = byId.get(id);
    if (d === undefined) {
      d = new DomainState(exporter, id);
      byId.set(id, d);
    }
    this.last = d;
    return d;
  }

  /** The template, unless unknown or expired (an expired one is removed). */
  template(d: DomainState, id: number, receivedAt: number): Template | undefined {
    const t = d.templates.get(id);
    if (t === undefined) return undefined;
    if (this.lifetimeMs > 0 && receivedAt - t.refreshedAt > this.lifetimeMs) {
      d.templates.delete(id);
      return undefined;
    }
    return t;
  }

  /** Holds a copy of a data set body; returns false when holding is disabled or it is too big. */
  hold(d: DomainState, p: PendingSet): boolean {
    const size = p.bytes.length;
    if (this.maxPendingSets <= 0 || size > this.maxPendingBytes) return false;
    while (d.pending.length >= this.maxPendingSets || d.pendingBytes + size > this.maxPendingBytes) {
      const old = d.pending.shift();
      if (old === undefined) break;
      d.pendingBytes -= old.bytes.length;
    }
    d.pending.push(p);
    d.pendingBytes += size;
    return true;
  }

  /** Removes and returns held sets for a template id that are still young enough to replay. */
  takePending(d: DomainState, templateId: number, receivedAt: number): PendingSet[] {
    if (d.pending.length === 0) return [];
    const keep: PendingSet[] = [];
    const take: PendingSet[] = [];
    for (const p of d.pending) {
      if (receivedAt - p.receivedAt > this.pendingMaxAgeMs) continue;
      (p.templateId === templateId ? take : keep).push(p);
    }
    d.pending = keep;
    d.pendingBytes = keep.reduce((n, p) => n + p.bytes.length, 0);
    return take;
  }

  /** Template ids known per domain, for diagnostics. */
  describe(exporter: string): { domain: number; templates: number[]; samplers: [number, number][] }[] {
    const byId = this.exporters.get(exporter);
    if (byId === undefined) return [];
    return [...byId.values()].map((d) => ({
      domain: d.id,
      templates: [...d.templates.keys()].sort((a, b) => a - b),
      samplers: [...d.samplers.entries()],
    }));
  }
}
