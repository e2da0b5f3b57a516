/**
 * Small encoders for flow export packets (NetFlow v5/v9, IPFIX, sFlow v5) and for the sampled packets
 * inside sFlow: tests build exactly the case they need, byte for byte, instead of hunting for one
 * in a capture.
 */

import { ipv4Bytes, ipv6Bytes } from "./ip-packets.js";

export * from "./fuzz-bytes.js";
export * from "./ip-packets.js";

export type FieldValue = number | bigint | string | Uint8Array;

/** A big-endian unsigned field of `len` bytes; strings are IPv4 or IPv6 addresses. */
export function field(len: number, v: FieldValue): Buffer {
  const out = Buffer.alloc(len);
  if (v instanceof Uint8Array) {
    out.set(v.subarray(0, len));
  } else if (typeof v === "string") {
    out.set(v.includes(":") ? ipv6Bytes(v) : ipv4Bytes(v));
  } else {
    let x = BigInt(v);
    for (let i = len - 1; i >= 0; i--) {
      out[i] = Number(x & 0xffn);
      x >>= 8n;
    }
  }
  return out;
}

const u16 = (v: number): Buffer => field(2, v);
const u32 = (v: number): Buffer => field(4, v);

function padTo4(b: Buffer): Buffer {
  const extra = (4 - (b.length % 4)) % 4;
  return extra === 0 ? b : Buffer.concat([b, Buffer.alloc(extra)]);
}

// ---------------------------------------------------------------- NetFlow v5

export type V5Record = {
  src: string;
  dst: string;
  nextHop?: string;
  input?: number;
  output?: number;
  packets: number;
  bytes: number;
  first: number;
  last: number;
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: number;
  protocol: number;
  tos?: number;
};

export type V5Header = {
  uptime: number;
  unixSecs: number;
  unixNsecs?: number;
  sequence?: number;
  engineType?: number;
  engineId?: number;
  samplingInterval?: number;
  samplingMode?: number;
  /** Overrides the record count in the header. */
  count?: number;
};

export function netflowV5(h: V5Header, records: V5Record[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt16BE(5, 0);
  head.writeUInt16BE(h.count ?? records.length, 2);
  head.writeUInt32BE(h.uptime, 4);
  head.writeUInt32BE(h.unixSecs, 8);
  head.writeUInt32BE(h.unixNsecs ?? 0, 12);
  head.writeUInt32BE(h.sequence ?? 0, 16);
  head[20] = h.engineType ?? 0;
  head[21] = h.engineId ?? 0;
  head.writeUInt16BE(((h.samplingMode ?? 0) << 14) | (h.samplingInterval ?? 0), 22);
  const recs = records.map((r) => {
    const b = Buffer.alloc(48);
    b.set(ipv4Bytes(r.src), 0);
    b.set(ipv4Bytes(r.dst), 4);
    b.set(ipv4Bytes(r.nextHop ?? "0.0.0.0"), 8);
    b.writeUInt16BE(r.input ?? 0, 12);
    b.writeUInt16BE(r.output ?? 0, 14);
    b.writeUInt32BE(r.packets, 16);
    b.writeUInt32BE(r.bytes, 20);
    b.writeUInt32BE(r.first, 24);
    b.writeUInt32BE(r.last, 28);
    b.writeUInt16BE(r.srcPort ?? 0, 32);
    b.writeUInt16BE(r.dstPort ?? 0, 34);
    b[37] = r.tcpFlags ?? 0;
    b[38] = r.protocol;
    b[39] = r.tos ?? 0;
    return b;
  });
  return Buffer.concat([head, ...recs]);
}

// ---------------------------------------------------------------- NetFlow v9

/** [type or element id, length] */
export type FieldSpec = readonly [number, number];

export type V9Header = {
  uptime: number;
  unixSecs: number;
  sequence?: number;
  sourceId?: number;
  /** Record count; by default the number of records the flowsets hold (caller supplies it). */
  count: number;
};

export function netflowV9(h: V9Header, flowsets: Buffer[]): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt16BE(9, 0);
  head.writeUInt16BE(h.count, 2);
  head.writeUInt32BE(h.uptime, 4);
  head.writeUInt32BE(h.unixSecs, 8);
  head.writeUInt32BE(h.sequence ?? 0, 12);
  head.writeUInt32BE(h.sourceId ?? 0, 16);
  return Buffer.concat([head, ...flowsets]);
}

/** A set or flowset: id, length, body padded to 4 bytes. */
export function set(id: number, body: Buffer, pad = true): Buffer {
  const b = pad ? padTo4(body) : body;
  return Buffer.concat([u16(id), u16(4 + b.length), b]);
}

export function v9TemplateFlowset(templates: { id: number; fields: FieldSpec[] }[]): Buffer {
  const body = templates.map((t) =>
    Buffer.concat([u16(t.id), u16(t.fields.length), ...t.fields.flatMap(([ty, len]) => [u16(ty), u16(len)])]),
  );
  return set(0, Buffer.concat(body));
}

export function v9OptionsTemplateFlowset(
  templates: { id: number; scope: FieldSpec[]; fields: FieldSpec[] }[],
): Buffer {
  const body = templates.map((t) =>
    Buffer.concat([
      u16(t.id),
      u16(t.scope.length * 4),
      u16(t.fields.length * 4),
      ...[...t.scope, ...t.fields].flatMap(([ty, len]) => [u16(ty), u16(len)]),
    ]),
  );
  return set(1, Buffer.concat(body));
}

/** A data record from (length, value) pairs in template order. */
export function dataRecord(values: readonly (readonly [number, FieldValue])[]): Buffer {
  return Buffer.concat(values.map(([len, v]) => field(len, v)));
}

export function dataSet(templateId: number, records: Buffer[], pad = true): Buffer {
  return set(templateId, Buffer.concat(records), pad);
}

// ---------------------------------------------------------------- IPFIX

export type IpfixField = { id: number; len: number; enterprise?: number };

export function ipfixMessage(
  h: { exportTime: number; sequence?: number; domain?: number },
  sets: Buffer[],
): Buffer {
  const body = Buffer.concat(sets);
  const head = Buffer.alloc(16);
  head.writeUInt16BE(10, 0);
  head.writeUInt16BE(16 + body.length, 2);
  head.writeUInt32BE(h.exportTime, 4);
  head.writeUInt32BE(h.sequence ?? 0, 8);
  head.writeUInt32BE(h.domain ?? 0, 12);
  return Buffer.concat([head, body]);
}

function ipfixFieldSpecs(fields: IpfixField[]): Buffer[] {
  return fields.map((f) =>
    f.enterprise === undefined
      ? Buffer.concat([u16(f.id), u16(f.len)])
      : Buffer.concat([u16(f.id | 0x8000), u16(f.len), u32(f.enterprise)]),
  );
}

export function ipfixTemplateSet(templates: { id: number; fields: IpfixField[] }[]): Buffer {
  const body = templates.map((t) =>
    Buffer.concat([u16(t.id), u16(t.fields.length), ...ipfixFieldSpecs(t.fields)]),
  );
  return set(2, Buffer.concat(body));
}

export function ipfixOptionsTemplateSet(
  templates: { id: number; scopeCount: number; fields: IpfixField[] }[],
): Buffer {
  const body = templates.map((t) =>
    Buffer.concat([u16(t.id), u16(t.fields.length), u16(t.scopeCount), ...ipfixFieldSpecs(t.fields)]),
  );
  return set(3, Buffer.concat(body));
}

/** Withdrawal of template ids (field count 0) in a template (2) or options template (3) set. */
export function ipfixWithdrawal(setId: 2 | 3, templateIds: number[]): Buffer {
  return set(setId, Buffer.concat(templateIds.map((id) => Buffer.concat([u16(id), u16(0)]))));
}

/** A variable-length field's bytes with its length prefix (1 byte, or 255 + 2 bytes). */
export function varField(bytes: Uint8Array): Buffer {
  const head =
    bytes.length < 255 ? Buffer.from([bytes.length]) : Buffer.concat([Buffer.from([255]), u16(bytes.length)]);
  return Buffer.concat([head, bytes]);
}

// ---------------------------------------------------------------- sFlow v5

export type SflowHeader = { agent: string; subAgent?: number; sequence?: number; uptime?: number };

export function sflowDatagram(h: SflowHeader, samples: Buffer[], count = samples.length): Buffer {
  const v6 = h.agent.includes(":");
  return Buffer.concat([
    u32(5),
    u32(v6 ? 2 : 1),
    field(v6 ? 16 : 4, h.agent),
    u32(h.subAgent ?? 0),
    u32(h.sequence ?? 0),
    u32(h.uptime ?? 0),
    u32(count),
    ...samples,
  ]);
}

/** A sample or a record: data format (enterprise << 12 | format), length, body padded to 4. */
export function sflowItem(format: number, body: Buffer, enterprise = 0): Buffer {
  const b = padTo4(body);
  return Buffer.concat([u32((enterprise << 12) | format), u32(b.length), b]);
}

export type SflowFlowSample = {
  sequence?: number;
  sourceId?: number;
  rate: number;
  pool?: number;
  drops?: number;
  input?: number;
  output?: number;
  records: Buffer[];
};

export function sflowFlowSample(s: SflowFlowSample, expanded = false): Buffer {
  const head = expanded
    ? [
        u32(s.sequence ?? 0),
        u32(0),
        u32(s.sourceId ?? 0),
        u32(s.rate),
        u32(s.pool ?? 0),
        u32(s.drops ?? 0),
        u32(0),
        u32(s.input ?? 0),
        u32(0),
        u32(s.output ?? 0),
      ]
    : [
        u32(s.sequence ?? 0),
        u32(s.sourceId ?? 0),
        u32(s.rate),
        u32(s.pool ?? 0),
        u32(s.drops ?? 0),
        u32(s.input ?? 0),
        u32(s.output ?? 0),
      ];
  return sflowItem(expanded ? 3 : 1, Buffer.concat([...head, u32(s.records.length), ...s.records]));
}

/** Raw packet header record (format 1); protocol 1 Ethernet, 11 IPv4, 12 IPv6. */
export function sflowRawHeader(
  packet: Buffer,
  o: { protocol?: number; frameLength?: number; snap?: number } = {},
): Buffer {
  const header = packet.subarray(0, Math.min(packet.length, o.snap ?? 128));
  return sflowItem(
    1,
    Buffer.concat([
      u32(o.protocol ?? 1),
      u32(o.frameLength ?? packet.length + 4),
      u32(4),
      u32(header.length),
      padTo4(Buffer.from(header)),
    ]),
  );
}

export function sflowExtendedSwitch(srcVlan: number, dstVlan: number): Buffer {
  return sflowItem(1001, Buffer.concat([u32(srcVlan), u32(0), u32(dstVlan), u32(0)]));
}

export type GenericCounters = {
  ifIndex: number;
  ifType?: number;
  ifSpeed?: number;
  ifDirection?: number;
  ifStatus?: number;
  inOctets: number;
  inUcastPkts?: number;
  outOctets: number;
  outUcastPkts?: number;
  inErrors?: number;
};

export function sflowGenericCounters(c: GenericCounters): Buffer {
  return sflowItem(
    1,
    Buffer.concat([
      u32(c.ifIndex),
      u32(c.ifType ?? 6),
      field(8, c.ifSpeed ?? 1e9),
      u32(c.ifDirection ?? 1),
      u32(c.ifStatus ?? 3),
      field(8, c.inOctets),
      u32(c.inUcastPkts ?? 0),
      u32(0),
      u32(0),
      u32(0),
      u32(c.inErrors ?? 0),
      u32(0),
      field(8, c.outOctets),
      u32(c.outUcastPkts ?? 0),
      u32(0),
      u32(0),
      u32(0),
      u32(0),
      u32(0),
    ]),
  );
}

export function sflowCounterSample(
  s: { sequence?: number; sourceId?: number; records: Buffer[] },
  expanded = false,
): Buffer {
  const head = expanded
    ? [u32(s.sequence ?? 0), u32(0), u32(s.sourceId ?? 0)]
    : [u32(s.sequence ?? 0), u32(s.sourceId ?? 0)];
  return sflowItem(expanded ? 4 : 2, Buffer.concat([...head, u32(s.records.length), ...s.records]));
}
