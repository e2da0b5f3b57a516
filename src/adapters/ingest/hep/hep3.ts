/**
 * HEPv3 (EEP), the encapsulation Kamailio's siptrace, FreeSWITCH, Asterisk's res_hep, OpenSIPS and
 * captagent/heplify use to mirror SIP to a capture server:
 *
 *   "HEP3" | total length (u16, whole packet) | chunks...
 *   chunk = vendor id (u16) | type id (u16) | length (u16, including these 6 bytes) | value
 *
 * Generic chunk types (vendor 0): 1 IP family, 2 IP protocol, 3/4 IPv4 source/destination,
 * 5/6 IPv6 source/destination, 7/8 ports, 9/10 time seconds/microseconds, 11 protocol type (1 = SIP),
 * 12 capture agent id, 13 keep-alive timer, 14 authentication key, 15 payload, 16 compressed payload,
 * 17 correlation id, 18 VLAN id, 19 capture node name. Other types and other vendors are skipped.
 *
 * Written here rather than taken from npm: `hep-js`, the package for this, is GPL-2.0 (Mamori is
 * Apache-2.0), drops IPv6 address chunks (types 5 and 6) without a word, answers any decoding problem
 * with `false` or `undefined` and no reason, and loops forever on a chunk whose length field is 0 —
 * one crafted UDP packet would stall the event loop. This decoder checks every length against the
 * packet before reading, always advances, allocates only the result (the payload is a view into the
 * packet), and says exactly what was wrong.
 */

import { err, ok, type Result } from "../../../core/result.js";
import { type CanonicalIp, ipFromBytes } from "../../../core/sip-address.js";

export const HEP_CHUNK = {
  ipFamily: 1,
  ipProtocol: 2,
  srcIpv4: 3,
  dstIpv4: 4,
  srcIpv6: 5,
  dstIpv6: 6,
  srcPort: 7,
  dstPort: 8,
  timeSec: 9,
  timeUsec: 10,
  protocolType: 11,
  captureId: 12,
  keepAlive: 13,
  authKey: 14,
  payload: 15,
  compressedPayload: 16,
  correlationId: 17,
  vlanId: 18,
  nodeName: 19,
} as const;

/** Protocol type values (chunk 11) that matter here. */
export const HEP_PROTOCOL = { sip: 1 } as const;

export type HepPacket = {
  readonly ipFamily?: number;
  /** IANA protocol number: 17 UDP, 6 TCP, 132 SCTP. */
  readonly ipProtocol?: number;
  readonly srcIp?: CanonicalIp;
  readonly dstIp?: CanonicalIp;
  readonly srcPort?: number;
  readonly dstPort?: number;
  readonly timeSec?: number;
  readonly timeUsec?: number;
  readonly protocolType?: number;
  readonly captureId?: number;
  readonly authKey?: string;
  /** A view into the packet, not a copy. */
  readonly payload?: Uint8Array;
  readonly compressed: boolean;
  readonly correlationId?: string;
  readonly nodeName?: string;
  /** Chunks of unknown type or vendor that were skipped. */
  readonly skippedChunks: number;
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const utf8 = new TextDecoder("utf-8");
const HEADER = 6;

/** Fixed value sizes per chunk type; a chunk of another size is malformed. */
const SIZES: Readonly<Record<number, readonly number[]>> = {
  1: [1],
  2: [1],
  3: [4],
  4: [4],
  5: [16],
  6: [16],
  7: [2],
  8: [2],
  9: [4],
  10: [4],
  11: [1],
  // The spec says u32; some older agents send u16.
  12: [4, 2],
  13: [2],
  18: [2],
};

export function decodeHep3(data: Uint8Array): Result<HepPacket, string> {
  if (data.length < HEADER) return err(`packet of ${data.length} bytes is shorter than the HEP header`);
  if (data[0] !== 0x48 || data[1] !== 0x45 || data[2] !== 0x50 || data[3] !== 0x33) {
    if (data[0] === 1 || data[0] === 2) return err(`HEP version ${data[0]} is not supported (only HEPv3)`);
    return err("not a HEPv3 packet (no HEP3 magic)");
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const total = view.getUint16(4);
  if (total < HEADER) return err(`declared length ${total} is shorter than the header`);
  if (total > data.length) return err(`declared length ${total} runs past the ${data.length} bytes received`);

  const p: Mutable<HepPacket> = { compressed: false, skippedChunks: 0 };
  let off = HEADER;
  while (off < total) {
    if (total - off < HEADER) return err(`chunk at offset ${off} is cut short (${total - off} bytes left)`);
    const vendor = view.getUint16(off);
    const type = view.getUint16(off + 2);
    const len = view.getUint16(off + 4);
    if (len < HEADER)
      return err(`chunk type ${type} at offset ${off} has length ${len}, below its own header`);
    if (off + len > total)
      return err(`chunk type ${type} at offset ${off} (length ${len}) runs past the packet`);
    const vs = off + HEADER;
    const size = len - HEADER;
    off += len;
    if (vendor !== 0) {
      p.skippedChunks++;
      continue;
    }
    const sizes = SIZES[type];
    if (sizes && !sizes.includes(size))
      return err(`chunk type ${type} has ${size} value bytes, expected ${sizes.join(" or ")}`);
    switch (type) {
      case HEP_CHUNK.ipFamily:
        p.ipFamily = view.getUint8(vs);
        break;
      case HEP_CHUNK.ipProtocol:
        p.ipProtocol = view.getUint8(vs);
        break;
      case HEP_CHUNK.srcIpv4:
      case HEP_CHUNK.srcIpv6:
        p.srcIp = ipFromBytes(data.subarray(vs, vs + size))!;
        break;
      case HEP_CHUNK.dstIpv4:
      case HEP_CHUNK.dstIpv6:
        p.dstIp = ipFromBytes(data.subarray(vs, vs + size))!;
        break;
      case HEP_CHUNK.srcPort:
        p.srcPort = view.getUint16(vs);
        break;
      case HEP_CHUNK.dstPort:
        p.dstPort = view.getUint16(vs);
        break;
      case HEP_CHUNK.timeSec:
        p.timeSec = view.getUint32(vs);
        break;
      case HEP_CHUNK.timeUsec:
        p.timeUsec = view.getUint32(vs);
        break;
      case HEP_CHUNK.protocolType:
        p.protocolType = view.getUint8(vs);
        break;
      case HEP_CHUNK.captureId:
        p.captureId = size === 4 ? view.getUint32(vs) : view.getUint16(vs);
        break;
      case HEP_CHUNK.authKey:
        p.authKey = utf8.decode(data.subarray(vs, vs + size));
        break;
      case HEP_CHUNK.payload:
        p.payload = data.subarray(vs, vs + size);
        break;
      case HEP_CHUNK.compressedPayload:
        p.payload = data.subarray(vs, vs + size);
        p.compressed = true;
        break;
      case HEP_CHUNK.correlationId:
        p.correlationId = utf8.decode(data.subarray(vs, vs + size));
        break;
      case HEP_CHUNK.nodeName:
        p.nodeName = utf8.decode(data.subarray(vs, vs + size));
        break;
      default:
        p.skippedChunks++;
    }
  }
  return ok(p);
}
