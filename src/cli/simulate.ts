import { once } from "node:events";
import { createWriteStream, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { stringify } from "yaml";
import { type CdrFormat, type CdrReaderOptions, cdrFormats } from "../adapters/ingest/cdr/index.js";
import { createCdrWriter, genericCsvColumnMap } from "../adapters/ingest/cdr/writers/index.js";
import { loadHolidays } from "../config/holidays.js";
import { shippedRulesDir } from "../config/paths.js";
import { type Incident, parseScenarioList, type Simulation, simulate } from "../sim/index.js";

/**
 * `mamori simulate`: a labelled month (or any span) of a simulated carrier's calls, written as a switch
 * writes its CDRs, with the fraud incidents' labels and the accounts' policies beside it, so that
 * `mamori replay --accounts ACCOUNTS.yaml` judges the calls under the same policies.
 */
export type SimulateOptions = {
  accounts: number;
  days: number;
  start: string;
  seed: number;
  format: string;
  out: string;
  labels: string;
  accountsOut: string;
  scenarios?: string | undefined;
  timeZone?: string | undefined;
};

export type SimulateSummary = {
  readonly calls: number;
  readonly incidentCalls: number;
  readonly incidents: readonly Incident[];
  readonly simulation: Simulation;
};

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number (got "${v}")`);
  return n;
};

export function registerSimulate(program: Command): void {
  program
    .command("simulate")
    .description("write a simulated carrier's CDRs with labelled fraud incidents, and its accounts file")
    .option("--accounts <n>", "how many customer accounts", positive("--accounts"), 100)
    .option("--days <n>", "how many days", positive("--days"), 30)
    .requiredOption("--start <date>", "first day, YYYY-MM-DD (local to --time-zone)")
    .option("--seed <n>", "seed: the same seed gives the same calls", positive("--seed"), 1)
    .option("--format <format>", `CDR format: ${cdrFormats.join(", ")}`, "asterisk-csv")
    .requiredOption("--out <file>", "CDR file to write")
    .requiredOption(
      "--labels <file>",
      "incident labels, one JSON line each: {account, scenario, start, end, calls}",
    )
    .requiredOption("--accounts-out <file>", "accounts file (YAML) with the simulated accounts' policies")
    .option("--scenarios <list>", "incidents: scenario[:count],… or all (default, each once) or none")
    .option("--time-zone <tz>", "zone of the accounts and of the CDR times", "Asia/Tokyo")
    .action(async (o: SimulateOptions) => {
      const s = await runSimulate(o);
      process.stdout.write(
        `Simulated ${s.simulation.accounts.length} accounts over ${s.simulation.days.length} days: ` +
          `${s.calls.toLocaleString("en-US")} calls, ${s.incidents.length} incidents ` +
          `(${s.incidentCalls.toLocaleString("en-US")} fraud calls).\n` +
          `CDRs: ${o.out}\nLabels: ${o.labels}\nAccounts: ${o.accountsOut}\n` +
          `Replay: mamori replay --format ${o.format} ${o.out} --accounts ${o.accountsOut} --alerts alerts.jsonl\n`,
      );
    });
}

/** Simulates and writes the three files; throws (at the edge) on bad options. */
export async function runSimulate(o: SimulateOptions): Promise<SimulateSummary> {
  if (!(cdrFormats as readonly string[]).includes(o.format))
    throw new Error(`--format must be one of ${cdrFormats.join(", ")} (got "${o.format}")`);
  const format = o.format as CdrFormat;
  const scenarios = parseScenarioList(o.scenarios);
  if (!scenarios.ok) throw new Error(`--scenarios: ${scenarios.error}`);
  const timeZone = o.timeZone ?? "Asia/Tokyo";
  const result = simulate({
    accounts: o.accounts,
    days: o.days,
    start: o.start,
    seed: o.seed,
    timeZone,
    holidays: loadHolidays(shippedRulesDir()).get("jp"),
    scenarios: scenarios.value,
  });
  if (!result.ok) throw new Error(result.error);
  const sim = result.value;
  const { calls, incidentCalls } = await writeCdrs(sim, format, timeZone, o.out);
  writeFileSync(
    o.labels,
    sim.incidents
      .map((i) =>
        JSON.stringify({
          account: i.account,
          scenario: i.scenario,
          start: new Date(i.start).toISOString(),
          end: new Date(i.end).toISOString(),
          calls: i.calls,
        }),
      )
      .join("\n") + (sim.incidents.length > 0 ? "\n" : ""),
  );
  const cdr: CdrReaderOptions =
    format === "csv" ? { timeZone, columnMap: genericCsvColumnMap } : { timeZone };
  writeFileSync(
    o.accountsOut,
    `# ${sim.accounts.length} simulated accounts (mamori simulate --seed ${o.seed}); the cdr section tells\n` +
      `# mamori replay how the simulated ${format} file was written.\n` +
      stringify({ cdr, accounts: sim.policies }),
  );
  return { calls, incidentCalls, incidents: sim.incidents, simulation: sim };
}

/** Streams the calls through the format's writer, in chunks of about a megabyte. */
async function writeCdrs(sim: Simulation, format: CdrFormat, timeZone: string, path: string) {
  const writer = createCdrWriter(format, { timeZone });
  const out = createWriteStream(path);
  const failed = once(out, "error").then(([e]) => {
    throw e;
  });
  failed.catch(() => {});
  let chunk = writer.header;
  let calls = 0;
  let incidentCalls = 0;
  const flush = async () => {
    if (!out.write(chunk)) await Promise.race([once(out, "drain"), failed]);
    chunk = "";
  };
  for (const r of sim.records()) {
    calls++;
    if (sim.incidentOf(r.callId) !== undefined) incidentCalls++;
    chunk += writer.write(r);
    if (chunk.length > 1 << 20) await flush();
  }
  chunk += writer.finish();
  await flush();
  out.end();
  await Promise.race([once(out, "finish"), failed]);
  return { calls, incidentCalls };
}
