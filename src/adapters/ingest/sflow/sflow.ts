/**
 * sFlow v5 decoder (sflow.org "sFlow Version 5", July 2004).
 *
 * Hand-written over the raw bytes: the npm sFlow packages are unmaintained and allocate an object
 * tree per sample, and the flow guard needs every sample at line rate with one reused record.
 *
 * Flow samples (1) and expanded flow samples (3) become one FlowRecord each: the "raw packet header"
 * record (1) is decoded down to the transport ports (see packet-header.ts), or failing that the
 * sampled IPv4 (3) / IPv6 (4) records are used; extended switch data (1001) supplies the VLAN when
 * the header had no tag. A sample stands for `sampling rate` packets, so packets = rate and
 * bytes = frame length x rate. Counter samples (2) and expanded counter samples (4) yield generic
 * interface counters (record 1) to the counters sink. Any other sample or record format, and any
 * enterprise's, is skipped by its length.
 *
 * The record's exporter is the agent address inside the datagram (the real exporter even behind a
 * relay); statistics are kept per transport source, the address the caller passes.
 */
import {
  type CountersSink,
  createFlowRecord,
  createInterfaceCounters,
  DecodeStats,
  type ExporterDecodeStats,
  type FlowDecodeError,
  type FlowDecoderOptions,
  type FlowRecord,
  type FlowSink,
  type InterfaceCounters,
  ipv4Text,
  resetFlowRecord,
} from "../../../core/flow-records.js";
import { ipv6Text, u32, u64 } from "../flow-templates/bytes.js";
import { decodePacketHeader } from "./packet-header.js";

export const SFLOW_VERSION = 5;

const SAMPLE_FLOW = 1;
const SAMPLE_COUNTERS = 2;
const SAMPLE_FLOW_EXPANDED = 3;
const SAMPLE_COUNTERS_EXPANDED = 4;

const FLOW_RAW_HEADER = 1;
const FLOW_SAMPLED_IPV4 = 3;
const FLOW_SAMPLED_IPV6 = 4;
const FLOW_EXTENDED_SWITCH = 1001;

const COUNTERS_GENERIC = 1;
const GENERIC_COUNTERS_LENGTH = 88;

/** 0x3fffffff is sFlow's "interface unknown". */
function ifIndex(v: number): number {
  return v === 0x3fffffff ? 0 : v;
}

export type SflowOptions = FlowDecoderOptions & { onCounters?: CountersSink };

export class SflowDecoder {
  readonly stats: DecodeStats;
  private readonly rec: FlowRecord = createFlowRecord("sflow5");
  private readonly counters: InterfaceCounters = createInterfaceCounters();
  private readonly onRecord: FlowSink;
  private readonly onCounters: CountersSink | undefined;
  private readonly overrides: ReadonlyMap<string, number> | undefined;
  private st: ExporterDecodeStats | undefined;
  private failed = false;
  // The agent address text, rebuilt only when the agent changes.
  private readonly agentBytes = new Uint8Array(16);
  private agentLen = 0;
  private agentText = "";

  constructor(o: SflowOptions) {
    this.stats = o.stats ?? new DecodeStats();
    this.onRecord = o.onRecord;
    this.onCounters = o.onCounters;
    this.overrides = o.samplingOverrides;
  }

  /** Decodes one datagram; returns true when nothing in it was counted as an error. Never throws. */
  decode(buf: Uint8Array, exporter: string, receivedAt: number): boolean {
    const st = this.stats.of(exporter);
    st.packets++;
    this.st = st;
    this.failed = false;
    try {
      const reason = this.decodeDatagram(buf, exporter, receivedAt);
      if (reason !== undefined) this.fail(reason);
    } catch {
      this.fail("internal");
    }
    if (!this.failed) return true;
    st.failedPackets++;
    return false;
  }

  private fail(reason: FlowDecodeError): void {
    this.st!.errors[reason]++;
    this.failed = true;
  }

  private agent(b: Uint8Array, o: number, n: number): string {
    let same = n === this.agentLen;
    for (let i = 0; same && i < n; i++) same = this.agentBytes[i] === b[o + i];
    if (!same) {
      this.agentBytes.set(b.subarray(o, o + n));
      this.agentLen = n;
      this.agentText = n === 4 ? ipv4Text(u32(b, o)) : ipv6Text(b, o);
    }
    return this.agentText;
  }

  private decodeDatagram(b: Uint8Array, exporter: string, receivedAt: number): FlowDecodeError | undefined {
    const len = b.length;
    if (len < 4) return "truncated";
    if (u32(b, 0) !== SFLOW_VERSION) return "badVersion";
    if (len < 8) return "truncated";
    const addrType = u32(b, 4);
    const addrLen = addrType === 1 ? 4 : addrType === 2 ? 16 : -1;
    if (addrLen < 0) return "unsupported";
    const head = 8 + addrLen + 16;
    if (len < head) return "truncated";
    const subAgent = u32(b, 8 + addrLen);
    const uptime = u32(b, 8 + addrLen + 8);
    const n = u32(b, 8 + addrLen + 12);
    // Framing first: no sample is used from a datagram whose samples do not add up.
    let p = head;
    for (let i = 0; i < n; i++) {
      if (len - p < 8) return "truncated";
      const sampleLen = u32(b, p + 4);
      if (sampleLen > len - p - 8) return "truncated";
      p += 8 + sampleLen;
    }
    const agent = this.agent(b, 8, addrLen);
    const override = this.overrides?.get(exporter) ?? 0;
    p = head;
    for (let i = 0; i < n; i++) {
      const format = u32(b, p);
      const end = p + 8 + u32(b, p + 4);
      const body = p + 8;
      p = end;
      // Enterprise 0 formats only; anything else is skipped by its length.
      if (format === SAMPLE_FLOW || format === SAMPLE_FLOW_EXPANDED) {
        if (
          !this.flowSample(
            b,
            body,
            end,
            format === SAMPLE_FLOW_EXPANDED,
            agent,
            subAgent,
            override,
            receivedAt,
          )
        ) {
          this.fail("badSample");
        }
      } else if (format === SAMPLE_COUNTERS || format === SAMPLE_COUNTERS_EXPANDED) {
        if (
          !this.counterSample(
            b,
            body,
            end,
            format === SAMPLE_COUNTERS_EXPANDED,
            agent,
            subAgent,
            uptime,
            receivedAt,
          )
        ) {
          this.fail("badSample");
        }
      }
    }
    return undefined;
  }

  private flowSample(
    b: Uint8Array,
    p: number,
    end: number,
    expanded: boolean,
    agent: string,
    subAgent: number,
    override: number,
    receivedAt: number,
  ): boolean {
    const fixed = expanded ? 44 : 32;
    if (end - p < fixed) return false;
    let rate: number;
    let input: number;
    let output: number;
    if (expanded) {
      rate = u32(b, p + 12);
      input = u32(b, p + 24) === 0 ? ifIndex(u32(b, p + 28)) : 0;
      output = u32(b, p + 32) === 0 ? ifIndex(u32(b, p + 36)) : 0;
    } else {
      rate = u32(b, p + 8);
      const i = u32(b, p + 20);
      const o = u32(b, p + 24);
      // Top two bits: 0 is an ifIndex; 1 (dropped) and 2 (several interfaces) are not interfaces.
      input = i >>> 30 === 0 ? ifIndex(i & 0x3fffffff) : 0;
      output = o >>> 30 === 0 ? ifIndex(o & 0x3fffffff) : 0;
    }
    const records = u32(b, p + fixed - 4);
    p += fixed;
    const r = this.rec;
    resetFlowRecord(r);
    r.exporter = agent;
    r.domain = subAgent;
    r.inIf = input;
    r.outIf = output;
    let frameLength = -1;
    let haveHeader = false;
    let switchVlan = 0;
    for (let k = 0; k < records; k++) {
      if (end - p < 8) return false;
      const format = u32(b, p);
      const recLen = u32(b, p + 4);
      const body = p + 8;
      if (recLen > end - body) return false;
      const stop = body + recLen;
      if (format === FLOW_RAW_HEADER) {
        if (recLen < 16) return false;
        const hlen = u32(b, body + 12);
        if (hlen > recLen - 16) return false;
        frameLength = u32(b, body + 4);
        decodePacketHeader(b, body + 16, body + 16 + hlen, u32(b, body), r);
        haveHeader = true;
      } else if (format === FLOW_SAMPLED_IPV4 && !haveHeader) {
        if (recLen < 32) return false;
        if (frameLength < 0) frameLength = u32(b, body);
        r.ipVersion = 4;
        r.protocol = u32(b, body + 4) & 0xff;
        r.src4 = u32(b, body + 8);
        r.dst4 = u32(b, body + 12);
        r.srcPort = u32(b, body + 16) & 0xffff;
        r.dstPort = u32(b, body + 20) & 0xffff;
        r.tcpFlags = u32(b, body + 24) & 0xff;
      } else if (format === FLOW_SAMPLED_IPV6 && !haveHeader) {
        if (recLen < 56) return false;
        if (frameLength < 0) frameLength = u32(b, body);
        r.ipVersion = 6;
        r.protocol = u32(b, body + 4) & 0xff;
        r.src6 = ipv6Text(b, body + 8);
        r.dst6 = ipv6Text(b, body + 24);
        r.srcPort = u32(b, body + 40) & 0xffff;
        r.dstPort = u32(b, body + 44) & 0xffff;
        r.tcpFlags = u32(b, body + 48) & 0xff;
      } else if (format === FLOW_EXTENDED_SWITCH) {
        if (recLen < 16) return false;
        switchVlan = u32(b, body) & 0x0fff;
      }
      p = stop;
    }
    if (r.vlan === 0) r.vlan = switchVlan;
    const applied = override > 0 ? override : rate > 0 ? rate : 1;
    r.samplingRate = applied;
    r.rawPackets = 1;
    r.rawBytes = Math.max(frameLength, 0);
    r.packets = applied;
    r.bytes = r.rawBytes * applied;
    r.start = receivedAt;
    r.end = receivedAt;
    this.st!.records++;
    this.onRecord(r);
    return true;
  }

  private counterSample(
    b: Uint8Array,
    p: number,
    end: number,
    expanded: boolean,
    agent: string,
    subAgent: number,
    uptime: number,
    receivedAt: number,
  ): boolean {
    const fixed = expanded ? 16 : 12;
    if (end - p < fixed) return false;
    const sequence = u32(b, p);
    const records = u32(b, p + fixed - 4);
    p += fixed;
    // Check the framing of every record before any is handed out.
    let q = p;
    for (let k = 0; k < records; k++) {
      if (end - q < 8) return false;
      const recLen = u32(b, q + 4);
      if (recLen > end - q - 8) return false;
      if (u32(b, q) === COUNTERS_GENERIC && recLen < GENERIC_COUNTERS_LENGTH) return false;
      q += 8 + recLen;
    }
    const sink = this.onCounters;
    for (let k = 0; k < records; k++) {
      const format = u32(b, p);
      const body = p + 8;
      p = body + u32(b, p + 4);
      if (format !== COUNTERS_GENERIC) continue;
      this.st!.counters++;
      if (sink === undefined) continue;
      const c = this.counters;
      c.exporter = agent;
      c.domain = subAgent;
      c.uptime = uptime;
      c.at = receivedAt;
      c.sequence = sequence;
      c.ifIndex = u32(b, body);
      c.ifType = u32(b, body + 4);
      c.ifSpeed = u64(b, body + 8);
      c.ifDirection = u32(b, body + 16);
      c.ifStatus = u32(b, body + 20);
      c.inOctets = u64(b, body + 24);
      c.inUcastPkts = u32(b, body + 32);
      c.inMulticastPkts = u32(b, body + 36);
      c.inBroadcastPkts = u32(b, body + 40);
      c.inDiscards = u32(b, body + 44);
      c.inErrors = u32(b, body + 48);
      c.inUnknownProtos = u32(b, body + 52);
      c.outOctets = u64(b, body + 56);
      c.outUcastPkts = u32(b, body + 64);
      c.outMulticastPkts = u32(b, body + 68);
      c.outBroadcastPkts = u32(b, body + 72);
      c.outDiscards = u32(b, body + 76);
      c.outErrors = u32(b, body + 80);
      c.promiscuous = u32(b, body + 84);
      sink(c);
    }
    return true;
  }
}
