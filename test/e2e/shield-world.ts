import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import { Pool } from "undici";
import { solveChallenge } from "../../src/shield/challenge.js";

/**
 * The world the shield is tested and measured in, on loopback: a sample billing backend of fixed
 * capacity, customers who log in and pay (keeping cookies and solving challenges, as a browser does),
 * floods from many 127.x.y.z addresses that do neither, and slow connections. Shared by the end-to-end
 * test and bench/shield.ts; every loop is bounded in count and time.
 */

/** Requests carry their origin so the backend can count what reached it. */
export const KIND_HEADER = "x-bench-kind";

export type BillingBackend = {
  readonly url: string;
  /** Requests that reached the service (got a worker), by KIND_HEADER. */
  readonly reached: Record<string, number>;
  readonly peakQueue: () => number;
  close(): Promise<void>;
};

/**
 * A billing API with `workers` requests in service at once, each taking `serviceMs` (an app server with
 * a fixed pool); the rest wait in line, up to `queueTimeoutMs`, then get 503. Login sets the backend's
 * own session cookie; every answer to a logged-in customer marks it for the shield (x-mamori-customer),
 * so sessions opened before the shield was there are recognised too. `/__stats` answers at once with
 * what reached the service, for the harness.
 */
export async function startBillingBackend(o: {
  workers: number;
  serviceMs: number;
  queueTimeoutMs?: number;
  maxConnections?: number;
  host?: string;
  port?: number;
}): Promise<BillingBackend> {
  const reached: Record<string, number> = {};
  let busy = 0;
  let peak = 0;
  const line: { go: () => void; at: number }[] = [];
  const queueTimeout = o.queueTimeoutMs ?? 10_000;
  const release = () => {
    busy--;
    while (busy < o.workers && line.length > 0) {
      const next = line.shift() as { go: () => void; at: number };
      next.go();
    }
  };
  const serve = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const kind = String(req.headers[KIND_HEADER] ?? "other");
    reached[kind] = (reached[kind] ?? 0) + 1;
    if (o.serviceMs <= 0) {
      release();
      return answer(req, res, body);
    }
    setTimeout(() => {
      release();
      answer(req, res, body);
    }, o.serviceMs);
  };
  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    if (req.url === "/__stats") return send(res, 200, { reached, peakQueue: peak });
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      if (body.length < 65_536) body += c;
    });
    req.on("end", () => {
      if (busy < o.workers) {
        busy++;
        return serve(req, res, body);
      }
      const entry = {
        at: Date.now(),
        go: () => {
          clearTimeout(timer);
          busy++;
          serve(req, res, body);
        },
      };
      const timer = setTimeout(() => {
        const i = line.indexOf(entry);
        if (i !== -1) line.splice(i, 1);
        send(res, 503, { error: "busy" });
      }, queueTimeout);
      line.push(entry);
      if (line.length > peak) peak = line.length;
    });
  });
  if (o.maxConnections !== undefined) server.maxConnections = o.maxConnections;
  await new Promise<void>((r) => server.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => r()));
  const a = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${a.port}`,
    reached,
    peakQueue: () => peak,
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function send(
  res: ServerResponse,
  status: number,
  json: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(json);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
  const path = (req.url ?? "/").split("?")[0];
  const sid = /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
  const route = `${req.method} ${path}`;
  if (route === "GET /") {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>Billing</title><p>Welcome</p>");
  } else if (route === "POST /login") {
    const user = /"user":"([A-Za-z0-9._-]{1,64})"/.exec(body)?.[1];
    if (!user) send(res, 400, { error: "user?" });
    else
      send(
        res,
        200,
        { ok: true, user },
        { "set-cookie": `sid=${user}; Path=/; HttpOnly`, "x-mamori-customer": user },
      );
  } else if (!sid) send(res, 401, { error: "log in first" });
  else {
    const answers: Record<string, unknown> = {
      "GET /account": { user: sid, balance: 4200 },
      "POST /cart": { items: 1 },
      "POST /checkout": { order: `o-${sid}-${Date.now()}` },
      "POST /payments/complete": { paid: true },
    };
    const json = answers[route];
    if (json === undefined) send(res, 404, { error: "no such route" });
    else send(res, 200, json, { "x-mamori-customer": sid });
  }
}

type Reply = { status: number; headers: Record<string, string | string[] | undefined>; text: string };

/**
 * A real customer: keeps cookies, follows a challenge as a browser would (solves it once, keeps the
 * pass), and retries a 429 or 503 after its Retry-After while the transaction's time lasts.
 */
export class Customer {
  private readonly pool: Pool;
  private readonly jar = new Map<string, string>();
  /** Why transactions failed: the last status or error code of the step that gave up. */
  readonly failures: Record<string, number> = {};
  private last = "";

  /** `keepAliveMs`: how long an idle connection is kept; short makes every visit a new connection. */
  constructor(
    origin: string,
    readonly user: string,
    private readonly localAddress: string,
    keepAliveMs = 30_000,
  ) {
    // keepAliveMaxTimeout too: the server's Keep-Alive hint would otherwise stretch the idle time.
    this.pool = new Pool(origin, {
      connections: 2,
      localAddress,
      keepAliveTimeout: keepAliveMs,
      keepAliveMaxTimeout: keepAliveMs,
      pipelining: 1,
    });
  }

  async login(deadline: number): Promise<boolean> {
    return (await this.call("POST", "/login", JSON.stringify({ user: this.user }), deadline))?.status === 200;
  }

  /** Logs in at another origin (the backend itself, before the run): a session opened earlier. */
  async loginAt(origin: string): Promise<boolean> {
    const pool = new Pool(origin, { connections: 1, localAddress: this.localAddress });
    try {
      const r = await pool.request({
        method: "POST",
        path: "/login",
        headers: { "content-type": "application/json", [KIND_HEADER]: "setup" },
        body: JSON.stringify({ user: this.user }),
      });
      await r.body.dump();
      const sid = /^sid=([^;]+)/.exec(String(r.headers["set-cookie"] ?? ""))?.[1];
      if (sid) this.jar.set("sid", sid);
      return sid !== undefined;
    } finally {
      await pool.destroy();
    }
  }

  /** One look at the account page; true when it was served before `deadline`. */
  async visit(deadline: number): Promise<boolean> {
    return (await this.call("GET", "/account", undefined, deadline))?.status === 200;
  }

  /** Account, cart, checkout, payment: true when the payment went through before `deadline`. */
  async transaction(deadline: number): Promise<boolean> {
    for (const [method, path] of [
      ["GET", "/account"],
      ["POST", "/cart"],
      ["POST", "/checkout"],
      ["POST", "/payments/complete"],
    ] as const) {
      const r = await this.call(method, path, method === "POST" ? "{}" : undefined, deadline);
      if (r?.status !== 200) {
        const why = r ? String(r.status) : this.last || "deadline";
        this.failures[why] = (this.failures[why] ?? 0) + 1;
        return false;
      }
    }
    return true;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  private async call(
    method: string,
    path: string,
    body: string | undefined,
    deadline: number,
  ): Promise<Reply | undefined> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      let r: Reply;
      this.last = "";
      try {
        r = await this.once(method, path, body, left);
      } catch (e) {
        this.last = (e as { code?: string }).code ?? "error";
        await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
        continue;
      }
      if (r.status === 403 && r.text.includes('"MAMORI_SHIELD_CHALLENGE"')) {
        const c = (JSON.parse(r.text) as { challenge: { nonce: string; bits: number; cookie: string } })
          .challenge;
        this.jar.set(c.cookie, `${c.nonce}~${solveChallenge(c.nonce, c.bits)}`);
        continue;
      }
      if (r.status === 429 || r.status === 503) {
        const wait = Number(r.headers["retry-after"] ?? 1) * 1000;
        if (Date.now() + wait >= deadline) return r;
        await sleep(wait);
        continue;
      }
      return r;
    }
    return undefined;
  }

  private async once(
    method: string,
    path: string,
    body: string | undefined,
    timeoutMs: number,
  ): Promise<Reply> {
    const headers: Record<string, string> = { [KIND_HEADER]: "legit", accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.jar.size > 0) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const r = await this.pool.request({
      method: method as "GET",
      path,
      headers,
      body: body ?? null,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await r.body.text();
    const set = r.headers["set-cookie"];
    for (const c of set === undefined ? [] : Array.isArray(set) ? set : [set]) {
      const m = /^([^=;]+)=([^;]*)/.exec(c);
      if (!m) continue;
      if (m[2] === "" || /max-age=0\b/i.test(c)) this.jar.delete(m[1] as string);
      else this.jar.set(m[1] as string, m[2] as string);
    }
    return { status: r.statusCode, headers: r.headers, text };
  }
}

export type FloodResult = {
  sent: number;
  skipped: number;
  answered: number;
  statuses: Record<string, number>;
};

/**
 * An open-loop flood: `rps` requests/s for `durationMs`, from `addresses` in turn (one keep-alive pool
 * each, bound to that source address), neither keeping cookies nor running scripts. An address with
 * `maxPending` requests unanswered skips its turn, which bounds memory when the target stalls.
 */
export async function flood(o: {
  origin: string;
  /** Epoch ms to begin at (the pools are made before), so a process can be started ahead of time. */
  startAt?: number;
  rps: number;
  durationMs: number;
  addresses: readonly string[];
  requests: readonly { method: string; path: string; body?: string }[];
  maxPending?: number;
  connections?: number;
}): Promise<FloodResult> {
  const pools = o.addresses.map(
    (localAddress) =>
      new Pool(o.origin, {
        connections: o.connections ?? 2,
        localAddress,
        pipelining: 1,
        keepAliveTimeout: 30_000,
      }),
  );
  const pending = new Int32Array(pools.length);
  const out: FloodResult = { sent: 0, skipped: 0, answered: 0, statuses: {} };
  const total = Math.round((o.rps * o.durationMs) / 1000);
  const maxPending = o.maxPending ?? 8;
  if (o.startAt !== undefined) await sleep(Math.min(60_000, o.startAt - Date.now()));
  const start = Date.now();
  let i = 0;
  const inflight = new Set<Promise<void>>();
  while (i < total && Date.now() - start < o.durationMs + 1000) {
    const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * o.rps));
    for (; i < due; i++) {
      const a = i % pools.length;
      if ((pending[a] as number) >= maxPending) {
        out.skipped++;
        continue;
      }
      const req = o.requests[i % o.requests.length] as { method: string; path: string; body?: string };
      pending[a] = (pending[a] as number) + 1;
      out.sent++;
      const p = (pools[a] as Pool)
        .request({
          method: req.method as "GET",
          path: req.path,
          headers: { [KIND_HEADER]: "attack", "content-type": "application/json", accept: "*/*" },
          body: req.body ?? null,
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        })
        .then(async (r) => {
          await r.body.dump();
          out.answered++;
          out.statuses[r.statusCode] = (out.statuses[r.statusCode] ?? 0) + 1;
        })
        .catch((e: { code?: string }) => {
          const k = e.code ?? "error";
          out.statuses[k] = (out.statuses[k] ?? 0) + 1;
        })
        .finally(() => {
          pending[a] = (pending[a] as number) - 1;
          inflight.delete(p);
        });
      inflight.add(p);
    }
    await sleep(5);
  }
  await Promise.race([Promise.allSettled([...inflight]), sleep(3000)]);
  await Promise.allSettled(pools.map((p) => p.destroy()));
  return out;
}

/**
 * Slowloris by hand: `count` connections from one address that send a request line and then one header
 * line a second, never finishing. Resolves with how long each stayed open after connecting (ms; -1 if
 * it never connected), bounded by `maxMs`.
 */
export async function slowConnections(
  origin: string,
  count: number,
  localAddress: string,
  maxMs: number,
): Promise<number[]> {
  const u = new URL(origin);
  const started = Date.now();
  const lives = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<number>((resolve) => {
          const s: Socket = connect({ host: u.hostname, port: Number(u.port), localAddress });
          let opened = -1;
          let n = 0;
          const t = setInterval(() => {
            if (!s.destroyed) s.write(`X-Slow-${n++}: ${n}\r\n`);
          }, 1000);
          const end = () => {
            clearInterval(t);
            clearTimeout(cap);
            resolve(opened === -1 ? -1 : Date.now() - opened);
          };
          const cap = setTimeout(() => s.destroy(), Math.max(0, maxMs - (Date.now() - started)));
          s.on("connect", () => {
            // From the handshake: under a flood the listen backlog may hold the SYN back a second.
            opened = Date.now();
            s.write(`GET / HTTP/1.1\r\nHost: ${u.host}\r\n`);
          });
          s.on("error", () => {});
          s.on("close", end);
        }),
    ),
  );
  return lives;
}

/** `count` source addresses from 127.0.2.0 upward (127.0.2.0 … 127.0.3.254 for up to 511). */
export function loopbackAddresses(count: number, first = 2 * 256): string[] {
  return Array.from({ length: count }, (_, k) => {
    const n = first + k;
    return `127.0.${(n >> 8) & 255}.${n & 255}`;
  }).filter((a) => !a.endsWith(".255") && !a.endsWith(".0"));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
