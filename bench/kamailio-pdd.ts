import { execFileSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { kamailioSkipReason, startKamailio } from "../test/support/kamailio.js";
import { client, type MamoriProcess, startMamori } from "../test/support/mamori-process.js";
import { artifactsDir, freePort, stopAll } from "../test/support/peers.js";
import { type Call, callOutcomes, finish, Sipp } from "../test/support/sipp.js";
import { fmt, machine, percentile } from "./lib/stats.js";

/**
 * The post-dial delay that Mamori adds to a call through Kamailio: from the caller's INVITE to the
 * 200 OK it gets back, with a far end that answers at once, so that the time is the proxy's and
 * Mamori's. Two Kamailio instances on the shipped configuration in the same run: one started with
 * MAMORI_DISABLED (the same proxy without the question), one asking the real `mamori serve`.
 *
 * Times come from SIPp's message log, which stamps every message in microseconds; its -trace_rtt
 * file counts whole milliseconds, too coarse for delays of a few.
 */
const ROUNDS = 3;
const CALLS = Math.ceil(Number(process.env.BENCH_PDD_CALLS ?? 300) / ROUNDS) * ROUNDS;
const RATE = Number(process.env.BENCH_PDD_RATE ?? 20);
const WARMUP = 30;

type Run = { answered: number; total: number; sorted: Float64Array };

/** The first match of `pattern` in what `cmd args` prints (SIPp exits non-zero after -v). */
function version(cmd: string, args: string[], pattern: RegExp): string {
  let out = "";
  try {
    out = execFileSync(cmd, args, { encoding: "utf8", timeout: 5000, stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    out = String((error as { stdout?: string }).stdout ?? "");
  }
  return pattern.exec(out)?.[0] ?? "?";
}

export async function benchPostDialDelay(): Promise<string> {
  const skip = kamailioSkipReason();
  if (skip) return `## Post-dial delay through Kamailio\n\nskipped: ${skip}`;
  const dir = artifactsDir("bench-kamailio-pdd", `run-${Date.now()}-${process.pid}`);
  const sipp = new Sipp(() => dir);
  let mamori: MamoriProcess | undefined;
  try {
    mamori = await startMamori();
    const admin = client(mamori.url, mamori.adminKey);
    const key = await admin("POST", "/v1/keys", { name: "kamailio", role: "switch" });
    if (key.status !== 201) throw new Error(`could not create a switch key: ${key.text}`);
    // Domestic calls of an account whose caps are out of the way: every call is asked about and allowed.
    const put = await admin("PUT", "/v1/accounts/bench", {
      international: { mode: "all" },
      caps: { callsPerSecond: 10_000, callsPerMinute: 1_000_000, concurrentCalls: 10_000 },
    });
    if (put.status !== 201) throw new Error(`could not create the account: ${put.text}`);

    // The shipped numbers of workers, as a deployment would run them.
    const kamailio = async (name: string, defines: string[]) => {
      const trunkPort = await freePort();
      const k = await startKamailio({
        name,
        dir,
        mamoriUrl: mamori?.url ?? "",
        apiKey: key.json.secret,
        nextHopPort: trunkPort,
        defines,
        children: 4,
        asyncWorkers: 8,
      });
      return { ...k, trunkPort };
    };
    const alone = await kamailio("alone", ["MAMORI_DISABLED"]);
    const asking = await kamailio("asking", []);

    let serial = 0;
    const measure = async (k: typeof alone, label: string, calls: number): Promise<number[]> => {
      const rows: Call[] = Array.from({ length: calls }, () => [
        "bench",
        `03${10_000_000 + serial++}`,
        "2001",
      ]);
      const timeoutS = Math.ceil(calls / RATE) + 30;
      const trunk = await sipp.startUas("uas.xml", k.trunkPort, calls, `trunk-${label}`, timeoutS + 30);
      const callers = await sipp.uac("uac.xml", k.sipPort, rows, label, { rate: RATE, limit: 100, timeoutS });
      await finish(trunk, 30_000);
      return callOutcomes(callers.messages)
        .filter((o) => o.status === 200 && o.postDialMs !== undefined)
        .map((o) => o.postDialMs as number);
    };

    await measure(alone, "warmup-alone", WARMUP);
    await measure(asking, "warmup-asking", WARMUP);
    // The paths take turns, so that whatever else the shared machine does lands on both alike.
    const times = { without: [] as number[], with: [] as number[] };
    for (let round = 1; round <= ROUNDS; round++) {
      times.without.push(...(await measure(alone, `alone-${round}`, CALLS / ROUNDS)));
      times.with.push(...(await measure(asking, `asking-${round}`, CALLS / ROUNDS)));
    }
    const run = (t: number[]): Run => ({
      answered: t.length,
      total: CALLS,
      sorted: Float64Array.from(t).sort(),
    });
    const without = run(times.without);
    const withMamori = run(times.with);

    const row = (name: string, r: Run) =>
      `| ${name} | ${r.answered}/${r.total} | ${fmt(percentile(r.sorted, 50), 2)} | ${fmt(percentile(r.sorted, 90), 2)} | ${fmt(percentile(r.sorted, 99), 2)} | ${fmt(r.sorted[r.sorted.length - 1] ?? Number.NaN, 2)} |`;
    const delta = (p: number) => percentile(withMamori.sorted, p) - percentile(without.sorted, p);
    // A call Mamori did not answer within MAMORI_TIMEOUT_S was relayed anyway (fail-open): say so.
    const failedOpen = (asking.process.output().match(/mamori: unavailable, fail-open/g) ?? []).length;
    const kamailioVersion = version("kamailio", ["-v"], /kamailio \S+/);
    const sippVersion = version("sipp", ["-v"], /SIPp v[\d.]*\d/);
    return [
      `## Post-dial delay through Kamailio (INVITE to 200 OK at the caller, ${CALLS} calls at ${RATE}/s per path)`,
      `machine: ${machine()}; ${kamailioVersion} (4 SIP workers, 8 async workers), ${sippVersion}, Mamori on SQLite; all on loopback, sharing the cores`,
      "",
      "| path | answered | p50 ms | p90 ms | p99 ms | max ms |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      row("Kamailio alone (MAMORI_DISABLED)", without),
      row("Kamailio asking Mamori", withMamori),
      `| added by Mamori | | ${fmt(delta(50), 2)} | ${fmt(delta(90), 2)} | ${fmt(delta(99), 2)} | |`,
      "",
      `calls relayed without Mamori's answer (time-out, fail-open): ${failedOpen}`,
      `(the far end answers at once; each path warmed up with ${WARMUP} calls, then the two took ${ROUNDS} turns of ${CALLS / ROUNDS} calls; logs in test-artifacts/bench-kamailio-pdd/)`,
    ].join("\n");
  } finally {
    await stopAll();
    await mamori?.stop();
  }
}

// `tsx bench/kamailio-pdd.ts` runs it alone.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${await benchPostDialDelay()}\n`);
}
