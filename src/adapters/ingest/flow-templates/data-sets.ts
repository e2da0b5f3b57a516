/**
 * Decoding NetFlow v9 / IPFIX data sets with a compiled template: flow records go to the sink, options
 * records update the domain's sampling rates and clock. One context object per decoder carries the
 * header values of the message being decoded, so the per-record path allocates nothing (IPv6 text
 * aside) and calls no closures beyond the sink.
 */
import {
  createFlowRecord,
  type ExporterDecodeStats,
  type FlowDecodeError,
  type FlowRecord,
  type FlowSink,
  type FlowSource,
  Fragment,
  resetFlowRecord,
} from "../../../core/flow-records.js";
import { ipv6Text, u32, uint } from "./bytes.js";
import { Act, type Template, VARIABLE_LENGTH } from "./template.js";
import type { DomainState, TemplateStore } from "./template-store.js";

/** How uptime-relative times become epoch ms: from the v9 header, or from the IPFIX system init time. */
export const UptimeBase = { header: 1, systemInit: 2 } as const;
type UptimeBaseMode = (typeof UptimeBase)[keyof typeof UptimeBase];

/** Values of one record that are not record fields themselves; -1 means "not in this record". */
class Scratch {
  startUp = -1;
  endUp = -1;
  startAbs = -1;
  endAbs = -1;
  samplerId = -1;
  interval = -1;
  pktInterval = -1;
  pktSpace = -1;
  size = -1;
  population = -1;
  init = -1;
  fragFlags = -1;
  fragOffset = -1;
  icmp = -1;

  reset(): void {
    this.startUp = -1;
    this.endUp = -1;
    this.startAbs = -1;
    this.endAbs = -1;
    this.samplerId = -1;
    this.interval = -1;
    this.pktInterval = -1;
    this.pktSpace = -1;
    this.size = -1;
    this.population = -1;
    this.init = -1;
    this.fragFlags = -1;
    this.fragOffset = -1;
    this.icmp = -1;
  }

  /** The sampling rate these fields announce, 0 when none. */
  rate(): number {
    if (this.interval > 0) return this.interval;
    if (this.pktInterval > 0 && this.pktSpace >= 0)
      return (this.pktInterval + this.pktSpace) / this.pktInterval;
    if (this.size > 0 && this.population > 0) return this.population / this.size;
    return 0;
  }
}

export class SetContext {
  readonly rec: FlowRecord;
  readonly scratch = new Scratch();
  /** Set per message by the protocol decoder. */
  dom: DomainState | undefined;
  stats: ExporterDecodeStats | undefined;
  exportMs = 0;
  sysUptime = 0;
  receivedAt = 0;
  /** Caller's sampling-rate override for this exporter; 0 for none. */
  override = 0;
  /** Data and options records decoded in the current message, for header count checks. */
  seen = 0;
  /** Whether anything in the current message was counted as an error. */
  failed = false;

  constructor(
    source: FlowSource,
    readonly onRecord: FlowSink,
    readonly uptimeBase: UptimeBaseMode,
  ) {
    this.rec = createFlowRecord(source);
  }

  fail(reason: FlowDecodeError): void {
    this.stats!.errors[reason]++;
    this.failed = true;
  }
}

function nonZero16(b: Uint8Array, o: number): boolean {
  for (let i = o; i < o + 16; i++) if (b[i] !== 0) return true;
  return false;
}

function applyField(b: Uint8Array, o: number, len: number, act: number, r: FlowRecord, s: Scratch): void {
  switch (act) {
    case Act.src4: {
      const v = u32(b, o);
      if (r.ipVersion !== 6 || v !== 0) {
        r.src4 = v;
        r.ipVersion = 4;
      }
      return;
    }
    case Act.dst4: {
      const v = u32(b, o);
      if (r.ipVersion !== 6 || v !== 0) {
        r.dst4 = v;
        r.ipVersion = 4;
      }
      return;
    }
    // A template may carry both families; the all-zero one is the absent one.
    case Act.src6:
      if (r.ipVersion !== 4 || nonZero16(b, o)) {
        r.src6 = ipv6Text(b, o);
        r.ipVersion = 6;
      }
      return;
    case Act.dst6:
      if (r.ipVersion !== 4 || nonZero16(b, o)) {
        r.dst6 = ipv6Text(b, o);
        r.ipVersion = 6;
      }
      return;
    case Act.protocol:
      r.protocol = uint(b, o, len);
      return;
    case Act.srcPort:
      r.srcPort = uint(b, o, len);
      return;
    case Act.dstPort:
      r.dstPort = uint(b, o, len);
      return;
    case Act.tcpFlags:
      // tcpControlBits may be 2 bytes (RFC 7125); the classic flags are the low byte.
      r.tcpFlags = uint(b, o, len) & 0xff;
      return;
    case Act.bytes:
      r.rawBytes = uint(b, o, len);
      return;
    case Act.packets:
      r.rawPackets = uint(b, o, len);
      return;
    case Act.inIf:
      r.inIf = uint(b, o, len);
      return;
    case Act.outIf:
      r.outIf = uint(b, o, len);
      return;
    case Act.startUptime:
      s.startUp = uint(b, o, len);
      return;
    case Act.endUptime:
      s.endUp = uint(b, o, len);
      return;
    case Act.startSec:
      s.startAbs = uint(b, o, len) * 1000;
      return;
    case Act.endSec:
      s.endAbs = uint(b, o, len) * 1000;
      return;
    case Act.startMs:
      s.startAbs = uint(b, o, len);
      return;
    case Act.endMs:
      s.endAbs = uint(b, o, len);
      return;
    case Act.fragFlags:
      s.fragFlags = uint(b, o, len);
      return;
    case Act.fragOffset:
      s.fragOffset = uint(b, o, len);
      return;
    case Act.samplerId:
      s.samplerId = uint(b, o, len);
      return;
    case Act.samplingInterval:
      s.interval = uint(b, o, len);
      return;
    case Act.pktInterval:
      s.pktInterval = uint(b, o, len);
      return;
    case Act.pktSpace:
      s.pktSpace = uint(b, o, len);
      return;
    case Act.sampleSize:
      s.size = uint(b, o, len);
      return;
    case Act.samplePopulation:
      s.population = uint(b, o, len);
      return;
    case Act.systemInit:
      s.init = uint(b, o, len);
      return;
    case Act.vlan:
      r.vlan = uint(b, o, len) & 0xfff;
      return;
    case Act.icmpTypeCode:
      s.icmp = uint(b, o, len);
      return;
  }
}

function uptimeToEpoch(ctx: SetContext, s: Scratch, up: number): number {
  if (ctx.uptimeBase === UptimeBase.header) {
    // Signed 32-bit difference: right across the 49.7-day wrap of the uptime counter.
    return ctx.exportMs - ((ctx.sysUptime - up) | 0);
  }
  const init = s.init >= 0 ? s.init : ctx.dom!.systemInit;
  return init >= 0 ? init + up : ctx.exportMs;
}

function finishRecord(ctx: SetContext, r: FlowRecord, s: Scratch): void {
  let rate = ctx.override;
  if (rate <= 0) {
    rate = s.rate();
    if (rate <= 0 && s.samplerId >= 0) rate = ctx.dom!.samplers.get(s.samplerId) ?? 0;
    if (rate <= 0) rate = ctx.dom!.defaultRate;
    if (rate <= 0 && s.samplerId < 0) rate = ctx.dom!.soleSamplerRate;
    if (rate <= 0) rate = 1;
  }
  r.samplingRate = rate;
  r.packets = r.rawPackets * rate;
  r.bytes = r.rawBytes * rate;
  r.start = s.startAbs >= 0 ? s.startAbs : s.startUp >= 0 ? uptimeToEpoch(ctx, s, s.startUp) : ctx.exportMs;
  r.end = s.endAbs >= 0 ? s.endAbs : s.endUp >= 0 ? uptimeToEpoch(ctx, s, s.endUp) : r.start;
  if (s.fragFlags >= 0 || s.fragOffset >= 0) {
    // fragmentFlags bit 2 (0x20, counting from the most significant) is "more fragments".
    r.fragment =
      (s.fragFlags > 0 && (s.fragFlags & 0x20) !== 0) || s.fragOffset > 0 ? Fragment.yes : Fragment.no;
  }
  if (s.icmp >= 0 && r.dstPort === 0) r.dstPort = s.icmp;
}

function applyOptions(d: DomainState, s: Scratch): void {
  const rate = s.rate();
  if (rate > 0) {
    if (s.samplerId >= 0) {
      d.samplers.set(s.samplerId, rate);
      d.soleSamplerRate = d.samplers.size === 1 ? rate : 0;
    } else d.defaultRate = rate;
  }
  if (s.init >= 0) d.systemInit = s.init;
}

function emit(ctx: SetContext, t: Template, r: FlowRecord, s: Scratch): void {
  ctx.seen++;
  if (t.options) {
    applyOptions(ctx.dom!, s);
    return;
  }
  finishRecord(ctx, r, s);
  ctx.stats!.records++;
  ctx.onRecord(r);
}

/**
 * Decodes the records of one data set body [p, end). Trailing bytes shorter than a record are
 * padding. Returns false when a variable-length record overruns the set (records before it stand).
 */
export function decodeDataSet(b: Uint8Array, p: number, end: number, t: Template, ctx: SetContext): boolean {
  const r = ctx.rec;
  const s = ctx.scratch;
  const fixed = t.fixedLength;
  if (fixed > 0) {
    const offs = t.actOffs;
    const lens = t.actLens;
    const codes = t.actCodes;
    const n = codes.length;
    for (; p + fixed <= end; p += fixed) {
      resetFlowRecord(r);
      s.reset();
      for (let i = 0; i < n; i++) applyField(b, p + offs[i]!, lens[i]!, codes[i]!, r, s);
      emit(ctx, t, r, s);
    }
    return true;
  }
  const lens = t.lens;
  const acts = t.acts;
  const n = lens.length;
  while (end - p >= t.minLength) {
    resetFlowRecord(r);
    s.reset();
    for (let i = 0; i < n; i++) {
      let len = lens[i]!;
      if (len === VARIABLE_LENGTH) {
        if (p >= end) return false;
        len = b[p++]!;
        if (len === 255) {
          if (p + 2 > end) return false;
          len = (b[p]! << 8) | b[p + 1]!;
          p += 2;
        }
      }
      if (p + len > end) return false;
      const act = acts[i]!;
      if (act !== Act.none) applyField(b, p, len, act, r, s);
      p += len;
    }
    emit(ctx, t, r, s);
  }
  return true;
}

/** Decodes held data sets for a template that just arrived; the current message's context is kept. */
export function replayPending(ctx: SetContext, store: TemplateStore, t: Template): void {
  const d = ctx.dom!;
  if (d.pending.length === 0) return;
  const held = store.takePending(d, t.id, ctx.receivedAt);
  if (held.length === 0) return;
  const exportMs = ctx.exportMs;
  const sysUptime = ctx.sysUptime;
  const seen = ctx.seen;
  for (const p of held) {
    ctx.exportMs = p.exportMs;
    ctx.sysUptime = p.sysUptime;
    if (decodeDataSet(p.bytes, 0, p.bytes.length, t, ctx)) ctx.stats!.replayed++;
    else ctx.fail("badRecord");
  }
  ctx.exportMs = exportMs;
  ctx.sysUptime = sysUptime;
  ctx.seen = seen;
}
