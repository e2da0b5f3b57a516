/**
 * Wall-clock time of an event in a named time zone, without a date library.
 *
 * Intl.DateTimeFormat is slow to call per event (microseconds), so the zone's UTC offset is cached per
 * (zone, UTC quarter-hour): zones change offset at most on quarter-hour boundaries, so the cache is exact.
 */
export type LocalTime = {
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekday: number;
  /** Minutes since local midnight. */
  readonly minuteOfDay: number;
  /** Local calendar date, YYYY-MM-DD. */
  readonly date: string;
  /** Local calendar month, YYYY-MM. */
  readonly month: string;
};

const QUARTER_HOUR = 15 * 60_000;
const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, number>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the runtime knows the IANA zone name. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Offset of `timeZone` from UTC at instant `at`, in milliseconds (Tokyo: +9 h). */
export function zoneOffsetMs(at: number, timeZone: string): number {
  const q = Math.floor(at / QUARTER_HOUR);
  const key = timeZone + "@" + q;
  const cached = offsets.get(key);
  if (cached !== undefined) return cached;
  const probe = q * QUARTER_HOUR;
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const p of formatterFor(timeZone).formatToParts(probe)) {
    const v = Number(p.value);
    if (p.type === "year") y = v;
    else if (p.type === "month") mo = v;
    else if (p.type === "day") d = v;
    else if (p.type === "hour") h = v;
    else if (p.type === "minute") mi = v;
    else if (p.type === "second") s = v;
  }
  const offset = Date.UTC(y, mo - 1, d, h, mi, s) - probe;
  if (offsets.size > 50_000) offsets.clear();
  offsets.set(key, offset);
  return offset;
}

const pad = (n: number): string => (n < 10 ? "0" + n : String(n));

export function localTime(at: number, timeZone: string): LocalTime {
  const wall = new Date(at + zoneOffsetMs(at, timeZone));
  const month = wall.getUTCFullYear() + "-" + pad(wall.getUTCMonth() + 1);
  return {
    weekday: wall.getUTCDay(),
    minuteOfDay: wall.getUTCHours() * 60 + wall.getUTCMinutes(),
    date: month + "-" + pad(wall.getUTCDate()),
    month,
  };
}

/**
 * The instant at which a local wall-clock time happened in `timeZone`. For a time that a DST change
 * skips or repeats, the earlier valid instant is returned.
 */
export function fromLocal(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  timeZone: string,
): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  // The offsets in force a day before and a day after bracket any transition near this wall time.
  const before = wall - zoneOffsetMs(wall - 86_400_000, timeZone);
  const after = wall - zoneOffsetMs(wall + 86_400_000, timeZone);
  const fits = (t: number) => t + zoneOffsetMs(t, timeZone) === wall;
  const a = fits(before);
  const b = fits(after);
  if (a && b) return Math.min(before, after);
  if (a) return before;
  if (b) return after;
  // Skipped by a change to summer time: the instant the clocks jumped over it, moved forward by the gap.
  return Math.max(before, after);
}

/** Epoch bounds of the local calendar day and month that hold `at` in `timeZone`. */
export function calendarBounds(
  at: number,
  timeZone: string,
): { dayStart: number; dayEnd: number; monthStart: number; monthEnd: number } {
  const wall = new Date(at + zoneOffsetMs(at, timeZone));
  const y = wall.getUTCFullYear();
  const m = wall.getUTCMonth() + 1;
  const d = wall.getUTCDate();
  const next = new Date(Date.UTC(y, m - 1, d + 1));
  const nextMonth = new Date(Date.UTC(y, m, 1));
  return {
    dayStart: fromLocal(y, m, d, 0, 0, 0, timeZone),
    dayEnd: fromLocal(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), 0, 0, 0, timeZone),
    monthStart: fromLocal(y, m, 1, 0, 0, 0, timeZone),
    monthEnd: fromLocal(nextMonth.getUTCFullYear(), nextMonth.getUTCMonth() + 1, 1, 0, 0, 0, timeZone),
  };
}
