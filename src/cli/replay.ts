import { createReadStream, statSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import type { Command } from "commander";
import { type CdrFormat, type CdrReaderOptions, cdrFormats } from "../adapters/ingest/cdr/index.js";
import { loadAccountsFileWithCdr } from "../app/build.js";
import {
  REPLAY_CURRENCY,
  replayAlertJson,
  replayByRule,
  replayReportHtml,
  runReplay,
} from "../app/replay-run.js";
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
  const progress = new Map<string, { bar: Progress; bytes: number }>();
  const inputs = files.map((file) => {
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    const p = {
      bar: new Progress(basename(file), statSync(file).size, !o.quiet && process.stderr.isTTY === true),
      bytes: 0,
    };
    stream.on("data", (chunk) => {
      p.bytes += chunk.length;
    });
    stream.on("close", () => p.bar.done());
    progress.set(file, p);
    return { name: file, stream };
  });
  const run = await runReplay(inputs, {
    format,
    config,
    accounts: accounts.accounts,
    cdr: cdrOptions,
    horizonHours: o.horizonHours,
    onProgress: (input, records) => {
      const p = progress.get(input.name);
      p?.bar.update(p.bytes, records);
    },
  });
  const { replayer, cdr, alerts, seconds } = run;
  const shownRejections = run.rejections;
  if (o.alerts) {
    writeFileSync(
      o.alerts,
      alerts.map((a) => JSON.stringify(replayAlertJson(a))).join("\n") + (alerts.length ? "\n" : ""),
    );
  }
  const currency = REPLAY_CURRENCY;
  if (o.report)
    writeFileSync(
      o.report,
      replayReportHtml(run, `Mamori replay: ${files.map((f) => basename(f)).join(", ")}`, files),
    );
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
  out.push("");
  out.push(
    table(
      replayByRule(alerts).map((x) => ({ ...x, saved: `${x.saved.toLocaleString("en-US")} ${currency}` })),
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
