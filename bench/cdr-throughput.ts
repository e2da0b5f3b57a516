import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  rmSync,
  statSync,
  type WriteStream,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readCdrFileBatches } from "../src/adapters/ingest/cdr/index.js";
import { AsteriskCsvWriter } from "../src/adapters/ingest/cdr/writers/index.js";
import { createCallGuard } from "../src/app/build.js";
import { Replayer } from "../src/calls/replay.js";
import { loadHolidays } from "../src/config/holidays.js";
import { loadConfig } from "../src/config/load.js";
import { shippedRulesDir } from "../src/config/paths.js";
import { type Simulation, simulate } from "../src/sim/index.js";
import { fmt, machine } from "./lib/stats.js";

/**
 * CDR throughput: records per second through the Asterisk reader and every detector (the Replayer on the
 * shipped defaults), for a large simulated Master.csv (10 million rows by default, BENCH_CDR_ROWS to
 * scale), next to the time it takes merely to cut the same file into lines on the same machine (the
 * anchor: no parser can beat it). Peak RSS is sampled at two file sizes, each run in a fresh process, to
 * show whether memory follows the file or stays flat.
 */
const ACCOUNTS = 2000;
const SEED = 424242;
const START = "2026-04-20";
const TZ = "Asia/Tokyo";

function carrier(): Simulation {
  const r = simulate({
    accounts: ACCOUNTS,
    days: 3000,
    start: START,
    seed: SEED,
    timeZone: TZ,
    holidays: loadHolidays(shippedRulesDir()).get("jp"),
  });
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

async function put(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, "drain");
}

/** Writes the first `small` rows to one file and the first `large` to another, in one pass. */
async function generate(dir: string, small: number, large: number) {
  const files = { small: join(dir, "Master-small.csv"), large: join(dir, "Master.csv") };
  const outs = [createWriteStream(files.small), createWriteStream(files.large)] as const;
  const writer = new AsteriskCsvWriter({ timeZone: TZ });
  let chunk = "";
  let n = 0;
  for (const r of carrier().records()) {
    chunk += writer.write(r);
    n++;
    if (n === small || chunk.length > 1 << 20 || n === large) {
      if (n <= small) await put(outs[0], chunk);
      await put(outs[1], chunk);
      chunk = "";
    }
    if (n === large) break;
  }
  for (const o of outs) {
    o.end();
    await once(o, "finish");
  }
  return files;
}

/**
 * Rows read, seconds, peak RSS and peak external memory (strings and buffers outside the JS heap) sampled
 * every 50 ms, and the heap still in use after a full GC at the end.
 */
type Measure = { rows: number; seconds: number; peakRss: number; peakExternal: number; retainedHeap: number };

/** In a child process: cut the file into lines, or replay it, and report time and peak RSS. */
async function measure(mode: "split" | "replay", file: string): Promise<Measure> {
  let peak = 0;
  let peakExternal = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    peakExternal = Math.max(peakExternal, m.external);
  };
  sample();
  const sampler = setInterval(sample, 50);
  const t0 = performance.now();
  let rows = 0;
  // Held until the heap is measured, so that what the replay keeps (alerts, hourly series) counts.
  let keep: unknown;
  if (mode === "split") {
    const decoder = new TextDecoder();
    let carry = "";
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      const text = carry + decoder.decode(chunk as Buffer, { stream: true });
      let from = 0;
      for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", from)) {
        if (text.slice(from, nl).length > 0) rows++;
        from = nl + 1;
      }
      carry = text.slice(from);
    }
  } else {
    const guard = createCallGuard(loadConfig({}));
    for (const p of carrier().policies) guard.setPolicy(p);
    const replayer = new Replayer(guard);
    for await (const batch of readCdrFileBatches(file, "asterisk-csv", { timeZone: TZ })) {
      for (const item of batch) if (item.type === "record") replayer.push(item.record);
      rows += batch.length;
    }
    replayer.finish();
    keep = replayer;
  }
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  sample();
  (globalThis as { gc?: () => void }).gc?.();
  const retainedHeap = process.memoryUsage().heapUsed;
  void keep;
  return { rows, seconds, peakRss: peak, peakExternal, retainedHeap };
}

/** Runs a measurement in a fresh process, so that each peak is its own. */
function inChild(mode: "split" | "replay", file: string): Promise<Measure> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, "--expose-gc", self, "--measure", mode, file], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`measuring ${mode} of ${file} failed (exit ${code}): ${out}`));
      else resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Measure);
    });
  });
}

const mib = (bytes: number): string => `${fmt(bytes / 2 ** 20)} MiB`;

export async function benchCdrThroughput(): Promise<string> {
  const large = Math.max(1000, Number(process.env.BENCH_CDR_ROWS ?? 10_000_000));
  const small = Math.max(100, Math.floor(large / 10));
  const dir = mkdtempSync(join(tmpdir(), "mamori-cdr-bench-"));
  try {
    const t0 = performance.now();
    const files = await generate(dir, small, large);
    const generated = (performance.now() - t0) / 1000;
    const rows: string[] = [];
    for (const [name, file] of [
      ["small", files.small],
      ["large", files.large],
    ] as const) {
      const split = await inChild("split", file);
      const replay = await inChild("replay", file);
      rows.push(
        `| ${name} | ${fmt(replay.rows)} | ${mib(statSync(file).size)} | ${split.seconds.toFixed(2)} s | ` +
          `${fmt(split.rows / split.seconds)} | ${replay.seconds.toFixed(1)} s | ${fmt(replay.rows / replay.seconds)} | ` +
          `${fmt(replay.seconds / split.seconds, 1)}× | ${mib(split.peakRss)} | ${mib(replay.peakRss)} | ` +
          `${mib(replay.peakExternal)} | ${mib(replay.retainedHeap)} |`,
      );
    }
    return [
      "## CDR throughput: Master.csv through the reader and every detector",
      "",
      `Simulated carrier, ${fmt(ACCOUNTS)} accounts (seed ${SEED}), Asterisk 18-column Master.csv generated with the writer in` +
        ` ${generated.toFixed(1)} s; each measurement in a fresh process on ${machine()}.`,
      "Anchor: reading the same file and cutting it into lines, nothing else. Replay: Asterisk reader + Replayer (every detector, shipped defaults, the simulator's policies).",
      "",
      "Memory of the replay: peak RSS, peak external memory (outside the JS heap: the reader's decoded chunks are" +
        " external strings, kept alive by any field sliced from them that the guard keeps), and the JS heap still" +
        " held after a full GC at the end.",
      "",
      "| file | rows | size | split into lines | lines/s | parse + detectors | CDRs/s | replay ÷ split | peak RSS (split) | peak RSS (replay) | peak external (replay) | heap kept after GC (replay) |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...rows,
    ].join("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const self = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (self && process.argv[2] === "--measure") {
  const m = await measure(process.argv[3] as "split" | "replay", process.argv[4] ?? "");
  process.stdout.write(JSON.stringify(m) + "\n");
} else if (self) {
  process.stdout.write((await benchCdrThroughput()) + "\n");
}
