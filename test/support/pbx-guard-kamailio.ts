/**
 * Kamailio on the shipped deploy/kamailio/pbx-guard.cfg, for the tests of the PBX guard: digest
 * authentication against a db_text subscriber table written here, HEP to a given port, JSON-RPC on a
 * free loopback port. Also a one-packet SIP probe that tells whether Kamailio answers an address,
 * and SIPVicious run from a loopback address of the test's choice.
 */
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KamailioRpc } from "../../src/adapters/actions/kamailio/rpc.js";
import { repoRoot } from "./paths.js";
import { freePort, type PeerProcess, requirePeer, startProcess, which } from "./peers.js";

export const PBX_GUARD_CFG = join(repoRoot, "deploy", "kamailio", "pbx-guard.cfg");

const MODULES = [
  "auth.so",
  "auth_db.so",
  "db_text.so",
  "usrloc.so",
  "registrar.so",
  "htable.so",
  "siptrace.so",
  "xhttp.so",
  "jsonrpcs.so",
];

/** Why Kamailio cannot run pbx-guard.cfg here, or undefined when it can. */
export function pbxGuardKamailioMissing(): string | undefined {
  const missing = requirePeer("kamailio");
  if (missing) return missing;
  let help = "";
  try {
    help = execFileSync(which("kamailio") ?? "kamailio", ["-h"], {
      encoding: "utf8",
      timeout: 5000,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    help = String((error as { stdout?: string }).stdout ?? "");
  }
  const dirs = /Modules search path \(default: ([^)]+)\)/.exec(help)?.[1]?.split(":");
  if (!dirs) return undefined;
  const absent = MODULES.filter((m) => !dirs.some((d) => existsSync(join(d, m))));
  return absent.length > 0 ? `Kamailio modules missing: ${absent.join(", ")}` : undefined;
}

export type SubscriberRow = { readonly user: string; readonly password: string };

export type PbxGuardKamailio = {
  readonly sipPort: number;
  readonly rpcPort: number;
  readonly rpcUrl: string;
  readonly rpc: KamailioRpc;
  readonly process: PeerProcess;
};

/** Writes the db_text tables auth_db reads: `version` and `subscriber` (plain-text passwords). */
export function writeSubscribers(dir: string, users: readonly SubscriberRow[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "version"),
    "id(int,auto) table_name(string) table_version(int) \n0:subscriber:7\n",
  );
  const rows = users.map((u, i) => {
    // db_text separates columns with ':'; these test passwords never need its escapes.
    if (/[:\\\n]/.test(u.user + u.password)) throw new Error(`no ':' or '\\' in test credentials`);
    return `${i + 1}:${u.user}::${u.password}:::`;
  });
  writeFileSync(
    join(dir, "subscriber"),
    "id(int,auto) username(string) domain(string,null) password(string) ha1(string,null) ha1b(string,null) \n" +
      rows.map((r) => `${r}\n`).join(""),
  );
}

export async function startPbxGuardKamailio(opts: {
  /** Working directory: the db_text tables, Kamailio's runtime files and its log go here. */
  readonly dir: string;
  readonly hepPort: number;
  readonly users: readonly SubscriberRow[];
  readonly name?: string;
}): Promise<PbxGuardKamailio> {
  const dbDir = join(opts.dir, "dbtext");
  writeSubscribers(dbDir, opts.users);
  const sipPort = await freePort();
  const rpcPort = await freePort();
  const rpcUrl = `http://127.0.0.1:${rpcPort}/RPC`;
  const rpc = new KamailioRpc({ url: rpcUrl, timeoutMs: 1000 });
  const defines = [
    `MAMORI_SIP_LISTEN=udp:127.0.0.1:${sipPort}`,
    "MAMORI_RPC_ADDR=127.0.0.1",
    `MAMORI_RPC_PORT=${rpcPort}`,
    `MAMORI_HEP_URI="sip:127.0.0.1:${opts.hepPort}"`,
    `MAMORI_AUTH_DB_URL="text://${dbDir}"`,
    "MAMORI_CHILDREN=2",
  ];
  const args = ["-f", PBX_GUARD_CFG, "-DD", "-E", "-m", "32", "-M", "8", "-Y", opts.dir, "-w", opts.dir];
  for (const d of defines) args.push("-A", d);
  const peer = await startProcess("kamailio", args, {
    name: opts.name ?? "kamailio-pbx-guard",
    logDir: opts.dir,
    readyWhen: () => rpc.call("core.version").then(() => true),
    timeoutMs: 15_000,
  });
  return { sipPort, rpcPort, rpcUrl, rpc, process: peer };
}

let probeCounter = 0;

/**
 * Sends one OPTIONS to Kamailio itself from `fromIp` and says whether any answer came within
 * `timeoutMs`: false means the address is dropped (banned), true that it is served.
 */
export function sipAnswers(fromIp: string, sipPort: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("error", (e) => {
      clearTimeout(timer);
      socket.close();
      reject(e);
    });
    socket.once("message", () => done(true));
    socket.bind(0, fromIp, () => {
      const port = socket.address().port;
      const n = ++probeCounter;
      const message =
        `OPTIONS sip:127.0.0.1:${sipPort} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP ${fromIp}:${port};branch=z9hG4bK-probe-${process.pid}-${n};rport\r\n` +
        `From: <sip:probe@${fromIp}>;tag=probe${n}\r\n` +
        `To: <sip:127.0.0.1:${sipPort}>\r\n` +
        `Call-ID: probe-${process.pid}-${n}@${fromIp}\r\n` +
        "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nUser-Agent: Mamori-Test-Probe/1.0\r\nContent-Length: 0\r\n\r\n";
      socket.send(message, sipPort, "127.0.0.1");
    });
  });
}

/**
 * SIPVicious 0.3.3 (Debian) accepts `-b/--bindingip` but never uses it, and an unbound socket on
 * loopback always sends from 127.0.0.1. This launcher binds the program's socket to MAMORI_BIND_IP,
 * sets its User-Agent to MAMORI_USER_AGENT when given, and runs the installed program unchanged.
 */
const LAUNCHER = `
import inspect, os, runpy, socket, sys
bind_ip = os.environ["MAMORI_BIND_IP"]
original_bind = socket.socket.bind
def bind(self, address):
    if isinstance(address, tuple) and address[0] in ("", "0.0.0.0"):
        address = (bind_ip,) + tuple(address[1:])
    return original_bind(self, address)
socket.socket.bind = bind
program = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.realpath(program)))
agent = os.environ.get("MAMORI_USER_AGENT")
if agent:
    from sipvicious.libs import svhelper
    names = list(inspect.signature(svhelper.makeRequest).parameters)
    defaults = list(svhelper.makeRequest.__defaults__)
    defaults[names.index("useragent") - (len(names) - len(defaults))] = agent
    svhelper.makeRequest.__defaults__ = tuple(defaults)
runpy.run_path(program, run_name="__main__")
`;

function interpreterOf(program: string): string[] {
  const first = readFileSync(realpathSync(program), "utf8").split("\n", 1)[0] ?? "";
  const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
  if (!m?.[1]) throw new Error(`${program} has no #! line`);
  return m[2] ? [m[1], m[2]] : [m[1]];
}

/**
 * Runs the installed SIPVicious program with its socket bound to `bindIp` (see LAUNCHER).
 * The interpreter is the one on the program's #! line, which is the one its package is installed for.
 */
export async function sipvicious(
  program: string,
  bindIp: string,
  args: string[],
  opts: { dir: string; name: string; userAgent?: string },
): Promise<PeerProcess> {
  const launcher = join(opts.dir, "sipvicious-launcher.py");
  writeFileSync(launcher, LAUNCHER);
  const [interpreter, ...interpreterArgs] = interpreterOf(program);
  const env: NodeJS.ProcessEnv = { ...process.env, MAMORI_BIND_IP: bindIp, PYTHONUNBUFFERED: "1" };
  if (opts.userAgent) env.MAMORI_USER_AGENT = opts.userAgent;
  return startProcess(interpreter ?? "python3", [...interpreterArgs, launcher, program, ...args], {
    name: opts.name,
    logDir: opts.dir,
    env,
  });
}

const exitedAt = new WeakMap<PeerProcess, number>();

/**
 * For a wait on a ban: undefined while the attacker runs (keep waiting), and a failure with its
 * output once it has been gone for `graceMs` (HEP may still be on its way) without being banned,
 * e.g. because the launcher does not fit this SIPVicious release.
 */
export function stillRunning(peer: PeerProcess, graceMs = 2000): undefined {
  if (!exitedAt.has(peer)) {
    exitedAt.set(peer, Number.POSITIVE_INFINITY);
    void peer.exited.then(() => exitedAt.set(peer, Date.now()));
  }
  if (Date.now() - (exitedAt.get(peer) ?? 0) > graceMs) {
    throw new Error(`${peer.command} ended without being banned:\n${peer.output().slice(-1500)}`);
  }
  return undefined;
}
