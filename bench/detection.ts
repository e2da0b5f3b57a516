import { createCallGuard } from "../src/app/build.js";
import { Replayer } from "../src/calls/replay.js";
import { loadHolidays } from "../src/config/holidays.js";
import { loadConfig } from "../src/config/load.js";
import { shippedRulesDir } from "../src/config/paths.js";
import {
  byScenario,
  DetectionScorer,
  type IncidentScore,
  parseScenarioList,
  simulate,
} from "../src/sim/index.js";
import { fmt, machine } from "./lib/stats.js";

/**
 * Detection quality: a simulated carrier (1,000 accounts for 30 days by default, every fraud scenario
 * five times on accounts that may call everywhere), replayed in memory through the guard on the shipped
 * defaults and the simulator's policies, scored against the labels. Goals: every incident detected, the
 * median incident stopped before ¥10,000 of estimated loss, under one false block per 10,000 benign
 * account-days. Scale with BENCH_SIM_ACCOUNTS, BENCH_SIM_DAYS, BENCH_SIM_INCIDENTS, BENCH_SIM_SEED.
 */
const env = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function duration(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

const yen = (n: number): string => (Number.isFinite(n) ? `¥${fmt(n)}` : "n/a");

function row(name: string, xs: readonly IncidentScore[]): string {
  const detected = xs.filter((s) => s.firstAlertAt !== undefined);
  const stopped = xs.filter((s) => s.stoppedAt !== undefined);
  // An incident never stopped lost everything it was allowed.
  const lossBefore = xs.map((s) => (s.stoppedAt === undefined ? s.lossTotal : s.lossBeforeStop));
  const rules = new Map<string, number>();
  for (const s of detected) rules.set(s.firstAlertRule ?? "", (rules.get(s.firstAlertRule ?? "") ?? 0) + 1);
  return `| ${[
    name,
    xs.length,
    `${detected.length}/${xs.length}`,
    `${xs.filter((s) => s.firstCriticalAt !== undefined).length}/${xs.length}`,
    `${stopped.length}/${xs.length}`,
    fmt(median(xs.map((s) => s.callsBeforeStop))),
    yen(median(lossBefore)),
    yen(Math.max(...lossBefore)),
    yen(median(xs.map((s) => s.lossTotal))),
    duration(median(detected.map((s) => (s.firstAlertAt as number) - s.incident.start))),
    duration(median(stopped.map((s) => (s.stoppedAt as number) - s.incident.start))),
    [...rules.entries()].map(([r, n]) => `${r} ×${n}`).join(", "),
  ].join(" | ")} |`;
}

export async function benchDetection(): Promise<string> {
  const accounts = env("BENCH_SIM_ACCOUNTS", 1000);
  const days = env("BENCH_SIM_DAYS", 30);
  const times = env("BENCH_SIM_INCIDENTS", 5);
  const seed = env("BENCH_SIM_SEED", 20260420);
  const start = "2026-04-20";
  const rulesDir = shippedRulesDir();
  const scenarios = parseScenarioList(undefined, times);
  if (!scenarios.ok) throw new Error(scenarios.error);
  const sim = simulate({
    accounts,
    days,
    start,
    seed,
    holidays: loadHolidays(rulesDir).get("jp"),
    scenarios: scenarios.value,
  });
  if (!sim.ok) throw new Error(sim.error);
  const s = sim.value;
  const guard = createCallGuard(loadConfig({}));
  for (const p of s.policies) guard.setPolicy(p);
  const scorer = new DetectionScorer(s);
  const replayer = new Replayer(guard, { onVerdict: (v, rec) => scorer.onVerdict(v, rec) });
  const t0 = performance.now();
  let calls = 0;
  for (const rec of s.records()) {
    replayer.push(rec);
    calls++;
  }
  replayer.finish();
  const seconds = (performance.now() - t0) / 1000;
  const score = scorer.finish(replayer.alerts);
  const groups = byScenario(score.incidents);
  const fa = score.falseAlarms;
  const per1000 = (n: number) => fmt((n / fa.accountDays) * 1000, 3);
  const per10000 = (n: number) => fmt((n / fa.accountDays) * 10_000, 3);
  const all = score.incidents;
  const lossBefore = all.map((x) => (x.stoppedAt === undefined ? x.lossTotal : x.lossBeforeStop));
  const goals = [
    [`every incident detected`, all.every((x) => x.firstAlertAt !== undefined)],
    [`median incident stopped before ¥10,000 (${yen(median(lossBefore))})`, median(lossBefore) < 10_000],
    [
      `fewer than 1 false block per 10,000 benign account-days (${per10000(fa.blockDays)})`,
      (fa.blockDays / fa.accountDays) * 10_000 < 1,
    ],
  ] as const;
  const overGoal = [...groups.entries()]
    .filter(
      ([, xs]) =>
        median(xs.map((x) => (x.stoppedAt === undefined ? x.lossTotal : x.lossBeforeStop))) >= 10_000,
    )
    .map(([name]) => name);
  const list = (o: Readonly<Record<string, number>>) =>
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${fmt(n)}`)
      .join(", ") || "none";
  return [
    "## Detection quality (simulated carrier, shipped defaults)",
    "",
    `${fmt(accounts)} accounts × ${days} days from ${start} (seed ${seed}), every scenario ${times}× on accounts with` +
      ` international calling open; ${fmt(calls)} calls replayed in ${seconds.toFixed(1)} s on ${machine()}.`,
    "Loss: estimated cost of the incident's calls the guard allowed before it first refused one (all of them when it" +
      " never did). Stopped: the first refusal (block, detector or policy). Times from the incident's first call.",
    "",
    "| scenario | incidents | detected | critical alert | stopped | median calls before stop | median loss before stop | max loss before stop | median total loss | median time to detect | median time to stop | first alert (rule) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...[...groups.entries()].map(([name, xs]) => row(name, xs)),
    row("**all**", all),
    "",
    `False alarms on ${fmt(fa.benignAccounts)} accounts never attacked (${fmt(fa.accountDays)} account-days):`,
    "",
    "| benign account-days with | count | per 1,000 account-days | per 10,000 account-days |",
    "| --- | ---: | ---: | ---: |",
    `| any alert | ${fmt(fa.alertDays)} | ${per1000(fa.alertDays)} | ${per10000(fa.alertDays)} |`,
    `| a critical alert | ${fmt(fa.criticalAlertDays)} | ${per1000(fa.criticalAlertDays)} | ${per10000(fa.criticalAlertDays)} |`,
    `| a block | ${fmt(fa.blockDays)} | ${per1000(fa.blockDays)} | ${per10000(fa.blockDays)} |`,
    "",
    `Alerts on benign accounts by rule: ${list(fa.alertsByRule)}. Benign calls refused: ${list(fa.deniedCalls)}.` +
      ` Alerts on attacked accounts outside their incidents: ${fmt(fa.victimAlertsOutside)}.`,
    "",
    ...goals.map(([text, met]) => `- ${met ? "met" : "MISSED"}: ${text}`),
    `- per scenario, median loss before stop under ¥10,000: ${overGoal.length === 0 ? "every scenario" : `not for ${overGoal.join(", ")}`}`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write((await benchDetection()) + "\n");
