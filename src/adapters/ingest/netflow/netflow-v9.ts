/**
 * NetFlow v9 (RFC 3954) decoder.
 *
 * Written by hand over the raw bytes: the npm packages for NetFlow are unmaintained or decode into a
 * fresh object per flow with field names looked up per record, which is far from the million records
 * a second the flow guard needs; the format is small enough to own.
 *
 * Templates and options templates are cached per (exporter address, source id). A data flowset
 * whose template is unknown is counted (`noTemplate`) and a copy held briefly (a few sets, a few
 * seconds: see TemplateStoreOptions) so that the flows are not lost when the template comes in the
 * next packet, as it does after a collector restart. Sampling comes from, in order: the caller's
 * per-exporter override, the record's own sampling fields, the sampler id (48) mapped by options
 * data (48 + 34/50), the rate options data announced without a sampler id, the rate of the only
 * sampler announced when the record names none, else 1. Options scoped to an interface set the
 * domain's rate: exporters seen so far announce one rate for all interfaces.
 *
 * Exporter restarts (sysUptime going backwards, or the sequence number falling back by more than
 * reordering explains) clear that domain's templates and sampling state, since a restarted exporter
 * may reuse template ids for other layouts.
 */
import { DecodeStats, type FlowDecodeError, type FlowDecoderOptions } from "../../../core/flow-records.js";
import { u16, u32 } from "../flow-templates/bytes.js";
import { decodeDataSet, SetContext, UptimeBase } from "../flow-templates/data-sets.js";
import { FieldList } from "../flow-templates/template.js";
import { learnTemplate, withdrawTemplate, zeroTail } from "../flow-templates/template-sets.js";
import {
  type DomainState,
  TemplateStore,
  type TemplateStoreOptions,
} from "../flow-templates/template-store.js";

export const NETFLOW_V9_HEADER = 20;

/** Uptime may step back this much (ms) between reordered packets before we call it a restart. */
const UPTIME_TOLERANCE_MS = 10_000;
/** Packets the sequence may step back by reordering. */
const SEQUENCE_TOLERANCE = 1000;
/** Uptime this close to 2^32 ms followed by a small one is a wrap, not a restart. */
const WRAP_WINDOW_MS = 3_600_000;

export type NetflowV9Options = FlowDecoderOptions & TemplateStoreOptions;

/** True when the header values mean the exporter started over. */
function restarted(d: DomainState, uptime: number, sequence: number): boolean {
  const lastUp = d.lastUptime;
  const lastSeq = d.lastSequence;
  if (lastUp < 0) return false;
  const wrapped = lastUp > 0xffffffff - WRAP_WINDOW_MS && uptime < WRAP_WINDOW_MS;
  if (!wrapped && uptime + UPTIME_TOLERANCE_MS < lastUp) return true;
  const back = (lastSeq - sequence) >>> 0;
  return back > SEQUENCE_TOLERANCE && back < 0x80000000;
}

export class NetflowV9Decoder {
  readonly stats: DecodeStats;
  readonly templates: TemplateStore;
  private readonly ctx: SetContext;
  private readonly fields = new FieldList();
  private templateRecords = 0;
  private readonly overrides: ReadonlyMap<string, number> | undefined;

  constructor(o: NetflowV9Options) {
    this.stats = o.stats ?? new DecodeStats();
    this.templates = new TemplateStore(o);
    this.ctx = new SetContext("netflow9", o.onRecord, UptimeBase.header);
    this.overrides = o.samplingOverrides;
  }

  /**
   * Decodes one datagram; records go to onRecord. Returns true when nothing in it had to be counted
   * as an error. Never throws.
   */
  decode(buf: Uint8Array, exporter: string, receivedAt: number): boolean {
    const st = this.stats.of(exporter);
    const ctx = this.ctx;
    st.packets++;
    ctx.stats = st;
    ctx.failed = false;
    try {
      const reason = this.decodeMessage(buf, exporter, receivedAt);
      if (reason !== undefined) ctx.fail(reason);
    } catch {
      ctx.fail("internal");
    }
    if (!ctx.failed) return true;
    st.failedPackets++;
    return false;
  }

  /** Returns why the whole datagram was refused; errors inside flowsets are counted as they occur. */
  private decodeMessage(b: Uint8Array, exporter: string, receivedAt: number): FlowDecodeError | undefined {
    const len = b.length;
    if (len < 2) return "truncated";
    if (u16(b, 0) !== 9) return "badVersion";
    if (len < NETFLOW_V9_HEADER) return "truncated";
    // Framing first: nothing is emitted from a datagram whose flowsets do not add up.
    let sets = 0;
    let p = NETFLOW_V9_HEADER;
    while (len - p >= 4) {
      const setLen = u16(b, p + 2);
      if (setLen < 4) return "badSet";
      if (p + setLen > len) return "truncated";
      p += setLen;
      sets++;
    }
    const count = u16(b, 2);
    const uptime = u32(b, 4);
    const unixSecs = u32(b, 8);
    const sequence = u32(b, 12);
    const sourceId = u32(b, 16);

    const ctx = this.ctx;
    const st = ctx.stats!;
    const d = this.templates.domain(exporter, sourceId);
    if (restarted(d, uptime, sequence)) {
      d.clear();
      st.restarts++;
    }
    d.lastUptime = uptime;
    d.lastSequence = sequence;
    ctx.dom = d;
    ctx.exportMs = unixSecs * 1000;
    ctx.sysUptime = uptime;
    ctx.receivedAt = receivedAt;
    ctx.override = this.overrides?.get(exporter) ?? 0;
    ctx.rec.exporter = exporter;
    ctx.rec.domain = sourceId;
    ctx.seen = 0;
    const recordsBefore = st.records;
    this.templateRecords = 0;

    let countable = true;
    p = NETFLOW_V9_HEADER;
    while (len - p >= 4) {
      const id = u16(b, p);
      const end = p + u16(b, p + 2);
      if (id === 0 || id === 1) {
        const bad = id === 0 ? this.templateFlowset(b, p + 4, end) : this.optionsFlowset(b, p + 4, end);
        if (bad !== undefined) ctx.fail(bad);
      } else if (id >= 256) {
        const t = this.templates.template(d, id, receivedAt);
        if (t !== undefined) {
          if (!decodeDataSet(b, p + 4, end, t, ctx)) ctx.fail("badRecord");
        } else {
          countable = false;
          ctx.fail("noTemplate");
          const held = {
            templateId: id,
            bytes: b.slice(p + 4, end),
            exportMs: ctx.exportMs,
            sysUptime: uptime,
            receivedAt,
          };
          if (this.templates.hold(d, held)) st.buffered++;
        }
      }
      p = end;
    }
    // Exporters differ on what the count counts: all records as RFC 3954 says, data records only, flow
    // records only (softflowd), or flowsets (early Cisco). Any of them is accepted.
    if (countable) {
      const all = ctx.seen + this.templateRecords;
      if (count !== all && count !== ctx.seen && count !== st.records - recordsBefore && count !== sets) {
        return "countMismatch";
      }
    }
    return undefined;
  }

  /** A malformed template record ends the flowset. */
  private templateFlowset(b: Uint8Array, q: number, end: number): "badTemplate" | undefined {
    const f = this.fields;
    while (end - q >= 4) {
      const id = u16(b, q);
      const n = u16(b, q + 2);
      if (id === 0 && n === 0 && zeroTail(b, q, end)) return undefined;
      if (id < 256) return "badTemplate";
      const start = q;
      q += 4;
      if (n === 0) {
        withdrawTemplate(this.ctx, id);
        this.templateRecords++;
        continue;
      }
      if (q + 4 * n > end) return "badTemplate";
      f.reset();
      for (let i = 0; i < n; i++, q += 4) f.add(u16(b, q), u16(b, q + 2), false);
      this.templateRecords++;
      learnTemplate(this.templates, this.ctx, "v9", id, false, f, b, start, q);
    }
    return undefined;
  }

  private optionsFlowset(b: Uint8Array, q: number, end: number): "badTemplate" | undefined {
    const f = this.fields;
    while (end - q >= 6) {
      const id = u16(b, q);
      const scopeLen = u16(b, q + 2);
      const optLen = u16(b, q + 4);
      if (id === 0 && zeroTail(b, q, end)) return undefined;
      if (id < 256 || scopeLen % 4 !== 0 || optLen % 4 !== 0) return "badTemplate";
      const start = q;
      q += 6;
      if (q + scopeLen + optLen > end) return "badTemplate";
      f.reset();
      f.scopeCount = scopeLen / 4;
      const stop = q + scopeLen + optLen;
      for (; q < stop; q += 4) f.add(u16(b, q), u16(b, q + 2), false);
      this.templateRecords++;
      learnTemplate(this.templates, this.ctx, "v9", id, true, f, b, start, q);
    }
    return undefined;
  }
}
