import { execFile } from "node:child_process";
import { NftablesError } from "./errors.js";
import {
  type BanElement,
  checkAddress,
  DEFAULT_PRIORITY,
  type DesiredBan,
  elementScript,
  ensureScript,
  MAX_TIMEOUT_MS,
  type NftHook,
  parseTableJson,
  planReconcile,
  TABLE,
} from "./script.js";

/**
 * Bans in the kernel through nftables. Mamori owns one table, `inet mamori`, with two sets of banned
 * source addresses (`banned4`, `banned6`, both with per-element timeouts, so a ban ends by itself even
 * if Mamori is down) and one base chain that drops what comes from them. It never reads or changes any
 * other table.
 *
 * nft runs through execFile with an argument list, never a shell, and every address is parsed and
 * rewritten before it reaches a script. Every operation is idempotent: a ban of a banned address
 * re-times it, an unban of an address not banned is fine, `ensure` can run at every start.
 */
export type NftRunner = (
  file: string,
  args: readonly string[],
  input: string | undefined,
  timeoutMs: number,
) => Promise<{ stdout: string; stderr: string }>;

export type NftablesOptions = {
  /** The nft program; default `nft` from PATH. */
  readonly nft?: string | undefined;
  /** Run inside this network namespace (`ip netns exec NAME nft …`), as the tests do. */
  readonly netns?: string | undefined;
  /** Where the drop happens; see HOOKS in script.ts. Default prerouting (before conntrack). */
  readonly hook?: NftHook | undefined;
  /** Chain priority; default -300 for prerouting, -10 for input. */
  readonly priority?: number | undefined;
  /** Longest a single nft call may take; default 10 s. */
  readonly timeoutMs?: number | undefined;
  /** Replaces execFile, for tests. */
  readonly run?: NftRunner | undefined;
};

export type ReconcileResult = {
  readonly added: readonly string[];
  readonly updated: readonly string[];
  readonly removed: readonly string[];
  readonly invalid: readonly string[];
};

const NETNS_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_OUTPUT = 64 * 1024 * 1024;

export class NftablesBans {
  private readonly nft: string;
  private readonly netns: string | undefined;
  private readonly hook: NftHook;
  private readonly priority: number;
  private readonly timeoutMs: number;
  private readonly run: NftRunner;
  /** Operations run one at a time, so a reconcile's list and its changes see no ban slip between them. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: NftablesOptions = {}) {
    if (opts.netns !== undefined && !NETNS_NAME.test(opts.netns)) {
      throw new NftablesError("netns", `"${opts.netns}" is not a network namespace name`);
    }
    this.nft = opts.nft ?? "nft";
    this.netns = opts.netns;
    this.hook = opts.hook ?? "prerouting";
    this.priority = opts.priority ?? DEFAULT_PRIORITY[this.hook];
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.run = opts.run ?? runFile;
  }

  /** Creates the table, the sets and the chain if missing; keeps the bans already in the sets. */
  async ensure(): Promise<void> {
    const script = ensureScript(this.hook, this.priority);
    return this.serial(async () => {
      await this.nftRun(["-f", "-"], script);
    });
  }

  /** Bans an address for `durationMs`, or re-times the ban if it is already there. */
  async ban(address: string, durationMs: number): Promise<BanElement> {
    const a = checkAddress(address);
    if (!Number.isFinite(durationMs) || durationMs <= 0) {
      throw new RangeError(`a ban lasts a positive time, not ${durationMs} ms`);
    }
    const ms = Math.min(Math.max(1000, Math.ceil(durationMs)), MAX_TIMEOUT_MS);
    return this.serial(async () => {
      await this.nftRun(["-f", "-"], elementScript([{ type: "put", address: a, timeoutMs: ms }]));
      return { ...a, timeoutMs: ms, expiresMs: ms };
    });
  }

  /** Lifts a ban; an address that is not banned is fine. */
  async unban(address: string): Promise<void> {
    const a = checkAddress(address);
    return this.serial(async () => {
      await this.nftRun(["-f", "-"], elementScript([{ type: "remove", address: a }]));
    });
  }

  /** The elements of both sets with their time left; empty when the table does not exist yet. */
  list(): Promise<BanElement[]> {
    return this.serial(() => this.listNow());
  }

  /**
   * Makes the sets hold exactly the desired bans (from the store, at start and now and then): adds the
   * missing, removes the stray, re-times the ones that are off. Creates the table first if needed.
   */
  async reconcile(desired: readonly DesiredBan[], now: number = Date.now()): Promise<ReconcileResult> {
    const ensure = ensureScript(this.hook, this.priority);
    return this.serial(async () => {
      await this.nftRun(["-f", "-"], ensure);
      const plan = planReconcile(await this.listNow(), desired, now);
      if (plan.changes.length > 0) await this.nftRun(["-f", "-"], elementScript(plan.changes));
      return { added: plan.added, updated: plan.updated, removed: plan.removed, invalid: plan.invalid };
    });
  }

  /** Deletes Mamori's table and every ban in it (uninstall). Nothing else is touched. */
  teardown(): Promise<void> {
    return this.serial(async () => {
      // `add` first so that a missing table is not an error.
      await this.nftRun(["-f", "-"], `add table inet ${TABLE}\ndelete table inet ${TABLE}\n`);
    });
  }

  private async listNow(): Promise<BanElement[]> {
    try {
      const { stdout } = await this.nftRun(["-j", "list", "table", "inet", TABLE], undefined);
      return parseTableJson(stdout);
    } catch (e) {
      if (
        e instanceof NftablesError &&
        e.code === "failed" &&
        /No such file or directory/.test(e.stderr ?? "")
      ) {
        return [];
      }
      throw e;
    }
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async nftRun(
    args: string[],
    input: string | undefined,
  ): Promise<{ stdout: string; stderr: string }> {
    const file = this.netns === undefined ? this.nft : "ip";
    const full = this.netns === undefined ? args : ["netns", "exec", this.netns, this.nft, ...args];
    try {
      return await this.run(file, full, input, this.timeoutMs);
    } catch (e) {
      throw this.explain(e, file);
    }
  }

  private explain(e: unknown, file: string): NftablesError {
    if (e instanceof NftablesError) return e;
    const err = e as NodeJS.ErrnoException & { stderr?: string; killed?: boolean; signal?: string | null };
    const stderr = typeof err.stderr === "string" ? err.stderr.trim() : "";
    const where = this.netns === undefined ? "" : ` in network namespace ${this.netns}`;
    if (err.code === "ENOENT") {
      return new NftablesError(
        "not-installed",
        `${file} is not installed or not on PATH: install the nftables package (apt-get install nftables)` +
          (file === "ip" ? " and iproute2" : ""),
        { cause: e },
      );
    }
    if (err.killed || err.signal === "SIGTERM") {
      return new NftablesError("timeout", `nft took longer than ${this.timeoutMs} ms${where}`, {
        stderr,
        cause: e,
      });
    }
    if (/exec of "[^"]*" failed: No such file/.test(stderr)) {
      return new NftablesError("not-installed", `${this.nft} is not installed${where}: install nftables`, {
        stderr,
        cause: e,
      });
    }
    if (/Cannot open network namespace/.test(stderr)) {
      return new NftablesError("netns", `network namespace ${this.netns} does not exist`, {
        stderr,
        cause: e,
      });
    }
    if (
      /Operation not permitted|Permission denied/.test(stderr) ||
      err.code === "EPERM" ||
      err.code === "EACCES"
    ) {
      return new NftablesError(
        "permission",
        "nft needs root or CAP_NET_ADMIN: run Mamori as root or give it the capability " +
          "(systemd: AmbientCapabilities=CAP_NET_ADMIN)",
        { stderr, cause: e },
      );
    }
    const first = stderr.split("\n").find((l) => /Error/.test(l)) ?? stderr.split("\n")[0] ?? String(e);
    return new NftablesError("failed", `nft failed${where}: ${first}`, { stderr, cause: e });
  }
}

/** execFile with the script on standard input; no shell is involved. */
const runFile: NftRunner = (file, args, input, timeoutMs) =>
  new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: MAX_OUTPUT, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr }));
        else resolve({ stdout, stderr });
      },
    );
    // A child that exits before reading all of stdin would otherwise raise EPIPE here.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(input ?? "");
  });
