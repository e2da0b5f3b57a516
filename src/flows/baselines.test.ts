import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FlowGuard } from "./engine.js";
import { Proto } from "./metrics.js";
import { defaultFlowGuardSettings } from "./settings.js";
import { rng, run, type SyntheticFlow } from "./synthetic.js";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0); // Monday 00:00 UTC
const VICTIM = "192.0.2.10";

/** A web server's day: 2 000 pps at night, 10 000 at noon, ±10 % minute to minute. */
function daily(r: () => number): (t: number) => SyntheticFlow[] {
  return (t) => {
    const hour = ((t % DAY) / 3_600_000 + 24) % 24;
    const pps = (2000 + 8000 * (0.5 + 0.5 * Math.sin((2 * Math.PI * (hour - 6)) / 24))) * (0.9 + 0.2 * r());
    return [
      {
        src: "203.0.113.9",
        dst: VICTIM,
        protocol: Proto.tcp,
        srcPort: 443,
        dstPort: 50_000,
        packets: pps * 60,
        bytes: pps * 60 * 800,
        durationMs: 60_000,
        tcpFlags: 0x18,
      },
    ];
  };
}

describe("FlowGuard learned baselines", () => {
  it("learns a daily cycle: no attack at the daily peak, an attack at night far below that peak", () => {
    const g = new FlowGuard(
      defaultFlowGuardSettings({
        networks: ["192.0.2.0/24"],
        // No fixed threshold a normal day could reach: only the learned ones can fire.
        defaultGroup: { thresholds: { pps: 1e9 } },
        baselines: { floor: { pps: 500, mbps: 1, flowsPerSecond: 100 } },
        attacks: { endAfterSeconds: 120 },
      }),
    );
    g.tick(T0);
    const normal = daily(rng(7));
    const learning = run(g, T0, 3 * 86_400, normal, 60);
    assert.deepEqual(
      learning.attacksStarted.map(
        (a) => `${new Date(a.startedAt).toISOString()} ${JSON.stringify(a.exceeded)}`,
      ),
      [],
    );

    // Day 4, 03:00: 12 000 pps more than usual, still only 1.5× the noon peak.
    const night = T0 + 3 * DAY + 3 * 3_600_000;
    const toNight = run(g, T0 + 3 * DAY, 3 * 3600, normal, 60);
    assert.equal(toNight.attacksStarted.length, 0);
    const attack = (t: number): SyntheticFlow[] => [
      ...normal(t),
      {
        src: "198.18.0.1",
        dst: VICTIM,
        protocol: Proto.udp,
        srcPort: 3000,
        dstPort: 3000,
        packets: 12_000 * 60,
        bytes: 12_000 * 60 * 500,
        durationMs: 60_000,
      },
    ];
    const c = run(g, night, 600, attack, 60);
    assert.equal(c.attacksStarted.length, 1);
    const pps = c.attacksStarted[0]!.exceeded.find((e) => e.metric === "pps");
    assert.equal(pps?.source, "profile-day");
    assert.ok(pps!.threshold < 15_000, `learned threshold ${pps!.threshold}`);

    // The rest of day 4 including its noon peak: the attack ended, nothing new, the profile was not
    // taught the attack.
    const rest = run(g, night + 600_000, 12 * 3600, normal, 60);
    assert.equal(rest.attacksEnded.length, 1);
    assert.equal(rest.attacksStarted.length, 0);
  });

  it("uses the moving average once warm, before any hour has been profiled", () => {
    const g = new FlowGuard(
      defaultFlowGuardSettings({
        networks: ["192.0.2.0/24"],
        defaultGroup: { thresholds: { pps: 1e9 } },
        baselines: { floor: { pps: 500, mbps: 1, flowsPerSecond: 100 }, ema: { warmupMinutes: 30 } },
      }),
    );
    g.tick(T0);
    const steady = (): SyntheticFlow[] => [
      {
        src: "203.0.113.9",
        dst: VICTIM,
        protocol: Proto.tcp,
        srcPort: 443,
        dstPort: 50_000,
        packets: 1000 * 60,
        bytes: 6e7,
        durationMs: 60_000,
        tcpFlags: 0x18,
      },
    ];
    assert.equal(run(g, T0, 3600, steady, 60).attacksStarted.length, 0);
    const c = run(g, T0 + 3_600_000, 300, () => [...steady(), { ...steady()[0]!, packets: 9000 * 60 }], 60);
    assert.equal(c.attacksStarted[0]?.exceeded.find((e) => e.metric === "pps")?.source, "ema");
  });
});
