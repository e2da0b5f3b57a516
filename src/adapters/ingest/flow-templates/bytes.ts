/**
 * Big-endian readers for the flow decoders. They index the bytes directly: Buffer's readUInt32BE
 * and DataView check bounds and throw, and here every caller has already checked the bounds once
 * per record or set, so the plain loads are both faster and never reached out of range.
 */

export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** 64-bit counters as a Number: exact up to 2^53, which no flow counter reaches. */
export function u64(b: Uint8Array, o: number): number {
  return u32(b, o) * 4294967296 + u32(b, o + 4);
}

/**
 * An unsigned integer of 1 to 8 bytes: IPFIX allows reduced-size encoding (an 8-byte counter sent in
 * 4 bytes), and NetFlow v9 templates choose their own lengths. Longer fields keep their low 8 bytes.
 */
export function uint(b: Uint8Array, o: number, len: number): number {
  switch (len) {
    case 1:
      return b[o]!;
    case 2:
      return (b[o]! << 8) | b[o + 1]!;
    case 4:
      return u32(b, o);
    case 8:
      return u64(b, o);
    default: {
      if (len <= 0) return 0;
      const from = len > 8 ? o + len - 8 : o;
      let v = 0;
      for (let i = from; i < o + len; i++) v = v * 256 + b[i]!;
      return v;
    }
  }
}

/** RFC 5952 text of the 16-byte IPv6 address at o (longest run of two or more zero groups as "::"). */
export function ipv6Text(b: Uint8Array, o: number): string {
  let bestAt = -1;
  let bestLen = 1;
  let runAt = -1;
  for (let i = 0; i < 8; i++) {
    const w = (b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!;
    if (w === 0) {
      if (runAt < 0) runAt = i;
      if (i - runAt + 1 > bestLen) {
        bestLen = i - runAt + 1;
        bestAt = runAt;
      }
    } else runAt = -1;
  }
  // IPv4-mapped addresses read better, and are conventionally written, with a dotted tail.
  if (bestAt === 0 && bestLen === 5 && b[o + 10] === 0xff && b[o + 11] === 0xff) {
    return `::ffff:${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
  }
  let s = "";
  let sep = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestAt) {
      s += "::";
      sep = "";
      i += bestLen - 1;
      continue;
    }
    s += sep + ((b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!).toString(16);
    sep = ":";
  }
  return s;
}
