import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { repoRoot } from "./paths.js";

/**
 * Starts the real `mamori serve` as a child process on a loopback port chosen by the OS, the way an
 * operator runs it, and reads its address and first admin key from what it prints.
 */
export type MamoriProcess = {
  readonly url: string;
  readonly adminKey: string | undefined;
  readonly db: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
};

const fromDist = fileURLToPath(import.meta.url).includes(`${join("dist", "test")}`);

export function mamoriCommand(args: string[]): { cmd: string; args: string[] } {
  return fromDist
    ? { cmd: process.execPath, args: [join(repoRoot, "dist", "src", "cli", "main.js"), ...args] }
    : { cmd: process.execPath, args: ["--import", "tsx", join(repoRoot, "src", "cli", "main.ts"), ...args] };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startMamori(
  opts: { db?: string; config?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<MamoriProcess> {
  const dir = tempDir("mamori-e2e-");
  const db = opts.db ?? join(dir, "mamori.db");
  const args = ["serve", "--port", "0", "--host", "127.0.0.1", "--db", db];
  if (opts.config !== undefined) {
    const file = join(dir, "mamori.yaml");
    writeFileSync(file, opts.config);
    args.push("--config", file);
  }
  const { cmd, args: full } = mamoriCommand(args);
  const child = spawn(cmd, full, {
    cwd: repoRoot,
    env: { ...process.env, MAMORI_LOG_LEVEL: "info", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let url: string | undefined;
  while (Date.now() < deadline && child.exitCode === null) {
    const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
    if (m) {
      url = m[1];
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!url) {
    child.kill("SIGKILL");
    throw new Error(`mamori did not start:\n${out}`);
  }
  const adminKey = /MAMORI_ADMIN_KEY=(\S+)/.exec(out)?.[1];
  return {
    url,
    adminKey,
    db,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const done = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** A small JSON client for tests. */
export function client(base: string, key?: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const h: Record<string, string> = { ...headers };
    if (key) h.authorization = `Bearer ${key}`;
    if (body !== undefined && !h["content-type"]) h["content-type"] = "application/json";
    const res = await fetch(base + path, {
      method,
      headers: h,
      body: body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    // biome-ignore lint/suspicious/noExplicitAny: test convenience
    return { status: res.status, json: json as any, text, headers: res.headers };
  };
}

export function artifactDir(name: string): string {
  const d = join(repoRoot, "test-artifacts", name);
  mkdirSync(d, { recursive: true });
  return d;
}
