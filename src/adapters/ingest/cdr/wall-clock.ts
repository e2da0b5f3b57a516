/**
 * CDR times: wall-clock strings written in the switch's time zone, ISO 8601 instants, epoch numbers.
 *
 * Parsing is done by character codes (no regular expressions, no Date parsing, which would read a
 * zone-less time in the zone of the machine replaying the file). Turning a wall-clock time into an
 * instant needs the zone's offset; asking Intl costs microseconds, so a {@link ZoneClock} remembers the
 * offset of each local quarter hour that holds no offset change, and the common case (rows in time
 * order) is one division and one comparison.
 */
import { isValidTimeZone, zoneOffsetMs } from "../../../core/local-time.js";

const DAY = 86_400_000;
const QUARTER = 900_000;
const UTC_NAMES = new Set(["UTC", "Etc/UTC", "GMT", "Etc/GMT", "Etc/Universal", "Universal", "Zulu"]);

/** Days from 1970-01-01 to a proleptic Gregorian date; months 1-12. */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Value of `n` decimal digits at `i`, or -1. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Value of the two digits at `i`, or -1. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  // Written so that NaN (reading past the end) fails too.
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Index just after the time read by the last successful {@link parseWallPrefix}. */
let wallEnd = 0;
// Rows come in time order, so most dates repeat the previous row's.
let lastY = 0;
let lastMo = 0;
let lastD = 0;
let lastDays = 0;

/**
 * Reads `YYYY-MM-DD HH:MM[:SS[.fff…]]` (also `T` between date and time, `/` in the date) at the start
 * of `s`. Returns the wall-clock time as milliseconds since 1970 read as if it were UTC, or NaN; sets
 * `wallEnd` to the index after the time.
 */
function parseWallPrefix(s: string): number {
  if (s.length < 16) return Number.NaN;
  const sep = s.charCodeAt(4);
  if ((sep !== 45 && sep !== 47) || s.charCodeAt(7) !== sep || s.charCodeAt(13) !== 58) return Number.NaN;
  const t = s.charCodeAt(10);
  if (t !== 32 && t !== 84) return Number.NaN;
  const y = digits(s, 0, 4);
  const mo = two(s, 5);
  const d = two(s, 8);
  const h = two(s, 11);
  const mi = two(s, 14);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59) return Number.NaN;
  let days = lastDays;
  if (y !== lastY || mo !== lastMo || d !== lastD) {
    if (d > daysInMonth(y, mo)) return Number.NaN;
    days = daysFromCivil(y, mo, d);
    lastY = y;
    lastMo = mo;
    lastD = d;
    lastDays = days;
  }
  let sec = 0;
  let ms = 0;
  let i = 16;
  if (s.charCodeAt(16) === 58) {
    sec = two(s, 17);
    if (sec < 0 || sec > 59) return Number.NaN;
    i = 19;
    const f = s.charCodeAt(19);
    if (f === 46 || f === 44) {
      let scale = 100;
      i = 20;
      for (;;) {
        const c = s.charCodeAt(i) - 48;
        if (!(c >= 0 && c <= 9)) break;
        ms += c * scale;
        scale /= 10;
        i++;
      }
      if (i === 20) return Number.NaN;
      ms = Math.floor(ms);
    }
  }
  wallEnd = i;
  return days * DAY + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms;
}

/**
 * A whole string holding `YYYY-MM-DD HH:MM[:SS[.fff…]]` (also `T` between date and time, `/` in the
 * date), as milliseconds since 1970 read as if it were UTC; NaN when malformed.
 */
export function parseWallClock(s: string): number {
  const wall = parseWallPrefix(s);
  return wallEnd === s.length ? wall : Number.NaN;
}

/** Turns wall-clock times of one IANA zone into instants. Not shared between readers: it caches. */
export class ZoneClock {
  readonly utc: boolean;
  private lastBucket = Number.NaN;
  private lastOffset = 0;
  private readonly buckets = new Map<number, number>();

  constructor(readonly timeZone: string) {
    if (!isValidTimeZone(timeZone))
      throw new RangeError(`unknown time zone "${timeZone}" (use an IANA name)`);
    this.utc = UTC_NAMES.has(timeZone);
  }

  /**
   * The instant of a wall-clock time. A time that a DST change repeats resolves to the earlier instant
   * (use {@link toEpochLater} for the other); a time it skips moves forward by the gap, as clocks do.
   */
  toEpoch(wall: number): number {
    if (this.utc || !Number.isFinite(wall)) return wall;
    const b = Math.floor(wall / QUARTER);
    if (b === this.lastBucket) return wall - this.lastOffset;
    let off = this.buckets.get(b);
    if (off === undefined) {
      const first = this.offsetFor(b * QUARTER, false);
      if (first !== this.offsetFor(b * QUARTER + QUARTER - 1, false))
        return wall - this.offsetFor(wall, false);
      off = first;
      if (this.buckets.size >= 4096) this.buckets.clear();
      this.buckets.set(b, off);
    }
    this.lastBucket = b;
    this.lastOffset = off;
    return wall - off;
  }

  /** Like {@link toEpoch}, but a repeated wall-clock time resolves to the later instant. */
  toEpochLater(wall: number): number {
    return this.utc || !Number.isFinite(wall) ? wall : wall - this.offsetFor(wall, true);
  }

  /** The offset to subtract from `wall`. Assumes no two offset changes within two days, as in every zone. */
  private offsetFor(wall: number, later: boolean): number {
    const tz = this.timeZone;
    const before = zoneOffsetMs(wall - DAY, tz);
    const after = zoneOffsetMs(wall + DAY, tz);
    if (before === after) return before;
    const beforeFits = zoneOffsetMs(wall - before, tz) === before;
    const afterFits = zoneOffsetMs(wall - after, tz) === after;
    if (beforeFits && afterFits) return later ? Math.min(before, after) : Math.max(before, after);
    if (afterFits) return after;
    return before;
  }
}

/**
 * An ISO 8601 date-time (`2024-01-15T10:00:00Z`, `…+09:00`, `…+0900`, fractions of any length). One
 * without an offset is a wall-clock time in `clock`'s zone. NaN when malformed.
 */
export function parseIsoInstant(s: string, clock: ZoneClock): number {
  const wall = parseWallPrefix(s);
  if (Number.isNaN(wall)) return Number.NaN;
  let i = wallEnd;
  const len = s.length;
  if (i === len) return clock.toEpoch(wall);
  let c = s.charCodeAt(i);
  if (c === 32) {
    i++;
    c = s.charCodeAt(i);
  }
  if ((c === 90 || c === 122) && i + 1 === len) return wall;
  if (c !== 43 && c !== 45) return Number.NaN;
  const sign = c === 43 ? 1 : -1;
  const oh = digits(s, i + 1, 2);
  let om = 0;
  if (oh < 0 || oh > 23) return Number.NaN;
  const rest = len - (i + 3);
  if (rest === 3 && s.charCodeAt(i + 3) === 58) om = digits(s, i + 4, 2);
  else if (rest === 2) om = digits(s, i + 3, 2);
  else if (rest !== 0) return Number.NaN;
  if (om < 0 || om > 59) return Number.NaN;
  return wall - sign * (oh * 3_600_000 + om * 60_000);
}
