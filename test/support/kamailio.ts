/**
 * Starting Kamailio on the shipped deploy/kamailio configuration, for end-to-end tests and benchmarks.
 *
 * The configuration is copied without any mamori-local.cfg, so that no site override is read, and the
 * settings are given as -A defines exactly as an operator would give them.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { repoRoot } from "./paths.js";
import { freePort, type PeerProcess, requirePeer, startProcess, which } from "./peers.js";

/** Why Kamailio with SIPp cannot run here, or undefined when everything is installed. */
export function kamailioSkipReason(): string | undefined {
  return requirePeer("kamailio", "sipp") ?? kamailioModulesMissing();
}

/** http_client and jansson come in separate Debian packages from Kamailio itself. */
function kamailioModulesMissing(): string | undefined {
  const kamailio = which("kamailio");
  if (!kamailio) return undefined;
  let help = "";
  try {
    help = execFileSync(kamailio, ["-h"], {
      encoding: "utf8",
      timeout: 5000,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    help = String((error as { stdout?: string }).stdout ?? "");
  }
  const modulesDir = /Modules search path \(default: ([^)]+)\)/.exec(help)?.[1];
  if (!modulesDir) return undefined;
  const missing = ["http_client.so", "jansson.so", "dialog.so", "jsonrpcs.so"].filter(
    (module) => !modulesDir.split(":").some((d) => existsSync(join(d, module))),
  );
  return missing.length > 0
    ? `Kamailio modules missing: ${missing.join(", ")} (run scripts/install-peers.sh as root)`
    : undefined;
}

/** A dialog as `dlg.list` returns it; `state` 4 means answered. */
export type Dialog = {
  h_entry: number;
  h_id: number;
  state: number;
  "call-id": string;
  caller: { tag: string };
  callee: { tag: string };
};

export interface Kamailio {
  sipPort: number;
  rpcPort: number;
  process: PeerProcess;
  rpc(method: string, params?: unknown[]): Promise<unknown>;
}

export interface KamailioOptions {
  /** The JSON-RPC port, when the caller must know it before Kamailio starts (Mamori ends calls there). */
  rpcPort?: number;
  /** Names the working directory and the log. */
  name: string;
  /** Directory for the copied configuration and the log. */
  dir: string;
  /** MAMORI_URL; irrelevant with MAMORI_DISABLED. */
  mamoriUrl: string;
  apiKey: string;
  /** Port of the SIPp UAS standing in for the trunk (MAMORI_NEXT_HOP). */
  nextHopPort: number;
  /** More defines: flags such as MAMORI_FAIL_CLOSED, or NAME=value. */
  defines?: readonly string[];
  /** SIP workers and the workers that wait for Mamori (small: the test machine is shared). */
  children?: number;
  asyncWorkers?: number;
  debug?: boolean;
}

export async function kamailioRpc(port: number, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}/RPC`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", method, params, id: 1 }),
    signal: AbortSignal.timeout(3000),
  });
  const json = (await response.json()) as { result?: unknown; error?: { message?: string } };
  if (!response.ok || json.error)
    throw new Error(`${method}: HTTP ${response.status} ${json.error?.message ?? ""}`);
  return json.result;
}

/** Starts Kamailio on loopback ports of its own; ready once its JSON-RPC listener answers. */
export async function startKamailio(options: KamailioOptions): Promise<Kamailio> {
  const sipPort = await freePort();
  const rpcPort = options.rpcPort ?? (await freePort());
  const workDir = join(options.dir, options.name);
  mkdirSync(workDir, { recursive: true });
  const cfg = join(workDir, "kamailio.cfg");
  for (const file of ["kamailio.cfg", "mamori-defines.cfg"]) {
    copyFileSync(join(repoRoot, "deploy", "kamailio", file), join(workDir, file));
  }
  const defines = [
    `MAMORI_SIP_LISTEN=udp:127.0.0.1:${sipPort}`,
    "MAMORI_RPC_ADDR=127.0.0.1",
    `MAMORI_RPC_PORT=${rpcPort}`,
    `MAMORI_NEXT_HOP="sip:127.0.0.1:${options.nextHopPort}"`,
    `MAMORI_URL="${options.mamoriUrl}"`,
    `MAMORI_API_KEY="${options.apiKey}"`,
    "MAMORI_TIMEOUT_S=1",
    `MAMORI_CHILDREN=${options.children ?? 2}`,
    `MAMORI_ASYNC_WORKERS=${options.asyncWorkers ?? 2}`,
    ...(options.debug ? ["MAMORI_DEBUG"] : []),
    ...(options.defines ?? []),
  ];
  const args = ["-f", cfg, "-DD", "-E", "-m", "48", "-M", "8", "-Y", workDir, "-w", workDir];
  for (const define of defines) args.push("-A", define);
  const kamailio = await startProcess("kamailio", args, {
    name: `kamailio-${options.name}`,
    logDir: options.dir,
    readyWhen: async () => {
      await kamailioRpc(rpcPort, "core.version");
      return true;
    },
    timeoutMs: 15_000,
  });
  return {
    sipPort,
    rpcPort,
    process: kamailio,
    rpc: (method, params) => kamailioRpc(rpcPort, method, params),
  };
}

/** Polls `probe` every 50 ms until it returns a value; throws after timeoutMs. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
