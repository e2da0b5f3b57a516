/**
 * A small network for the flow guard's end-to-end tests and benchmarks: an attacker and its victims
 * on a bridge that a flow exporter watches, and a BGP link from the namespace where ExaBGP runs to a
 * BIRD router that receives the mitigations.
 *
 *   ns -a (attacker 192.0.2.66) ─ veth ─┐
 *                                       ├─ bridge in the root namespace (no address) ─ exporters
 *   ns -v (the victims)         ─ veth ─┘     on the attacker's port, exporting to 127.0.0.1
 *   ns -m (ExaBGP, 198.51.100.1) ─ veth ─ ns -r (BIRD, 198.51.100.2): iBGP, ipv4 unicast + flow4
 *
 * Addresses (TEST-NET ranges) exist only inside the namespaces this lab creates; the root namespace only switches frames and exports
 * flows on loopback. Every flood is bounded in count and time. Names carry a short tag and the
 * process id, so that labs of concurrent runs never meet, and a lab left by a run that died is
 * removed by the next one with the same tag.
 */
import { execFile, execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ExabgpNeighborInput } from "../../src/adapters/actions/exabgp/config.js";
import { type PeerProcess, requirePeer, startProcess, which } from "./peers.js";

export const ATTACKER = "192.0.2.66";
/** The protected network of the lab; victims take addresses in it. */
export const LAB_NETWORK = "192.0.2.0/27";
/** The blackhole next hop, which BIRD maps to a discard route as routers do. */
export const DISCARD_NEXT_HOP = "192.0.2.254";
export const BGP = { exabgp: "198.51.100.1", bird: "198.51.100.2", as: 65010 } as const;

/** The ExaBGP neighbor that peers with the lab's BIRD, for the speaker or a `flowGuard.exabgp` section. */
export const labNeighbor = (): ExabgpNeighborInput => ({
  neighbor: BGP.bird,
  localAddress: BGP.exabgp,
  routerId: BGP.exabgp,
  localAs: BGP.as,
  peerAs: BGP.as,
  families: ["ipv4 unicast", "ipv4 flow"],
});

/** Why the lab cannot be built here (not root, or a program missing), or undefined. */
export function flowLabSkip(...more: string[]): string | undefined {
  if (process.platform !== "linux" || process.getuid?.() !== 0)
    return "needs root on Linux (network namespaces)";
  return requirePeer("ip", "bird", "birdc", "exabgp", ...more);
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
}

function quietly(f: () => void): void {
  try {
    f();
  } catch {
    // Already gone.
  }
}

function noIpv6(ifname: string): void {
  // Root-side links must not get even a link-local address.
  writeFileSync(`/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`, "1");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes running inside a namespace (`ip netns pids`). */
function pidsIn(ns: string): number[] {
  try {
    return execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8", timeout: 5000 })
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export type Flood = PeerProcess & {
  /** When the first packet went out (epoch ms, the flood's own clock reading). */
  readonly startedAt: () => Promise<number>;
};

export class FlowLab {
  readonly ns: { readonly a: string; readonly v: string; readonly m: string; readonly r: string };
  readonly ifs: { readonly a1: string; readonly v1: string; readonly br: string };
  private readonly pattern: RegExp;
  /** Control sockets of the softflowd instances started here. */
  private readonly controls: string[] = [];

  /** `tag`: 2 to 4 letters naming the user of the lab (interface names have 15 characters at most). */
  constructor(
    private readonly tag: string,
    private readonly victims: readonly string[],
    private readonly dir: string,
  ) {
    if (!/^[a-z]{2,4}$/.test(tag)) throw new Error(`lab tag must be 2 to 4 lowercase letters: ${tag}`);
    const id = process.pid;
    this.ns = {
      a: `mamori-${tag}-${id}-a`,
      v: `mamori-${tag}-${id}-v`,
      m: `mamori-${tag}-${id}-m`,
      r: `mamori-${tag}-${id}-r`,
    };
    this.ifs = { a1: `${tag}${id}a1`, v1: `${tag}${id}v1`, br: `${tag}${id}br` };
    this.pattern = new RegExp(`^mamori-${tag}-(\\d+)-[avmr]\\b`, "gm");
  }

  /** Builds the namespaces and links (after removing what a dead run of the same tag left). */
  setUp(): void {
    this.removeStale();
    const { ns, ifs } = this;
    for (const n of Object.values(ns)) ip("netns", "add", n);
    for (const n of Object.values(ns)) ip("-n", n, "link", "set", "lo", "up");
    ip("link", "add", ifs.br, "type", "bridge");
    noIpv6(ifs.br);
    ip("link", "add", ifs.a1, "type", "veth", "peer", "name", "a0", "netns", ns.a);
    ip("link", "add", ifs.v1, "type", "veth", "peer", "name", "v0", "netns", ns.v);
    for (const i of [ifs.a1, ifs.v1]) {
      noIpv6(i);
      ip("link", "set", i, "master", ifs.br);
      ip("link", "set", i, "up");
    }
    ip("link", "set", ifs.br, "up");
    ip("-n", ns.a, "addr", "add", `${ATTACKER}/24`, "dev", "a0");
    ip("-n", ns.a, "link", "set", "a0", "up");
    for (const v of this.victims) ip("-n", ns.v, "addr", "add", `${v}/24`, "dev", "v0");
    ip("-n", ns.v, "link", "set", "v0", "up");
    ip("link", "add", "m0", "netns", ns.m, "type", "veth", "peer", "name", "r0", "netns", ns.r);
    ip("-n", ns.m, "addr", "add", `${BGP.exabgp}/30`, "dev", "m0");
    ip("-n", ns.r, "addr", "add", `${BGP.bird}/30`, "dev", "r0");
    ip("-n", ns.m, "link", "set", "m0", "up");
    ip("-n", ns.r, "link", "set", "r0", "up");
  }

  /**
   * Ends every process still inside the lab's namespaces (BIRD, floods, and an ExaBGP whose parent
   * was killed before it could stop it), then removes the namespaces and links.
   */
  async tearDown(): Promise<void> {
    this.killInside(process.pid);
    await sleep(100);
    this.remove(process.pid);
  }

  private killInside(id: number): void {
    for (const k of ["a", "v", "m", "r"]) {
      for (const pid of pidsIn(`mamori-${this.tag}-${id}-${k}`)) quietly(() => process.kill(pid, "SIGKILL"));
    }
  }

  private remove(id: number): void {
    for (const k of ["a", "v", "m", "r"]) quietly(() => ip("netns", "del", `mamori-${this.tag}-${id}-${k}`));
    for (const k of ["a1", "v1", "br"]) quietly(() => ip("link", "del", `${this.tag}${id}${k}`));
  }

  /** Labs of this tag left by runs that are no longer alive. */
  private removeStale(): void {
    const list = execFileSync("ip", ["netns", "list"], { encoding: "utf8", timeout: 10_000 });
    const dead = new Set<number>();
    for (const m of list.matchAll(this.pattern)) {
      const pid = Number(m[1]);
      if (pid === process.pid || !alive(pid)) dead.add(pid);
    }
    for (const pid of dead) {
      this.killInside(pid);
      this.remove(pid);
    }
  }

  /** BIRD in the router namespace, passive on the iBGP session, with a flow4 table. */
  async startBird(): Promise<Bird> {
    const sock = join(this.dir, "bird.ctl");
    const conf = join(this.dir, "bird.conf");
    writeFileSync(conf, birdConf(join(this.dir, "bird.log")));
    const bird = new Bird(sock);
    await startProcess(
      "ip",
      ["netns", "exec", this.ns.r, which("bird") ?? "bird", "-f", "-c", conf, "-s", sock],
      {
        name: "bird",
        logDir: this.dir,
        readyWhen: async () => (await bird.c("show", "status")).includes("Daemon is up"),
      },
    );
    return bird;
  }

  /**
   * softflowd on the attacker's port of the bridge, exporting to `port` on 127.0.0.1 (softflowd 1.1
   * sends to its last -n only): version 9 (NetFlow v9) or 10 (IPFIX), with the active timeout
   * `maxlife` seconds and idle timeouts of 2 s.
   */
  softflowd(o: {
    name: string;
    version: 9 | 10;
    port: number;
    maxlife: number;
    filter: string;
  }): Promise<PeerProcess> {
    const tag = `${o.name}-v${o.version}`;
    this.controls.push(join(this.dir, `${tag}.ctl`));
    return startProcess(
      "softflowd",
      [
        "-d",
        "-i",
        this.ifs.a1,
        "-n",
        `127.0.0.1:${o.port}`,
        "-v",
        String(o.version),
        "-c",
        join(this.dir, `${tag}.ctl`),
        "-p",
        join(this.dir, `${tag}.pid`),
        "-t",
        `maxlife=${o.maxlife}`,
        "-t",
        "expint=1",
        "-t",
        "icmp=2",
        "-t",
        "udp=2",
        "-t",
        "general=2",
        o.filter,
      ],
      { name: `softflowd-${tag}`, logDir: this.dir },
    );
  }

  /**
   * Asks every softflowd started here to send its templates with the next export. softflowd sends
   * them only at start and then with every 16th datagram, which with a few flows is minutes apart;
   * a collector that has just started cannot decode NetFlow v9 or IPFIX data until they come.
   */
  resendTemplates(): void {
    for (const ctl of this.controls)
      execFileSync("softflowctl", ["-c", ctl, "send-template"], { stdio: "ignore", timeout: 5000 });
  }

  /**
   * A UDP flood from the attacker: `size`-byte datagrams from `sourcePort` (0: a random port per
   * socket, over `sockets` sockets) at about `pps` packets per second, at most `seconds` long and
   * `pps × seconds` packets. Stop it earlier with stop().
   */
  async udpFlood(o: {
    name: string;
    victim: string;
    sourcePort: number;
    size: number;
    pps: number;
    seconds: number;
    sockets?: number;
  }): Promise<Flood> {
    const p = await startProcess(
      "ip",
      [
        "netns",
        "exec",
        this.ns.a,
        process.execPath,
        "-e",
        udpFloodScript({ ...o, sockets: o.sockets ?? (o.sourcePort === 0 ? 16 : 1) }),
      ],
      { name: o.name, logDir: this.dir },
    );
    return withStart(p, /^flood start (\d+)$/m);
  }

  /** An ICMP echo flood (ping at 1 ms intervals): at most `count` packets in `seconds`. */
  async icmpFlood(o: { name: string; victim: string; count: number; seconds: number }): Promise<Flood> {
    const ping = which("ping");
    if (!ping) throw new Error("ping is not installed (iputils-ping)");
    const t0 = Date.now();
    const p = await startProcess(
      "ip",
      [
        "netns",
        "exec",
        this.ns.a,
        ping,
        "-q",
        "-i",
        "0.001",
        "-c",
        String(o.count),
        "-w",
        String(o.seconds),
        o.victim,
      ],
      { name: o.name, logDir: this.dir },
    );
    return Object.assign(p, { startedAt: async () => t0 });
  }
}

function withStart(p: PeerProcess, line: RegExp): Flood {
  const startedAt = async (): Promise<number> => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const m = line.exec(p.output());
      if (m) return Number(m[1]);
      await sleep(20);
    }
    throw new Error(`${p.command} did not say when it started; see ${p.logFile}`);
  };
  return Object.assign(p, { startedAt });
}

/**
 * The flood as a node one-liner run inside the attacker's namespace. It paces itself on the clock
 * (every 5 ms it sends what is due), prints when the first packet went out, and stops at its bounds.
 */
export function udpFloodScript(o: {
  victim: string;
  sourcePort: number;
  size: number;
  pps: number;
  seconds: number;
  sockets: number;
}): string {
  const max = Math.ceil(o.pps * o.seconds);
  return `
const dgram = require("node:dgram");
const socks = Array.from({ length: ${o.sockets} }, () => dgram.createSocket("udp4"));
let bound = 0;
for (const s of socks) s.bind(${o.sourcePort}, "${ATTACKER}", () => { if (++bound === socks.length) go(); });
function go() {
  const buf = Buffer.alloc(${o.size}, 0x17);
  const t0 = Date.now();
  let sent = 0;
  console.log("flood start " + t0);
  const burst = () => {
    const now = Date.now();
    const due = Math.min(${max}, Math.floor(((now - t0) * ${o.pps}) / 1000) + 1);
    for (; sent < due; sent++) socks[sent % socks.length].send(buf, 40000, "${o.victim}");
    if (sent < ${max} && now - t0 < ${o.seconds * 1000}) setTimeout(burst, 5);
    else setTimeout(() => { console.log("flood end " + Date.now() + " sent " + sent); socks.forEach((s) => s.close()); }, 200);
  };
  burst();
}
`;
}

function birdConf(log: string): string {
  return `
router id ${BGP.bird};
log "${log}" all;
protocol device {}
# Routers map the blackhole next hop to a discard route: so does this one.
protocol static { ipv4; route ${DISCARD_NEXT_HOP}/32 blackhole; }
flow4 table flowtab4;
protocol bgp mamori {
  local ${BGP.bird} as ${BGP.as};
  neighbor ${BGP.exabgp} as ${BGP.as};
  passive on;
  ipv4 { import all; export none; gateway recursive; };
  flow4 { table flowtab4; import all; export none; };
}
`;
}

/** The lab's router, read through birdc. */
export class Bird {
  constructor(readonly sock: string) {}

  /** A birdc command's output ("" when birdc fails or takes over 5 s). */
  c(...cmd: string[]): Promise<string> {
    return new Promise((resolve) => {
      execFile("birdc", ["-s", this.sock, ...cmd], { timeout: 5000, encoding: "utf8" }, (_err, stdout) =>
        resolve(stdout ?? ""),
      );
    });
  }

  async established(): Promise<boolean> {
    return /mamori\s+BGP\s+\S+\s+up\b.*Established/.test(await this.c("show", "protocols"));
  }

  /** The victim's /32 with the BLACKHOLE community (65535:666). */
  async hasBlackhole(victim: string): Promise<boolean> {
    const out = await this.c("show", "route", `${victim}/32`, "all");
    return out.includes(`${victim}/32`) && out.includes("(65535,666)");
  }

  /** A Flowspec rule for the victim, from `sourcePort` when given. */
  async hasFlowspec(victim: string, sourcePort?: number): Promise<boolean> {
    const out = await this.c("show", "route", "table", "flowtab4", "all");
    return (
      out.includes(`dst ${victim}/32`) && (sourcePort === undefined || out.includes(`sport ${sourcePort}`))
    );
  }

  async flowspecTable(): Promise<string> {
    return this.c("show", "route", "table", "flowtab4", "all");
  }

  /** Every route and rule, for the artifacts. */
  async dump(): Promise<string> {
    return (await this.c("show", "route", "all")) + (await this.flowspecTable());
  }
}

/** Polls `ok` every `everyMs` until it holds; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  ok: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
