/**
 * The simulated calendar: local days of the account zone, which of them are working days, and the
 * CallDraft that generators fill before the calls get their ids.
 */
import type { CallRecord } from "../core/call-events.js";
import { fromLocal } from "../core/local-time.js";

export type DayInfo = {
  readonly index: number;
  /** Epoch ms of local midnight. */
  readonly start: number;
  /** Epoch ms of the next local midnight. */
  readonly end: number;
  /** Local date, YYYY-MM-DD. */
  readonly date: string;
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekday: number;
  readonly holiday: boolean;
  /** Monday to Friday and not a holiday. */
  readonly workday: boolean;
};

const pad2 = (n: number): string => (n < 10 ? "0" + n : String(n));

/** `count` local days from `first` (YYYY-MM-DD) in `timeZone`; undefined when `first` is not a date. */
export function makeDays(
  first: string,
  count: number,
  timeZone: string,
  holidays: ReadonlySet<string>,
): DayInfo[] | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(first);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) return undefined;
  const days: DayInfo[] = [];
  for (let i = 0; i < count; i++) {
    const cal = new Date(Date.UTC(y, mo - 1, d + i));
    const next = new Date(Date.UTC(y, mo - 1, d + i + 1));
    const date = `${cal.getUTCFullYear()}-${pad2(cal.getUTCMonth() + 1)}-${pad2(cal.getUTCDate())}`;
    const weekday = cal.getUTCDay();
    const holiday = holidays.has(date);
    days.push({
      index: i,
      start: fromLocal(cal.getUTCFullYear(), cal.getUTCMonth() + 1, cal.getUTCDate(), 0, 0, 0, timeZone),
      end: fromLocal(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), 0, 0, 0, timeZone),
      date,
      weekday,
      holiday,
      workday: !holiday && weekday >= 1 && weekday <= 5,
    });
  }
  return days;
}

/**
 * A call before it is numbered. Times are epoch ms; `ring` and `billsec` whole seconds. `incident` is
 * the index of the fraud incident the call belongs to, -1 for the account's own calls.
 */
export type CallDraft = {
  readonly account: number;
  readonly from: string;
  readonly to: string;
  readonly start: number;
  readonly ring: number;
  readonly billsec: number;
  readonly disposition: CallRecord["disposition"];
  readonly sourceIp: string;
  readonly incident: number;
};

/** The instant `hours` (fractional) after a day's local midnight. */
export const atHour = (day: DayInfo, hours: number): number =>
  Math.round(day.start / 1000 + hours * 3600) * 1000;

/** Index of the day holding `at` (the first or last day for instants outside the span). */
export function dayIndexOf(days: readonly DayInfo[], at: number): number {
  let lo = 0;
  let hi = days.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((days[mid] as DayInfo).start <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
