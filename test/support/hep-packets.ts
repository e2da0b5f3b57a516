/**
 * HEPv3 packets for tests, built chunk by chunk from the layout the decoder documents, plus reading
 * the hex capture files in test/fixtures/hep/ (one packet per line).
 */
import { readFileSync } from "node:fs";
import { isIPv4 } from "node:net";

export const u8 = (n: number): Buffer => Buffer.from([n & 255]);
export const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
export const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

export function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  const [head = "", tail] = ip.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return Buffer.concat(groups.map((g) => u16(Number.parseInt(g, 16))));
}

/** One chunk: vendor, type, length including the 6-byte header, value. */
export function hepChunk(type: number, value: Uint8Array | string, vendor = 0): Buffer {
  const v = typeof value === "string" ? Buffer.from(value) : Buffer.from(value);
  return Buffer.concat([u16(vendor), u16(type), u16(v.length + 6), v]);
}

/** "HEP3", the total length, the chunks. */
export function hepPacket(chunks: readonly Buffer[]): Buffer {
  const body = Buffer.concat(chunks);
  return Buffer.concat([Buffer.from("HEP3"), u16(body.length + 6), body]);
}

export type HepSpec = {
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly timeSec?: number;
  readonly timeUsec?: number;
  /** 17 UDP (default), 6 TCP, 132 SCTP. */
  readonly ipProtocol?: number;
  /** 1 SIP (default). */
  readonly protocolType?: number;
  readonly captureId?: number;
  readonly authKey?: string;
  readonly correlationId?: string;
  readonly payload: string | Uint8Array;
  readonly extra?: readonly Buffer[];
};

export function buildHep3(spec: HepSpec): Buffer {
  const v6 = !isIPv4(spec.srcIp);
  const chunks = [
    hepChunk(1, u8(v6 ? 10 : 2)),
    hepChunk(2, u8(spec.ipProtocol ?? 17)),
    hepChunk(v6 ? 5 : 3, ipBytes(spec.srcIp)),
    hepChunk(v6 ? 6 : 4, ipBytes(spec.dstIp)),
    hepChunk(7, u16(spec.srcPort ?? 5060)),
    hepChunk(8, u16(spec.dstPort ?? 5060)),
    hepChunk(9, u32(spec.timeSec ?? 1704391965)),
    hepChunk(10, u32(spec.timeUsec ?? 123456)),
    hepChunk(11, u8(spec.protocolType ?? 1)),
    hepChunk(12, u32(spec.captureId ?? 2001)),
  ];
  if (spec.authKey !== undefined) chunks.push(hepChunk(14, spec.authKey));
  if (spec.correlationId !== undefined) chunks.push(hepChunk(17, spec.correlationId));
  chunks.push(...(spec.extra ?? []));
  chunks.push(hepChunk(15, spec.payload));
  return hepPacket(chunks);
}

export type SipSpec = {
  readonly method?: string;
  readonly user?: string;
  readonly domain?: string;
  readonly userAgent?: string;
  readonly callId?: string;
  readonly cseq?: number;
  readonly authUser?: string;
};

/** A REGISTER (or other request) as a scanner would send it. */
export function sipRequest(spec: SipSpec = {}): string {
  const method = spec.method ?? "REGISTER";
  const user = spec.user ?? "100";
  const domain = spec.domain ?? "192.0.2.10";
  const lines = [
    `${method} sip:${method === "REGISTER" ? "" : user + "@"}${domain} SIP/2.0`,
    "Via: SIP/2.0/UDP 203.0.113.5:5062;branch=z9hG4bK-1;rport",
    "Max-Forwards: 70",
    `From: "${user}" <sip:${user}@${domain}>;tag=abc`,
    `To: <sip:${user}@${domain}>`,
    `Call-ID: ${spec.callId ?? "call-1"}`,
    `CSeq: ${spec.cseq ?? 1} ${method}`,
    `Contact: <sip:${user}@203.0.113.5:5062>`,
    "Expires: 3600",
    `User-Agent: ${spec.userAgent ?? "friendly-scanner"}`,
  ];
  if (spec.authUser !== undefined) {
    lines.push(
      `Authorization: Digest username="${spec.authUser}", realm="${domain}", nonce="n", uri="sip:${domain}", response="r"`,
    );
  }
  lines.push("Content-Length: 0", "", "");
  return lines.join("\r\n");
}

/** Packets stored one per line as hex. */
export function readHexCapture(path: string): Buffer[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => Buffer.from(l, "hex"));
}
