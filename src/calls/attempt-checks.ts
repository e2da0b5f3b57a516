import type { Finding } from "../core/findings.js";
import { BucketWindow } from "../core/windows.js";
import type { AccountState } from "./account-state.js";
import type { NumberInfo } from "./number-info.js";
import { type RuleId, type RuleSettings, ruleCatalogue } from "./rules.js";

/**
 * The detectors that look at one call attempt against what the account has done so far. Each is a pure
 * function of the state, the number and the event time; they push findings and never decide.
 */
export type AttemptContext = {
  readonly state: AccountState;
  readonly at: number;
  readonly number: NumberInfo;
  /** Estimated cost of this call (tariff × assumed minutes). */
  readonly estimate: number;
  readonly holidays: ReadonlySet<string> | undefined;
  readonly findings: Finding[];
};

const MINUTE = 60_000;

export function raise(
  ctx: { readonly at: number; readonly state: AccountState; readonly findings: Finding[] },
  rule: RuleId,
  message: string,
  evidence: Record<string, unknown>,
): void {
  const info = ruleCatalogue[rule];
  ctx.findings.push({
    rule,
    severity: info.severity,
    remedy: info.remedy,
    at: ctx.at,
    subject: ctx.state.policy.id,
    message,
    evidence,
  });
}

const enabled = (rules: RuleSettings, id: RuleId): boolean => rules[id].mode !== "off";

/** Caps that apply to every call: attempts per second and minute, calls in progress. */
export function checkCaps(ctx: AttemptContext): void {
  const { state, at } = ctx;
  const { caps, rules } = state.policy;
  if (enabled(rules, "calls-per-second")) {
    const n = state.attempts.sum(at, 1) + 1;
    if (n > caps.callsPerSecond)
      raise(ctx, "calls-per-second", `${n} calls in one second, above the cap of ${caps.callsPerSecond}`, {
        calls: n,
        cap: caps.callsPerSecond,
      });
  }
  if (enabled(rules, "calls-per-minute")) {
    const n = state.attempts.sum(at, 60) + 1;
    if (n > caps.callsPerMinute)
      raise(ctx, "calls-per-minute", `${n} calls in one minute, above the cap of ${caps.callsPerMinute}`, {
        calls: n,
        cap: caps.callsPerMinute,
      });
  }
  if (enabled(rules, "concurrent-calls") && state.live + 1 > caps.concurrentCalls) {
    raise(
      ctx,
      "concurrent-calls",
      `${state.live + 1} calls at once, above the cap of ${caps.concurrentCalls}`,
      { concurrent: state.live + 1, cap: caps.concurrentCalls },
    );
  }
}

/** Caps on estimated spend over the last hour, the calendar day and the calendar month. */
export function checkSpendCaps(ctx: AttemptContext): void {
  const { state, at, estimate } = ctx;
  const { caps, rules } = state.policy;
  if (estimate <= 0 || !enabled(rules, "spend-cap")) return;
  const hour = state.spend.sum(at, 60) + estimate;
  const day = state.spendToday(at) + estimate;
  const month = state.spendThisMonth(at) + estimate;
  const over =
    hour > caps.spendPerHour
      ? { period: "hour", spend: hour, cap: caps.spendPerHour }
      : day > caps.spendPerDay
        ? { period: "day", spend: day, cap: caps.spendPerDay }
        : month > caps.spendPerMonth
          ? { period: "month", spend: month, cap: caps.spendPerMonth }
          : undefined;
  if (over)
    raise(
      ctx,
      "spend-cap",
      `estimated spend this ${over.period} would reach ${Math.round(over.spend)}, above the cap of ${over.cap}`,
      over,
    );
}

/** The fraud detectors for international calls. */
export function checkInternational(ctx: AttemptContext): void {
  const { state, at, number, estimate } = ctx;
  const rules = state.policy.rules;
  const code = number.countryCallingCode;

  if (number.risk && enabled(rules, "high-risk-destination")) {
    raise(
      ctx,
      "high-risk-destination",
      `+${number.risk.prefix} is a high-risk destination: ${number.risk.reason}`,
      {
        to: "+" + number.e164,
        prefix: number.risk.prefix,
        level: number.risk.level,
      },
    );
  }

  if (enabled(rules, "destination-burst")) {
    const s = rules["destination-burst"];
    const w = state.destinationWindow(code);
    const perMinute = w.sum(at, 1) + 1;
    const perHour = w.sum(at, 60) + 1;
    if (perMinute > s.perMinute || perHour > s.perHour)
      raise(
        ctx,
        "destination-burst",
        `${perMinute} calls to +${code} in a minute and ${perHour} in an hour (limits ${s.perMinute} and ${s.perHour})`,
        {
          destination: "+" + code,
          perMinute,
          perHour,
          limits: { perMinute: s.perMinute, perHour: s.perHour },
        },
      );
  }

  if (enabled(rules, "repeated-number")) {
    const s = rules["repeated-number"];
    const n = state.countRecent(number.e164, at - s.windowMinutes * MINUTE) + 1;
    if (n >= s.count)
      raise(ctx, "repeated-number", `+${number.e164} called ${n} times in ${s.windowMinutes} minutes`, {
        to: "+" + number.e164,
        calls: n,
        windowMinutes: s.windowMinutes,
      });
  }

  if (enabled(rules, "sequential-numbers")) {
    const s = rules["sequential-numbers"];
    const block = state.distinctInBlock(number.e164, at - s.windowMinutes * MINUTE);
    if (block.length >= s.distinct)
      raise(
        ctx,
        "sequential-numbers",
        `${block.length} numbers of one range +${number.e164.slice(0, -2)}xx dialled in ${s.windowMinutes} minutes`,
        { range: "+" + number.e164.slice(0, -2) + "xx", numbers: block.slice(0, 20).map((n) => "+" + n) },
      );
  }

  if (enabled(rules, "cost-velocity") && estimate > 0) {
    const s = rules["cost-velocity"];
    const m5 = state.spend.sum(at, 5) + estimate;
    const m15 = state.spend.sum(at, 15) + estimate;
    const m60 = state.spend.sum(at, 60) + estimate;
    const over =
      m5 > s.per5Minutes
        ? { minutes: 5, spend: m5, limit: s.per5Minutes }
        : m15 > s.per15Minutes
          ? { minutes: 15, spend: m15, limit: s.per15Minutes }
          : m60 > s.per60Minutes
            ? { minutes: 60, spend: m60, limit: s.per60Minutes }
            : undefined;
    if (over)
      raise(
        ctx,
        "cost-velocity",
        `estimated spend ${Math.round(over.spend)} in ${over.minutes} minutes, above ${over.limit}`,
        { ...over, spend5: Math.round(m5), spend15: Math.round(m15), spend60: Math.round(m60) },
      );
  }

  const country = number.country ?? "+" + code;
  if (enabled(rules, "new-country") && !state.seenCountries.has(country)) {
    if (at - state.firstSeenAt >= rules["new-country"].learningDays * 24 * 60 * MINUTE)
      raise(ctx, "new-country", `first call ever from this account to ${country}`, {
        country,
        to: "+" + number.e164,
        knownCountries: [...state.seenCountries].slice(0, 30),
      });
  }

  if (number.risk && enabled(rules, "off-hours-risk") && state.isOffHours(at, ctx.holidays)) {
    const s = rules["off-hours-risk"];
    state.offHoursRisk ??= makeDayWindow();
    const n = state.offHoursRisk.sum(at, s.windowMinutes) + 1;
    if (n >= s.calls)
      raise(
        ctx,
        "off-hours-risk",
        `${n} calls to high-risk destinations outside business hours within ${s.windowMinutes} minutes`,
        { calls: n, to: "+" + number.e164, windowMinutes: s.windowMinutes },
      );
  }
}

function makeDayWindow(): BucketWindow {
  return new BucketWindow(60_000, 1440);
}

/** Counts an international attempt into the windows the detectors read (allowed or not). */
export function countInternational(
  state: AccountState,
  at: number,
  number: NumberInfo,
  offHours: boolean,
): void {
  state.destinationWindow(number.countryCallingCode).add(at, 1);
  state.rememberNumber(number.e164, at);
  if (number.risk && offHours) {
    state.offHoursRisk ??= makeDayWindow();
    state.offHoursRisk.add(at, 1);
  }
}
