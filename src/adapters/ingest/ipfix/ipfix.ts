/**
 * IPFIX (RFC 7011) decoder.
 *
 * Hand-written over the raw bytes for the reasons given in netflow-v9.ts (no maintained npm package,
 * and the per-record path must not allocate); the template machinery is shared with NetFlow v9 in
 * ../flow-templates/.
 *
 * Beyond v9: variable-length fields (length 65535 in the template; a 1-byte length in the record, or
 * 255 followed by a 2-byte length), enterprise-specific elements (bit 15 of the element id, then a
 * 4-byte enterprise number) which are skipped by their length, template withdrawal (field count 0;
 * template id 2 or 3 withdraws all templates or all options templates), and message lengths that make
 * truncation always visible. Uptime-relative times (flowStartSysUpTime 22 / flowEndSysUpTime 21) need
 * systemInitTimeMilliseconds (160), from the record or from options data; without it they fall back
 * to the export time. Sampling: caller override, then the record's own samplingInterval (34),
 * samplerRandomInterval (50), samplingPacketInterval/Space (305/306) or samplingSize/Population
 * (309/310), then the rate options data gave its samplerId (48) or selectorId (302), then the rate
 * options data gave the domain (or its only sampler, for records that name none), else 1.
 *
 * An exporter restart shows as the sequence number (a count of data records) falling back by more
 * than reordering explains; it clears the domain's templates and options state.
 */
import { DecodeStats, type FlowDecodeError, type FlowDecoderOptions } from "../../../core/flow-records.js";
import { u16, u32 } from "../flow-templates/bytes.js";
import { decodeDataSet, SetContext, UptimeBase } from "../flow-templates/data-sets.js";
import { FieldList } from "../flow-templates/template.js";
import { learnTemplate, withdrawAll, withdrawTemplate, zeroTail } from "../flow-templates/template-sets.js";
import {
  type DomainState,
  TemplateStore,
  type TemplateStoreOptions,
} from "../flow-templates/template-store.js";

export const IPFIX_VERSION = 10;
export const IPFIX_HEADER = 16;
export const SET_TEMPLATE = 2;
export const SET_OPTIONS_TEMPLATE = 3;

/** Data records the sequence may step back by reordering before we call it a restart. */
const SEQUENCE_TOLERANCE = 100_000;

export type IpfixOptions = FlowDecoderOptions & TemplateStoreOptions;

function restarted(d: DomainState, sequence: number): boolean {
  if (d.lastSequence < 0) return false;
  const back = (d.lastSequence - sequence) >>> 0;
  return back > SEQUENCE_TOLERANCE && back < 0x80000000;
}

export class IpfixDecoder {
  readonly stats: DecodeStats;
  readonly templates: TemplateStore;
  private readonly ctx: SetContext;
  private readonly fields = new FieldList();
  private readonly overrides: ReadonlyMap<string, number> | undefined;

  constructor(o: IpfixOptions) {
    this.stats = o.stats ?? new DecodeStats();
    this.templates = new TemplateStore(o);
    this.ctx = new SetContext("ipfix", o.onRecord, UptimeBase.systemInit);
    this.overrides = o.samplingOverrides;
  }

  /** Decodes one message; returns true when nothing in it was counted as an error. Never throws. */
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

  private decodeMessage(b: Uint8Array, exporter: string, receivedAt: number): FlowDecodeError | undefined {
    if (b.length < 2) return "truncated";
    if (u16(b, 0) !== IPFIX_VERSION) return "badVersion";
    if (b.length < IPFIX_HEADER) return "truncated";
    const len = u16(b, 2);
    if (len < IPFIX_HEADER) return "badHeader";
    if (len > b.length) return "truncated";
    // Framing first; bytes after the message length are not part of it and are ignored.
    let p = IPFIX_HEADER;
    while (p < len) {
      if (len - p < 4) return "badSet";
      const setLen = u16(b, p + 2);
      if (setLen < 4 || p + setLen > len) return "badSet";
      p += setLen;
    }
    const exportSecs = u32(b, 4);
    const sequence = u32(b, 8);
    const domainId = u32(b, 12);

    const ctx = this.ctx;
    const st = ctx.stats!;
    const d = this.templates.domain(exporter, domainId);
    if (restarted(d, sequence)) {
      d.clear();
      st.restarts++;
    }
    d.lastSequence = sequence;
    ctx.dom = d;
    ctx.exportMs = exportSecs * 1000;
    ctx.sysUptime = 0;
    ctx.receivedAt = receivedAt;
    ctx.override = this.overrides?.get(exporter) ?? 0;
    ctx.rec.exporter = exporter;
    ctx.rec.domain = domainId;
    ctx.seen = 0;

    p = IPFIX_HEADER;
    while (p < len) {
      const id = u16(b, p);
      const end = p + u16(b, p + 2);
      if (id === SET_TEMPLATE || id === SET_OPTIONS_TEMPLATE) {
        const bad = this.templateSet(b, p + 4, end, id === SET_OPTIONS_TEMPLATE);
        if (bad !== undefined) ctx.fail(bad);
      } else if (id >= 256) {
        const t = this.templates.template(d, id, receivedAt);
        if (t !== undefined) {
          if (!decodeDataSet(b, p + 4, end, t, ctx)) ctx.fail("badRecord");
        } else {
          ctx.fail("noTemplate");
          const held = {
            templateId: id,
            bytes: b.slice(p + 4, end),
            exportMs: ctx.exportMs,
            sysUptime: 0,
            receivedAt,
          };
          if (this.templates.hold(d, held)) st.buffered++;
        }
      }
      // Set ids 0, 1 and 4..255 are reserved: skipped, as RFC 7011 asks.
      p = end;
    }
    return undefined;
  }

  /** Template (2) and options template (3) sets; a malformed record ends the set. */
  private templateSet(b: Uint8Array, q: number, end: number, options: boolean): "badTemplate" | undefined {
    const ctx = this.ctx;
    const f = this.fields;
    while (end - q >= 4) {
      const id = u16(b, q);
      const n = u16(b, q + 2);
      if (id === 0 && n === 0 && zeroTail(b, q, end)) return undefined;
      const start = q;
      q += 4;
      if (n === 0) {
        // Withdrawal: of one template, or of all of this kind when the id is the set id.
        if (id === (options ? SET_OPTIONS_TEMPLATE : SET_TEMPLATE)) withdrawAll(ctx, options);
        else if (id >= 256) withdrawTemplate(ctx, id);
        else return "badTemplate";
        continue;
      }
      if (id < 256) return "badTemplate";
      f.reset();
      if (options) {
        if (end - q < 2) return "badTemplate";
        const scope = u16(b, q);
        q += 2;
        if (scope === 0 || scope > n) return "badTemplate";
        f.scopeCount = scope;
      }
      for (let i = 0; i < n; i++) {
        if (end - q < 4) return "badTemplate";
        let ie = u16(b, q);
        const fl = u16(b, q + 2);
        q += 4;
        const enterprise = ie >= 0x8000;
        if (enterprise) {
          if (end - q < 4) return "badTemplate";
          ie &= 0x7fff;
          q += 4;
        }
        f.add(ie, fl, enterprise);
      }
      learnTemplate(this.templates, ctx, "ipfix", id, options, f, b, start, q);
    }
    return undefined;
  }
}
