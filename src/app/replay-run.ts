import type { Readable } from "node:stream";
import {
  type CdrFormat,
  type CdrReaderOptions,
  type CdrStats,
  createCdrStats,
  readCdrBatches,
} from "../adapters/ingest/cdr/index.js";
import { renderReplayReport } from "../adapters/report/replay-report.js";
import type { AccountPolicy } from "../calls/policy.js";
import { type ReplayAlert, Replayer } from "../calls/replay.js";
import type { Config } from "../config/schema.js";
import { createCallGuard } from "./build.js";

/**
 * One replay of recorded CDRs through a fresh call guard, in event time: what `mamori replay` and the
 * console's replay page both run, so that they give the same alerts and the same report.
 */
export type ReplayInput = { readonly name: string; readonly stream: Readable };

export type ReplayRun = {
  readonly replayer: Replayer;
  readonly cdr: CdrStats;
  /** Alerts in event-time order. */
  readonly alerts: readonly ReplayAlert[];
  /** The first rejected rows, `source:line: reason`, for the operator to fix the file or the column map. */
  readonly rejections: readonly string[];
  readonly seconds: number;
};

export type ReplayOptions = {
  readonly format: CdrFormat;
  readonly config: Config;
  readonly accounts: readonly AccountPolicy[];
  readonly cdr: CdrReaderOptions;
  readonly horizonHours?: number | undefined;
  /** Called after every batch with the records so far; awaited, so a server can yield to other work. */
  readonly onProgress?: ((input: ReplayInput, records: number) => void | Promise<void>) | undefined;
};

const SHOWN_REJECTIONS = 20;

export async function runReplay(inputs: readonly ReplayInput[], o: ReplayOptions): Promise<ReplayRun> {
  const guard = createCallGuard(o.config);
  for (const p of o.accounts) guard.setPolicy(p);
  const replayer = new Replayer(guard, { horizonMs: (o.horizonHours ?? 4) * 3_600_000 });
  const cdr = createCdrStats();
  const rejections: string[] = [];
  const started = Date.now();
  for (const input of inputs) {
    for await (const batch of readCdrBatches(input.stream, input.name, o.format, o.cdr, cdr)) {
      for (const item of batch) {
        if (item.type === "record") replayer.push(item.record);
        else if (rejections.length < SHOWN_REJECTIONS)
          rejections.push(`${item.rejected.source}:${item.rejected.line}: ${item.rejected.reason}`);
      }
      await o.onProgress?.(input, cdr.records);
    }
  }
  replayer.finish();
  return {
    replayer,
    cdr,
    alerts: [...replayer.alerts].sort((a, b) => a.at - b.at),
    rejections,
    seconds: (Date.now() - started) / 1000,
  };
}

export const REPLAY_CURRENCY = "JPY";

/** The self-contained HTML page of `mamori replay --report`. */
export function replayReportHtml(run: ReplayRun, title: string, files: readonly string[]): string {
  return renderReplayReport({
    title,
    files: [...files],
    currency: REPLAY_CURRENCY,
    replay: run.replayer.stats,
    cdr: run.cdr,
    alerts: [...run.alerts],
    series: run.replayer.series,
  });
}

/** One alert as a JSON line of `--alerts` and as the API gives it. */
export function replayAlertJson(a: ReplayAlert) {
  return {
    at: new Date(a.at).toISOString(),
    rule: a.rule,
    severity: a.severity,
    account: a.account,
    decision: a.decision,
    callId: a.callId,
    message: a.message,
    evidence: a.evidence,
    saved: Math.round(a.saved),
  };
}

/** Alerts, accounts and money saved per rule: the summary table of the CLI and the console. */
export function replayByRule(alerts: readonly ReplayAlert[]) {
  const byRule = new Map<
    string,
    { alerts: number; accounts: Set<string>; saved: number; critical: number }
  >();
  for (const a of alerts) {
    const x = byRule.get(a.rule) ?? { alerts: 0, accounts: new Set<string>(), saved: 0, critical: 0 };
    x.alerts++;
    x.accounts.add(a.account);
    x.saved += a.saved;
    if (a.severity === "critical") x.critical++;
    byRule.set(a.rule, x);
  }
  return [...byRule.entries()].map(([rule, x]) => ({
    rule,
    alerts: x.alerts,
    critical: x.critical,
    accounts: x.accounts.size,
    saved: Math.round(x.saved),
  }));
}
