/**
 * Scores a replay of a simulation against its labels: for each incident, whether an alert came in its
 * window, when the guard first refused one of its calls (the stop), and what its calls allowed before
 * then cost; for the accounts that were never attacked, the days on which they got an alert or a block.
 *
 * Costs are estimated the way the replay does: the tariff's set-up charge and per-minute price of each
 * allowed, answered call, for the seconds it really lasted or until the guard ended it.
 */
import type { Alert, Verdict } from "../calls/verdict.js";
import type { CallRecord } from "../core/call-events.js";
import { dayIndexOf } from "./days.js";
import type { ScenarioName } from "./scenarios.js";
import type { Incident, Simulation } from "./simulate.js";

export type IncidentScore = {
  readonly incident: Incident;
  /** First alert on the account within the incident's window, any rule or severity. */
  readonly firstAlertAt: number | undefined;
  readonly firstAlertRule: string | undefined;
  readonly firstCriticalAt: number | undefined;
  /** First refusal of one of the incident's calls (a block, a detector's or a policy's deny). */
  readonly stoppedAt: number | undefined;
  readonly stopRule: string | undefined;
  readonly callsBeforeStop: number;
  readonly lossBeforeStop: number;
  readonly callsAllowed: number;
  /** Estimated cost of every call of the incident the guard let through, stopped or not. */
  readonly lossTotal: number;
};

export type FalseAlarms = {
  readonly benignAccounts: number;
  readonly accountDays: number;
  /** Benign account-days with at least one alert, of any severity. */
  readonly alertDays: number;
  readonly criticalAlertDays: number;
  /** Benign account-days on which a detector blocked the account. */
  readonly blockDays: number;
  /** Benign calls refused, by the first rule that refused them. */
  readonly deniedCalls: Readonly<Record<string, number>>;
  /** Alerts by rule on benign accounts. */
  readonly alertsByRule: Readonly<Record<string, number>>;
  /** Alerts on attacked accounts outside their incidents' windows. */
  readonly victimAlertsOutside: number;
};

export type DetectionScore = {
  readonly incidents: readonly IncidentScore[];
  readonly falseAlarms: FalseAlarms;
};

type CallCost = {
  readonly answerAt: number;
  readonly billsec: number;
  readonly perMinute: number;
  readonly perCall: number;
};

type Tally = {
  stoppedAt: number | undefined;
  stopRule: string | undefined;
  before: number;
  allowed: number;
  calls: Map<string, { cost: CallCost; beforeStop: boolean }>;
};

export class DetectionScorer {
  private readonly tallies: Tally[];
  private readonly victims = new Map<string, Incident[]>();
  private readonly blockDays = new Set<string>();
  private readonly denied: Record<string, number> = {};

  constructor(private readonly sim: Simulation) {
    this.tallies = sim.incidents.map(() => ({
      stoppedAt: undefined,
      stopRule: undefined,
      before: 0,
      allowed: 0,
      calls: new Map(),
    }));
    for (const i of sim.incidents) this.victims.set(i.account, [...(this.victims.get(i.account) ?? []), i]);
  }

  /** Give it every verdict of the replay (Replayer's onVerdict). */
  onVerdict(v: Verdict, rec: CallRecord): void {
    const index = this.sim.incidentOf(rec.callId);
    if (index === undefined) {
      if (this.victims.has(rec.account)) return;
      if (v.decision === "deny") {
        const rule = v.reasons[0]?.rule ?? "unknown";
        this.denied[rule] = (this.denied[rule] ?? 0) + 1;
      }
      if (v.block) this.blockDays.add(this.accountDay(rec.account, v.at));
      return;
    }
    const t = this.tallies[index] as Tally;
    if (v.decision === "deny") {
      if (t.stoppedAt === undefined) {
        t.stoppedAt = v.at;
        t.stopRule = v.reasons[0]?.rule;
      }
      return;
    }
    const rate = v.number?.rate;
    const answered = rec.answer !== undefined || rec.billsec > 0;
    t.allowed++;
    if (t.stoppedAt === undefined) t.before++;
    if (!answered || !rate) return;
    t.calls.set(rec.callId, {
      cost: {
        answerAt: rec.answer ?? rec.end - rec.billsec * 1000,
        billsec: rec.billsec,
        perMinute: rate.perMinute,
        perCall: rate.perCall,
      },
      beforeStop: t.stoppedAt === undefined,
    });
  }

  /** The score, once the replay is finished; `alerts` are all its alerts (terminations included). */
  finish(alerts: readonly Alert[]): DetectionScore {
    const ended = new Map<string, number>();
    for (const a of alerts)
      if (a.decision === "terminate" && a.callId !== undefined) ended.set(a.callId, a.at);
    const first = this.sim.incidents.map(() => ({
      at: undefined as number | undefined,
      rule: undefined as string | undefined,
      critical: undefined as number | undefined,
    }));
    const alertDays = new Set<string>();
    const criticalDays = new Set<string>();
    const byRule: Record<string, number> = {};
    let outside = 0;
    for (const a of alerts) {
      const hit = this.victims.get(a.account);
      if (hit === undefined) {
        const key = this.accountDay(a.account, a.at);
        alertDays.add(key);
        if (a.severity === "critical") criticalDays.add(key);
        if (a.decision === "block") this.blockDays.add(key);
        byRule[a.rule] = (byRule[a.rule] ?? 0) + 1;
        continue;
      }
      const inside = hit.filter((i) => a.at >= i.start && a.at <= i.end);
      if (inside.length === 0) outside++;
      for (const i of inside) {
        const f = first[i.index] as (typeof first)[number];
        if (f.at === undefined || a.at < f.at) {
          f.at = a.at;
          f.rule = a.rule;
        }
        if (a.severity === "critical" && (f.critical === undefined || a.at < f.critical)) f.critical = a.at;
      }
    }
    const incidents = this.sim.incidents.map((incident, k): IncidentScore => {
      const t = this.tallies[k] as Tally;
      let lossBeforeStop = 0;
      let lossTotal = 0;
      for (const [callId, c] of t.calls) {
        const cut = ended.get(callId);
        const talked =
          cut === undefined
            ? c.cost.billsec
            : Math.min(c.cost.billsec, Math.max(0, (cut - c.cost.answerAt) / 1000));
        const cost = c.cost.perCall + (c.cost.perMinute * talked) / 60;
        lossTotal += cost;
        if (c.beforeStop) lossBeforeStop += cost;
      }
      const f = first[k] as (typeof first)[number];
      return {
        incident,
        firstAlertAt: f.at,
        firstAlertRule: f.rule,
        firstCriticalAt: f.critical,
        stoppedAt: t.stoppedAt,
        stopRule: t.stopRule,
        callsBeforeStop: t.before,
        lossBeforeStop,
        callsAllowed: t.allowed,
        lossTotal,
      };
    });
    const benignAccounts = this.sim.accounts.length - this.victims.size;
    return {
      incidents,
      falseAlarms: {
        benignAccounts,
        accountDays: benignAccounts * this.sim.days.length,
        alertDays: alertDays.size,
        criticalAlertDays: criticalDays.size,
        blockDays: this.blockDays.size,
        deniedCalls: this.denied,
        alertsByRule: byRule,
        victimAlertsOutside: outside,
      },
    };
  }

  private accountDay(account: string, at: number): string {
    return account + "@" + dayIndexOf(this.sim.days, at);
  }
}

/** Scores grouped by scenario, in the order scenarios first appear. */
export function byScenario(scores: readonly IncidentScore[]): Map<ScenarioName, IncidentScore[]> {
  const out = new Map<ScenarioName, IncidentScore[]>();
  for (const s of scores) out.set(s.incident.scenario, [...(out.get(s.incident.scenario) ?? []), s]);
  return out;
}
