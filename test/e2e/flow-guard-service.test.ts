/**
 * End to end through the real service: `mamori serve` with a `flowGuard` section receives NetFlow v9
 * and IPFIX from softflowd watching a flood inside the lab's namespaces (test/support/flow-lab.ts),
 * and mitigates through the ExaBGP it runs in the lab's BGP namespace into BIRD. Mamori is restarted
 * in the middle of the attack on the same database: the mitigations stay listed and their routes
 * come back at once; once the flood stops they are withdrawn and nothing stays behind, neither in
 * BIRD nor in the API. Skips when not root or a peer is missing (scripts/install-peers.sh).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type Bird,
  DISCARD_NEXT_HOP,
  type Flood,
  FlowLab,
  flowLabSkip,
  LAB_NETWORK,
  labNeighbor,
  waitFor,
} from "../support/flow-lab.js";
import { client, type MamoriProcess, startMamori } from "../support/mamori-process.js";
import { artifactsDir, freePort, stopAll } from "../support/peers.js";

const BLACKHOLE_VICTIM = "192.0.2.10";
const FLOWSPEC_VICTIM = "192.0.2.20";
/** The floods' bounds: long enough for detection, a restart and detection again; stopped sooner. */
const FLOOD_SECONDS = 75;

const skip = flowLabSkip("softflowd", "softflowctl", "ping");

type ApiAttack = {
  id: string;
  victim: string;
  kind: string;
  services: string[];
  startedAt: string;
  active: boolean;
};
type ApiMitigation = {
  id: string;
  type: string;
  prefix?: string;
  match?: { destination: string; sourcePorts: number[] };
  active: boolean;
  withdrawnAt: string | null;
  withdrawnBy: string | null;
};

function flowGuardConfig(o: { netflow: number; ipfix: number; runDir: string; netns: string }): string {
  // JSON is YAML: the file is written the way an operator's would be read.
  return JSON.stringify(
    {
      flowGuard: {
        enabled: true,
        collector: { host: "127.0.0.1", netflowPort: o.netflow, ipfixPort: o.ipfix, sflowPort: false },
        settings: {
          networks: [LAB_NETWORK],
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
          // TTLs stay at their defaults (an hour, half an hour): only the hold-down may take the
          // routes out, so a mitigation left behind by the restart would show.
          mitigation: { withdrawAfterSeconds: 4, bgp: { nextHop4: DISCARD_NEXT_HOP } },
        },
        exabgp: { neighbors: [labNeighbor()], runDir: o.runDir, netns: o.netns, restartAfterMs: 1000 },
      },
    },
    null,
    2,
  );
}

describe("flow guard through mamori serve: NetFlow v9 and IPFIX in, RTBH and Flowspec out, across a restart", {
  skip,
  timeout: 240_000,
}, () => {
  const dir = artifactsDir("flow-guard-service", `run-${Date.now()}-${process.pid}`);
  const lab = new FlowLab("fgs", [BLACKHOLE_VICTIM, FLOWSPEC_VICTIM], dir);
  const mamoris: MamoriProcess[] = [];
  after(async () => {
    for (const [i, m] of mamoris.entries()) {
      await m.stop().catch(() => {});
      writeFileSync(join(dir, `mamori-${i + 1}.log`), m.output());
    }
    await stopAll();
    await lab.tearDown();
  });

  it("detects, announces, survives a restart mid-attack, and withdraws after the flood", async () => {
    lab.setUp();
    const bird: Bird = await lab.startBird();
    const ports = { netflow: await freePort(), ipfix: await freePort() };
    const config = flowGuardConfig({ ...ports, runDir: join(dir, "exabgp"), netns: lab.ns.m });
    writeFileSync(join(dir, "mamori.yaml"), config);

    const first = await startMamori({ config });
    mamoris.push(first);
    assert.ok(first.adminKey, "the first start prints an admin key");
    const key = first.adminKey;
    let api = client(first.url, key);
    const attacks = async (active: boolean): Promise<ApiAttack[]> =>
      (await api("GET", `/v1/attacks${active ? "?active=true" : ""}`)).json?.attacks ?? [];
    const mitigations = async (active: boolean): Promise<ApiMitigation[]> =>
      (await api("GET", `/v1/mitigations${active ? "?active=true" : ""}`)).json?.mitigations ?? [];
    await waitFor("the BGP session from Mamori's ExaBGP to BIRD", () => bird.established(), 30_000);

    // softflowd on the attacker's port: the ICMP flood as NetFlow v9, the NTP flood as IPFIX.
    await lab.softflowd({ name: "icmp", version: 9, port: ports.netflow, maxlife: 3, filter: "icmp" });
    await lab.softflowd({ name: "udp", version: 10, port: ports.ipfix, maxlife: 3, filter: "udp" });
    await sleep(500);
    const floods: Flood[] = [
      await lab.icmpFlood({
        name: "ping-flood",
        victim: BLACKHOLE_VICTIM,
        count: FLOOD_SECONDS * 1000,
        seconds: FLOOD_SECONDS,
      }),
      await lab.udpFlood({
        name: "ntp-flood",
        victim: FLOWSPEC_VICTIM,
        sourcePort: 123,
        size: 468,
        pps: 2000,
        seconds: FLOOD_SECONDS,
      }),
    ];

    const hasBlackhole = () => bird.hasBlackhole(BLACKHOLE_VICTIM);
    const hasFlowspec = () => bird.hasFlowspec(FLOWSPEC_VICTIM, 123);
    const bothInBird = async () => (await hasBlackhole()) && (await hasFlowspec());
    const noneInBird = async () => !(await hasBlackhole()) && !(await hasFlowspec());
    try {
      await waitFor("the blackhole route and the Flowspec rule in BIRD", bothInBird, 40_000);
    } finally {
      writeFileSync(join(dir, "bird-routes-1.txt"), await bird.dump());
    }

    // The API tells what happened, and why.
    const before = await attacks(true);
    const icmp = before.find((a) => a.victim === BLACKHOLE_VICTIM);
    const ntp = before.find((a) => a.victim === FLOWSPEC_VICTIM);
    assert.equal(icmp?.kind, "icmp-flood", JSON.stringify(before));
    assert.equal(ntp?.kind, "amplification", JSON.stringify(before));
    assert.deepEqual(ntp?.services, ["ntp"]);
    const placed = await mitigations(true);
    const blackhole = placed.find((m) => m.type === "blackhole" && m.prefix === `${BLACKHOLE_VICTIM}/32`);
    const flowspec = placed.find(
      (m) => m.type === "flowspec" && m.match?.destination === `${FLOWSPEC_VICTIM}/32`,
    );
    assert.ok(blackhole && flowspec, JSON.stringify(placed));
    assert.deepEqual(flowspec.match?.sourcePorts, [123]);
    assert.match(await bird.flowspecTable(), /proto 17/);
    const ids = [blackhole.id, flowspec.id].sort();

    // Restart in the middle of the attack, on the same database.
    await first.stop();
    const stoppedAt = Date.now();
    const second = await startMamori({ config, db: first.db });
    mamoris.push(second);
    api = client(second.url, key);
    const upAt = Date.now();
    // The new collector knows no NetFlow v9 or IPFIX template (they are not kept across a restart)
    // and softflowd repeats its own only every 16 datagrams, here about a minute apart: it is asked
    // to send them now, as an exporter with a short template refresh would.
    lab.resendTemplates();
    const listed = (await mitigations(true)).map((m) => m.id).sort();
    assert.deepEqual(listed, ids, "the mitigations in force are listed again at once");
    // ExaBGP went down with the first process, and BIRD dropped the session's routes with it; the
    // second process announces what the store says is in force as soon as its session is up.
    await waitFor("the routes back in BIRD after the restart", bothInBird, 15_000, 100);
    const backAt = Date.now();
    writeFileSync(
      join(dir, "restart.txt"),
      `stopped→up ${upAt - stoppedAt} ms, up→routes back ${backAt - upAt} ms, gap ${backAt - stoppedAt} ms\n`,
    );

    // The flood goes on: the new process sees the attacks again, and they adopt the restored
    // mitigations (the same ids: a mitigation's id is what it does) instead of placing new ones.
    await waitFor(
      "the attacks detected again after the restart",
      async () => {
        const again = (await attacks(true)).filter((a) => Date.parse(a.startedAt) >= stoppedAt);
        return (
          again.some((a) => a.victim === BLACKHOLE_VICTIM) && again.some((a) => a.victim === FLOWSPEC_VICTIM)
        );
      },
      30_000,
    );
    const seenAgainAt = Date.now();
    assert.deepEqual((await mitigations(true)).map((m) => m.id).sort(), ids, "no mitigation was added");
    assert.ok(await bothInBird(), "the routes stay while the attack goes on");

    // The flood stops: after the hold-downs the routes go, and nothing stays in force.
    for (const f of floods) await f.stop();
    const floodEnd = Date.now();
    try {
      await waitFor("the withdrawals in BIRD", noneInBird, 45_000);
    } finally {
      writeFileSync(join(dir, "bird-routes-2.txt"), await bird.dump());
    }
    const withdrawnAfter = Date.now() - floodEnd;
    await waitFor("no mitigation in force", async () => (await mitigations(true)).length === 0, 5000);
    const all = await mitigations(false);
    for (const id of ids) {
      const m = all.find((x) => x.id === id);
      assert.ok(m, `mitigation ${id} is still listed`);
      assert.equal(m.active, false);
      assert.ok(m.withdrawnAt !== null, `mitigation ${id} was withdrawn`);
      assert.equal(m.withdrawnBy, "engine");
    }
    assert.equal(all.length, 2, JSON.stringify(all));
    await waitFor("no attack under way", async () => (await attacks(true)).length === 0, 10_000);
    // The attacks open at the restart were ended by it, not left open forever.
    const history = await attacks(false);
    for (const a of [icmp, ntp]) assert.equal(history.find((x) => x.id === a.id)?.active, false);
    const health = await api("GET", "/health");
    assert.equal(health.json?.checks?.flowGuard?.bgp?.errors, 0, `ExaBGP refused a command; see ${dir}`);
    writeFileSync(
      join(dir, "restart.txt"),
      `up→attacks seen again ${seenAgainAt - upAt} ms; withdrawn ${withdrawnAfter} ms after the flood stopped\n`,
      {
        flag: "a",
      },
    );
  });
});
