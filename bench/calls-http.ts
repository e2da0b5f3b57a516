import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { mamoriCommand, tempDir } from "../test/support/mamori-process.js";
import { repoRoot } from "../test/support/paths.js";
import { run, startProcess } from "./lib/processes.js";
import { socketLoop } from "./lib/socket-loop.js";
import { fmt, machine } from "./lib/stats.js";

/**
 * Decisions per second over HTTP with keep-alive, from wrk on the same machine, next to a bare Fastify
 * route answering a constant (the anchor, same run); then p50/p99 at a fixed 10,000 decisions/s from an
 * open-loop generator (socket-loop.ts). Both servers are separate processes; loopback only; every run
 * is bounded in time.
 */
const ACCOUNTS = 1000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

const wrkScript = `
local n = 0
local prefix = os.getenv("BENCH_RUN") or "0"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_KEY") or "")
request = function()
  n = n + 1
  local m = n % 20
  local to
  if m < 14 then to = "03" .. (10000000 + (n * 7919) % 89999999)
  elseif m < 19 then to = "+1212" .. (1000000 + (n * 104729) % 8999999)
  else to = "+23276" .. (100000 + (n * 31) % 899999) end
  local body = '{"callId":"w' .. prefix .. '-' .. n .. '","account":"acct-' .. (n % ${ACCOUNTS}) .. '","to":"' .. to .. '"}'
  return wrk.format(nil, "/v1/calls/authorize", nil, body)
end
`;

function bodyFor(round: number, i: number): string {
  const m = i % 20;
  const to =
    m < 14
      ? `03${10_000_000 + ((i * 7919) % 89_999_999)}`
      : m < 19
        ? `+1212${1_000_000 + ((i * 104_729) % 8_999_999)}`
        : `+23276${100_000 + ((i * 31) % 899_999)}`;
  return `{"callId":"o${round}-${i}","account":"acct-${i % ACCOUNTS}","to":"${to}"}`;
}

/** Moves every thread of a process to the given CPUs; false where taskset is missing. */
async function pin(pid: number, cpuList: string): Promise<boolean> {
  try {
    await run("taskset", ["-a", "-p", "-c", cpuList, String(pid)], {}, 10_000);
    return true;
  } catch {
    return false;
  }
}

// wrk's Lua has a fixed random seed: without a distinct prefix per run, every run would send the
// call ids of the warm-up again and the service would answer repeats instead of deciding.
let wrkRuns = 0;

async function wrk(url: string, key: string, script: string): Promise<number> {
  const out = await run(
    "wrk",
    ["-t1", "-c32", `-d${SECONDS}s`, "-s", script, url],
    { BENCH_KEY: key, BENCH_RUN: `${process.pid}-${++wrkRuns}` },
    (SECONDS + 30) * 1000,
  );
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`wrk printed no rate:\n${out}`);
  return Number(m[1]);
}

export async function benchHttp(): Promise<string> {
  const dir = tempDir("mamori-bench-http-");
  const script = join(dir, "authorize.lua");
  writeFileSync(script, wrkScript);
  const { cmd, args } = mamoriCommand(["serve", "--port", "0", "--db", join(dir, "bench.db")]);
  const mamori = await startProcess(cmd, args, /"address":"(http:\/\/127\.0\.0\.1:\d+)"/, {
    MAMORI_LOG_LEVEL: "info",
  });
  const bare = await startProcess(
    process.execPath,
    [join(repoRoot, "dist", "bench", "bare-fastify.js")],
    /listening (http:\/\/\S+)/,
  );
  try {
    const url = mamori.match[1] as string;
    const admin = /MAMORI_ADMIN_KEY=(\S+)/.exec(mamori.output())?.[1] as string;
    const h = { authorization: `Bearer ${admin}`, "content-type": "application/json" };
    const k = await fetch(`${url}/v1/keys`, {
      method: "POST",
      headers: h,
      body: JSON.stringify({ name: "bench", role: "switch" }),
    });
    const key = ((await k.json()) as { secret: string }).secret;
    for (let i = 0; i < ACCOUNTS; i++) {
      await fetch(`${url}/v1/accounts/acct-${i}`, {
        method: "PUT",
        headers: h,
        body: JSON.stringify({
          international: { mode: "all" },
          caps: {
            callsPerSecond: 100_000,
            callsPerMinute: 1_000_000,
            concurrentCalls: 1_000_000,
            spendPerHour: 1e9,
            spendPerDay: 1e9,
            spendPerMonth: 1e9,
          },
        }),
      });
    }
    const bareUrl = bare.match[1] as string;
    await wrk(bareUrl, key, script); // warm-up both
    await wrk(url, key, script);
    const bareRate = await wrk(bareUrl, key, script);
    const mamoriRate = await wrk(url, key, script);
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    let loops = 0;
    const loop = (origin: string, seconds: number) => {
      const round = ++loops;
      return socketLoop({
        origin,
        path: "/v1/calls/authorize",
        headers,
        body: (i) => bodyFor(round, i),
        rate: 10_000,
        seconds,
        connections: 32,
      });
    };
    await loop(bareUrl, 1); // the generator's own warm-up
    const bareLat = await loop(bareUrl, SECONDS);
    const mamoriLat = await loop(url, SECONDS);
    // The same again with the generator on one core and the server (all its threads) on the other:
    // on two shared cores the scheduler otherwise puts the server's helper threads (garbage collection,
    // WAL checkpoints) and the generator in each other's way, and the tail measures that.
    const all = `0-${cpus().length - 1}`;
    let pinned: { bare: typeof bareLat; mamori: typeof bareLat } | undefined;
    const mamoriPid = mamori.child.pid;
    const barePid = bare.child.pid;
    if (
      cpus().length >= 2 &&
      mamoriPid !== undefined &&
      barePid !== undefined &&
      (await pin(process.pid, "0"))
    ) {
      try {
        await pin(barePid, "1");
        await pin(mamoriPid, "1");
        pinned = { bare: await loop(bareUrl, SECONDS), mamori: await loop(url, SECONDS) };
      } finally {
        await pin(process.pid, all);
      }
    }
    const latRow = (name: string, l: typeof bareLat) =>
      `| ${name} | ${fmt(l.achieved)} | ${fmt(l.p50, 2)} | ${fmt(l.p99, 2)} | ${fmt(l.p999, 2)} | ${l.errors} |`;
    return [
      `## Call authorization over HTTP (keep-alive, ${SECONDS} s per run, ${ACCOUNTS} accounts)`,
      `machine: ${machine()}; wrk -t1 -c32 and the server share the machine's cores`,
      "",
      "| server | max decisions/s (wrk) | ratio to bare |",
      "| --- | ---: | ---: |",
      `| bare Fastify, constant answer (anchor) | ${fmt(bareRate)} | 1.00 |`,
      `| Mamori authorize (guard + SQLite log) | ${fmt(mamoriRate)} | ${fmt(mamoriRate / bareRate, 2)} |`,
      "",
      "At a fixed 10,000 requests/s (socket-loop.ts, 32 connections):",
      "",
      "| server | cores | achieved/s | p50 ms | p99 ms | p99.9 ms | errors |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
      latRow("bare Fastify (anchor) | shared", bareLat),
      latRow("Mamori authorize | shared", mamoriLat),
      ...(pinned
        ? [
            latRow("bare Fastify (anchor) | generator 0, server 1", pinned.bare),
            latRow("Mamori authorize | generator 0, server 1", pinned.mamori),
          ]
        : []),
    ].join("\n");
  } finally {
    await mamori.stop();
    await bare.stop();
  }
}
