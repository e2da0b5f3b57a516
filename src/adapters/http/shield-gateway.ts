import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Registry } from "prom-client";
import { type Dispatcher, Pool } from "undici";
import { CidrSet } from "../../core/cidr.js";
import {
  type ShieldSettings,
  type ShieldSettingsInput,
  shieldSettingsSchema,
} from "../../shield/settings.js";
import { ShieldEngine } from "../../shield/shield.js";
import {
  type BanRequest,
  CLIENT_CLASSES,
  type ClientClass,
  type Decision,
  type Drained,
  type ModeChange,
  type Outcome,
  type ShieldAlert,
  type ShieldMode,
} from "../../shield/types.js";
import { guardConnections } from "./shield-connections.js";
import { createShieldMetrics } from "./shield-metrics.js";
import { clientHeaders, readBody, readCookies, relay, upstreamHeaders } from "./shield-proxy.js";
import { refuse, sendChallenge } from "./shield-responses.js";

/**
 * The billing shield's gateway: a reverse proxy in front of the billing API that carries out the
 * engine's decisions (src/shield/). On node:http rather than Fastify: a gateway must not parse or
 * route bodies, must see each connection as it opens (per-address caps, bans before a byte is read),
 * and needs node's own header and request time-outs and checking interval set precisely against slow
 * attacks; Fastify would add a router and body parsing to cross, and hide the sockets.
 *
 * Requests are refused cheaply before the body is read when they can be (size); bodies are then read
 * whole (bounded) before admission, so slow senders hold only a gateway connection. The upstream is an
 * undici Pool with keep-alive; answers are buffered up to a bound so slow readers hold no backend slot.
 */
export type StartShieldOptions = {
  /** The billing API, e.g. `http://127.0.0.1:9000` (a path is a prefix for every request). */
  readonly upstream: string;
  readonly port?: number | undefined;
  readonly host?: string | undefined;
  readonly settings?: ShieldSettingsInput | undefined;
  readonly registry: Registry;
  readonly onBan?: ((ban: BanRequest) => void) | undefined;
  readonly onModeChange?: ((change: ModeChange) => void) | undefined;
  readonly onAlert?: ((alert: ShieldAlert) => void) | undefined;
  /** Clock in epoch ms (fractions allowed); tests replace it. */
  readonly now?: (() => number) | undefined;
};

type PerClass = Record<ClientClass, number>;
export type ShieldStats = {
  readonly mode: ShieldMode;
  readonly limit: number;
  /** Unknown clients start only while fewer than this are in flight. */
  readonly knee: number;
  readonly inflight: number;
  readonly queued: number;
  readonly admitted: PerClass;
  readonly queuedTotal: PerClass;
  readonly shed: PerClass;
  readonly challenged: number;
  readonly bans: number;
  readonly connections: number;
  readonly refusedConnections: number;
};

export type ShieldHandle = {
  /** `http://host:port` the gateway listens on. */
  readonly address: string;
  readonly stats: ShieldStats;
  readonly engine: ShieldEngine;
  close(): Promise<void>;
};

const zero = (): PerClass => ({ transaction: 0, customer: 0, anonymous: 0, suspicious: 0 });
const TICK_MS = 100;

export async function startShield(o: StartShieldOptions): Promise<ShieldHandle> {
  const settings: ShieldSettings = shieldSettingsSchema.parse(o.settings ?? {});
  const now = o.now ?? (() => performance.timeOrigin + performance.now());
  const alert = (a: ShieldAlert) => safely(() => o.onAlert?.(a));
  let secrets = settings.secrets;
  if (secrets.length === 0) {
    secrets = [randomBytes(32).toString("base64url")];
    alert({
      at: now(),
      rule: "shield-ephemeral-key",
      severity: "warning",
      subject: "shield",
      message: "no shield.secrets configured: a random key was made, so sessions and passes end at restart",
      evidence: {},
    });
  }
  // Ids of passes and transactions need only be unique (their tokens are signed): a random prefix per
  // process and a counter cost far less than random bytes per challenge under a flood.
  const idPrefix = randomBytes(9).toString("base64url");
  let idCounter = 0;
  const newId = () => `${idPrefix}${(++idCounter).toString(36)}`;
  const engine = new ShieldEngine(settings, { secrets, newId });
  const trusted = CidrSet.parse(settings.trustedProxies);
  const proxies = trusted.ok ? trusted.value : CidrSet.empty;
  const up = new URL(o.upstream);
  const base = up.pathname.replace(/\/+$/, "");
  const pool = new Pool(up.origin, {
    connections: settings.upstream.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: settings.upstream.timeoutMs,
    bodyTimeout: settings.upstream.timeoutMs,
    connect: { timeout: Math.min(5000, settings.upstream.timeoutMs) },
  });

  const counts = { admitted: zero(), queuedTotal: zero(), shed: zero(), challenged: 0, bans: 0, refused: 0 };
  const metrics = createShieldMetrics(o.registry, () => {
    const s = engine.stats();
    const queued = CLIENT_CLASSES.reduce((n, c) => n + s.queuedByClass[c], 0);
    return { mode: s.mode, limit: s.limit, knee: s.knee, inflight: s.inflight, queued };
  });
  const waiting = new Map<number, { start: () => void; expire: () => void }>();

  const flush = () => {
    for (const e of engine.drainEvents()) {
      if (e.type === "ban") {
        counts.bans++;
        metrics.bans.inc({ rule: e.ban.rule });
        safely(() => o.onBan?.(e.ban));
      } else if (e.type === "mode-change") safely(() => o.onModeChange?.(e.change));
      else alert(e.alert);
    }
  };
  const apply = (d: Drained) => {
    for (const s of d.started) {
      const w = waiting.get(s.ticket);
      waiting.delete(s.ticket);
      w?.start();
    }
    for (const e of d.expired) {
      const w = waiting.get(e.ticket);
      waiting.delete(e.ticket);
      w?.expire();
    }
    flush();
  };

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    d: Decision & { type: "forward" | "queue" },
    body: Buffer,
  ) => {
    counts.admitted[d.cls]++;
    metrics.admitted.inc({ class: d.cls });
    const sent = now();
    let settled = false;
    const finish = (outcome: Outcome, rttMs: number) => {
      if (settled) return;
      settled = true;
      apply(engine.complete(now(), d.ticket, rttMs, outcome));
    };
    pool
      .request({
        method: req.method as Dispatcher.HttpMethod,
        path: base + (req.url ?? "/"),
        headers: upstreamHeaders(req, d.ctx, d.cls, settings, body.length),
        body: body.length > 0 ? body : null,
      })
      .then(
        (r) => {
          const rtt = now() - sent;
          metrics.upstreamSeconds.observe({ class: d.cls }, rtt / 1000);
          const overload = r.statusCode === 502 || r.statusCode === 503 || r.statusCode === 504;
          const markValue = r.headers[settings.customer.markHeader];
          const mark = Array.isArray(markValue) ? markValue[0] : markValue;
          const answer = engine.answerHeaders(now(), d.ctx, r.statusCode, mark);
          const extra: Record<string, string> = {};
          if (answer.transactionToken) extra[settings.transaction.header] = answer.transactionToken;
          const noBody = req.method === "HEAD" || r.statusCode === 204 || r.statusCode === 304;
          const headers = clientHeaders(
            r.headers,
            settings.customer.markHeader,
            answer.setCookie,
            extra,
            noBody,
          );
          relay(r.body, res, r.statusCode, headers, settings.upstream.bufferBytes, noBody, (ok) =>
            // A body that broke off says nothing sure about load (the client may have left): no sample.
            finish(ok ? (overload ? "overload" : "ok") : "error", rtt),
          );
        },
        (e: unknown) => {
          const code = (e as { code?: string }).code ?? "error";
          const timeout = code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT";
          metrics.upstreamErrors.inc({ kind: timeout ? "timeout" : "connect" });
          finish("overload", now() - sent);
          refuse(res, timeout ? 504 : 502, "MAMORI_SHIELD_UPSTREAM", `the billing service failed: ${code}`, {
            retryAfterS: 1,
          });
        },
      );
  };

  const shedResponse = (res: ServerResponse, d: Decision & { type: "shed" }) => {
    counts.shed[d.cls]++;
    metrics.shed.inc({ class: d.cls, reason: d.reason });
    if (d.status === 403) {
      refuse(res, 403, "MAMORI_SHIELD_BANNED", "this address is banned", {
        retryAfterS: d.retryAfterS,
        close: true,
      });
    } else if (d.status === 429) {
      refuse(res, 429, "MAMORI_SHIELD_RATE_LIMITED", `too many requests (${d.reason})`, {
        retryAfterS: d.retryAfterS,
      });
    } else {
      refuse(res, 503, "MAMORI_SHIELD_OVERLOADED", `no capacity for ${d.cls} requests (${d.reason})`, {
        retryAfterS: d.retryAfterS,
      });
    }
  };

  const cookieNames = [
    settings.cookies.customer,
    settings.cookies.transaction,
    settings.cookies.pass,
  ] as const;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.startsWith("/")) {
      metrics.rejected.inc({ reason: "target" });
      return refuse(res, 400, "MAMORI_BAD_REQUEST", "the request target must be a path (origin form)", {
        close: true,
      });
    }
    const got = await readBody(req, settings.server.maxBodyBytes);
    if (got.type === "too-large") {
      metrics.rejected.inc({ reason: "body-too-large" });
      return refuse(
        res,
        413,
        "MAMORI_BODY_TOO_LARGE",
        `the body is over ${settings.server.maxBodyBytes} bytes`,
        {
          close: true,
        },
      );
    }
    if (got.type === "aborted") return;
    const cookies = readCookies(req.headers.cookie, cookieNames);
    const fwd = req.headers[settings.forwardedHeader];
    const header = (n: string) => {
      const v = req.headers[n];
      return Array.isArray(v) ? v[0] : v;
    };
    const d = engine.decide(now(), {
      peer: req.socket.remoteAddress ?? "",
      forwarded: Array.isArray(fwd) ? fwd.join(", ") : fwd,
      method: req.method ?? "GET",
      path: req.url ?? "/",
      customerToken: cookies[0],
      transactionToken: cookies[1] ?? header(settings.transaction.header),
      pass: cookies[2] ?? header("x-mamori-pass"),
    });
    flush();
    switch (d.type) {
      case "invalid":
        metrics.rejected.inc({ reason: "invalid" });
        return refuse(res, 400, "MAMORI_BAD_REQUEST", d.message, { close: true });
      case "shed":
        return shedResponse(res, d);
      case "challenge": {
        counts.challenged++;
        metrics.challenged.inc({ class: d.cls });
        const html = (req.headers.accept ?? "").includes("text/html");
        return sendChallenge(
          res,
          settings,
          d.nonce,
          d.bits,
          html,
          req.method === "GET" || req.method === "HEAD",
        );
      }
      case "forward":
        return forward(req, res, d, got.body);
      case "queue": {
        counts.queuedTotal[d.cls]++;
        metrics.queued.inc({ class: d.cls });
        waiting.set(d.ticket, {
          start: () => forward(req, res, d, got.body),
          expire: () =>
            shedResponse(res, {
              ...d,
              type: "shed",
              status: 503,
              reason: "queue-timeout",
              retryAfterS: settings.retryAfterSeconds[d.cls],
            }),
        });
        res.once("close", () => {
          if (waiting.delete(d.ticket)) apply(engine.abandon(now(), d.ticket));
        });
        return;
      }
    }
  };

  const server = createServer(
    {
      headersTimeout: settings.server.headersTimeoutMs,
      requestTimeout: Math.max(settings.server.requestTimeoutMs, settings.server.headersTimeoutMs),
      keepAliveTimeout: settings.server.keepAliveTimeoutMs,
      maxHeaderSize: settings.server.maxHeaderBytes,
      // Node checks header and request time-outs on this beat; its default of 30 s lets slowloris linger.
      connectionsCheckingInterval: 250,
      noDelay: true,
    },
    (req, res) => {
      handle(req, res).catch(() =>
        refuse(res, 502, "MAMORI_SHIELD_UPSTREAM", "the gateway failed this request"),
      );
    },
  );
  server.maxConnections = settings.server.maxConnections;
  server.timeout = settings.server.idleTimeoutMs;

  const openConnections = guardConnections(server, {
    proxies,
    perAddress: settings.server.maxConnectionsPerAddress,
    perProxy: settings.server.maxConnectionsPerProxy,
    isBanned: (address) => engine.isBanned(now(), address),
    onRefuse: (reason) => {
      counts.refused++;
      metrics.refused.inc({ reason });
    },
  });
  server.on("clientError", (_err, socket: Socket) => {
    // Malformed requests and time-outs: node would answer 400/408; a gateway under attack just closes.
    metrics.rejected.inc({ reason: "client-error" });
    socket.destroy();
  });

  const timer = setInterval(() => apply(engine.tick(now())), TICK_MS);
  timer.unref();

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(
      { port: o.port ?? 8088, host: o.host ?? "127.0.0.1", backlog: settings.server.backlog },
      () => resolve(),
    );
  });
  const a = server.address() as AddressInfo;
  const host = a.family === "IPv6" ? `[${a.address}]` : a.address;

  return {
    address: `http://${host}:${a.port}`,
    engine,
    get stats(): ShieldStats {
      const s = engine.stats();
      return {
        mode: s.mode,
        limit: s.limit,
        knee: s.knee,
        inflight: s.inflight,
        queued: CLIENT_CLASSES.reduce((n, c) => n + s.queuedByClass[c], 0),
        admitted: { ...counts.admitted },
        queuedTotal: { ...counts.queuedTotal },
        shed: { ...counts.shed },
        challenged: counts.challenged,
        bans: counts.bans,
        connections: openConnections(),
        refusedConnections: counts.refused,
      };
    },
    async close() {
      clearInterval(timer);
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
      await pool.close();
    },
  };
}

function safely(f: () => void): void {
  try {
    f();
  } catch {
    // A failing callback (audit store down) must not take the gateway with it.
  }
}
