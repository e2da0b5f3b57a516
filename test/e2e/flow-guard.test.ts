/**
 * End to end: a real flood inside network namespaces, seen by softflowd, exported as NetFlow v9 and
 * IPFIX to Mamori's collector, detected and classified by the flow guard, mitigated through ExaBGP
 * into BIRD, and withdrawn after the flood stops. The engine, collector and speaker are driven here
 * directly; flow-guard-service.test.ts runs the same path through `mamori serve`. The network is
 * test/support/flow-lab.ts. Skips when not root or a peer is missing (scripts/install-peers.sh
 * installs them).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { exabgpNeighborSchema } from "../../src/adapters/actions/exabgp/config.js";
import { type ExabgpEvent, ExabgpSpeaker } from "../../src/adapters/actions/exabgp/exabgp.js";
import { type FlowCollector, startFlowCollector } from "../../src/adapters/ingest/flow-collector.js";
import type { Attack } from "../../src/flows/attack.js";
import { FlowGuard } from "../../src/flows/engine.js";
import type { Mitigation } from "../../src/flows/mitigation.js";
import { defaultFlowGuardSettings } from "../../src/flows/settings.js";
import {
  DISCARD_NEXT_HOP,
  type Flood,
  FlowLab,
  flowLabSkip,
  labNeighbor,
  waitFor,
} from "../support/flow-lab.js";
import { artifactsDir, stopAll, which } from "../support/peers.js";

const BLACKHOLE_VICTIM = "192.0.2.10";
const FLOWSPEC_VICTIM = "192.0.2.20";

const skip = flowLabSkip("softflowd");
// ping at 1 ms intervals makes the ICMP flood; without iputils-ping a UDP flood from random ports stands in.
const PING = which("ping");

describe("flow guard end to end: softflowd -> collector -> engine -> ExaBGP -> BIRD", {
  skip,
  timeout: 180_000,
}, () => {
  const dir = artifactsDir("flow-guard", `run-${Date.now()}-${process.pid}`);
  const lab = new FlowLab("fg", [BLACKHOLE_VICTIM, FLOWSPEC_VICTIM], dir);
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {}
    }
    await stopAll();
    await lab.tearDown();
  });

  it("blackholes an ICMP flood, filters NTP amplification by Flowspec, and withdraws both after the hold-down", async () => {
    lab.setUp();
    // BIRD, the router that receives the mitigations.
    const bird = await lab.startBird();

    // The flow guard: engine, collector, ExaBGP.
    const guard = new FlowGuard(
      defaultFlowGuardSettings({
        networks: ["192.0.2.0/27"],
        hostGroups: [
          {
            name: "edge",
            prefixes: [`${BLACKHOLE_VICTIM}/32`],
            thresholds: { icmpPps: 300, udpPps: 300 },
            mitigation: { type: "blackhole" },
          },
          {
            name: "voip",
            prefixes: [`${FLOWSPEC_VICTIM}/32`],
            thresholds: { udpPps: 300 },
            mitigation: { type: "flowspec" },
          },
        ],
        baselines: { enabled: false },
        windowSeconds: 3,
        attacks: { endAfterSeconds: 4 },
        mitigation: { withdrawAfterSeconds: 4, bgp: { nextHop4: DISCARD_NEXT_HOP } },
      }),
    );
    guard.tick(Date.now());
    const collector: FlowCollector = await startFlowCollector({
      host: "127.0.0.1",
      netflowPort: 0,
      ipfixPort: 0,
      sflowPort: false,
      onRecord: (r) => guard.count(r),
    });
    cleanups.push(() => collector.close());
    const events: ExabgpEvent[] = [];
    const exaLog: string[] = [];
    const speaker = await ExabgpSpeaker.start({
      neighbors: [exabgpNeighborSchema.parse(labNeighbor())],
      runDir: join(dir, "exabgp"),
      netns: lab.ns.m,
      restartAfterMs: 1000,
      onLog: (l) => exaLog.push(l),
      onEvent: (e) => events.push(e),
    });
    cleanups.push(async () => {
      await speaker.stop();
      writeFileSync(join(dir, "exabgp.log"), `${exaLog.join("\n")}\n${JSON.stringify(events, null, 1)}\n`);
    });
    await waitFor("the BGP session", () => bird.established(), 30_000);

    const started: Attack[] = [];
    const ended: Attack[] = [];
    const announced: Mitigation[] = [];
    const withdrawn: Mitigation[] = [];
    const ticker = setInterval(() => {
      const r = guard.tick(Date.now());
      started.push(...r.attacksStarted);
      ended.push(...r.attacksEnded);
      for (const m of r.announce) {
        announced.push(m);
        speaker.announce(m);
      }
      for (const m of r.withdraw) {
        withdrawn.push(m);
        speaker.withdraw(m);
      }
    }, 1000);
    cleanups.push(() => clearInterval(ticker));

    // softflowd on the attacker's port of the bridge: ICMP as NetFlow v9, UDP as IPFIX.
    const ports = { v9: collector.ports.netflow ?? 0, ipfix: collector.ports.ipfix ?? 0 };
    await lab.softflowd({
      name: "icmp",
      version: 9,
      port: ports.v9,
      maxlife: 3,
      filter: `icmp or (udp and dst host ${BLACKHOLE_VICTIM})`,
    });
    await lab.softflowd({
      name: "udp",
      version: 10,
      port: ports.ipfix,
      maxlife: 3,
      filter: `udp and not dst host ${BLACKHOLE_VICTIM}`,
    });
    await sleep(500);

    // The floods: bounded by count and time.
    const flood1: Flood = PING
      ? await lab.icmpFlood({ name: "ping-flood", victim: BLACKHOLE_VICTIM, count: 8000, seconds: 10 })
      : await lab.udpFlood({
          name: "udp-flood",
          victim: BLACKHOLE_VICTIM,
          sourcePort: 0,
          size: 200,
          pps: 7500,
          seconds: 8,
        });
    const flood2 = await lab.udpFlood({
      name: "ntp-flood",
      victim: FLOWSPEC_VICTIM,
      sourcePort: 123,
      size: 468,
      pps: 7500,
      seconds: 8,
    });

    const hasBlackhole = () => bird.hasBlackhole(BLACKHOLE_VICTIM);
    const hasFlowspec = () => bird.hasFlowspec(FLOWSPEC_VICTIM, 123);
    try {
      await waitFor(
        "the blackhole route and the Flowspec rule in BIRD",
        async () => (await hasBlackhole()) && (await hasFlowspec()),
        40_000,
      );
    } finally {
      writeFileSync(join(dir, "bird-routes.txt"), await bird.dump());
    }
    const icmp = started.find((a) => a.victim.type === "host" && a.victim.address === BLACKHOLE_VICTIM);
    const ntp = started.find((a) => a.victim.type === "host" && a.victim.address === FLOWSPEC_VICTIM);
    assert.equal(icmp?.kind, PING ? "icmp-flood" : "udp-flood");
    assert.equal(ntp?.kind, "amplification");
    assert.deepEqual(ntp?.services, ["ntp"]);
    const fs = announced.find((m) => m.type === "flowspec");
    assert.ok(fs && fs.type === "flowspec" && fs.match.sourcePorts.includes(123));
    assert.match(await bird.flowspecTable(), /proto 17/);

    // The floods stop (by their bounds, or now); the routes go after the two hold-downs.
    await Promise.all([flood1.waitForExit(15_000), flood2.waitForExit(15_000)]);
    await waitFor(
      "the withdrawals in BIRD",
      async () => !(await hasBlackhole()) && !(await hasFlowspec()),
      60_000,
    );
    assert.ok(ended.some((a) => a.id === icmp?.id));
    assert.ok(ended.some((a) => a.id === ntp?.id));
    assert.deepEqual(new Set(withdrawn.map((m) => m.id)), new Set(announced.map((m) => m.id)));
    assert.equal(speaker.stats.errors, 0, `ExaBGP refused a command; see ${dir}`);
  });
});
