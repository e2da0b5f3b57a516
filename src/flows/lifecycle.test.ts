import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FlowGuard } from "./engine.js";
import { Proto } from "./metrics.js";
import { type Mitigation, parseMitigation } from "./mitigation.js";
import { defaultFlowGuardSettings, type FlowGuardSettingsInput } from "./settings.js";
import { type Collected, emptyCollected, run, type SyntheticFlow } from "./synthetic.js";

const T0 = Date.UTC(2026, 0, 5, 3, 0, 0);
const VICTIM = "192.0.2.10";

function guard(o: FlowGuardSettingsInput = {}): FlowGuard {
  const g = new FlowGuard(
    defaultFlowGuardSettings({
      networks: ["192.0.2.0/24"],
      baselines: { enabled: false },
      defaultGroup: { thresholds: { pps: 10_000 }, mitigation: { type: "blackhole" } },
      attacks: { endAfterSeconds: 10 },
      mitigation: { withdrawAfterSeconds: 30 },
      ...o,
    }),
  );
  g.tick(T0);
  return g;
}

const flood = (dst = VICTIM): SyntheticFlow[] => [
  {
    src: "198.18.0.1",
    dst,
    protocol: Proto.udp,
    srcPort: 4444,
    dstPort: 5060,
    packets: 20_000,
    bytes: 20_000 * 300,
  },
];
const none = (): SyntheticFlow[] => [];

/** Seconds (from T0) at which each tick returned something of a kind. */
function when(c: Collected, key: "attacksEnded" | "withdraw"): number {
  return c[key].length;
}

describe("FlowGuard mitigation lifecycle", () => {
  it("announces a blackhole, ends the attack after the hold-down and withdraws after its own hold-down", () => {
    const g = guard();
    const c = run(g, T0, 10, () => flood());
    assert.equal(c.announce.length, 1);
    const m = c.announce[0]!;
    assert.equal(m.type, "blackhole");
    if (m.type !== "blackhole") return;
    assert.equal(m.prefix, `${VICTIM}/32`);
    assert.equal(m.nextHop, "192.0.2.1");
    assert.deepEqual(m.communities, ["65535:666"]);
    assert.equal(m.dryRun, false);
    assert.equal(c.alerts[0]?.remedy, "block");

    // Flood stops at 10 s: the window empties within 5 s, the attack ends 10 s (hold-down) later.
    let t = T0 + 10_000;
    const after = emptyCollected();
    let endedAt = -1;
    let withdrawnAt = -1;
    for (let s = 1; s <= 80; s++) {
      run(g, t, 1, none, 1, after);
      t += 1000;
      if (endedAt < 0 && when(after, "attacksEnded") > 0) endedAt = s;
      if (withdrawnAt < 0 && when(after, "withdraw") > 0) withdrawnAt = s;
    }
    assert.ok(endedAt >= 10 && endedAt <= 16, `ended ${endedAt} s after the flood`);
    assert.equal(withdrawnAt - endedAt, 30);
    assert.equal(after.withdraw[0]?.id, m.id);
    assert.equal(g.mitigations().length, 0);
    assert.ok(after.attacksEnded[0]!.endedAt! < T0 + (10 + endedAt) * 1000);
  });

  it("renews a mitigation while the attack goes on and withdraws at the TTL once it is over", () => {
    const g = guard({ mitigation: { withdrawAfterSeconds: 600, ttlSeconds: { blackhole: 20 } } });
    const c = run(g, T0, 60, () => flood());
    assert.equal(c.withdraw.length, 0);
    const renewals = c.announce.filter((m) => m.id === c.announce[0]!.id);
    assert.ok(renewals.length >= 3, `announced ${renewals.length} times`);
    assert.ok(g.mitigations()[0]!.expiresAt > T0 + 60_000);
    // Over: the TTL (20 s) comes before the hold-down (600 s).
    const end = run(g, T0 + 60_000, 60, none);
    assert.equal(end.withdraw.length, 1);
  });

  it("never mitigates an address on the allow-list, and says so", () => {
    const g = guard({ mitigation: { allowList: ["192.0.2.8/29"] } });
    const c = run(g, T0, 8, () => flood());
    assert.equal(c.attacksStarted.length, 1);
    assert.equal(c.announce.length, 0);
    assert.equal(c.alerts[0]?.remedy, "alert");
    assert.match(String(c.alerts[0]?.evidence.mitigationNote), /never-mitigate/);
  });

  it("marks decisions dry-run and goes through the same lifecycle", () => {
    const g = guard({ mitigation: { dryRun: true, withdrawAfterSeconds: 5 } });
    const c = run(g, T0, 8, () => flood());
    assert.equal(c.announce[0]?.dryRun, true);
    assert.equal(c.alerts[0]?.remedy, "alert");
    const end = run(g, T0 + 8000, 40, none);
    assert.equal(end.withdraw[0]?.dryRun, true);
  });

  it("restores mitigations after a restart: withdraws expired ones, keeps and re-adopts the others", () => {
    const first = guard();
    const c = run(first, T0, 8, () => flood());
    const stored = JSON.parse(JSON.stringify(first.mitigations())) as unknown[];
    const parsed = stored.map((s) => parseMitigation(s));
    assert.ok(parsed.every((p) => p.ok));
    const m = (parsed[0] as { ok: true; value: Mitigation }).value;
    assert.equal(m.id, c.announce[0]?.id);

    // A restart before expiry: kept; the attack is still on, so it is re-adopted with the same id.
    const second = guard();
    second.restoreMitigation(m);
    second.restoreMitigation({ ...m, id: "bh-expired", expiresAt: T0 - 1 });
    const again = run(second, T0, 8, () => flood());
    assert.deepEqual(
      again.withdraw.map((w) => w.id),
      ["bh-expired"],
    );
    assert.equal(again.announce[0]?.id, m.id);
    assert.equal(again.announce[0]?.attackId, again.attacksStarted[0]?.id);
    assert.deepEqual(
      second.mitigations().map((x) => x.id),
      [m.id],
    );

    // No attack after the restart: the restored one goes at its expiry.
    const third = guard();
    third.restoreMitigation(m);
    const quiet = run(third, T0, 3700, none, 50);
    assert.equal(quiet.withdraw.length, 1);
  });

  it("lets an operator remove a mitigation without it coming back for the same attack", () => {
    const g = guard();
    const c = run(g, T0, 6, () => flood());
    const removed = g.removeMitigation(c.announce[0]!.id);
    assert.equal(removed?.id, c.announce[0]!.id);
    const more = run(g, T0 + 6000, 30, () => flood());
    assert.equal(more.announce.length, 0);
    assert.equal(g.mitigations().length, 0);
  });

  it("reclassifies an attack whose traffic changes, swapping its Flowspec rule", () => {
    const g = guard({ defaultGroup: { thresholds: { udpPps: 5000 }, mitigation: { type: "flowspec" } } });
    let port = 1024;
    const random = (): SyntheticFlow[] =>
      Array.from({ length: 50 }, () => ({
        src: "198.18.0.1",
        dst: VICTIM,
        protocol: Proto.udp,
        srcPort: port++,
        dstPort: 9,
        packets: 200,
        bytes: 200 * 500,
      }));
    const ntp = (): SyntheticFlow[] => [
      {
        src: "198.18.0.2",
        dst: VICTIM,
        protocol: Proto.udp,
        srcPort: 123,
        dstPort: 9,
        packets: 10_000,
        bytes: 10_000 * 468,
      },
    ];
    const first = run(g, T0, 6, random);
    assert.equal(first.attacksStarted[0]?.kind, "udp-flood");
    const next = run(g, T0 + 6000, 30, ntp);
    const updated = next.attacksUpdated.find((a) => a.kind === "amplification");
    assert.ok(updated, "reclassified as amplification");
    assert.equal(updated.id, first.attacksStarted[0]?.id);
    assert.equal(next.announce[0]?.type === "flowspec" && next.announce[0].match.sourcePorts[0], 123);
    assert.deepEqual(
      next.withdraw.map((m) => m.id),
      [first.announce[0]?.id],
    );
    assert.match(String(next.alerts[0]?.message), /reclassified/);
  });
});
