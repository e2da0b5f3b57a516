/**
 * The fraud simulator: a carrier's customers and their calls over some days, with fraud incidents
 * injected on chosen accounts and labelled. Pure and deterministic: the same options give the same calls,
 * ids and labels on every run and machine (no clock, no I/O; holidays are passed in).
 *
 * Calls are generated a day at a time (every account's calls of the day, sorted by start), so a month of
 * a thousand accounts streams in bounded memory; incidents are planned up front, since some span weeks.
 */
import type { AccountPolicy } from "../calls/policy.js";
import type { CallRecord } from "../core/call-events.js";
import { isValidTimeZone } from "../core/local-time.js";
import { err, ok, type Result } from "../core/result.js";
import { benignDay } from "./benign.js";
import { type CallDraft, type DayInfo, dayIndexOf, makeDays } from "./days.js";
import { makeAccount, type SimAccount } from "./population.js";
import { mixSeed, Prng } from "./prng.js";
import { type ScenarioName, scenarioNames, scenarios } from "./scenarios.js";

export type ScenarioCount = { readonly scenario: ScenarioName; readonly count: number };

export type SimulationOptions = {
  readonly accounts: number;
  readonly days: number;
  /** First local day, YYYY-MM-DD. */
  readonly start: string;
  readonly seed: number;
  /** Zone of the accounts and their working hours. Default Asia/Tokyo. */
  readonly timeZone?: string | undefined;
  /** Public holidays (local dates): offices are closed. */
  readonly holidays?: ReadonlySet<string> | undefined;
  /** Incidents to inject. Default: every scenario once. */
  readonly scenarios?: readonly ScenarioCount[] | undefined;
};

/** One injected fraud incident: its victim, and the span of its calls (epoch ms). */
export type Incident = {
  readonly index: number;
  readonly account: string;
  readonly scenario: ScenarioName;
  readonly start: number;
  readonly end: number;
  readonly calls: number;
};

export type Simulation = {
  readonly timeZone: string;
  readonly days: readonly DayInfo[];
  readonly accounts: readonly SimAccount[];
  readonly policies: readonly AccountPolicy[];
  readonly incidents: readonly Incident[];
  /** The calls in start order. Each iteration generates them anew, identical every time. */
  records(): Generator<CallRecord>;
  /** The incident a call belongs to, for calls records() has produced; undefined for the accounts' own. */
  incidentOf(callId: string): number | undefined;
};

export const everyScenarioOnce: readonly ScenarioCount[] = scenarioNames.map((scenario) => ({
  scenario,
  count: 1,
}));

export function simulate(o: SimulationOptions): Result<Simulation, string> {
  const timeZone = o.timeZone ?? "Asia/Tokyo";
  if (!Number.isInteger(o.accounts) || o.accounts < 1 || o.accounts > 1_000_000)
    return err("accounts must be a whole number from 1 to 1,000,000");
  if (!Number.isInteger(o.days) || o.days < 1 || o.days > 3660)
    return err("days must be a whole number from 1 to 3660");
  if (!Number.isFinite(o.seed)) return err("seed must be a number");
  if (!isValidTimeZone(timeZone))
    return err(`unknown time zone "${timeZone}" (use an IANA name such as Asia/Tokyo)`);
  const made = makeDays(o.start, o.days, timeZone, o.holidays ?? new Set());
  if (!made) return err(`start must be a date as YYYY-MM-DD (got "${o.start}")`);
  const days: readonly DayInfo[] = made;
  const seed = o.seed >>> 0;
  const accounts = Array.from({ length: o.accounts }, (_, i) => makeAccount(seed, i, o.accounts, timeZone));
  const planned = planIncidents(seed, accounts, days, o.scenarios ?? everyScenarioOnce);
  if (!planned.ok) return planned;
  const { incidents, byDay } = planned.value;
  const incidentCalls = new Map<string, number>();

  function* records(): Generator<CallRecord> {
    incidentCalls.clear();
    let seq = 0;
    const out: CallDraft[] = [];
    for (const day of days) {
      out.length = 0;
      for (const a of accounts) benignDay(a, day, new Prng(mixSeed(seed, a.index, day.index + 1)), out);
      for (const d of byDay[day.index] ?? []) out.push(d);
      out.sort((x, y) => x.start - y.start);
      for (const d of out) {
        const callId = `${Math.floor(d.start / 1000)}.${seq++}`;
        if (d.incident >= 0) incidentCalls.set(callId, d.incident);
        yield toRecord(d, callId, (accounts[d.account] as SimAccount).id);
      }
    }
  }

  return ok({
    timeZone,
    days,
    accounts,
    policies: accounts.map((a) => a.policy),
    incidents,
    records,
    incidentOf: (callId) => incidentCalls.get(callId),
  });
}

function toRecord(d: CallDraft, callId: string, account: string): CallRecord {
  if (d.disposition === "ANSWERED") {
    const answer = d.start + d.ring * 1000;
    return {
      callId,
      account,
      from: d.from,
      to: d.to,
      start: d.start,
      answer,
      end: answer + d.billsec * 1000,
      billsec: d.billsec,
      disposition: d.disposition,
      sourceIp: d.sourceIp,
    };
  }
  return {
    callId,
    account,
    from: d.from,
    to: d.to,
    start: d.start,
    end: d.start + d.ring * 1000,
    billsec: 0,
    disposition: d.disposition,
    sourceIp: d.sourceIp,
  };
}

/**
 * Victims are accounts that may call everywhere (their defence is the detectors, not a barring), in a
 * seeded order; then allow-list accounts, then the rest, when a small simulation runs out of them.
 */
function planIncidents(
  seed: number,
  accounts: readonly SimAccount[],
  days: readonly DayInfo[],
  wanted: readonly ScenarioCount[],
): Result<{ incidents: Incident[]; byDay: CallDraft[][] }, string> {
  const rng = new Prng(mixSeed(seed, 0x1c1d));
  const rank = (a: SimAccount) =>
    ({ all: 0, "allow-list": 1, off: 2 })[a.policy.international?.mode ?? "all"];
  const order = accounts
    .map((a) => ({ a, key: rank(a) * 2 + rng.next() }))
    .sort((x, y) => x.key - y.key)
    .map((x) => x.a);
  const total = wanted.reduce((n, w) => n + w.count, 0);
  if (total > accounts.length)
    return err(`${total} incidents need as many accounts; simulate at least ${total} accounts`);
  const incidents: Incident[] = [];
  const byDay: CallDraft[][] = days.map(() => []);
  const first = (days[0] as DayInfo).start;
  const last = (days[days.length - 1] as DayInfo).end;
  let k = 0;
  for (const w of wanted) {
    for (let n = 0; n < w.count; n++, k++) {
      const account = order[k] as SimAccount;
      const out: CallDraft[] = [];
      scenarios[w.scenario]({ rng: new Prng(mixSeed(seed, 0xf4a0d, k)), account, days, incident: k, out });
      const calls = out.filter((d) => d.start >= first && d.start < last);
      let start = Number.POSITIVE_INFINITY;
      let end = Number.NEGATIVE_INFINITY;
      for (const d of calls) {
        start = Math.min(start, d.start);
        end = Math.max(end, d.start + (d.ring + d.billsec) * 1000);
        byDay[dayIndexOf(days, d.start)]?.push(d);
      }
      if (calls.length === 0) return err(`the ${w.scenario} incident does not fit in ${days.length} days`);
      incidents.push({
        index: k,
        account: account.id,
        scenario: w.scenario,
        start,
        end,
        calls: calls.length,
      });
    }
  }
  return ok({ incidents, byDay });
}

/**
 * Parses `okinawa,fast-pumping:3` into scenario counts; `all` (or nothing) is every scenario `times`
 * times, `none` no incident at all.
 */
export function parseScenarioList(text: string | undefined, times = 1): Result<ScenarioCount[], string> {
  if (text === undefined || text.trim() === "" || text.trim() === "all")
    return ok(scenarioNames.map((scenario) => ({ scenario, count: times })));
  if (text.trim() === "none") return ok([]);
  const out: ScenarioCount[] = [];
  for (const part of text.split(",")) {
    const [name = "", count = String(times)] = part.trim().split(":");
    if (!(scenarioNames as readonly string[]).includes(name))
      return err(`unknown scenario "${name}"; known: ${scenarioNames.join(", ")}`);
    const n = Number(count);
    if (!Number.isInteger(n) || n < 0) return err(`scenario count must be a whole number (got "${count}")`);
    out.push({ scenario: name as ScenarioName, count: n });
  }
  return ok(out);
}
