/**
 * What every CDR writer shares: instants as the wall-clock text a switch writes in its zone, and the
 * small quoting rules of CSV. Writers run in benchmarks that produce millions of rows, so the zone
 * offset is remembered per quarter hour and the date text per day instead of asking Intl per row.
 */
import { isValidTimeZone, zoneOffsetMs } from "../../../../core/local-time.js";

const QUARTER = 900_000;
const DAY = 86_400_000;

const pad2 = (n: number): string => (n < 10 ? "0" + n : String(n));

/** Formats instants in one IANA zone. Not shared between writers: it caches. */
export class WallClockText {
  private bucket = Number.NaN;
  private offset = 0;
  private day = Number.NaN;
  private dayText = "";
  private offsetBucket = Number.NaN;
  private offsetText = "";

  constructor(readonly timeZone: string) {
    if (!isValidTimeZone(timeZone))
      throw new RangeError(`unknown time zone "${timeZone}" (use an IANA name)`);
  }

  /** The zone's offset from UTC at `ms`, in milliseconds. */
  offsetAt(ms: number): number {
    const b = Math.floor(ms / QUARTER);
    if (b !== this.bucket) {
      this.bucket = b;
      this.offset = zoneOffsetMs(ms, this.timeZone);
    }
    return this.offset;
  }

  /** `YYYY-MM-DD HH:MM:SS` in the zone (whole seconds, as switches write them). */
  stamp(ms: number): string {
    return this.wall(ms, " ");
  }

  /** RFC 3339 with the zone's offset, such as `2026-03-02T19:00:00+09:00`. */
  iso(ms: number): string {
    const off = this.offsetAt(ms);
    return this.wall(ms, "T") + this.offsetSuffix(off);
  }

  private wall(ms: number, sep: string): string {
    const local = Math.floor(ms / 1000) * 1000 + this.offsetAt(ms);
    const day = Math.floor(local / DAY);
    if (day !== this.day) {
      this.day = day;
      const d = new Date(day * DAY);
      this.dayText = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
    }
    const sec = Math.floor((local - day * DAY) / 1000);
    const h = Math.floor(sec / 3600);
    const m = Math.floor((sec % 3600) / 60);
    return this.dayText + sep + pad2(h) + ":" + pad2(m) + ":" + pad2(sec % 60);
  }

  private offsetSuffix(off: number): string {
    if (off === this.offsetBucket) return this.offsetText;
    const minutes = Math.abs(off) / 60_000;
    this.offsetBucket = off;
    this.offsetText =
      off === 0 ? "Z" : (off < 0 ? "-" : "+") + pad2(Math.floor(minutes / 60)) + ":" + pad2(minutes % 60);
    return this.offsetText;
  }
}

/** A CSV field quoted the way Asterisk's cdr_csv does: always quoted, inner quotes doubled. */
export function quoteAlways(s: string): string {
  return s.includes('"') ? '"' + s.replaceAll('"', '""') + '"' : '"' + s + '"';
}

/** A CSV field quoted only when it needs to be (RFC 4180). */
export function quoteIfNeeded(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 44 || c === 34 || c === 10 || c === 13) return '"' + s.replaceAll('"', '""') + '"';
  }
  return s;
}

/** Whole seconds between two instants, as switches count them. */
export const secondsBetween = (from: number, to: number): number =>
  Math.max(0, Math.round((to - from) / 1000));
