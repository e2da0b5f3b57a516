/**
 * End to end: a real flood inside network namespaces, seen by softflowd, exported as NetFlow v9 and
 * IPFIX to Mamori's collector, detected and classified by the flow guard, mitigated through ExaBGP
 * into BIRD, and withdrawn after the flood stops.
 *
 *   ns -a (attacker 192.0.2.66) ─ veth ─┐
 *                                       ├─ bridge in the root namespace (no address) ─ softflowd
 *   ns -v (victims .10 and .20) ─ veth ─┘     on the attacker's port, exporting to 127.0.0.1
 *   ns -m (ExaBGP, 10.255.0.1) ─ veth ─ ns -r (BIRD, 10.255.0.2): iBGP, ipv4 unicast + flow4
 *
 * Addresses exist only inside the namespaces; the root namespace only switches frames and exports
 * flows on loopback. Every flood is bounded in count and time. Skips when not root or a peer is
 * missing (scripts/install-peers.sh installs them).
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
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
  artifactsDir,
  type PeerProcess,
  requirePeer,
  startProcess,
  stopAll,
  which,
} from "../support/peers.js";

const ID = `${process.pid}`;
const NS = { a: `mamori-fg-${ID}-a`, v: `mamori-fg-${ID}-v`, m: `mamori-fg-${ID}-m`, r: `mamori-fg-${ID}-r` };
const IF = { a1: `fg${ID}a1`, v1: `fg${ID}v1`, br: `fg${ID}br` };
const ATTACKER = "192.0.2.66";
const BLACKHOLE_VICTIM = "192.0.2.10";
const FLOWSPEC_VICTIM = "192.0.2.20";

const skip =
  process.platform !== "linux" || process.getuid?.() !== 0
    ? "needs root on Linux (network namespaces)"
    : requirePeer("softflowd", "exabgp", "bird", "birdc", "ip");
// ping at 1 ms intervals makes the ICMP flood; without iputils-ping a UDP flood from random ports stands in.
const PING = which("ping");

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
}

function inNs(ns: string, ...args: string[]): void {
  ip("netns", "exec", ns, ...args);
}

/** Namespaces of this test left by an earlier run that died without cleaning up. */
function removeStale(): void {
  const list = execFileSync("ip", ["netns", "list"], { encoding: "utf8", timeout: 10_000 });
  for (const m of list.matchAll(/^mamori-fg-(\d+)-[avmr]\b/gm)) {
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive || pid === process.pid) {
      try {
        ip("netns", "del", m[0]);
      } catch {}
    }
  }
}

function noIpv6(ifname: string): void {
  // Root-side links must not get even a link-local address.
  writeFileSync(`/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`, "1");
}

function setUpNetwork(): void {
  removeStale();
  for (const ns of Object.values(NS)) ip("netns", "add", ns);
  for (const ns of Object.values(NS)) inNs(ns, "ip", "link", "set", "lo", "up");
  ip("link", "add", IF.br, "type", "bridge");
  noIpv6(IF.br);
  ip("link", "add", IF.a1, "type", "veth", "peer", "name", "a0", "netns", NS.a);
  ip("link", "add", IF.v1, "type", "veth", "peer", "name", "v0", "netns", NS.v);
  for (const i of [IF.a1, IF.v1]) {
    noIpv6(i);
    ip("link", "set", i, "master", IF.br);
    ip("link", "set", i, "up");
  }
  ip("link", "set", IF.br, "up");
  ip("-n", NS.a, "addr", "add", `${ATTACKER}/24`, "dev", "a0");
  ip("-n", NS.a, "link", "set", "a0", "up");
  ip("-n", NS.v, "addr", "add", `${BLACKHOLE_VICTIM}/24`, "dev", "v0");
  ip("-n", NS.v, "addr", "add", `${FLOWSPEC_VICTIM}/24`, "dev", "v0");
  ip("-n", NS.v, "link", "set", "v0", "up");
  ip("link", "add", "m0", "netns", NS.m, "type", "veth", "peer", "name", "r0", "netns", NS.r);
  ip("-n", NS.m, "addr", "add", "10.255.0.1/30", "dev", "m0");
  ip("-n", NS.r, "addr", "add", "10.255.0.2/30", "dev", "r0");
  ip("-n", NS.m, "link", "set", "m0", "up");
  ip("-n", NS.r, "link", "set", "r0", "up");
}

function tearDownNetwork(): void {
  for (const ns of Object.values(NS)) {
    try {
      ip("netns", "del", ns);
    } catch {}
  }
  for (const i of [IF.a1, IF.v1, IF.br]) {
    try {
      ip("link", "del", i);
    } catch {}
  }
}

function birdc(sock: string, ...cmd: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile("birdc", ["-s", sock, ...cmd], { timeout: 5000, encoding: "utf8" }, (_err, stdout) =>
      resolve(stdout ?? ""),
    );
  });
}

async function waitFor(what: string, ok: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const BIRD_CONF = (log: string) => `
router id 10.255.0.2;
log "${log}" all;
protocol device {}
# Routers map the blackhole next hop to a discard route: so does this one.
protocol static { ipv4; route 192.0.2.254/32 blackhole; }
flow4 table flowtab4;
protocol bgp mamori {
  local 10.255.0.2 as 65010;
  neighbor 10.255.0.1 as 65010;
  passive on;
  ipv4 { import all; export none; gateway recursive; };
  flow4 { table flowtab4; import all; export none; };
}
`;

/**
 * A bounded UDP flood as a node one-liner: `size`-byte datagrams from `port` (0: a new random port
 * per socket, 16 sockets), at most 60 000 in 8 s.
 */
const udpFlood = (port: number, size: number, victim: string): string => `
const dgram = require("node:dgram");
const socks = Array.from({ length: ${port === 0 ? 16 : 1} }, () => dgram.createSocket("udp4"));
let bound = 0;
for (const s of socks) s.bind(${port}, "${ATTACKER}", () => { if (++bound === socks.length) go(); });
function go() {
  const buf = Buffer.alloc(${size}, 0x17);
  const end = Date.now() + 8000;
  let sent = 0;
  const burst = () => {
    for (let i = 0; i < 80 && sent < 60000; i++, sent++) socks[sent % socks.length].send(buf, 40000, "${victim}");
    if (sent < 60000 && Date.now() < end) setTimeout(burst, 10);
    else setTimeout(() => socks.forEach((s) => s.close()), 200);
  };
  burst();
}
`;

describe("flow guard end to end: softflowd -> collector -> engine -> ExaBGP -> BIRD", {
  skip,
  timeout: 180_000,
}, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {}
    }
    await stopAll();
    tearDownNetwork();
  });

  it("blackholes an ICMP flood, filters NTP amplification by Flowspec, and withdraws both after the hold-down", async () => {
    const dir = artifactsDir("flow-guard", `run-${Date.now()}-${ID}`);
    setUpNetwork();

    // BIRD, the router that receives the mitigations.
    const birdSock = join(dir, "bird.ctl");
    writeFileSync(join(dir, "bird.conf"), BIRD_CONF(join(dir, "bird.log")));
    await startProcess(
      "ip",
      ["netns", "exec", NS.r, which("bird") ?? "bird", "-f", "-c", join(dir, "bird.conf"), "-s", birdSock],
      {
        name: "bird",
        logDir: dir,
        readyWhen: async () => (await birdc(birdSock, "show", "status")).includes("Daemon is up"),
      },
    );

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
        mitigation: { withdrawAfterSeconds: 4, bgp: { nextHop4: "192.0.2.254" } },
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
      neighbors: [
        exabgpNeighborSchema.parse({
          neighbor: "10.255.0.2",
          localAddress: "10.255.0.1",
          routerId: "10.255.0.1",
          localAs: 65010,
          peerAs: 65010,
          families: ["ipv4 unicast", "ipv4 flow"],
        }),
      ],
      runDir: join(dir, "exabgp"),
      netns: NS.m,
      restartAfterMs: 1000,
      onLog: (l) => exaLog.push(l),
      onEvent: (e) => events.push(e),
    });
    cleanups.push(async () => {
      await speaker.stop();
      writeFileSync(join(dir, "exabgp.log"), `${exaLog.join("\n")}\n${JSON.stringify(events, null, 1)}\n`);
    });
    await waitFor(
      "the BGP session",
      async () => /mamori\s+BGP\s+\S+\s+up\b.*Established/.test(await birdc(birdSock, "show", "protocols")),
      30_000,
    );

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
    const sf = (version: string, port: number | undefined, filter: string): Promise<PeerProcess> =>
      startProcess(
        "softflowd",
        [
          "-d",
          "-i",
          IF.a1,
          "-n",
          `127.0.0.1:${port}`,
          "-v",
          version,
          "-c",
          join(dir, `sf${version}.ctl`),
          "-p",
          join(dir, `sf${version}.pid`),
          "-t",
          "maxlife=3",
          "-t",
          "expint=1",
          "-t",
          "icmp=2",
          "-t",
          "udp=2",
          "-t",
          "general=2",
          filter,
        ],
        { name: `softflowd-v${version}`, logDir: dir },
      );
    await sf("9", collector.ports.netflow, `icmp or (udp and dst host ${BLACKHOLE_VICTIM})`);
    await sf("10", collector.ports.ipfix, `udp and not dst host ${BLACKHOLE_VICTIM}`);
    await sleep(500);

    // The floods: bounded by count and time.
    const flood1 = PING
      ? await startProcess(
          "ip",
          ["netns", "exec", NS.a, PING, "-q", "-i", "0.001", "-c", "8000", "-w", "10", BLACKHOLE_VICTIM],
          { name: "ping-flood", logDir: dir },
        )
      : await startProcess(
          "ip",
          ["netns", "exec", NS.a, process.execPath, "-e", udpFlood(0, 200, BLACKHOLE_VICTIM)],
          { name: "udp-flood", logDir: dir },
        );
    const flood2 = await startProcess(
      "ip",
      ["netns", "exec", NS.a, process.execPath, "-e", udpFlood(123, 468, FLOWSPEC_VICTIM)],
      { name: "ntp-flood", logDir: dir },
    );

    const hasBlackhole = async (): Promise<boolean> => {
      const out = await birdc(birdSock, "show", "route", `${BLACKHOLE_VICTIM}/32`, "all");
      return out.includes(`${BLACKHOLE_VICTIM}/32`) && out.includes("(65535,666)");
    };
    const hasFlowspec = async (): Promise<boolean> => {
      const out = await birdc(birdSock, "show", "route", "table", "flowtab4", "all");
      return out.includes(`dst ${FLOWSPEC_VICTIM}/32`) && out.includes("sport 123");
    };
    try {
      await waitFor(
        "the blackhole route and the Flowspec rule in BIRD",
        async () => (await hasBlackhole()) && (await hasFlowspec()),
        40_000,
      );
    } finally {
      writeFileSync(
        join(dir, "bird-routes.txt"),
        (await birdc(birdSock, "show", "route", "all")) +
          (await birdc(birdSock, "show", "route", "table", "flowtab4", "all")),
      );
    }
    const icmp = started.find((a) => a.victim.type === "host" && a.victim.address === BLACKHOLE_VICTIM);
    const ntp = started.find((a) => a.victim.type === "host" && a.victim.address === FLOWSPEC_VICTIM);
    assert.equal(icmp?.kind, PING ? "icmp-flood" : "udp-flood");
    assert.equal(ntp?.kind, "amplification");
    assert.deepEqual(ntp?.services, ["ntp"]);
    const fs = announced.find((m) => m.type === "flowspec");
    assert.ok(fs && fs.type === "flowspec" && fs.match.sourcePorts.includes(123));
    const route = await birdc(birdSock, "show", "route", "table", "flowtab4", "all");
    assert.match(route, /proto 17/);

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
