/**
 * Toll-fraud incidents as they show in a carrier's CDRs, each injected on one victim account:
 *
 * - fast-pumping: 10-30 channels at once to one premium range for 1.5-3 hours, each redialling as soon
 *   as its call ends (3-15 minute calls).
 * - okinawa: two nights (21:00 to 04:00-05:30) of calls every ~11 s, ~30 s each, to a pool of +232
 *   numbers: thousands of short calls.
 * - slow-drip: 14-21 nights of one to three 25-65 minute calls, in the small hours, to two numbers in an
 *   expensive range: little each night, much over weeks.
 * - sequential: 60-150 numbers of one range dialled in order, one every 15-60 s.
 * - country-hopping: 6-12 hours at night, a new country every hour (risk-listed and unlisted expensive
 *   destinations), a handful of calls to each.
 * - weekend-holiday: a Saturday, Sunday or holiday daytime of steady calls to two risk-listed ranges, when
 *   the office is closed.
 * - hacked-registration: in business hours, an extension's stolen credentials registered from abroad: the
 *   fraud calls come from a foreign source address, among the office's own calls, to premium numbers.
 */
import type { CallDraft, DayInfo } from "./days.js";
import { atHour } from "./days.js";
import { dialInternational, type FraudRange, fraudRanges, numberIn } from "./numbers.js";
import { extensionOf, type SimAccount } from "./population.js";
import type { Prng } from "./prng.js";

export const scenarioNames = [
  "fast-pumping",
  "okinawa",
  "slow-drip",
  "sequential",
  "country-hopping",
  "weekend-holiday",
  "hacked-registration",
] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export type ScenarioContext = {
  readonly rng: Prng;
  readonly account: SimAccount;
  readonly days: readonly DayInfo[];
  readonly incident: number;
  readonly out: CallDraft[];
};

const HOUR = 3_600_000;
const R = fraudRanges;

/** One fraud call; `to` is E.164 digits, dialled the way the victim's PBX dials. */
function call(
  ctx: ScenarioContext,
  from: string,
  e164: string,
  start: number,
  answered: number,
  talk: () => number,
  sourceIp = ctx.account.pbxIp,
): number {
  const { rng, account } = ctx;
  const at = Math.round(start / 1000) * 1000;
  const ok = rng.chance(answered);
  const ring = ok ? rng.int(2, 6) : rng.int(15, 35);
  const billsec = ok ? Math.max(1, Math.round(talk())) : 0;
  ctx.out.push({
    account: account.index,
    from,
    to: dialInternational(e164, account.style, rng),
    start: at,
    ring,
    billsec,
    disposition: ok ? "ANSWERED" : "NO ANSWER",
    sourceIp,
    incident: ctx.incident,
  });
  return at + (ring + billsec) * 1000;
}

/** A day index in [from, days - tail), clamped into the simulated span. */
function dayIn(ctx: ScenarioContext, from: number, tail: number): DayInfo {
  const last = Math.max(0, ctx.days.length - tail);
  const first = Math.min(from, last);
  return ctx.days[ctx.rng.int(first, last)] as DayInfo;
}

const pool = (rng: Prng, range: FraudRange, n: number): string[] =>
  Array.from({ length: n }, () => numberIn(range, rng));

function fastPumping(ctx: ScenarioContext): void {
  const { rng } = ctx;
  const day = dayIn(ctx, 3, 2);
  const hour = rng.chance(0.7) ? rng.range(19, 27) : rng.range(0, 24);
  const start = atHour(day, hour);
  const end = start + rng.range(1.5, 3) * HOUR;
  const numbers = pool(rng, rng.pick([R.iridium, R.latviaPremium, R.lithuaniaPremium, R.somalia]), 30);
  const channels = rng.int(10, 30);
  for (let c = 0; c < channels; c++) {
    const from = extensionOf(ctx.account, rng);
    let t = start + rng.int(0, 90) * 1000;
    while (t < end) {
      const done = call(ctx, from, rng.pick(numbers), t, 0.9, () => rng.range(180, 900));
      t = done + rng.int(1, 8) * 1000;
    }
  }
}

function okinawa(ctx: ScenarioContext): void {
  const { rng } = ctx;
  const first = dayIn(ctx, 3, 3);
  const numbers = pool(rng, R.sierraLeone, 25).concat(pool(rng, R.sierraLeone2, 15));
  const gap = rng.range(8, 14);
  const from = extensionOf(ctx.account, rng);
  for (let night = 0; night < 2; night++) {
    const day = ctx.days[first.index + night] ?? first;
    let t = atHour(day, 21 + rng.range(0, 1));
    const end = atHour(day, 28 + rng.range(0, 1.5));
    while (t < end) {
      call(ctx, from, rng.pick(numbers), t, 0.93, () => Math.min(50, Math.max(15, 30 + 4 * rng.normal())));
      t += Math.max(1000, Math.round(rng.exp(gap) * 1000));
    }
  }
}

function slowDrip(ctx: ScenarioContext): void {
  const { rng, days } = ctx;
  const span = Math.max(2, Math.min(rng.int(14, 21), days.length - 4));
  const first = dayIn(ctx, 3, span + 1);
  const range = rng.pick([R.guinea, R.somalia, R.saoTome, R.timorLeste, R.guineaBissau]);
  const numbers = pool(rng, range, 2);
  const from = extensionOf(ctx.account, rng);
  let emitted = 0;
  for (let k = 0; k < span; k++) {
    const day = days[first.index + k];
    if (!day || (!rng.chance(0.85) && !(k === span - 1 && emitted === 0))) continue;
    let t = atHour(day, 24.5 + rng.range(0, 1));
    for (let n = rng.int(1, 3); n > 0; n--) {
      t =
        call(ctx, from, rng.pick(numbers), t, 0.95, () => rng.range(1500, 3900)) + rng.range(10, 40) * 60_000;
      emitted++;
    }
  }
}

function sequential(ctx: ScenarioContext): void {
  const { rng } = ctx;
  const day = dayIn(ctx, 3, 2);
  let t = atHour(day, rng.chance(0.5) ? rng.range(20, 28) : rng.range(9, 18));
  const range = rng.pick([R.sierraLeone, R.latviaPremium, R.ukPersonal, R.guinea]);
  const stem = range.stem + rng.digits(range.rest - 2);
  const first = rng.int(0, 40);
  const count = rng.int(60, 150);
  const from = extensionOf(ctx.account, rng);
  for (let k = 0; k < count; k++) {
    const e164 = stem + String((first + k) % 100).padStart(2, "0");
    call(ctx, from, e164, t, 0.55, () => rng.range(5, 45));
    t += rng.int(15, 60) * 1000;
  }
}

const HOPS: readonly FraudRange[] = [
  R.cuba,
  R.somalia,
  R.maldives,
  R.papuaNewGuinea,
  R.tonga,
  R.solomon,
  R.latvia,
  R.gambia,
  R.timorLeste,
  R.fiji,
  R.bhutan,
  R.mongolia,
  R.ecuador,
  R.bangladesh,
  R.pakistan,
  R.nigeria,
  R.kenya,
  R.iraq,
];

function countryHopping(ctx: ScenarioContext): void {
  const { rng } = ctx;
  const day = dayIn(ctx, 3, 2);
  const start = atHour(day, rng.range(18, 24));
  const hours = rng.int(6, 12);
  const order = [...HOPS];
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j] as FraudRange, order[i] as FraudRange];
  }
  const from = extensionOf(ctx.account, rng);
  for (let h = 0; h < hours; h++) {
    const range = order[h % order.length] as FraudRange;
    const n = rng.int(4, 10);
    for (let k = 0; k < n; k++) {
      const t = start + h * HOUR + Math.round(((k + rng.next()) / n) * (HOUR - 600_000));
      call(ctx, from, numberIn(range, rng), t, 0.85, () => rng.range(60, 300));
    }
  }
}

function weekendHoliday(ctx: ScenarioContext): void {
  const { rng, days } = ctx;
  // Days the victim's office is closed: weekends (Saturday only where it does not work) and holidays.
  const closed = (d: DayInfo) => !d.workday && !(d.weekday === 6 && !d.holiday && ctx.account.worksSaturday);
  const off = days.filter((d) => closed(d) && d.index >= 3 && d.index < days.length - 1);
  const holidays = off.filter((d) => d.holiday);
  const day =
    holidays.length > 0 && rng.chance(0.5)
      ? rng.pick(holidays)
      : off.length > 0
        ? rng.pick(off)
        : dayIn(ctx, 3, 2);
  let t = atHour(day, rng.range(9, 13));
  const end = t + rng.range(4, 9) * HOUR;
  const ranges = [
    rng.pick([R.sierraLeone, R.guinea, R.cuba]),
    rng.pick([R.somalia, R.iridium, R.guineaBissau]),
  ];
  const numbers = ranges.flatMap((r) => pool(rng, r, 6));
  const from = extensionOf(ctx.account, rng);
  while (t < end) {
    call(ctx, from, rng.pick(numbers), t, 0.9, () => rng.range(120, 600));
    t += rng.int(90, 400) * 1000;
  }
}

function hackedRegistration(ctx: ScenarioContext): void {
  const { rng, days } = ctx;
  const workdays = days.filter((d) => d.workday && d.index >= 3 && d.index < days.length - 1);
  const day = workdays.length > 0 ? rng.pick(workdays) : dayIn(ctx, 3, 2);
  let t = atHour(day, rng.range(10, 15));
  const end = t + rng.range(3, 6) * HOUR;
  const foreign = `${rng.pick(["198.51.100", "203.0.113"])}.${rng.int(2, 254)}`;
  const ranges = [R.ukPersonal, R.lithuaniaPremium, R.latviaPremium, R.cuba, R.latvia];
  const numbers = ranges.slice(0, rng.int(2, 5)).flatMap((r) => pool(rng, r, 4));
  const from = extensionOf(ctx.account, rng);
  while (t < end) {
    call(ctx, from, rng.pick(numbers), t, 0.85, () => rng.range(60, 900), foreign);
    t += rng.int(120, 500) * 1000;
  }
}

export const scenarios: { readonly [K in ScenarioName]: (ctx: ScenarioContext) => void } = {
  "fast-pumping": fastPumping,
  okinawa,
  "slow-drip": slowDrip,
  sequential,
  "country-hopping": countryHopping,
  "weekend-holiday": weekendHoliday,
  "hacked-registration": hackedRegistration,
};
