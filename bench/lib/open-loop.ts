import { Pool } from "undici";
import { percentile } from "./stats.js";

/**
 * An open-loop load generator: sends at a fixed rate whatever the answers do, and measures each
 * latency from the moment the request was due (not when it was sent), so a stalled server shows up in
 * the tail instead of hiding it (coordinated omission).
 */
export async function openLoop(opts: {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: (i: number) => string;
  rate: number;
  seconds: number;
  connections: number;
}): Promise<{
  sent: number;
  ok: number;
  errors: number;
  achieved: number;
  p50: number;
  p99: number;
  p999: number;
}> {
  const pool = new Pool(opts.origin, {
    connections: opts.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  const total = Math.round(opts.rate * opts.seconds);
  const lat = new Float64Array(total);
  let ok = 0;
  let errors = 0;
  let done = 0;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  let i = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * opts.rate));
      for (; i < due; i++) {
        const n = i;
        const dueAt = start + (n / opts.rate) * 1000;
        const p = pool
          .request({ method: "POST", path: opts.path, headers: opts.headers, body: opts.body(n) })
          .then(async (res) => {
            await res.body.dump();
            lat[n] = performance.now() - dueAt;
            if (res.statusCode === 200) ok++;
            else errors++;
          })
          .catch(() => {
            lat[n] = performance.now() - dueAt;
            errors++;
          })
          .finally(() => {
            done++;
          });
        if (inflight.length < 10_000) inflight.push(p);
      }
      if (i >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const deadline = Date.now() + 30_000;
  while (done < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  const sorted = lat.slice(0, done).sort();
  return {
    sent: total,
    ok,
    errors,
    achieved: done / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
  };
}
