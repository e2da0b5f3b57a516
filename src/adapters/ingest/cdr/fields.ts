/**
 * Small field readers shared by the CDR formats. They return NaN or -1 instead of throwing, and never
 * use `Number("")` (which is 0) or `parseInt` (which reads "12abc" as 12): a malformed field must be
 * noticed, not silently become a number.
 */

/**
 * A non-negative integer written only in digits, or -1. Up to 16 digits: epoch microseconds have 16,
 * and above 2^53 only the last digit (a microsecond) can be off.
 */
export function parseCount(s: string): number {
  const len = s.length;
  if (len === 0 || len > 16) return -1;
  let v = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** A non-negative decimal like `12`, `12.5` or `.5`, or NaN. */
export function parseDecimal(s: string): number {
  const len = s.length;
  if (len === 0 || len > 30) return Number.NaN;
  let dot = -1;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 && dot === -1) dot = i;
    else if (c < 48 || c > 57) return Number.NaN;
  }
  if (len === 1 && dot === 0) return Number.NaN;
  return dot === -1 ? parseCount(s) : Number(s);
}

/** Epoch seconds with an optional fraction (`1705312800`, `1705312800.123456`) as epoch ms, or NaN. */
export function epochSecondsToMs(s: string): number {
  const v = parseDecimal(s);
  return Number.isNaN(v) ? v : Math.floor(v * 1000);
}

/** Epoch microseconds (FreeSWITCH `*_uepoch`) as epoch ms, or NaN. */
export function epochMicrosToMs(s: string): number {
  const v = parseCount(s);
  return v < 0 ? Number.NaN : Math.floor(v / 1000);
}

/** Whole seconds from a decimal duration (`12.345` → 12), or -1. */
export function wholeSeconds(s: string): number {
  const v = parseDecimal(s);
  return Number.isNaN(v) ? -1 : Math.round(v);
}

const SEP = 0x1f;

function fmix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

const hex8 = (h: number): string => h.toString(16).padStart(8, "0");

/**
 * A call id made from the fields that identify a row, for formats without one: the same row always
 * gets the same id (so a row read from Master.csv and from the account's own file match), different
 * rows collide with odds of about 2^-64. Not a cryptographic hash, and need not be.
 */
export function stableCallId(parts: readonly string[]): string {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9 ^ parts.length;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a = Math.imul(a ^ SEP, 0x01000193);
    b = Math.imul(b ^ SEP, 0x5bd1e995);
    b ^= b >>> 15;
  }
  const ha = fmix(a);
  return "cdr-" + hex8(ha) + hex8(fmix(b ^ ha));
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/**
 * Undoes URL encoding (`%2B232…` → `+232…`). A malformed escape or invalid UTF-8 never throws: escapes
 * that are not two hex digits stay as written, invalid bytes become U+FFFD. `+` is left alone, since
 * FreeSWITCH encodes a plus sign as `%2B`.
 */
export function urlDecode(s: string): string {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    const bytes: number[] = [];
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 37 && i + 2 < s.length) {
        const hi = hexValue(s.charCodeAt(i + 1));
        const lo = hexValue(s.charCodeAt(i + 2));
        if (hi >= 0 && lo >= 0) {
          bytes.push(hi * 16 + lo);
          i += 2;
          continue;
        }
      }
      const cp = s.codePointAt(i) ?? c;
      if (cp > 0xffff) i++;
      for (const byte of Buffer.from(String.fromCodePoint(cp), "utf8")) bytes.push(byte);
    }
    return Buffer.from(bytes).toString("utf8");
  }
}

const UNIT_NS: ReadonlyMap<string, number> = new Map([
  ["ns", 1],
  ["us", 1e3],
  ["\u00b5s", 1e3],
  ["\u03bcs", 1e3],
  ["ms", 1e6],
  ["s", 1e9],
  ["m", 60e9],
  ["h", 3600e9],
]);

/** A Go duration string (`30s`, `1m30s`, `1.5h`, `250ms`, `0s`) in nanoseconds, or NaN. No sign allowed. */
export function parseGoDuration(s: string): number {
  const len = s.length;
  if (len === 0 || len > 64) return Number.NaN;
  if (s === "0") return 0;
  let total = 0;
  let i = 0;
  while (i < len) {
    const numStart = i;
    while (i < len) {
      const c = s.charCodeAt(i);
      if ((c >= 48 && c <= 57) || c === 46) i++;
      else break;
    }
    if (i === numStart) return Number.NaN;
    const value = parseDecimal(s.slice(numStart, i));
    const unitStart = i;
    while (i < len) {
      const c = s.charCodeAt(i);
      if ((c >= 48 && c <= 57) || c === 46) break;
      i++;
    }
    const unit = UNIT_NS.get(s.slice(unitStart, i));
    if (unit === undefined || Number.isNaN(value)) return Number.NaN;
    total += value * unit;
  }
  return total;
}
