import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import type { Mitigation } from "../../../flows/mitigation.js";
import { exabgpLines } from "./commands.js";
import { type ExabgpNeighbor, exabgpConfig, exabgpEnv } from "./config.js";
import { RELAY_FILE, RELAY_SOURCE } from "./relay.js";

/**
 * Blackhole routes and Flowspec rules through ExaBGP, which Mamori runs as a child process with a
 * generated configuration (config.ts) and talks to through the relay (relay.ts).
 *
 * Desired state, not a stream of commands: the speaker keeps the BGP mitigations in force, sends an
 * announce when one is added and a withdraw when one goes, and on every new API connection (ExaBGP
 * started or restarted, or the relay respawned) replays the withdrawals it could not send and every
 * route in force. Announcing what is already in force, or withdrawing what is not, sends nothing new
 * or is harmless to ExaBGP: all operations are idempotent. Dry-run mitigations are never sent.
 */
export type ExabgpEvent =
  | { readonly type: "connected" }
  | { readonly type: "disconnected" }
  | { readonly type: "ack"; readonly ok: boolean; readonly command: string }
  | { readonly type: "neighbor"; readonly address: string; readonly state: string; readonly text: string }
  | { readonly type: "exit"; readonly code: number | null; readonly signal: string | null };

export type ExabgpSpeakerOptions = {
  readonly neighbors: readonly ExabgpNeighbor[];
  /** Directory for the configuration, the relay and its socket; created with mode 0700. */
  readonly runDir: string;
  /** The exabgp program; `exabgp` from PATH by default. */
  readonly exabgp?: string | undefined;
  /** The node that runs the relay; this process's own by default. */
  readonly node?: string | undefined;
  /** Run ExaBGP inside this network namespace (`ip netns exec`), as the end-to-end tests do. */
  readonly netns?: string | undefined;
  /** The user ExaBGP drops to when started as root; the user Mamori runs as by default. */
  readonly user?: string | undefined;
  readonly logLevel?: "DEBUG" | "INFO" | "WARNING" | "ERR" | undefined;
  /** Restart ExaBGP this long after it exits unexpectedly; undefined leaves it down. */
  readonly restartAfterMs?: number | undefined;
  /** ExaBGP's own log lines. */
  readonly onLog?: ((line: string) => void) | undefined;
  readonly onEvent?: ((e: ExabgpEvent) => void) | undefined;
};

export type ExabgpStats = {
  sent: number;
  acked: number;
  errors: number;
  connections: number;
  starts: number;
};

const NETNS = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_SOCKET_PATH = 100;

type Held = { mitigation: Mitigation; announce: string; withdraw: string };

export class ExabgpSpeaker {
  readonly stats: ExabgpStats = { sent: 0, acked: 0, errors: 0, connections: 0, starts: 0 };
  private readonly held = new Map<string, Held>();
  /** Withdrawals decided while no API connection was up, sent at the next one. */
  private readonly unsent = new Map<string, string>();
  private readonly awaiting: string[] = [];
  private conn: Socket | undefined;
  private server: Server | undefined;
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly socketPath: string;

  private constructor(private readonly o: ExabgpSpeakerOptions) {
    this.socketPath = join(o.runDir, "api.sock");
  }

  /** Writes the configuration and relay, listens for the relay and starts ExaBGP. */
  static async start(o: ExabgpSpeakerOptions): Promise<ExabgpSpeaker> {
    if (o.netns !== undefined && !NETNS.test(o.netns))
      throw new Error(`"${o.netns}" is not a network namespace name`);
    const s = new ExabgpSpeaker(o);
    if (s.socketPath.length > MAX_SOCKET_PATH)
      throw new Error(`runDir is too long for a Unix socket path: ${o.runDir}`);
    await mkdir(o.runDir, { recursive: true, mode: 0o700 });
    await chmod(o.runDir, 0o700);
    const relay = join(o.runDir, RELAY_FILE);
    await writeFile(relay, RELAY_SOURCE, { mode: 0o600 });
    const config = exabgpConfig(o.neighbors, [o.node ?? process.execPath, relay, s.socketPath]);
    await writeFile(join(o.runDir, "exabgp.conf"), config, { mode: 0o600 });
    await writeFile(
      join(o.runDir, "exabgp.env"),
      exabgpEnv({ user: o.user ?? userInfo().username, ...(o.logLevel ? { logLevel: o.logLevel } : {}) }),
      {
        mode: 0o600,
      },
    );
    await s.listen();
    s.spawnExabgp();
    return s;
  }

  /** True while an API channel to ExaBGP is open. */
  get connected(): boolean {
    return this.conn !== undefined;
  }

  /** The BGP mitigations in force, as last told. */
  inForce(): Mitigation[] {
    return [...this.held.values()].map((h) => h.mitigation);
  }

  /** Puts a mitigation in place. False when it is not for BGP or is a dry run. */
  announce(m: Mitigation): boolean {
    if (m.dryRun) return false;
    const lines = exabgpLines(m);
    if (!lines) return false;
    const had = this.held.get(m.id);
    this.held.set(m.id, { mitigation: m, ...lines });
    this.unsent.delete(m.id);
    if (had?.announce === lines.announce) return true;
    if (had) this.send(had.withdraw);
    this.send(lines.announce);
    return true;
  }

  /** Takes a mitigation out; also when this speaker never held it (a route left from before a restart). */
  withdraw(m: Mitigation): boolean {
    if (m.dryRun) return false;
    const held = this.held.get(m.id);
    const line = held?.withdraw ?? exabgpLines(m)?.withdraw;
    if (!line) return false;
    this.held.delete(m.id);
    if (this.conn) this.send(line);
    else this.unsent.set(m.id, line);
    return true;
  }

  /** Makes the routes in force exactly `desired` (after a restart, from the store). */
  reconcile(desired: readonly Mitigation[]): void {
    const keep = new Set(desired.map((m) => m.id));
    for (const h of [...this.held.values()]) if (!keep.has(h.mitigation.id)) this.withdraw(h.mitigation);
    for (const m of desired) this.announce(m);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    this.conn?.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await rm(this.socketPath, { force: true });
  }

  // ---- the API channel ------------------------------------------------------------------------------

  private async listen(): Promise<void> {
    await rm(this.socketPath, { force: true });
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
    await chmod(this.socketPath, 0o600);
    this.server = server;
  }

  private accept(socket: Socket): void {
    // One channel at a time: a new connection means the old relay is gone.
    this.conn?.destroy();
    this.conn = socket;
    this.awaiting.length = 0;
    this.stats.connections++;
    socket.setEncoding("utf8");
    let buffered = "";
    socket.on("data", (text: string) => {
      buffered += text;
      let nl = buffered.indexOf("\n");
      while (nl !== -1) {
        this.fromExabgp(buffered.slice(0, nl).trim());
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf("\n");
      }
      if (buffered.length > 1_000_000) buffered = "";
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      if (this.conn !== socket) return;
      this.conn = undefined;
      this.o.onEvent?.({ type: "disconnected" });
    });
    this.o.onEvent?.({ type: "connected" });
    // Reconcile: what could not be withdrawn, then everything in force.
    for (const line of this.unsent.values()) this.send(line);
    this.unsent.clear();
    for (const h of this.held.values()) this.send(h.announce);
  }

  private send(line: string): void {
    const c = this.conn;
    if (!c) return;
    c.write(`${line}\n`);
    this.awaiting.push(line);
    this.stats.sent++;
  }

  private fromExabgp(line: string): void {
    if (line === "") return;
    if (line === "done" || line === "error") {
      const command = this.awaiting.shift() ?? "";
      const ok = line === "done";
      if (ok) this.stats.acked++;
      else this.stats.errors++;
      this.o.onEvent?.({ type: "ack", ok, command });
      return;
    }
    const n = /^neighbor (\S+) (up|down|connected)\b/.exec(line);
    if (n) this.o.onEvent?.({ type: "neighbor", address: n[1] as string, state: n[2] as string, text: line });
  }

  // ---- the ExaBGP process ---------------------------------------------------------------------------

  private spawnExabgp(): void {
    const o = this.o;
    const args = ["--env", join(o.runDir, "exabgp.env"), join(o.runDir, "exabgp.conf")];
    const exabgp = o.exabgp ?? "exabgp";
    const [cmd, argv] = o.netns ? ["ip", ["netns", "exec", o.netns, exabgp, ...args]] : [exabgp, args];
    // A clean environment: exabgp.* variables of Mamori's own would override the generated file.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
    };
    const child = spawn(cmd, argv, { cwd: o.runDir, env, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.stats.starts++;
    for (const stream of [child.stdout, child.stderr]) {
      let rest = "";
      stream?.setEncoding("utf8");
      stream?.on("data", (text: string) => {
        const parts = (rest + text).split("\n");
        rest = parts.pop() ?? "";
        for (const line of parts) if (line.trim() !== "") o.onLog?.(line);
      });
    }
    child.on("error", (err) => o.onLog?.(`exabgp could not start: ${err.message}`));
    child.on("exit", (code, signal) => {
      o.onEvent?.({ type: "exit", code, signal });
      if (this.stopping || o.restartAfterMs === undefined) return;
      this.restartTimer = setTimeout(() => this.spawnExabgp(), o.restartAfterMs);
    });
  }
}
