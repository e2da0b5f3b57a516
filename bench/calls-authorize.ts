import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../src/adapters/store/sqlite/sqlite-store.js";
import { CallGuard } from "../src/calls/guard.js";
import { shippedDefaults } from "../src/calls/policy.js";
import { loadHolidays } from "../src/config/holidays.js";
import { shippedRulesDir } from "../src/config/paths.js";
import { loadNumberingData } from "../src/config/rules-files.js";
import { fmt, machine, percentile } from "./lib/stats.js";

/**
 * Decisions per second inside the process: the pure guard alone, and the guard plus the SQLite decision
 * log (what `mamori serve` does per call before it answers). Traffic: 1,000 accounts, 70 % domestic,
 * 25 % common international, 5 % high-risk, at 10,000 calls a second of event time, each call hung up
 * 60 s later.
 */
const ACCOUNTS = 1000;
const N = Number(process.env.BENCH_CALLS ?? 300_000);

function traffic(n: number) {
  const to: string[] = [];
  const account: string[] = [];
  let s = 12345;
  const r = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  for (let i = 0; i < n; i++) {
    const x = r();
    to.push(
      x < 0.7
        ? `03${Math.floor(10_000_000 + r() * 89_999_999)}`
        : x < 0.95
          ? `+1212${Math.floor(1_000_000 + r() * 8_999_999)}`
          : `+23276${Math.floor(100_000 + r() * 899_999)}`,
    );
    account.push(`acct-${Math.floor(r() * ACCOUNTS)}`);
  }
  return { to, account };
}

function makeGuard(): CallGuard {
  const dir = shippedRulesDir();
  const g = new CallGuard({
    numbering: loadNumberingData(dir),
    holidays: loadHolidays(dir),
    defaults: shippedDefaults,
  });
  for (let i = 0; i < ACCOUNTS; i++)
    g.setPolicy({
      id: `acct-${i}`,
      international: { mode: "all" },
      caps: { callsPerSecond: 1000, callsPerMinute: 100_000, concurrentCalls: 10_000 },
    });
  return g;
}

async function run(withStore: boolean) {
  const g = makeGuard();
  const store = withStore
    ? new SqliteStore(join(mkdtempSync(join(tmpdir(), "mamori-bench-")), "b.db"))
    : undefined;
  const { to, account } = traffic(N);
  const t0 = Date.UTC(2026, 10, 24, 1);
  const lat = new Float64Array(N);
  // Calls hang up 60 s of event time after they start: a ring of the ids still up.
  const upFor = 600_000 / 10;
  const ring: string[] = new Array<string>(upFor);
  const writes: Promise<void>[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const at = t0 + i / 10; // 10,000 calls per second of event time
    const callId = `c${i}`;
    const a = process.hrtime.bigint();
    const v = g.authorize({
      type: "call.attempt",
      at,
      callId,
      account: account[i] as string,
      to: to[i] as string,
    });
    lat[i] = Number(process.hrtime.bigint() - a) / 1000;
    // Requests arrive concurrently in the service; the log commits them in groups (see sqlite-store.ts).
    if (store) writes.push(store.recordVerdict(v));
    if (writes.length >= 256) await Promise.all(writes.splice(0));
    const old = ring[i % upFor];
    if (old !== undefined) g.hangup({ type: "call.hangup", at, callId: old });
    ring[i % upFor] = v.decision === "allow" ? callId : (undefined as unknown as string);
    if (i % 10_000 === 0) g.tick(at);
  }
  await Promise.all(writes);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  lat.sort();
  await store?.close();
  return {
    perSecond: N / seconds,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    denied: g.stats.denied,
  };
}

export async function benchAuthorize(): Promise<string> {
  await run(false); // warm-up
  const engine = await run(false);
  const stored = await run(true);
  const lines = [
    `## Call authorization in process (${fmt(N)} calls, ${ACCOUNTS} accounts)`,
    `machine: ${machine()}`,
    "",
    "| path | decisions/s | guard p50 µs | guard p99 µs |",
    "| --- | ---: | ---: | ---: |",
    `| guard only | ${fmt(engine.perSecond)} | ${fmt(engine.p50, 1)} | ${fmt(engine.p99, 1)} |`,
    `| guard + SQLite decision log | ${fmt(stored.perSecond)} | ${fmt(stored.p50, 1)} | ${fmt(stored.p99, 1)} |`,
    "",
    `(denied in the stored run: ${fmt(stored.denied)}; includes the timing calls themselves)`,
  ];
  return lines.join("\n");
}
