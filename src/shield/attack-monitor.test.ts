import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AttackMonitor, type AttackMonitorOptions } from "./attack-monitor.js";
import { defaultShieldSettings } from "./settings.js";
import type { ModeChange } from "./types.js";

const options: AttackMonitorOptions = {
  ...defaultShieldSettings.attack,
  prefixCapacity: 10_000,
  learnSeconds: 10,
};

/** Drives the monitor second by second: `rps` requests spread over the second, from `address(i)`. */
function drive(
  m: AttackMonitor,
  fromS: number,
  toS: number,
  rps: number,
  address: (s: number, i: number) => string,
  changes: ModeChange[],
) {
  for (let s = fromS; s < toS; s++) {
    for (let i = 0; i < rps; i++) {
      const a = address(s, i);
      const c = m.observe(s * 1000 + (i * 1000) / rps, a, a.replace(/\.\d+$/, ".0/24"));
      if (c) changes.push(c);
    }
    const c = m.tick((s + 1) * 1000);
    if (c) changes.push(c);
  }
}

const regulars = (_s: number, i: number) => `198.51.100.${i % 50}`;
const botnet = (s: number, i: number) => `10.${s % 200}.${(i >> 8) & 255}.${i & 255}`;

describe("attack mode", () => {
  it("enters on a flood against the learned baseline, and leaves by itself when it ends", () => {
    const m = new AttackMonitor(options);
    const changes: ModeChange[] = [];
    drive(m, 0, 60, 30, regulars, changes);
    assert.equal(m.mode, "normal");
    assert.ok(Math.abs(m.base.rps - 30) < 1, `baseline ${m.base.rps}`);
    drive(m, 60, 63, 300, botnet, changes);
    assert.equal(m.mode, "attack");
    assert.equal(changes.length, 1);
    const enter = changes[0] as ModeChange;
    assert.equal(enter.at, 63_000);
    assert.match(enter.reason, /10\.0× its baseline/);
    assert.equal(enter.evidence.rps, 300);
    // The attack goes on for a while; the baseline does not learn it.
    drive(m, 63, 90, 300, botnet, changes);
    assert.ok(m.base.rps < 31);
    // Back to normal traffic: leaves after 30 calm seconds (and at least 60 s after entering).
    drive(m, 90, 121, 30, regulars, changes);
    assert.equal(m.mode, "attack");
    drive(m, 121, 125, 30, regulars, changes);
    assert.equal(m.mode, "normal");
    assert.equal(changes.length, 2);
    assert.equal(changes[1]?.to, "normal");
    assert.equal(changes[1]?.at, 124_000); // 60 s after entering at 63 s, the 30 calm seconds long past
  });

  it("has hysteresis: three times the baseline neither enters nor ends an attack", () => {
    const m = new AttackMonitor(options);
    const changes: ModeChange[] = [];
    drive(m, 0, 30, 30, regulars, changes);
    drive(m, 30, 60, 90, regulars, changes);
    assert.equal(m.mode, "normal");
    drive(m, 60, 64, 400, botnet, changes);
    assert.equal(m.mode, "attack");
    drive(m, 64, 200, 90, regulars, changes);
    assert.equal(m.mode, "attack");
    assert.equal(changes.length, 1);
  });

  it("enters within a fraction of a second at a botnet's onset, without waiting for whole seconds", () => {
    const m = new AttackMonitor(options);
    const changes: ModeChange[] = [];
    drive(m, 0, 30, 30, regulars, changes);
    // 2,000 requests/s from new addresses, from 30.5 s: the hot rate is 4 × 30 = 120/s, so 360 requests
    // of it (three hot seconds' worth) in the last second decide.
    for (let i = 0; i < 1000 && changes.length === 0; i++) {
      const c = m.observe(30_500 + i / 2, botnet(30, i), "10.0.0.0/24");
      if (c) changes.push(c);
    }
    assert.equal(m.mode, "attack");
    const enter = changes[0] as ModeChange;
    assert.ok(enter.at < 30_700, `entered at ${enter.at}`);
    assert.match(enter.reason, /in the last second, .* 9\d% new clients/);
    assert.ok((enter.evidence.rps ?? 0) >= 360);
  });

  it("leaves a burst from a few known clients to the per-second judgement", () => {
    const m = new AttackMonitor(options);
    const changes: ModeChange[] = [];
    drive(m, 0, 30, 30, regulars, changes);
    // The regulars send 600 requests in half a second: far over the rate, but none of them is new.
    for (let i = 0; i < 600; i++) {
      const c = m.observe(30_000 + i * 0.8, regulars(30, i), "198.51.100.0/24");
      if (c) changes.push(c);
    }
    assert.equal(m.mode, "normal");
    assert.deepEqual(changes, []);
  });

  it("can have its fast entry turned off", () => {
    const m = new AttackMonitor({ ...options, fastFactor: 0 });
    const changes: ModeChange[] = [];
    drive(m, 0, 30, 30, regulars, changes);
    for (let i = 0; i < 1000; i++) {
      const c = m.observe(30_000 + i / 2, botnet(30, i), "10.0.0.0/24");
      if (c) changes.push(c);
    }
    assert.equal(m.mode, "normal");
  });

  it("enters at a lower rate when the traffic comes from new clients in many networks", () => {
    const m = new AttackMonitor(options);
    const changes: ModeChange[] = [];
    drive(m, 0, 30, 30, regulars, changes);
    drive(m, 30, 34, 75, botnet, changes);
    assert.equal(m.mode, "attack");
    assert.match(changes[0]?.reason ?? "", /networks, 100% new clients/);
  });

  it("enters when the backend fails under load", () => {
    const m = new AttackMonitor(options);
    const changes: ModeChange[] = [];
    drive(m, 0, 30, 30, regulars, changes);
    for (let s = 30; s < 34; s++) {
      for (let i = 0; i < 30; i++) {
        const c =
          m.observe(s * 1000 + i * 30, regulars(s, i), "198.51.100.0/24") ??
          m.answer(s * 1000 + i * 30, i % 2 === 0);
        if (c) changes.push(c);
      }
    }
    assert.equal(m.mode, "attack");
    assert.match(changes[0]?.reason ?? "", /overload errors/);
  });

  it("only learns during the first seconds, so normal traffic at start is not an attack", () => {
    const m = new AttackMonitor(options);
    const changes: ModeChange[] = [];
    drive(m, 0, 30, 200, regulars, changes);
    assert.equal(m.mode, "normal");
    assert.deepEqual(changes, []);
  });

  it("starts from the median of the learning seconds, so a burst at start is not the norm", () => {
    const m = new AttackMonitor(options);
    const changes: ModeChange[] = [];
    drive(m, 0, 2, 400, regulars, changes);
    drive(m, 2, 10, 30, regulars, changes);
    assert.equal(m.base.rps, 30);
    drive(m, 10, 13, 300, botnet, changes);
    assert.equal(m.mode, "attack");
  });

  it("obeys an operator", () => {
    const m = new AttackMonitor(options);
    const c = m.force(5000, "attack", "operator");
    assert.equal(c?.to, "attack");
    assert.equal(m.force(6000, "attack", "again"), undefined);
  });
});
