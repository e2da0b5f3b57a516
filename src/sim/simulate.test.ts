import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { holidays, makeGuard, numbering } from "../../test/support/guard.js";
import { classifyNumber } from "../calls/numbering.js";
import { accountPolicySchema } from "../calls/policy.js";
import { Replayer } from "../calls/replay.js";
import type { CallRecord } from "../core/call-events.js";
import { localTime } from "../core/local-time.js";
import { parseScenarioList, type Simulation, scenarioNames, simulate } from "./index.js";
import { DetectionScorer } from "./score.js";

const jp = holidays.get("jp");
const make = (seed: number, accounts = 40, days = 21): Simulation => {
  const r = simulate({ accounts, days, start: "2026-04-20", seed, holidays: jp });
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe("simulate", () => {
  const sim = make(5);
  const records = [...sim.records()];
  const byIncident = new Map<number, CallRecord[]>();
  for (const r of records) {
    const i = sim.incidentOf(r.callId);
    if (i !== undefined) byIncident.set(i, [...(byIncident.get(i) ?? []), r]);
  }
  const victims = new Set(sim.incidents.map((i) => i.account));

  test("is deterministic: the same seed gives the same calls, ids and labels; another seed does not", () => {
    const again = make(5);
    assert.deepEqual([...again.records()].slice(0, 2000), records.slice(0, 2000));
    assert.deepEqual(again.incidents, sim.incidents);
    assert.notDeepEqual([...make(6).records()].slice(0, 100), records.slice(0, 100));
  });

  test("calls come in start order with unique ids, and each incident's calls fall in its label", () => {
    for (let i = 1; i < records.length; i++)
      assert.ok((records[i] as CallRecord).start >= (records[i - 1] as CallRecord).start);
    assert.equal(new Set(records.map((r) => r.callId)).size, records.length);
    assert.deepEqual(
      sim.incidents.map((i) => i.scenario),
      [...scenarioNames],
    );
    for (const inc of sim.incidents) {
      const calls = byIncident.get(inc.index) ?? [];
      assert.equal(calls.length, inc.calls, inc.scenario);
      assert.ok(calls.every((c) => c.account === inc.account && c.start >= inc.start && c.end <= inc.end));
    }
  });

  test("victims are distinct accounts open to international calls; the policies are valid", () => {
    assert.equal(victims.size, sim.incidents.length);
    for (const p of sim.policies) assert.ok(accountPolicySchema.safeParse(p).success, p.id);
    for (const v of victims) {
      const p = sim.policies.find((x) => x.id === v);
      assert.equal(p?.international?.mode, "all");
    }
    assert.ok(sim.policies.some((p) => p.international?.mode === "off"));
    assert.ok(sim.policies.some((p) => p.international?.mode === "allow-list"));
    assert.ok(sim.policies.some((p) => p.outsideLinePrefix === "0"));
  });

  test("benign numbers read as the account dials them: Japanese for domestic-only accounts", () => {
    const policy = new Map(sim.policies.map((p) => [p.id, p]));
    for (const r of records.slice(0, 20_000)) {
      if (sim.incidentOf(r.callId) !== undefined) continue;
      const p = policy.get(r.account);
      const n = classifyNumber(r.to, { country: "JP", outsideLinePrefix: p?.outsideLinePrefix }, numbering);
      assert.ok(n.ok, `${r.to}: ${n.ok ? "" : n.error.message}`);
      if (p?.international?.mode === "off") assert.equal(n.value.international, false, r.to);
    }
  });

  test("offices are quiet at weekends and on holidays", () => {
    const offices = new Set(
      sim.accounts.filter((a) => a.kind === "office" && !a.worksSaturday).map((a) => a.id),
    );
    const perDay = new Map<string, number>();
    for (const r of records) {
      if (!offices.has(r.account) || victims.has(r.account)) continue;
      const d = localTime(r.start, "Asia/Tokyo").date;
      perDay.set(d, (perDay.get(d) ?? 0) + 1);
    }
    const work = sim.days.filter((d) => d.workday).map((d) => perDay.get(d.date) ?? 0);
    const off = sim.days.filter((d) => !d.workday).map((d) => perDay.get(d.date) ?? 0);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(
      sim.days.some((d) => d.holiday),
      "the span holds Golden Week",
    );
    assert.ok(mean(off) < mean(work) * 0.1, `weekend/holiday ${mean(off)} vs workday ${mean(work)}`);
  });

  test("each scenario has its shape", () => {
    const calls = (name: string) => byIncident.get(sim.incidents.findIndex((i) => i.scenario === name)) ?? [];
    const e164 = (r: CallRecord) => {
      const p = sim.policies.find((x) => x.id === r.account);
      const n = classifyNumber(r.to, { country: "JP", outsideLinePrefix: p?.outsideLinePrefix }, numbering);
      return n.ok ? n.value : undefined;
    };
    const okinawa = calls("okinawa");
    assert.ok(okinawa.length > 1000, `okinawa: ${okinawa.length} calls`);
    assert.ok(okinawa.every((r) => e164(r)?.countryCallingCode === "232"));
    const talk = okinawa.filter((r) => r.billsec > 0).map((r) => r.billsec);
    assert.ok(Math.abs(talk.reduce((a, b) => a + b, 0) / talk.length - 30) < 3);

    const seq = calls("sequential").map((r) => e164(r)?.e164 ?? "");
    assert.ok(
      seq.every(
        (n, i) => i === 0 || Number(n.slice(-2)) === (Number((seq[i - 1] ?? "").slice(-2)) + 1) % 100,
      ),
    );

    const hops = calls("country-hopping");
    const hourOf = (r: CallRecord) => Math.floor((r.start - (hops[0] as CallRecord).start) / 3_600_000);
    const countryByHour = new Map<number, Set<string>>();
    for (const r of hops)
      countryByHour.set(
        hourOf(r),
        (countryByHour.get(hourOf(r)) ?? new Set()).add(e164(r)?.countryCallingCode ?? ""),
      );
    assert.ok(countryByHour.size >= 6);

    const pumping = calls("fast-pumping");
    let most = 0;
    for (const r of pumping)
      most = Math.max(most, pumping.filter((x) => x.start <= r.start && x.end > r.start).length);
    assert.ok(most >= 10, `fast pumping: ${most} calls at once`);

    const drip = calls("slow-drip");
    assert.ok(drip[drip.length - 1]!.start - drip[0]!.start > 10 * 86_400_000);
    assert.ok(drip.every((r) => r.billsec === 0 || r.billsec >= 1500));

    const weekend = calls("weekend-holiday");
    const day = sim.days.find((d) => d.date === localTime(weekend[0]!.start, "Asia/Tokyo").date);
    assert.equal(day?.workday, false);

    const hacked = calls("hacked-registration");
    const own = sim.accounts.find((a) => a.id === hacked[0]?.account)?.pbxIp;
    assert.ok(
      hacked.every((r) => r.sourceIp !== own && /^(198\.51\.100|203\.0\.113)\./.test(r.sourceIp ?? "")),
    );
  });

  test("replayed on the shipped defaults, benign calls are never refused and every incident is scored", () => {
    const small = make(9, 30, 10);
    const g = makeGuard([...small.policies]);
    const scorer = new DetectionScorer(small);
    const r = new Replayer(g, { onVerdict: (v, rec) => scorer.onVerdict(v, rec) });
    for (const rec of small.records()) r.push(rec);
    r.finish();
    const score = scorer.finish(r.alerts);
    assert.deepEqual(score.falseAlarms.deniedCalls, {});
    assert.equal(score.falseAlarms.blockDays, 0);
    assert.equal(score.incidents.length, scenarioNames.length);
    for (const s of score.incidents)
      assert.ok(s.firstAlertAt !== undefined, `${s.incident.scenario} detected`);
  });
});

test("scenario lists", () => {
  assert.deepEqual(parseScenarioList("okinawa,sequential:3"), {
    ok: true,
    value: [
      { scenario: "okinawa", count: 1 },
      { scenario: "sequential", count: 3 },
    ],
  });
  assert.deepEqual(parseScenarioList("none"), { ok: true, value: [] });
  const all = parseScenarioList("all", 2);
  assert.ok(all.ok && all.value.length === 7 && all.value.every((s) => s.count === 2));
  assert.equal(parseScenarioList("pharming").ok, false);
  assert.equal(simulate({ accounts: 3, days: 5, start: "2026-04-20", seed: 1 }).ok, false);
  assert.equal(simulate({ accounts: 30, days: 5, start: "2026-02-30", seed: 1 }).ok, false);
});
