/**
 * Builders for the packets that sFlow samples and that the fixture pcap holds: Ethernet (with 802.1Q
 * tags), IPv4 (with fragment fields), IPv6 (with a fragment header), TCP, UDP and ICMP.
 */

export function ipv4Bytes(text: string): number[] {
  return text.split(".").map(Number);
}

export function ipv6Bytes(text: string): number[] {
  const [head = "", tail = ""] = text.split("::");
  const a = head ? head.split(":") : [];
  const b = tail ? tail.split(":") : [];
  const fill = text.includes("::") ? 8 - a.length - b.length : 0;
  const words = [...a, ...new Array<string>(fill).fill("0"), ...b].map((w) => parseInt(w, 16));
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;

export function ethernet(type: number, payload: Buffer, vlans: number[] = []): Buffer {
  const macs = Buffer.from([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]);
  const head = Buffer.alloc(4 * vlans.length + 2);
  vlans.forEach((v, i) => {
    head.writeUInt16BE(0x8100, 4 * i);
    head.writeUInt16BE(v, 4 * i + 2);
  });
  head.writeUInt16BE(type, 4 * vlans.length);
  return Buffer.concat([macs, head, payload]);
}

/** flags: the 3 flag bits (0x2 = DF, 0x1 = MF); offset in 8-byte units. */
export function ipv4Packet(
  src: string,
  dst: string,
  proto: number,
  l4: Buffer,
  o: { flags?: number; offset?: number; id?: number } = {},
): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + l4.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE(((o.flags ?? 0) << 13) | (o.offset ?? 0), 6);
  h[8] = 64;
  h[9] = proto;
  h.set(ipv4Bytes(src), 12);
  h.set(ipv4Bytes(dst), 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  h.writeUInt16BE(~sum & 0xffff, 10);
  return Buffer.concat([h, l4]);
}

/** An IPv6 packet; `fragment` inserts a fragment header (offset in 8-byte units, more = M flag). */
export function ipv6Packet(
  src: string,
  dst: string,
  next: number,
  l4: Buffer,
  fragment?: { offset: number; more: boolean },
): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h[7] = 64;
  h.set(ipv6Bytes(src), 8);
  h.set(ipv6Bytes(dst), 24);
  let rest = l4;
  if (fragment !== undefined) {
    const fh = Buffer.alloc(8);
    fh[0] = next;
    fh.writeUInt16BE((fragment.offset << 3) | (fragment.more ? 1 : 0), 2);
    fh.writeUInt32BE(0x1234, 4);
    rest = Buffer.concat([fh, l4]);
    h[6] = 44;
  } else h[6] = next;
  h.writeUInt16BE(rest.length, 4);
  return Buffer.concat([h, rest]);
}

export function tcpSegment(sport: number, dport: number, flags: number, payload = 0): Buffer {
  const h = Buffer.alloc(20 + payload);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h[12] = 0x50;
  h[13] = flags;
  h.writeUInt16BE(65535, 14);
  return h;
}

export function udpDatagram(sport: number, dport: number, payload = 0): Buffer {
  const h = Buffer.alloc(8 + payload);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload, 4);
  return h;
}

export function icmpMessage(type: number, code: number, payload = 56): Buffer {
  const h = Buffer.alloc(8 + payload);
  h[0] = type;
  h[1] = code;
  return h;
}
