/**
 * Finding and running the real programs that end-to-end tests talk to (Kamailio, SIPp, nginx ...).
 *
 * Every process is started in its own process group, logged to a file under test-artifacts/,
 * waited for with a bounded time, and killed as a whole group on stop, so that daemons which fork
 * workers (Kamailio, nginx) leave nothing behind. A last-resort exit hook kills whatever a test forgot.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import {
  accessSync,
  constants,
  createWriteStream,
  mkdirSync,
  readFileSync,
  statSync,
  type WriteStream,
} from "node:fs";
import { createServer, Socket } from "node:net";
import { delimiter, isAbsolute, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { repoRoot } from "./paths.js";

/** Where tests leave logs and traces for a person to read after a failure (ignored by git). */
export const artifactsRoot = join(repoRoot, "test-artifacts");

/** A directory under test-artifacts/, created if needed. */
export function artifactsDir(...parts: string[]): string {
  const dir = join(artifactsRoot, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

// Daemons live in sbin, which an ordinary user's PATH often lacks.
const EXTRA_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** The full path of an executable found on PATH (or in the sbin directories), or undefined. */
export function which(bin: string): string | undefined {
  if (bin.includes("/")) return isExecutable(bin) ? bin : undefined;
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const dir of [...dirs, ...EXTRA_DIRS]) {
    const candidate = join(dir, bin);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Why a test cannot run here, or undefined when every program is present. Tests pass the answer to
 * `t.skip(reason)` (or `{ skip: reason }`), so a machine without the peers skips instead of failing.
 */
export function requirePeer(...bins: string[]): string | undefined {
  const missing = bins.filter((bin) => which(bin) === undefined);
  if (missing.length === 0) return undefined;
  return `not installed: ${missing.join(", ")} (run scripts/install-peers.sh as root)`;
}

const handedOut = new Set<number>();

/**
 * The first of `count` consecutive ports on 127.0.0.1 that are all free for both TCP and UDP right
 * now and that this process has not handed out before (so that peers started in a row never get
 * the same one). Ports come from below the kernel's ephemeral range, so that no outgoing connection
 * takes one between this check and the peer's bind. `count` > 1 is for programs that bind several
 * ports from a base (SIPp's media port N binds N and N+2).
 */
export async function freePort(count = 1): Promise<number> {
  const [low, high] = candidateRange(count);
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = low + Math.floor(Math.random() * (high - low));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if (ports.some((port) => handedOut.has(port))) continue;
    if (!(await allFree(ports))) continue;
    for (const port of ports) handedOut.add(port);
    return base;
  }
  throw new Error(`no ${count} consecutive ports free for TCP and UDP on 127.0.0.1 after 200 attempts`);
}

function candidateRange(count: number): [number, number] {
  let ephemeralLow = 32768;
  try {
    const first = Number(
      readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0],
    );
    if (Number.isInteger(first) && first > 12_000) ephemeralLow = first;
  } catch {
    // Not Linux: keep the usual default.
  }
  return [10_000, ephemeralLow - count];
}

async function allFree(ports: number[]): Promise<boolean> {
  for (const port of ports) {
    if (!(await tcpPortFree(port)) || !(await udpPortFree(port))) return false;
  }
  return true;
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
  });
}

/** True when something has bound the UDP port on 127.0.0.1 (e.g. a SIPp UAS that is up). */
export async function udpPortInUse(port: number): Promise<boolean> {
  return !(await udpPortFree(port));
}

/** True when something accepts TCP connections on host:port. */
export function tcpPortOpen(port: number, host = "127.0.0.1", timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.connect(port, host);
  });
}

/** How to tell that a started program is ready: a line it prints, a TCP port it opens, or a probe. */
export type Readiness = RegExp | number | { port: number; host?: string } | (() => Promise<boolean>);

export interface StartOptions {
  /** Omit to consider the program ready as soon as it is spawned. */
  readyWhen?: Readiness;
  /** Bound on the wait for readiness (default 10 s); past it the process is killed. */
  timeoutMs?: number;
  /** Log file name (without directory) under test-artifacts/; default: the program's name. */
  name?: string;
  /** Directory for the log: absolute, or relative to test-artifacts/ (default: "peers"). */
  logDir?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface PeerProcess {
  readonly pid: number;
  readonly command: string;
  readonly logFile: string;
  /** Everything the process printed so far (stdout and stderr interleaved, the last 4 MiB). */
  output(): string;
  /** Resolves when the process leader exits. */
  readonly exited: Promise<ExitStatus>;
  /** Waits for the process to end by itself; past timeoutMs it is stopped and this rejects. */
  waitForExit(timeoutMs: number): Promise<ExitStatus>;
  /** Ends the whole process group: SIGTERM, then SIGKILL after graceMs. Safe to call twice. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

const OUTPUT_LIMIT = 4 * 1024 * 1024;
const live = new Set<Peer>();
let logCounter = 0;

class Peer implements PeerProcess {
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  private text = "";
  private exitStatus: ExitStatus | undefined;
  private readonly log: WriteStream;
  private readonly listeners = new Set<() => void>();

  constructor(
    child: ChildProcess,
    readonly command: string,
    readonly logFile: string,
  ) {
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    this.pid = child.pid;
    this.log = createWriteStream(logFile);
    this.log.write(`$ ${command}\n`);
    const collect = (chunk: Buffer) => {
      this.log.write(chunk);
      this.text += chunk.toString("utf8");
      if (this.text.length > OUTPUT_LIMIT) this.text = this.text.slice(-OUTPUT_LIMIT);
      for (const listener of this.listeners) listener();
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    this.exited = new Promise((resolve) => {
      child.once("close", (code, signal) => {
        this.exitStatus = { code, signal };
        // Children that outlive the leader keep the peer on the list for stopAll().
        if (!this.groupAlive()) live.delete(this);
        this.log.end(`\n[exit code=${code} signal=${signal}]\n`);
        for (const listener of this.listeners) listener();
        resolve(this.exitStatus);
      });
    });
  }

  get hasExited(): boolean {
    return this.exitStatus !== undefined;
  }

  output(): string {
    return this.text;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  killGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is already gone.
    }
  }

  groupAlive(): boolean {
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  async waitForExit(timeoutMs: number): Promise<ExitStatus> {
    const status = await raceTimeout(this.exited, timeoutMs);
    if (status !== undefined) {
      // Children of the leader (if any) go too.
      if (this.groupAlive()) await this.stop(1000);
      return status;
    }
    await this.stop();
    throw new Error(`${this.command} did not finish within ${timeoutMs} ms; see ${this.logFile}`);
  }

  async stop(graceMs = 3000): Promise<ExitStatus> {
    if (this.groupAlive()) {
      this.killGroup("SIGTERM");
      const deadline = Date.now() + graceMs;
      while (this.groupAlive() && Date.now() < deadline) await sleep(25);
      if (this.groupAlive()) this.killGroup("SIGKILL");
    }
    const status = await raceTimeout(this.exited, 5000);
    live.delete(this);
    return status ?? { code: null, signal: "SIGKILL" };
  }
}

function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Spawns cmd in a new process group, logs its output to test-artifacts/<logDir>/<name>.log, and
 * resolves once it is ready. If it exits or does not become ready in time, the group is killed and
 * this rejects with the tail of its output.
 */
export async function startProcess(
  cmd: string,
  args: string[],
  options: StartOptions = {},
): Promise<PeerProcess> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const executable = which(cmd) ?? cmd;
  const base = options.name ?? cmd.split("/").pop() ?? "process";
  const logDir = options.logDir ?? "peers";
  const dir = isAbsolute(logDir) ? logDir : artifactsDir(logDir);
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, `${base}-${process.pid}-${++logCounter}.log`);
  const child = spawn(executable, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    child.once("error", reject);
  });
  const peer = new Peer(child, [executable, ...args].join(" "), logFile);
  live.add(peer);
  try {
    await waitUntilReady(peer, options.readyWhen, timeoutMs);
  } catch (error) {
    await peer.stop(1000);
    const tail = peer.output().slice(-2000);
    throw new Error(`${(error as Error).message}\n--- ${logFile} (tail) ---\n${tail}`);
  }
  return peer;
}

async function waitUntilReady(
  peer: Peer,
  readyWhen: Readiness | undefined,
  timeoutMs: number,
): Promise<void> {
  if (readyWhen === undefined) return;
  const deadline = Date.now() + timeoutMs;
  const what =
    readyWhen instanceof RegExp ? String(readyWhen) : typeof readyWhen === "function" ? "probe" : "port";
  if (readyWhen instanceof RegExp) {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (readyWhen.test(peer.output())) finish();
        else if (peer.hasExited) finish(new Error(`${peer.command} exited before printing ${readyWhen}`));
      };
      const timer = setTimeout(
        () => finish(new Error(`${peer.command}: no ${what} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const unsubscribe = peer.onChange(check);
      function finish(error?: Error) {
        clearTimeout(timer);
        unsubscribe();
        if (error) reject(error);
        else resolve();
      }
      check();
    });
    return;
  }
  const probe =
    typeof readyWhen === "function"
      ? readyWhen
      : typeof readyWhen === "number"
        ? () => tcpPortOpen(readyWhen)
        : () => tcpPortOpen(readyWhen.port, readyWhen.host);
  while (Date.now() < deadline) {
    if (peer.hasExited) throw new Error(`${peer.command} exited before it was ready`);
    if (await probe().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${peer.command}: not ready (${what}) within ${timeoutMs} ms`);
}

/** Stops every process started here that is still running. Call it from `after()`. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((peer) => peer.stop(2000)));
}

// If the test process ends without cleaning up (a crash, a forgotten stop), no group outlives it.
process.once("exit", () => {
  for (const peer of live) peer.killGroup("SIGKILL");
});
