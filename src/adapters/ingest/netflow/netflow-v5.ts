/**
 * NetFlow v5 decoder: a 24-byte header and up to 30 fixed 48-byte records per datagram.
 *
 * Hand-written for the same reason as the other flow decoders (no maintained npm package decodes
 * NetFlow at the rate the flow guard needs, and the format is small): one reused record, fields read
 * at fixed offsets, one sink call per flow.
 *
 * Sampling: the header's sampling_interval field (2 bits mode, 14 bits interval) unless the caller
 * overrides the rate for this exporter. IPv4 only, by the format's definition.
 */
import {
  createFlowRecord,
  DecodeStats,
  type FlowDecodeError,
  type FlowDecoderOptions,
  type FlowRecord,
  type FlowSink,
  Fragment,
} from "../../../core/flow-records.js";
import { u16, u32 } from "../flow-templates/bytes.js";

export const NETFLOW_V5_HEADER = 24;
export const NETFLOW_V5_RECORD = 48;

export class NetflowV5Decoder {
  readonly stats: DecodeStats;
  private readonly rec: FlowRecord = createFlowRecord("netflow5");
  private readonly onRecord: FlowSink;
  private readonly overrides: ReadonlyMap<string, number> | undefined;

  constructor(o: FlowDecoderOptions) {
    this.stats = o.stats ?? new DecodeStats();
    this.onRecord = o.onRecord;
    this.overrides = o.samplingOverrides;
  }

  /** Decodes one datagram. Returns true when it was used whole; never throws. */
  decode(buf: Uint8Array, exporter: string, receivedAt: number): boolean {
    const st = this.stats.of(exporter);
    st.packets++;
    let reason: FlowDecodeError | undefined;
    try {
      reason = this.decodeMessage(buf, exporter, receivedAt);
    } catch {
      reason = "internal";
    }
    if (reason === undefined) return true;
    st.errors[reason]++;
    st.failedPackets++;
    return false;
  }

  private decodeMessage(b: Uint8Array, exporter: string, _receivedAt: number): FlowDecodeError | undefined {
    const len = b.length;
    if (len < 2) return "truncated";
    if (u16(b, 0) !== 5) return "badVersion";
    if (len < NETFLOW_V5_HEADER) return "truncated";
    const count = u16(b, 2);
    if (NETFLOW_V5_HEADER + count * NETFLOW_V5_RECORD > len) return "truncated";
    const uptime = u32(b, 4);
    const exportMs = u32(b, 8) * 1000 + Math.floor(u32(b, 12) / 1e6);
    const interval = u16(b, 22) & 0x3fff;
    const override = this.overrides?.get(exporter) ?? 0;
    const rate = override > 0 ? override : interval > 0 ? interval : 1;
    const r = this.rec;
    const sink = this.onRecord;
    r.exporter = exporter;
    r.domain = u16(b, 20);
    r.ipVersion = 4;
    r.samplingRate = rate;
    r.fragment = Fragment.unknown;
    for (let i = 0, o = NETFLOW_V5_HEADER; i < count; i++, o += NETFLOW_V5_RECORD) {
      r.src4 = u32(b, o);
      r.dst4 = u32(b, o + 4);
      r.inIf = u16(b, o + 12);
      r.outIf = u16(b, o + 14);
      const pkts = u32(b, o + 16);
      const bytes = u32(b, o + 20);
      r.rawPackets = pkts;
      r.rawBytes = bytes;
      r.packets = pkts * rate;
      r.bytes = bytes * rate;
      // First/Last are sysUptime ms; the signed difference survives the 32-bit uptime wrap.
      r.start = exportMs - ((uptime - u32(b, o + 24)) | 0);
      r.end = exportMs - ((uptime - u32(b, o + 28)) | 0);
      r.srcPort = u16(b, o + 32);
      r.dstPort = u16(b, o + 34);
      r.tcpFlags = b[o + 37]!;
      r.protocol = b[o + 38]!;
      r.src6 = "";
      r.dst6 = "";
      r.vlan = 0;
      sink(r);
    }
    this.stats.of(exporter).records += count;
    return undefined;
  }
}
