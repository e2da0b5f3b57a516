import { calendarBounds, localTime } from "../core/local-time.js";
import { BucketWindow } from "../core/windows.js";
import type { ResolvedPolicy } from "./policy.js";
import type { Block } from "./verdict.js";

const RECENT = 64;

/**
 * What the call guard remembers about one account, in fixed memory: attempt and spend windows,
 * calendar spend, live calls, recent international numbers, the countries it has called.
 */
export class AccountState {
  policy: ResolvedPolicy;
  /** Allowed call attempts, 1-second buckets over a minute: calls per second and per minute. */
  readonly attempts = new BucketWindow(1000, 60);
  /** Estimated spend, 1-minute buckets over an hour: cost velocity and the hourly cap. */
  readonly spend = new BucketWindow(60_000, 60);
  /** Calendar spend in the account's zone; the bounds of the current day and month save a zone lookup per call. */
  daySpend = 0;
  dayStart = 0;
  dayEnd = -1;
  monthSpend = 0;
  monthStart = 0;
  monthEnd = -1;
  /** Calls allowed and not yet ended. */
  live = 0;
  /** International attempts per destination calling code, 1-minute buckets over an hour. */
  readonly perDestination = new Map<string, BucketWindow>();
  /** High-risk international attempts outside business hours, 1-minute buckets over a day. */
  offHoursRisk: BucketWindow | undefined;
  /** Ring of the most recent international numbers and when they were dialled. */
  readonly recentNumbers: string[] = [];
  readonly recentAt = new Float64Array(RECENT);
  recentPos = 0;
  readonly seenCountries = new Set<string>();
  firstSeenAt: number;
  lastEventAt: number;
  /** Last alert time per rule, so that a pumping attack raises one alert, not thousands. */
  readonly lastAlertAt = new Map<string, number>();
  block: Block | undefined;

  constructor(policy: ResolvedPolicy, at: number) {
    this.policy = policy;
    this.firstSeenAt = at;
    this.lastEventAt = at;
  }

  destinationWindow(code: string): BucketWindow {
    let w = this.perDestination.get(code);
    if (!w) {
      w = new BucketWindow(60_000, 60);
      this.perDestination.set(code, w);
    }
    return w;
  }

  rememberNumber(e164: string, at: number): void {
    const i = this.recentPos % RECENT;
    this.recentNumbers[i] = e164;
    this.recentAt[i] = at;
    this.recentPos++;
  }

  /** How many of the recent numbers equal `e164` since `since`. */
  countRecent(e164: string, since: number): number {
    let n = 0;
    const held = Math.min(this.recentPos, RECENT);
    for (let i = 0; i < held; i++) {
      if ((this.recentAt[i] ?? 0) >= since && this.recentNumbers[i] === e164) n++;
    }
    return n;
  }

  /**
   * Distinct recent numbers since `since` in the same block as `e164`: same length, same digits but the
   * last two. A fraudster working through a rented range dials …01, …02, …03.
   */
  distinctInBlock(e164: string, since: number): string[] {
    const stem = e164.slice(0, -2);
    const found = new Set<string>([e164]);
    const held = Math.min(this.recentPos, RECENT);
    for (let i = 0; i < held; i++) {
      const n = this.recentNumbers[i];
      if (n === undefined || (this.recentAt[i] ?? 0) < since) continue;
      if (n.length === e164.length && n.startsWith(stem)) found.add(n);
    }
    return [...found];
  }

  /** Moves the calendar day and month to the ones holding `at`, resetting their spend when they change. */
  private roll(at: number): void {
    if (at >= this.dayStart && at < this.dayEnd && at >= this.monthStart && at < this.monthEnd) return;
    const b = calendarBounds(at, this.policy.timeZone);
    if (b.dayStart !== this.dayStart) {
      this.dayStart = b.dayStart;
      this.daySpend = 0;
    }
    this.dayEnd = b.dayEnd;
    if (b.monthStart !== this.monthStart) {
      this.monthStart = b.monthStart;
      this.monthSpend = 0;
    }
    this.monthEnd = b.monthEnd;
  }

  /** Adds estimated spend at `at`, keeping the calendar day and month of the account's zone. */
  addSpend(at: number, amount: number): void {
    if (amount === 0) return;
    this.spend.add(at, amount);
    if (at < this.dayStart) return; // a late event from an earlier day: the rolling window has it
    this.roll(at);
    this.daySpend = Math.max(0, this.daySpend + amount);
    this.monthSpend = Math.max(0, this.monthSpend + amount);
  }

  /** Corrects an earlier estimate once the real duration is known, in the bucket of the original attempt. */
  correctSpend(attemptAt: number, endAt: number, delta: number): void {
    if (delta === 0) return;
    if (!this.spend.add(attemptAt, delta)) this.spend.add(endAt, delta);
    if (attemptAt >= this.dayStart && attemptAt < this.dayEnd)
      this.daySpend = Math.max(0, this.daySpend + delta);
    if (attemptAt >= this.monthStart && attemptAt < this.monthEnd)
      this.monthSpend = Math.max(0, this.monthSpend + delta);
  }

  spendToday(at: number): number {
    return at >= this.dayStart && at < this.dayEnd ? this.daySpend : 0;
  }

  spendThisMonth(at: number): number {
    return at >= this.monthStart && at < this.monthEnd ? this.monthSpend : 0;
  }

  /** True when `at` falls outside the account's business hours or on one of its holidays. */
  isOffHours(at: number, holidays: ReadonlySet<string> | undefined): boolean {
    const p = this.policy;
    const t = localTime(at, p.timeZone);
    if (p.holidayDates.has(t.date) || holidays?.has(t.date)) return true;
    if ((p.businessDays & (1 << t.weekday)) === 0) return true;
    return t.minuteOfDay < p.businessStart || t.minuteOfDay >= p.businessEnd;
  }
}
