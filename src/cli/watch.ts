import { isIP } from "node:net";
import type { Command } from "commander";
import {
  type CdrFormat,
  type CdrItem,
  type CdrNotice,
  type CdrReaderOptions,
  cdrFormats,
  createCdrLineParser,
  resolveCdrOptions,
} from "../adapters/ingest/cdr/index.js";
import { followFile } from "../adapters/ingest/seclog/follow.js";
import { loadConfig } from "../config/load.js";
import type { CallRecord } from "../core/call-events.js";
import { ApiError, type ApiTarget, api, apiTarget } from "./api-client.js";

/**
 * `mamori watch FILE`: follows a CDR file as the switch appends to it (Master.csv by default, across
 * logrotate's rename or copytruncate) and hands each new call to the running service, in event time, so
 * that its decisions, alerts and blocks are stored and apply to the next calls the switch asks about.
 * For switches that write CDRs but cannot ask before each call.
 *
 * Each call is an authorize at its start, then its hang-up at its end with the billed seconds. The answer
 * is not sent apart: the CDR describes a call that is over, and an answer reported before the hang-up
 * would let the service's clock (wall time) see the call up for its whole past length in between, and end
 * it or raise live-cost alerts for nothing. The hang-up's billsec carries what the answer would have.
 *
 * A row that cannot be read, or that the service refuses (400), is counted and reported with its file
 * and line, and watching goes on; when the service cannot be reached, the same call is retried with
 * back-off until it can, so that no call is lost to a restart.
 */
export type WatchOptions = {
  readonly url?: string | undefined;
  readonly key?: string | undefined;
  readonly format?: string | undefined;
  readonly fromStart?: boolean | undefined;
  readonly timeZone?: string | undefined;
  /** Mamori configuration whose `cdr:` section gives reading options (column map, encoding …). */
  readonly config?: string | undefined;
  readonly pollMs?: number | undefined;
  /** Stops watching (the CLI aborts on SIGINT and SIGTERM). */
  readonly signal?: AbortSignal | undefined;
  /** Where report lines go (default: stderr). */
  readonly log?: ((line: string) => void) | undefined;
};

export type WatchStats = {
  lines: number;
  records: number;
  /** Rows the reader could not use, and calls the service refused as malformed. */
  rejected: number;
  allowed: number;
  denied: number;
  alerts: number;
  /** Calls answered while a block was in force on their account (one they caused, or an earlier one). */
  blocked: number;
  retries: number;
};

const MAX_BACKOFF_MS = 30_000;

export function registerWatch(program: Command): void {
  program
    .command("watch <file>")
    .description("follow a growing CDR file (Master.csv) and send each new call to the running service")
    .option("--url <url>", "Mamori API (default http://127.0.0.1:8080, env MAMORI_URL)")
    .option(
      "--key <key>",
      "operator or admin API key: event times are accepted only from these (env MAMORI_KEY)",
    )
    .option("--format <format>", `one of ${cdrFormats.join(", ")}`, "asterisk-csv")
    .option("--from-start", "read the file from its beginning (default: only rows added from now on)")
    .option(
      "--time-zone <tz>",
      "zone of wall-clock times in the file (default UTC, or the config's cdr options)",
    )
    .option("--config <file>", "Mamori configuration: its `cdr:` section (column map for csv, encoding …)")
    .option("--poll-ms <n>", "how often to look for new rows and rotation", (v) => Number(v), 250)
    .action(async (file: string, o: WatchOptions) => {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      const s = await watchCdrFile(file, { ...o, signal: stop.signal });
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      process.stderr.write(
        `watched ${file}: ${s.lines} lines, ${s.records} calls sent (${s.allowed} allowed, ${s.denied} denied), ` +
          `${s.rejected} rejected, ${s.alerts} alerts, ${s.blocked} calls under a block\n`,
      );
    });
}

export async function watchCdrFile(file: string, o: WatchOptions = {}): Promise<WatchStats> {
  const format = (o.format ?? "asterisk-csv") as CdrFormat;
  if (!(cdrFormats as readonly string[]).includes(format))
    throw new Error(`--format must be one of ${cdrFormats.join(", ")} (got "${o.format}")`);
  const log = o.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const target = apiTarget(o);
  if (!target.key) throw new Error("an operator or admin key is needed (--key or MAMORI_KEY)");
  const cdr: CdrReaderOptions = {
    ...(o.config ? loadConfig({ file: o.config }).cdr : {}),
    ...(o.timeZone ? { timeZone: o.timeZone } : {}),
    onNotice: (n: CdrNotice) => log(`notice ${n.source}:${n.line}: ${n.message}`),
  };
  const parser = createCdrLineParser(format, resolveCdrOptions(format, cdr), file);
  const stats: WatchStats = {
    lines: 0,
    records: 0,
    rejected: 0,
    allowed: 0,
    denied: 0,
    alerts: 0,
    blocked: 0,
    retries: 0,
  };
  const follower = followFile(file, { from: o.fromStart ? "start" : "end", pollMs: o.pollMs ?? 250 });
  const stop = () => void follower.close();
  if (o.signal?.aborted) stop();
  o.signal?.addEventListener("abort", stop, { once: true });
  const out: CdrItem[] = [];
  const handle = async () => {
    for (const item of out) {
      if (item.type === "rejected") {
        stats.rejected++;
        log(`rejected ${item.rejected.source}:${item.rejected.line}: ${item.rejected.reason}`);
      } else {
        await send(target, item.record, `${item.pos.source}:${item.pos.line}`, stats, log, o.signal);
      }
    }
    out.length = 0;
  };
  try {
    for await (const l of follower) {
      stats.lines++;
      if (l.truncated) {
        stats.rejected++;
        log(`rejected ${l.source}:${l.lineNo}: line too long, cut and skipped`);
        continue;
      }
      const text = l.lineNo === 1 && l.line.charCodeAt(0) === 0xfeff ? l.line.slice(1) : l.line;
      parser.push(text, l.lineNo, out);
      if (out.length > 0) await handle();
    }
    parser.finish(out);
    if (!o.signal?.aborted) await handle();
  } finally {
    o.signal?.removeEventListener("abort", stop);
    await follower.close();
  }
  return stats;
}

type VerdictAnswer = {
  decision: "allow" | "deny";
  reasons: { rule: string; message: string }[];
  blockedUntil?: string | null;
  alerts: { rule: string; severity: string; message: string }[];
};

const iso = (ms: number): string => new Date(ms).toISOString();

/** Sends one call; returns when the service has taken it, or it was refused as malformed, or on abort. */
async function send(
  t: ApiTarget,
  r: CallRecord,
  where: string,
  stats: WatchStats,
  log: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const body: Record<string, unknown> = { callId: r.callId, account: r.account, to: r.to, at: iso(r.start) };
  if (r.from !== undefined && r.from !== "" && r.from.length <= 128) body.from = r.from;
  if (r.sourceIp !== undefined && isIP(r.sourceIp) !== 0) body.sourceIp = r.sourceIp;
  const v = (await call(t, "/v1/calls/authorize", body, where, stats, log, signal)) as
    | VerdictAnswer
    | undefined;
  if (v === undefined) return;
  stats.records++;
  if (v.decision === "allow") stats.allowed++;
  else stats.denied++;
  if (v.blockedUntil !== undefined) stats.blocked++;
  for (const a of v.alerts) {
    stats.alerts++;
    log(`alert ${where}: ${r.account} ${a.severity} ${a.rule}: ${a.message}`);
  }
  if (v.decision === "allow") {
    const path = `/v1/calls/${encodeURIComponent(r.callId)}/hangup`;
    await call(t, path, { at: iso(r.end), billsec: r.billsec }, where, stats, log, signal);
  }
}

/** One request, retried while the service is unreachable or unavailable; undefined when refused or aborted. */
async function call(
  t: ApiTarget,
  path: string,
  body: unknown,
  where: string,
  stats: WatchStats,
  log: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  let wait = 500;
  for (;;) {
    if (signal?.aborted) return undefined;
    try {
      return await api(t, "POST", path, body);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) throw e;
      if (e instanceof ApiError && e.status < 500) {
        stats.rejected++;
        log(`rejected ${where}: the service refused the call: ${e.message}`);
        return undefined;
      }
      stats.retries++;
      if (wait === 500) log(`retrying ${where}: ${(e as Error).message}`);
      await sleep(wait, signal);
      wait = Math.min(MAX_BACKOFF_MS, wait * 2);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
