import { connect, type Socket } from "node:net";
import { percentile } from "./stats.js";

/**
 * An open-loop load generator on plain keep-alive sockets, for latency at a fixed rate on a machine
 * whose two cores the generator shares with the server. Written by hand because the undici-based
 * generator (open-loop.ts) spent about half a core at 10,000 requests/s and its own pauses made the
 * tail: against the bare Fastify anchor it measured p99 150-300 ms where this one measures 3-6 ms.
 *
 * Requests are due on a fixed schedule whatever the answers do; each latency runs from the moment the
 * request was due (not when it was sent), so a stalled server shows up in the tail (no coordinated
 * omission). The schedule is kept by a 1 ms timer, so latencies include up to about a millisecond of
 * the generator's own granularity. One request at a time per connection; requests due while every
 * connection is busy wait in order. Only answers with Content-Length are understood (Fastify's are).
 */
type Conn = {
  readonly sock: Socket;
  busy: boolean;
  current: number;
  buf: string;
  need: number;
  status: number;
};

export async function socketLoop(opts: {
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
  const u = new URL(opts.origin);
  const head = Object.entries({ host: u.host, ...opts.headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  const total = Math.round(opts.rate * opts.seconds);
  // Requests never answered within the run count as infinitely late (the tail then reads "n/a").
  const lat = new Float64Array(total).fill(Number.POSITIVE_INFINITY);
  let ok = 0;
  let errors = 0;
  let done = 0;
  let next = 0;
  let start = 0;
  const waiting: number[] = [];
  let waitingAt = 0;
  const conns: Conn[] = [];
  const dueAt = (n: number) => start + (n / opts.rate) * 1000;

  const send = (c: Conn, n: number) => {
    const b = opts.body(n);
    c.current = n;
    c.busy = true;
    c.sock.write(`POST ${opts.path} HTTP/1.1\r\n${head}content-length: ${Buffer.byteLength(b)}\r\n\r\n${b}`);
  };
  const finish = (c: Conn, good: boolean) => {
    lat[c.current] = performance.now() - dueAt(c.current);
    if (good) ok++;
    else errors++;
    done++;
    c.busy = false;
    if (waitingAt < waiting.length && !c.sock.destroyed) send(c, waiting[waitingAt++] as number);
  };

  await Promise.all(
    Array.from(
      { length: opts.connections },
      () =>
        new Promise<void>((resolve, reject) => {
          const sock = connect({ host: u.hostname, port: Number(u.port), noDelay: true }, () => resolve());
          const c: Conn = { sock, busy: false, current: -1, buf: "", need: -1, status: 0 };
          sock.once("error", reject);
          sock.setEncoding("latin1");
          sock.on("data", (d: string) => {
            c.buf += d;
            for (let guard = 0; guard < 1000; guard++) {
              if (c.need < 0) {
                const end = c.buf.indexOf("\r\n\r\n");
                if (end < 0) return;
                const h = c.buf.slice(0, end);
                c.status = Number(h.slice(9, 12));
                c.need = Number(/\r\ncontent-length:\s*(\d+)/i.exec(h)?.[1] ?? 0);
                c.buf = c.buf.slice(end + 4);
              }
              if (c.buf.length < c.need) return;
              c.buf = c.buf.slice(c.need);
              c.need = -1;
              if (c.busy) finish(c, c.status === 200);
            }
          });
          sock.on("close", () => {
            if (c.busy) finish(c, false);
          });
          conns.push(c);
        }),
    ),
  );

  start = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * opts.rate));
      for (; next < due; next++) {
        const free = conns.find((c) => !c.busy && !c.sock.destroyed);
        if (free) send(free, next);
        else waiting.push(next);
      }
      if (next >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const deadline = Date.now() + 30_000;
  while (done < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const elapsed = (performance.now() - start) / 1000;
  for (const c of conns) c.sock.destroy();
  const sorted = lat.sort();
  return {
    sent: total,
    ok,
    errors: errors + (total - done),
    achieved: done / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
  };
}
