import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MIN, makeGuard, placeCall, rng, tokyo } from "../../test/support/guard.js";
import type { Verdict } from "./verdict.js";

const intlAll = { international: { mode: "all" as const } };

describe("policy rules", () => {
  test("an account with international calling off is denied +232, and domestic calls go through", () => {
    const g = makeGuard([{ id: "shop", international: { mode: "off" } }]);
    const at = tokyo(2026, 11, 24, 10);
    const v = g.authorize({ type: "call.attempt", at, callId: "a", account: "shop", to: "+23276123456" });
    assert.equal(v.decision, "deny");
    assert.equal(v.reasons[0]?.rule, "international-barred");
    const d = g.authorize({ type: "call.attempt", at, callId: "b", account: "shop", to: "0312345678" });
    assert.equal(d.decision, "allow");
  });

  test("an allow-list lets the listed countries through and refuses the rest", () => {
    const g = makeGuard([{ id: "trader", international: { mode: "allow-list", countries: ["US", "CN"] } }]);
    const at = tokyo(2026, 11, 24, 10);
    assert.equal(placeCall(g, "trader", "+12125551234", at).decision, "allow");
    const v = placeCall(g, "trader", "+442079460000", at + MIN);
    assert.equal(v.decision, "deny");
    assert.equal(v.reasons[0]?.rule, "country-not-allowed");
  });

  test("unknown accounts get the shipped default: no international calls", () => {
    const g = makeGuard();
    const v = g.authorize({
      type: "call.attempt",
      at: tokyo(2026, 11, 24, 10),
      callId: "x",
      account: "who",
      to: "+12125551234",
    });
    assert.equal(v.decision, "deny");
    assert.equal(v.reasons[0]?.rule, "international-barred");
  });

  test("Japanese PBX dialling: outside-line 0 then 010 232 … is international to Sierra Leone", () => {
    const g = makeGuard([{ id: "pbx", outsideLinePrefix: "0", international: { mode: "off" } }]);
    const v = g.authorize({
      type: "call.attempt",
      at: tokyo(2026, 11, 24, 10),
      callId: "p",
      account: "pbx",
      to: "001023276123456",
    });
    assert.equal(v.decision, "deny");
    assert.equal(v.number?.country, "SL");
  });

  test("a malformed number gets a clear reason, never an exception", () => {
    const g = makeGuard([{ id: "a", ...intlAll }]);
    const v = g.authorize({ type: "call.attempt", at: 0, callId: "m", account: "a", to: "call-me-maybe" });
    assert.equal(v.decision, "deny");
    assert.equal(v.reasons[0]?.rule, "invalid-number");
    assert.match(v.reasons[0]?.message ?? "", /\S/);
  });

  test("emergency numbers are allowed even while international calling is blocked and caps are hit", () => {
    const g = makeGuard([{ id: "a", ...intlAll, caps: { concurrentCalls: 1 } }]);
    const at = tokyo(2026, 11, 24, 10);
    g.authorize({ type: "call.attempt", at, callId: "busy", account: "a", to: "0312345678" });
    assert.equal(
      g.authorize({ type: "call.attempt", at, callId: "e", account: "a", to: "119" }).decision,
      "allow",
    );
    assert.equal(
      g.authorize({ type: "call.attempt", at, callId: "e2", account: "a", to: "110" }).decision,
      "allow",
    );
  });

  test("a switch asking twice about one call gets the same answer, counted once", () => {
    const g = makeGuard([{ id: "a", ...intlAll, caps: { concurrentCalls: 1 } }]);
    const at = tokyo(2026, 11, 24, 10);
    const first = g.authorize({ type: "call.attempt", at, callId: "same", account: "a", to: "0312345678" });
    const again = g.authorize({
      type: "call.attempt",
      at: at + 100,
      callId: "same",
      account: "a",
      to: "0312345678",
    });
    assert.equal(first.decision, "allow");
    assert.equal(again.decision, "allow");
    assert.equal(again.repeat, true);
    assert.equal(g.liveCount("a"), 1);
  });
});

describe("caps", () => {
  test("concurrent calls: the call over the cap is denied; a hang-up frees a slot", () => {
    const g = makeGuard([{ id: "a", ...intlAll, caps: { concurrentCalls: 3 } }]);
    const at = tokyo(2026, 11, 24, 10);
    for (let i = 0; i < 3; i++)
      assert.equal(
        g.authorize({ type: "call.attempt", at, callId: `c${i}`, account: "a", to: "0312345678" }).decision,
        "allow",
      );
    const over = g.authorize({ type: "call.attempt", at, callId: "c3", account: "a", to: "0312345678" });
    assert.equal(over.decision, "deny");
    assert.equal(over.reasons[0]?.rule, "concurrent-calls");
    g.hangup({ type: "call.hangup", at: at + 1000, callId: "c0" });
    assert.equal(
      g.authorize({ type: "call.attempt", at: at + 2000, callId: "c4", account: "a", to: "0312345678" })
        .decision,
      "allow",
    );
  });

  test("calls per second", () => {
    const g = makeGuard([{ id: "a", ...intlAll, caps: { callsPerSecond: 2, concurrentCalls: 100 } }]);
    const at = tokyo(2026, 11, 24, 10);
    const d = [0, 1, 2].map((i) =>
      g.authorize({ type: "call.attempt", at: at + i, callId: `s${i}`, account: "a", to: "0312345678" }),
    );
    assert.deepEqual(
      d.map((v) => v.decision),
      ["allow", "allow", "deny"],
    );
    assert.equal(d[2]?.reasons[0]?.rule, "calls-per-second");
  });

  test("spend cap per day refuses calls once the estimated day's spend would pass it", () => {
    const g = makeGuard([
      {
        id: "a",
        ...intlAll,
        caps: { spendPerDay: 1000, spendPerHour: 1e9, spendPerMonth: 1e9 },
        rules: { "cost-velocity": { mode: "off" } },
      },
    ]);
    let at = tokyo(2026, 11, 24, 10);
    let denied: Verdict | undefined;
    for (let i = 0; i < 20 && !denied; i++) {
      const v = placeCall(g, "a", "+12125551234", at, 600);
      if (v.decision === "deny") denied = v;
      at += 20 * MIN;
    }
    assert.equal(denied?.reasons[0]?.rule, "spend-cap");
    assert.match(denied?.reasons[0]?.message ?? "", /day/);
  });
});

describe("detectors", () => {
  test("cost velocity blocks an account calling an expensive satellite range fast", () => {
    const g = makeGuard([{ id: "a", ...intlAll, rules: { "high-risk-destination": { mode: "off" } } }]);
    const at = tokyo(2026, 11, 24, 11);
    const v1 = placeCall(g, "a", "+881612345678", at, 30);
    const v2 = placeCall(g, "a", "+881612345999", at + 30_000, 30);
    assert.equal(v1.decision, "allow");
    assert.equal(v2.decision, "deny");
    assert.equal(v2.reasons[0]?.rule, "cost-velocity");
    assert.ok(v2.block, "a block is placed");
    assert.equal(v2.block?.account, "a");
    assert.equal(v2.alerts.find((a) => a.rule === "cost-velocity")?.decision, "block");
    // The block stands for the next international call, whatever its cost.
    const v3 = placeCall(g, "a", "+12125551234", at + 5 * MIN);
    assert.equal(v3.reasons[0]?.rule, "account-blocked");
    // Domestic calling is untouched.
    assert.equal(placeCall(g, "a", "0312345678", at + 6 * MIN).decision, "allow");
  });

  test("sequential numbers in one range are blocked", () => {
    const g = makeGuard([
      {
        id: "a",
        ...intlAll,
        rules: { "cost-velocity": { mode: "off" }, "destination-burst": { mode: "off" } },
      },
    ]);
    const at = tokyo(2026, 11, 24, 11);
    const vs = [1, 2, 3, 4, 5].map((i) => placeCall(g, "a", `+2327600000${i}`, at + i * MIN, 20));
    assert.deepEqual(
      vs.map((v) => v.decision),
      ["allow", "allow", "allow", "allow", "deny"],
    );
    assert.equal(vs[4]?.reasons[0]?.rule, "sequential-numbers");
  });

  test("repeated calls to one number raise an alert but do not block", () => {
    const g = makeGuard([{ id: "a", ...intlAll }]);
    const at = tokyo(2026, 11, 24, 11);
    const vs = Array.from({ length: 6 }, (_, i) => placeCall(g, "a", "+12125551234", at + i * 5 * MIN, 30));
    assert.ok(vs.every((v) => v.decision === "allow"));
    assert.equal(
      vs[5]?.alerts.some((a) => a.rule === "repeated-number"),
      true,
    );
  });

  test("first call to a new country alerts once the account has a history", () => {
    const g = makeGuard([{ id: "a", ...intlAll }]);
    const at = tokyo(2026, 11, 24, 11);
    g.seedHistory("a", ["US"], at - 30 * 24 * 60 * MIN);
    const us = placeCall(g, "a", "+12125551234", at);
    assert.equal(us.alerts.length, 0);
    const fr = placeCall(g, "a", "+33142685300", at + MIN);
    assert.equal(fr.decision, "allow");
    assert.deepEqual(
      fr.alerts.map((x) => x.rule),
      ["new-country"],
    );
    assert.equal(fr.learnedCountry, "FR");
    assert.equal(placeCall(g, "a", "+33142685301", at + 2 * MIN).alerts.length, 0);
  });

  test("report-only mode: the rule is recorded as what it would have done, and the call goes through", () => {
    const g = makeGuard([
      {
        id: "a",
        ...intlAll,
        rules: { "cost-velocity": { mode: "report" }, "high-risk-destination": { mode: "off" } },
      },
    ]);
    const at = tokyo(2026, 11, 24, 11);
    placeCall(g, "a", "+881612345678", at, 30);
    const v = placeCall(g, "a", "+881612345999", at + 30_000, 30);
    assert.equal(v.decision, "allow");
    assert.equal(v.reportOnly[0]?.rule, "cost-velocity");
    assert.equal(v.block, undefined);
    assert.equal(v.alerts.find((a) => a.rule === "cost-velocity")?.decision, "report");
  });

  test("a block expires by itself", () => {
    const g = makeGuard([
      {
        id: "a",
        ...intlAll,
        rules: { "sequential-numbers": { blockMinutes: 60 }, "cost-velocity": { mode: "off" } },
      },
    ]);
    const at = tokyo(2026, 11, 24, 11);
    for (let i = 1; i <= 5; i++) placeCall(g, "a", `+2327600000${i}`, at + i * MIN, 20);
    assert.ok(g.activeBlock("a", at + 10 * MIN));
    g.tick(at + 70 * MIN);
    assert.equal(g.activeBlock("a", at + 70 * MIN), undefined);
    assert.equal(placeCall(g, "a", "+12125551234", at + 71 * MIN).decision, "allow");
  });
});

describe("live calls", () => {
  test("a connected international call past its limit is ended while still up, once", () => {
    const g = makeGuard([{ id: "a", ...intlAll, caps: { maxInternationalCallSeconds: 600 } }]);
    const at = tokyo(2026, 11, 24, 11);
    g.authorize({ type: "call.attempt", at, callId: "long", account: "a", to: "+12125551234" });
    g.answer({ type: "call.answer", at: at + 5000, callId: "long" });
    assert.equal(g.tick(at + 5 * MIN).terminations.length, 0);
    const out = g.tick(at + 11 * MIN);
    assert.equal(out.terminations.length, 1);
    assert.equal(out.terminations[0]?.rule, "max-duration");
    assert.equal(out.alerts[0]?.decision, "terminate");
    assert.equal(g.tick(at + 12 * MIN).terminations.length, 0);
  });

  test("a live call's cost cap ends a domestic-rate call that runs up cost", () => {
    const g = makeGuard([
      {
        id: "a",
        ...intlAll,
        caps: { maxInternationalCallSeconds: 0 },
        rules: { "live-cost-cap": { maxCallCost: 500 } },
      },
    ]);
    const at = tokyo(2026, 11, 24, 11);
    g.authorize({ type: "call.attempt", at, callId: "sat", account: "a", to: "+881612345678" });
    g.answer({ type: "call.answer", at, callId: "sat" });
    const out = g.tick(at + 5 * MIN);
    assert.equal(out.terminations[0]?.rule, "live-cost-cap");
  });

  test("answer and hang-up twice, or in the wrong order, never leave the count negative or stuck", () => {
    const g = makeGuard([{ id: "a", ...intlAll }]);
    const at = tokyo(2026, 11, 24, 11);
    g.authorize({ type: "call.attempt", at, callId: "x", account: "a", to: "0312345678" });
    g.authorize({ type: "call.attempt", at, callId: "y", account: "a", to: "0312345678" });
    assert.equal(g.liveCount("a"), 2);
    g.hangup({ type: "call.hangup", at: at + 9000, callId: "x" });
    g.hangup({ type: "call.hangup", at: at + 9000, callId: "x" });
    g.answer({ type: "call.answer", at: at + 3000, callId: "x" });
    assert.equal(g.liveCount("a"), 1);
    g.hangup({ type: "call.hangup", at: at + 9000, callId: "never-authorized" });
    g.answer({ type: "call.answer", at: at + 9000, callId: "y" });
    g.answer({ type: "call.answer", at: at + 9000, callId: "y" });
    g.hangup({ type: "call.hangup", at: at + 20_000, callId: "y" });
    assert.equal(g.liveCount("a"), 0);
  });

  test("a call whose hang-up never comes is forgotten after the ring timeout", () => {
    const g = makeGuard([{ id: "a", ...intlAll }]);
    const at = tokyo(2026, 11, 24, 11);
    g.authorize({ type: "call.attempt", at, callId: "lost", account: "a", to: "0312345678" });
    g.tick(at + 11 * MIN);
    assert.equal(g.liveCount("a"), 0);
    assert.equal(g.stats.staleCalls, 1);
  });

  test("the clock drops ringing calls past the ring timeout only, and answered calls after the stale hours", () => {
    const g = makeGuard([{ id: "a", ...intlAll }]);
    const at = tokyo(2026, 11, 24, 11);
    const attempt = (callId: string, t: number) =>
      g.authorize({ type: "call.attempt", at: t, callId, account: "a", to: "0312345678" });
    attempt("old-ringing", at);
    attempt("talking", at + MIN);
    attempt("new-ringing", at + 5 * MIN);
    g.answer({ type: "call.answer", at: at + 2 * MIN, callId: "talking" });
    g.tick(at + 12 * MIN);
    assert.equal(g.liveCallKnown("old-ringing"), false);
    assert.equal(g.liveCallKnown("talking"), true);
    assert.equal(g.liveCallKnown("new-ringing"), true);
    g.tick(at + 16 * MIN);
    assert.equal(g.liveCallKnown("new-ringing"), false);
    assert.equal(g.liveCount("a"), 1);
    g.tick(at + 2 * MIN + 24 * 60 * MIN + 1);
    assert.equal(g.liveCallKnown("talking"), false);
    assert.equal(g.liveCount("a"), 0);
    assert.equal(g.stats.staleCalls, 3);
  });
});

describe("scenarios", () => {
  test("the Okinawa pattern (thousands of ~30 s calls to +232 over two nights) is stopped within a few calls", () => {
    const g = makeGuard([{ id: "okinawa", outsideLinePrefix: "0", ...intlAll }]);
    g.seedHistory("okinawa", ["US"], tokyo(2026, 1, 1, 0));
    const r = rng(7);
    // Friday 22:00 to Sunday 18:00: ~4,000 calls, 44 hours, mostly at night.
    const start = tokyo(2026, 11, 20, 22);
    const end = start + 44 * 60 * MIN;
    let at = start;
    let allowed = 0;
    let cost = 0;
    let firstBlockAt: number | undefined;
    let calls = 0;
    while (at < end && calls < 5000) {
      const n = 76_000_000 + Math.floor(r() * 999_999);
      const v = placeCall(g, "okinawa", `0010232${n}`, at, 25 + Math.floor(r() * 10));
      calls++;
      if (v.decision === "allow") {
        allowed++;
        cost += (180 * 30) / 60;
      } else if (firstBlockAt === undefined && v.block) firstBlockAt = at;
      at += Math.floor((44 * 60 * MIN) / 4000);
    }
    assert.ok(calls >= 3900, `generated ${calls} calls`);
    assert.ok(firstBlockAt !== undefined, "the account was blocked");
    assert.ok(allowed <= 5, `only ${allowed} calls got through`);
    assert.ok(cost < 10_000, `estimated loss ${cost} JPY stays under 10,000`);
  });

  test("a legitimate office (business-hours domestic calls, a few to the US) sees no block and no denial", () => {
    const g = makeGuard([{ id: "office", outsideLinePrefix: "0", ...intlAll }]);
    const r = rng(11);
    const denials: Verdict[] = [];
    const critical: string[] = [];
    for (let day = 0; day < 30; day++) {
      const date = new Date(Date.UTC(2026, 10, 2 + day));
      const dow = date.getUTCDay();
      if (dow === 0 || dow === 6) continue;
      for (let i = 0; i < 60; i++) {
        const at = tokyo(2026, 11, 2 + day, 9) + Math.floor(r() * 8 * 60) * MIN;
        const to =
          r() < 0.5
            ? `003${Math.floor(10_000_000 + r() * 89_999_999)}`
            : `0090${Math.floor(10_000_000 + r() * 89_999_999)}`;
        const v = placeCall(g, "office", to, at, 30 + Math.floor(r() * 300));
        if (v.decision === "deny") denials.push(v);
      }
      if (day % 3 === 0) {
        const at = tokyo(2026, 11, 2 + day, 10) + Math.floor(r() * 4 * 60) * MIN;
        const v = placeCall(g, "office", `0010121255501${10 + day}`, at, 600);
        if (v.decision === "deny") denials.push(v);
        for (const a of v.alerts) if (a.severity === "critical") critical.push(a.rule);
      }
    }
    assert.deepEqual(
      denials.map((d) => d.reasons),
      [],
    );
    assert.deepEqual(critical, []);
  });
});
