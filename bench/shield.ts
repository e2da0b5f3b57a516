import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Customer, type FloodResult, flood, sleep } from "../test/e2e/shield-world.js";
import { openLoop } from "./lib/open-loop.js";
import { run, startProcess } from "./lib/processes.js";
import { fmt, machine, percentile } from "./lib/stats.js";

/**
 * The billing shield against floods, slow connections and a flash crowd, next to no protection and
 * nginx limit_req, in the same run. A sample billing backend of fixed capacity (5 workers × 100 ms =
 * 50 requests/s, 256 connections at most, as a thread-pool app server has); customers (sessions opened
 * earlier) start transactions of four requests at 60% of capacity, each a new connection, giving up
 * after 6 s; attacks from 127.0.0.0/8 start after a warm-up. Backend, gateway and flood each run in
 * a process of their own; everything is on loopback and bounded in time (~4 minutes in all).
 */
const WORKERS = 5;
const SERVICE_MS = 100;
const CAPACITY = (WORKERS * 1000) / SERVICE_MS;
const WARM_MS = 2500;
const ATTACK_MS = 6000;
const TXN_DEADLINE_MS = 6000;
/** 60% of capacity in requests, four per transaction. */
const LEGIT_TXN_PER_S = (0.6 * CAPACITY) / 4;
const CROWD_TXN_PER_S = (0.6 * CAPACITY) / 4;

type Protection = "none" | "nginx" | "shield";
type Scenario = { name: string; factor?: number; slow?: boolean; flash?: boolean };

const SCENARIOS: Scenario[] = [
  // The reference for the goals: legitimate transactions' p99 with no attack at all.
  { name: "no attack (baseline)" },
  { name: "flood 2× capacity", factor: 2 },
  { name: "flood 10× capacity", factor: 10 },
  { name: "flood 50× capacity", factor: 50 },
  { name: "slow connections", slow: true },
  { name: "flash crowd (+60% from 2 CGNAT addresses)", flash: true },
];

/** BENCH_SHIELD_SETTINGS (JSON) changes sections of these, to compare settings on one machine. */
const override = JSON.parse(process.env.BENCH_SHIELD_SETTINGS ?? "{}") as Record<string, object>;
const SHIELD_SETTINGS = {
  secrets: ["bench-shield-secret-0123456789abcdefghij"],
  ...override,
  attack: { learnSeconds: 3, enterSeconds: 2, minRps: 20, exitSeconds: 5, minSeconds: 5, ...override.attack },
  challenge: { bits: 14, ...override.challenge },
};

const here = fileURLToPath(import.meta.url);
const fromSource = here.endsWith(".ts");

function peerArgs(role: string, args: unknown): string[] {
  const script = join(dirname(here), fromSource ? "shield-peer.ts" : "shield-peer.js");
  return [...(fromSource ? ["--import", "tsx"] : []), script, role, JSON.stringify(args)];
}

function peer(role: "backend" | "shield", args: unknown) {
  return startProcess(process.execPath, peerArgs(role, args), /listening (http:\/\/\S+)/);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * nginx as a careful operator sets it up for a billing API: per-address request rate (10/s, burst 20;
 * logins 1/s, burst 5), per-address connections, header and body time-outs, small bodies, keep-alive
 * to the backend. What it cannot do is know who is a customer or what the backend can take.
 */
function nginxConf(port: number, backendUrl: string, limits: boolean): string {
  const upstream = new URL(backendUrl).host;
  const user = process.getuid?.() === 0 ? "user root;" : "";
  const proxy = `proxy_pass http://billing; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`;
  const lim = limits
    ? `limit_conn conns 32; limit_req zone=perip burst=20 nodelay; limit_req_status 429; limit_conn_status 429;`
    : "";
  return `${user}
worker_processes auto; daemon off; master_process on; pid nginx.pid;
error_log stderr notice; worker_rlimit_nofile 20000;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fcgi;
  uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
  limit_req_zone $binary_remote_addr zone=perip:10m rate=10r/s;
  limit_req_zone $binary_remote_addr zone=login:10m rate=1r/s;
  limit_conn_zone $binary_remote_addr zone=conns:10m;
  upstream billing { server ${upstream} max_fails=0; keepalive 64; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    client_header_timeout 10s; client_body_timeout 10s; send_timeout 10s; keepalive_timeout 15s;
    client_max_body_size 64k;
    proxy_connect_timeout 2s; proxy_read_timeout 10s; proxy_next_upstream off;
    ${lim}
    location = /login { ${limits ? "limit_req zone=login burst=5 nodelay;" : ""} ${proxy} }
    location / { ${proxy} }
  }
}
`;
}

async function startNginx(backendUrl: string, limits = true) {
  const dir = mkdtempSync(join(tmpdir(), "mamori-bench-nginx-"));
  const port = await freePort();
  writeFileSync(join(dir, "nginx.conf"), nginxConf(port, backendUrl, limits));
  for (const d of ["tmp", "logs"]) mkdirSync(join(dir, d));
  const p = await startProcess(
    "nginx",
    ["-p", `${dir}/`, "-c", join(dir, "nginx.conf"), "-e", "stderr"],
    /start worker process/,
  );
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await p.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Bot k in a /24 of its own (127.20.0.1, 127.20.1.1, …), as a botnet spread over the Internet is. */
const bots = (n: number) => Array.from({ length: n }, (_, k) => `127.${20 + (k >> 8)}.${k & 255}.1`);
const FLOOD_REQUESTS = [
  { method: "POST", path: "/login", body: '{"user":"bot"}' },
  { method: "GET", path: "/" },
  { method: "POST", path: "/payments/complete", body: "{}" },
  { method: "GET", path: "/account" },
];

/** Started ahead of time (a process takes a moment to start) and waits for `startAt`. */
async function floodProcess(origin: string, factor: number, startAt: number): Promise<FloodResult[]> {
  const rps = factor * CAPACITY;
  const floods = [
    {
      origin,
      startAt,
      rps: 0.8 * rps,
      durationMs: ATTACK_MS,
      addresses: bots(500),
      requests: FLOOD_REQUESTS,
      maxPending: 16,
    },
    {
      origin,
      startAt,
      rps: 0.2 * rps,
      durationMs: ATTACK_MS,
      addresses: ["127.0.7.1", "127.0.7.2", "127.0.7.3"],
      requests: FLOOD_REQUESTS,
      maxPending: 256,
      connections: 8,
    },
  ];
  const limit = startAt - Date.now() + ATTACK_MS + 30_000;
  const out = await run(process.execPath, peerArgs("flood", { floods }), {}, limit);
  const m = /^result (.*)$/m.exec(out);
  if (!m) throw new Error(`the flood printed no result:\n${out.slice(-1000)}`);
  return JSON.parse(m[1] as string) as FloodResult[];
}

/**
 * slowhttptest from one address: slowloris and slow POST, opening new connections the whole time (as a
 * real attacker re-opens those that get closed), so every slot a server frees is taken again.
 */
async function slowAttack(origin: string): Promise<void> {
  const secs = String(Math.ceil(ATTACK_MS / 1000));
  const common = ["-u", `${origin}/`, "-l", secs, "-i", "3", "-p", "3"];
  const limit = ATTACK_MS + 20_000;
  const loris = run("slowhttptest", ["-H", "-c", "3000", "-r", "500", ...common], {}, limit);
  const body = run("slowhttptest", ["-B", "-c", "1000", "-r", "150", "-s", "8192", ...common], {}, limit);
  await Promise.allSettled([loris, body]);
}

type Txn = { start: number; ok: boolean; ms: number };
type Row = {
  scenario: string;
  protection: Protection;
  legit: Txn[];
  attackSent: number;
  attackReached: number;
  notes: string;
};

async function runOne(s: Scenario, protection: Protection, hasSlow: boolean): Promise<Row> {
  const backend = await peer("backend", { workers: WORKERS, serviceMs: SERVICE_MS, maxConnections: 256 });
  const backendUrl = backend.match[1] as string;
  let front = backendUrl;
  let stopFront = async () => {};
  let shieldOutput = () => "";
  const customers: Customer[] = [];
  let attackAt = 0;
  try {
    if (protection === "nginx") {
      const n = await startNginx(backendUrl);
      front = n.url;
      stopFront = n.stop;
    } else if (protection === "shield") {
      const g = await peer("shield", { upstream: backendUrl, settings: SHIELD_SETTINGS });
      front = g.match[1] as string;
      stopFront = g.stop;
      shieldOutput = g.output;
    }
    const regular = Array.from(
      { length: 20 },
      (_, i) => new Customer(front, `c${i}`, `127.0.1.${i + 1}`, 1000),
    );
    const crowd = s.flash
      ? Array.from({ length: 60 }, (_, i) => new Customer(front, `f${i}`, `127.0.6.${1 + (i % 2)}`, 1000))
      : [];
    customers.push(...regular, ...crowd);
    // Sessions opened earlier in the day, and one visit through the front (as every customer has made
    // since logging in), so the shield has seen each of them once.
    await Promise.all(customers.map((c) => c.loginAt(backendUrl)));
    const setup = Date.now() + 15_000;
    await Promise.all(customers.map((c) => c.visit(setup)));

    const t0 = Date.now();
    attackAt = t0 + WARM_MS;
    const end = attackAt + ATTACK_MS;
    const legit: Txn[] = [];
    const txns: Promise<void>[] = [];
    const schedule = async (who: Customer[], perSecond: number, from: number) => {
      await sleep(from - Date.now());
      const total = Math.floor((perSecond * (end - from)) / 1000);
      for (let i = 0; i < total && Date.now() < end + 1000; ) {
        const due = Math.min(total, Math.floor(((Date.now() - from) / 1000) * perSecond));
        for (; i < due; i++) {
          const c = who[i % who.length] as Customer;
          const start = Date.now();
          txns.push(
            c
              .transaction(start + TXN_DEADLINE_MS)
              .then((ok) => void legit.push({ start, ok, ms: Date.now() - start })),
          );
        }
        await sleep(10);
      }
    };
    const floods = s.factor ? floodProcess(front, s.factor, attackAt) : Promise.resolve([]);
    const jobs: Promise<unknown>[] = [
      schedule(regular, LEGIT_TXN_PER_S, t0),
      flood({
        origin: front,
        rps: 5,
        durationMs: end - t0,
        addresses: ["127.0.0.20", "127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24"],
        requests: [{ method: "GET", path: "/" }],
      }),
      s.flash ? schedule(crowd, CROWD_TXN_PER_S, attackAt) : Promise.resolve(),
      sleep(attackAt - Date.now()).then(() => (s.slow && hasSlow ? slowAttack(front) : undefined)),
    ];
    const sent = (await floods).reduce((n, f) => n + f.sent, 0);
    await Promise.all(jobs);
    await Promise.all(txns);
    const stats = (await (await fetch(`${backendUrl}/__stats`)).json()) as {
      reached: Record<string, number>;
    };
    const failures: Record<string, number> = {};
    for (const c of customers)
      for (const [k, v] of Object.entries(c.failures)) failures[k] = (failures[k] ?? 0) + v;
    const why = Object.entries(failures)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}×${v}`)
      .join(" ");
    return {
      scenario: s.name,
      protection,
      legit: legit.filter((t) => t.start >= attackAt),
      attackSent: sent,
      attackReached: stats.reached.attack ?? 0,
      notes: why ? `customers failed on: ${why}` : "",
    };
  } finally {
    await Promise.allSettled(customers.map((c) => c.close()));
    await stopFront();
    await backend.stop();
    if (protection === "shield") shieldNotes.set(s.name, summarise(shieldOutput(), attackAt));
  }
}

/** What the shield reported: when it entered attack mode (from the attack's start), bans, sheds. */
const shieldNotes = new Map<string, string>();
function summarise(out: string, attackAt: number): string {
  const parts: string[] = [];
  const entered = /event \{"type":"mode","at":([\d.]+),"to":"attack"/.exec(out);
  if (entered) parts.push(`attack mode at +${fmt(Number(entered[1]) - attackAt)} ms`);
  const bans = (out.match(/"type":"ban"/g) ?? []).length;
  if (bans > 0) parts.push(`${bans} bans`);
  const stats = /^stats (.*)$/m.exec(out);
  if (stats) {
    const st = JSON.parse(stats[1] as string) as {
      shed: Record<string, number>;
      challenged: number;
      refusedConnections: number;
    };
    const shed = Object.entries(st.shed).filter(([, n]) => n > 0);
    if (shed.length > 0) parts.push(`shed ${shed.map(([c, n]) => `${c} ${n}`).join(", ")}`);
    if (st.challenged > 0) parts.push(`${st.challenged} challenged`);
    if (st.refusedConnections > 0) parts.push(`${st.refusedConnections} connections refused`);
  }
  return parts.join("; ");
}

async function gatewayCost(): Promise<string[]> {
  const backend = await peer("backend", { workers: 100_000, serviceMs: 0 });
  const backendUrl = backend.match[1] as string;
  const shield = await peer("shield", {
    upstream: backendUrl,
    settings: {
      ...SHIELD_SETTINGS,
      knownClients: ["127.0.0.1"],
      customer: { rate: { perSecond: 1e6, burst: 1e6 } },
    },
  });
  const nginx = await startNginx(backendUrl, false);
  try {
    const targets = [
      ["direct to the backend", backendUrl],
      ["through the shield", shield.match[1] as string],
      ["through nginx (plain proxy, for reference)", nginx.url],
    ] as const;
    const rows: string[] = [];
    let directP50 = Number.NaN;
    for (const [name, url] of targets) {
      const w = await run(
        "wrk",
        ["-t1", "-c32", "-d5s", "-H", "Cookie: sid=bench", `${url}/account`],
        {},
        30_000,
      );
      const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(w)?.[1] ?? Number.NaN);
      const lat = await openLoop({
        origin: url,
        path: "/cart",
        headers: { cookie: "sid=bench", "content-type": "application/json" },
        body: () => "{}",
        rate: 1000,
        seconds: 4,
        connections: 16,
      });
      if (Number.isNaN(directP50)) directP50 = lat.p50;
      rows.push(
        `| ${name} | ${fmt(rate)} | ${fmt(lat.p50, 2)} | ${fmt(lat.p99, 2)} | ${fmt(lat.p50 - directP50, 2)} | ${lat.errors} |`,
      );
    }
    return rows;
  } finally {
    await nginx.stop();
    await shield.stop();
    await backend.stop();
  }
}

export async function benchShield(): Promise<string> {
  const hasSlow = await run("slowhttptest", ["-h"], {}, 5000).then(
    () => true,
    (e: Error) => /slowhttptest/.test(e.message),
  );
  const rows: Row[] = [];
  // BENCH_SHIELD_ONLY=50× runs the scenarios whose name contains the text (and skips the cost table).
  const only = process.env.BENCH_SHIELD_ONLY;
  // BENCH_SHIELD_PROTECTIONS=shield (comma-separated) runs only those columns.
  const protections = (process.env.BENCH_SHIELD_PROTECTIONS ?? "none,nginx,shield")
    .split(",")
    .filter((p): p is Protection => p === "none" || p === "nginx" || p === "shield");
  for (const s of SCENARIOS.filter((x) => !only || x.name.includes(only)))
    for (const p of protections) rows.push(await runOne(s, p, hasSlow));
  const cost = only ? [] : await gatewayCost();
  const lines = rows.map((r) => {
    const ok = r.legit.filter((t) => t.ok);
    const lat = Float64Array.from(ok.map((t) => t.ms)).sort();
    const share = r.legit.length > 0 ? ok.length / r.legit.length : Number.NaN;
    const reached = r.attackSent > 0 ? `${fmt((100 * r.attackReached) / r.attackSent, 1)}%` : "—";
    const sentRate = r.attackSent > 0 ? fmt(r.attackSent / (ATTACK_MS / 1000)) : "—";
    const notes = [r.protection === "shield" ? shieldNotes.get(r.scenario) : "", r.notes]
      .filter(Boolean)
      .join("; ");
    return `| ${r.scenario} | ${r.protection} | ${fmt(100 * share, 1)}% (${ok.length}/${r.legit.length}) | ${fmt(percentile(lat, 50))} | ${fmt(percentile(lat, 99))} | ${sentRate} | ${reached} | ${notes} |`;
  });
  return [
    `## Billing shield under attack (backend ${WORKERS} workers × ${SERVICE_MS} ms = ${CAPACITY} requests/s)`,
    `machine: ${machine()}; one process each for backend, gateway and flood, all on this machine`,
    `customers: ${fmt(LEGIT_TXN_PER_S, 1)} transactions/s of 4 requests (60% of capacity), each a new connection, deadline ${TXN_DEADLINE_MS / 1000} s; attack for ${ATTACK_MS / 1000} s after ${WARM_MS / 1000} s of warm-up; floods from 500 addresses in 500 /24s (80%) and 3 heavy hitters (20%); slow: slowhttptest ${hasSlow ? "slowloris (3,000 connections at 500/s) and slow POST (1,000 at 150/s) from one address" : "not installed: skipped"}`,
    "",
    "| attack | protection | legit transactions completed | p50 ms | p99 ms | attack sent req/s | attack reaching backend | notes |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ...lines,
    "",
    "### Gateway cost (backend answering at once; wrk -t1 -c32 5 s; open loop at 1,000 requests/s for 4 s)",
    "",
    "| path | max requests/s (wrk) | p50 ms at 1,000/s | p99 ms | added p50 ms | errors |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...cost,
  ].join("\n");
}
