import { createReadStream, statSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import type { Command } from "commander";
import {
  type CdrFormat,
  type CdrReaderOptions,
  cdrFormats,
  createCdrStats,
  readCdrBatches,
} from "../adapters/ingest/cdr/index.js";
import { renderReplayReport } from "../adapters/report/replay-report.js";
import { createCallGuard, loadAccountsFileWithCdr } from "../app/build.js";
import { Replayer } from "../calls/replay.js";
import { loadConfig } from "../config/load.js";
import { table } from "./output.js";

/**
 * `mamori replay`: the same detectors over recorded CDRs, in event time. A month replays in seconds and
 * gives the alerts that live traffic would have given, with the money each would have saved.
 */
type Opts = {
  format: string;
  accounts?: string;
  config?: string;
  alerts?: string;
  report?: string;
  timeZone?: string;
  horizonHours?: number;
  quiet?: boolean;
};

export function registerReplay(program: Command): void {
  program
    .command("replay <files...>")
    .description("run the call guard over recorded CDRs in event time and report what it would have caught")
    .requiredOption("--format <format>", `one of ${cdrFormats.join(", ")}`)
    .option("--accounts <file>", "accounts file (policies, and optionally `cdr:` reading options)")
    .option("--config <file>", "Mamori configuration (rules, defaults, `cdr:` options)")
    .option("--alerts <out.jsonl>", "write one alert per JSON line")
    .option("--report <out.html>", "write a self-contained HTML report")
    .option("--time-zone <tz>", "zone of wall-clock times in the files (default UTC, or the cdr options)")
    .option("--horizon-hours <n>", "longest call expected: how far records may be out of order", (v) =>
      Number(v),
    )
    .option("--quiet", "no progress bar")
    .action(async (files: string[], o: Opts) => {
      await replay(files, o);
    });
}

export async function replay(files: string[], o: Opts): Promise<void> {
  if (!(cdrFormats as readonly string[]).includes(o.format))
    throw new Error(`--format must be one of ${cdrFormats.join(", ")} (got "${o.format}")`);
  const format = o.format as CdrFormat;
  const config = loadConfig({ file: o.config });
  const accounts = o.accounts ? loadAccountsFileWithCdr(o.accounts) : { accounts: [], cdr: undefined };
  const cdrOptions: CdrReaderOptions = { ...config.cdr, ...accounts.cdr };
  if (o.timeZone) cdrOptions.timeZone = o.timeZone;
  const guard = createCallGuard(config);
  for (const p of accounts.accounts) guard.setPolicy(p);
  const replayer = new Replayer(guard, { horizonMs: (o.horizonHours ?? 4) * 3_600_000 });
  const cdr = createCdrStats();
  const shownRejections: string[] = [];
  const started = Date.now();
  for (const file of files) {
    const size = statSync(file).size;
    let bytes = 0;
    const input = createReadStream(file, { highWaterMark: 1 << 20 });
    input.on("data", (chunk) => {
      bytes += chunk.length;
    });
    const progress = new Progress(basename(file), size, !o.quiet && process.stderr.isTTY === true);
    for await (const batch of readCdrBatches(input, file, format, cdrOptions, cdr)) {
      for (const item of batch) {
        if (item.type === "record") replayer.push(item.record);
        else if (shownRejections.length < 20)
          shownRejections.push(`${item.rejected.source}:${item.rejected.line}: ${item.rejected.reason}`);
      }
      progress.update(bytes, cdr.records);
    }
    progress.done();
  }
  replayer.finish();
  const seconds = (Date.now() - started) / 1000;
  const alerts = [...replayer.alerts].sort((a, b) => a.at - b.at);
  if (o.alerts) {
    writeFileSync(
      o.alerts,
      alerts
        .map((a) =>
          JSON.stringify({
            at: new Date(a.at).toISOString(),
            rule: a.rule,
            severity: a.severity,
            account: a.account,
            decision: a.decision,
            callId: a.callId,
            message: a.message,
            evidence: a.evidence,
            saved: Math.round(a.saved),
          }),
        )
        .join("\n") + (alerts.length ? "\n" : ""),
    );
  }
  const currency = "JPY";
  if (o.report) {
    writeFileSync(
      o.report,
      renderReplayReport({
        title: `Mamori replay: ${files.map((f) => basename(f)).join(", ")}`,
        files,
        currency,
        replay: replayer.stats,
        cdr,
        alerts,
        series: replayer.series,
      }),
    );
  }
  const s = replayer.stats;
  const out: string[] = [];
  out.push(
    `Replayed ${s.records.toLocaleString("en-US")} calls from ${cdr.lines.toLocaleString("en-US")} lines in ${seconds.toFixed(1)} s` +
      ` (${Math.round(cdr.records / Math.max(seconds, 0.001)).toLocaleString("en-US")} records/s).`,
  );
  out.push(
    `Rows read ${cdr.lines}, used ${cdr.records}, rejected ${cdr.rejected}` +
      (cdr.rejected
        ? `: ${Object.entries(cdr.rejectedByReason)
            .map(([r, n]) => `${r} (${n})`)
            .join("; ")}`
        : "") +
      (s.late ? `; ${s.late} replayed late` : ""),
  );
  for (const r of shownRejections) out.push(`  rejected ${r}`);
  out.push(
    `Allowed ${s.allowed}, denied ${s.denied}, ended early ${s.terminated}; estimated spend ${Math.round(s.cost)} ${currency}, saved ${Math.round(s.saved)} ${currency}.`,
  );
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
  out.push("");
  out.push(
    table(
      [...byRule.entries()].map(([rule, x]) => ({
        rule,
        alerts: x.alerts,
        critical: x.critical,
        accounts: x.accounts.size,
        saved: `${Math.round(x.saved).toLocaleString("en-US")} ${currency}`,
      })),
      ["rule", "alerts", "critical", "accounts", "saved"],
    ),
  );
  if (o.alerts) out.push(`\nAlerts: ${o.alerts}`);
  if (o.report) out.push(`Report: ${o.report}`);
  process.stdout.write(out.join("\n") + "\n");
}

/** A progress bar on stderr, shown only for files that take more than a second. */
class Progress {
  private readonly start = Date.now();
  private shown = false;
  private last = 0;
  constructor(
    private readonly name: string,
    private readonly size: number,
    private readonly enabled: boolean,
  ) {}

  update(bytes: number, records: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.start < 1000 || now - this.last < 200) return;
    this.last = now;
    this.shown = true;
    const f = this.size > 0 ? Math.min(1, bytes / this.size) : 0;
    const bar = "#".repeat(Math.round(f * 30)).padEnd(30, ".");
    const rate = Math.round(records / ((now - this.start) / 1000));
    process.stderr.write(
      `\r${this.name} [${bar}] ${(f * 100).toFixed(0).padStart(3)}%  ${rate.toLocaleString("en-US")} records/s `,
    );
  }

  done(): void {
    if (this.shown) process.stderr.write("\n");
  }
}
