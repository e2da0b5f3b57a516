/**
 * The sampled packet of an sFlow "raw packet header" record: Ethernet (with 802.1Q / 802.1ad tags),
 * IPv4 (with fragment bits) or IPv6 (with its extension headers), then the TCP, UDP or ICMP ports.
 * Headers are cut at the agent's snap length (128 bytes by default), so each layer is read only as
 * far as the bytes go: a short header is normal and not an error.
 */
import { type FlowRecord, Fragment } from "../../../core/flow-records.js";
import { ipv6Text, u16, u32 } from "../flow-templates/bytes.js";

/** sFlow header_protocol values used here. */
export const HeaderProtocol = { ethernet: 1, ipv4: 11, ipv6: 12 } as const;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;
const PROTO_SCTP = 132;

/** Fills addresses, protocol, ports, flags, VLAN and fragment state from the header at [o, end). */
export function decodePacketHeader(
  b: Uint8Array,
  o: number,
  end: number,
  proto: number,
  r: FlowRecord,
): void {
  if (proto === HeaderProtocol.ethernet) decodeEthernet(b, o, end, r);
  else if (proto === HeaderProtocol.ipv4) decodeIpv4(b, o, end, r);
  else if (proto === HeaderProtocol.ipv6) decodeIpv6(b, o, end, r);
}

function decodeEthernet(b: Uint8Array, o: number, end: number, r: FlowRecord): void {
  if (end - o < 14) return;
  let type = u16(b, o + 12);
  let p = o + 14;
  for (let tags = 0; tags < 2 && (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD); tags++) {
    if (end - p < 4) return;
    // The outer tag is the one the router's interface sees.
    if (tags === 0) r.vlan = u16(b, p) & 0x0fff;
    type = u16(b, p + 2);
    p += 4;
  }
  if (type === ETH_IPV4) decodeIpv4(b, p, end, r);
  else if (type === ETH_IPV6) decodeIpv6(b, p, end, r);
}

function decodeIpv4(b: Uint8Array, o: number, end: number, r: FlowRecord): void {
  if (end - o < 20 || b[o]! >> 4 !== 4) return;
  const ihl = (b[o]! & 0x0f) * 4;
  if (ihl < 20) return;
  r.ipVersion = 4;
  r.protocol = b[o + 9]!;
  r.src4 = u32(b, o + 12);
  r.dst4 = u32(b, o + 16);
  const frag = u16(b, o + 6);
  const offset = frag & 0x1fff;
  r.fragment = (frag & 0x2000) !== 0 || offset !== 0 ? Fragment.yes : Fragment.no;
  // Only the first fragment carries the transport header.
  if (offset === 0) decodeTransport(b, o + ihl, end, r.protocol, r);
}

function decodeIpv6(b: Uint8Array, o: number, end: number, r: FlowRecord): void {
  if (end - o < 40 || b[o]! >> 4 !== 6) return;
  r.ipVersion = 6;
  r.src6 = ipv6Text(b, o + 8);
  r.dst6 = ipv6Text(b, o + 24);
  r.fragment = Fragment.no;
  let next = b[o + 6]!;
  let p = o + 40;
  // Extension headers, a bounded number of them.
  for (let i = 0; i < 8; i++) {
    if (next === 0 || next === 43 || next === 60) {
      if (end - p < 2) break;
      next = b[p]!;
      p += (b[p + 1]! + 1) * 8;
    } else if (next === 51) {
      if (end - p < 2) break;
      next = b[p]!;
      p += (b[p + 1]! + 2) * 4;
    } else if (next === 44) {
      if (end - p < 8) break;
      r.fragment = Fragment.yes;
      next = b[p]!;
      const offset = u16(b, p + 2) >> 3;
      p += 8;
      if (offset !== 0) {
        r.protocol = next;
        return;
      }
    } else break;
  }
  r.protocol = next;
  decodeTransport(b, p, end, next, r);
}

function decodeTransport(b: Uint8Array, o: number, end: number, proto: number, r: FlowRecord): void {
  const avail = end - o;
  if (proto === PROTO_TCP || proto === PROTO_UDP || proto === PROTO_SCTP) {
    if (avail < 4) return;
    r.srcPort = u16(b, o);
    r.dstPort = u16(b, o + 2);
    if (proto === PROTO_TCP && avail >= 14) r.tcpFlags = b[o + 13]!;
  } else if (proto === PROTO_ICMP || proto === PROTO_ICMPV6) {
    if (avail < 2) return;
    r.dstPort = (b[o]! << 8) | b[o + 1]!;
  }
}
