import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Dispatcher } from "undici";
import { forwardedFor } from "../../shield/client-identity.js";
import type { ShieldSettings } from "../../shield/settings.js";
import type { ClientClass, RequestContext } from "../../shield/types.js";

/**
 * The proxying half of the shield gateway: which headers cross in each direction, reading a request
 * body whole (bounded), and relaying the upstream's answer.
 */

/** Headers that belong to one connection and never cross a proxy (RFC 9110 §7.6.1), plus `expect`. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  // The gateway answers 100-continue itself and sends the body whole.
  "expect",
]);

/** Also the names a Connection header lists. */
function hopByHop(headers: IncomingHttpHeaders | Record<string, unknown>): Set<string> {
  const c = headers.connection;
  if (typeof c !== "string" || c === "") return HOP_BY_HOP;
  const out = new Set(HOP_BY_HOP);
  for (const n of c.split(",")) out.add(n.trim().toLowerCase());
  return out;
}

/** The shield's own cookies are stripped before the backend sees the Cookie header. */
function stripCookies(cookie: string, names: readonly string[]): string | undefined {
  const kept = cookie
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p !== "" && !names.some((n) => p.startsWith(`${n}=`)));
  return kept.length > 0 ? kept.join("; ") : undefined;
}

/**
 * What the backend gets: the client's headers minus hop-by-hop ones and anything claiming to come from
 * the shield (`x-mamori-*`, which only the gateway writes), X-Forwarded-For extended by what the gateway
 * can vouch for, and the shield's verdict: the client's address and class.
 */
export function upstreamHeaders(
  req: IncomingMessage,
  ctx: RequestContext,
  cls: ClientClass,
  settings: ShieldSettings,
  bodyLength: number,
): Record<string, string | string[]> {
  const drop = hopByHop(req.headers);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || drop.has(name) || name.startsWith("x-mamori-") || name === "content-length")
      continue;
    if (name === "cookie") {
      const kept = stripCookies(String(value), [
        settings.cookies.customer,
        settings.cookies.transaction,
        settings.cookies.pass,
      ]);
      if (kept !== undefined) out.cookie = kept;
      continue;
    }
    out[name] = value;
  }
  const peer = req.socket.remoteAddress ?? "";
  const received = req.headers["x-forwarded-for"];
  out["x-forwarded-for"] = forwardedFor(
    peer,
    Array.isArray(received) ? received.join(", ") : received,
    ctx.peerTrusted,
  );
  if (!ctx.peerTrusted) {
    // Only a trusted proxy may say how the client reached it.
    out["x-forwarded-proto"] = "http";
    delete out["x-forwarded-host"];
    delete out.forwarded;
  }
  out["x-mamori-client"] = ctx.client.text;
  out["x-mamori-class"] = cls;
  if (bodyLength > 0 || req.headers["content-length"] !== undefined)
    out["content-length"] = String(bodyLength);
  return out;
}

/** What the client gets: the upstream's headers minus hop-by-hop ones and the backend's customer mark. */
export function clientHeaders(
  upstream: Dispatcher.ResponseData["headers"],
  markHeader: string,
  setCookie: readonly string[],
  extra: Record<string, string>,
  keepLength: boolean,
): OutgoingHttpHeaders {
  const drop = hopByHop(upstream);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || drop.has(name) || name === markHeader) continue;
    if (name === "content-length" && !keepLength) continue;
    out[name] = value;
  }
  if (setCookie.length > 0) {
    const had = out["set-cookie"];
    out["set-cookie"] = [
      ...(had === undefined ? [] : Array.isArray(had) ? had : [String(had)]),
      ...setCookie,
    ];
  }
  Object.assign(out, extra);
  return out;
}

export type BodyResult =
  | { readonly type: "ok"; readonly body: Buffer }
  | { readonly type: "too-large" }
  | { readonly type: "aborted" };

/**
 * Reads a request body whole, up to `max` bytes. The body is read before admission so that a slow
 * sender (slow POST) holds a gateway connection until the request time-out, never a backend slot.
 */
export function readBody(req: IncomingMessage, max: number): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (req.headers["transfer-encoding"] === undefined && !(declared > 0)) {
    return Promise.resolve({ type: "ok", body: Buffer.alloc(0) });
  }
  if (declared > max) return Promise.resolve({ type: "too-large" });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (r: BodyResult) => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      resolve(r);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) return settle({ type: "too-large" });
      chunks.push(c);
    };
    req.on("data", onData);
    req.once("end", () => settle({ type: "ok", body: Buffer.concat(chunks, size) }));
    req.once("error", () => settle({ type: "aborted" }));
    req.once("close", () => settle({ type: "aborted" }));
  });
}

/**
 * Relays the upstream's body: up to `buffer` bytes are read whole before the client gets anything, so
 * a slow reader (slow read) does not keep the backend's answer, and the slot, waiting; past that the
 * rest streams with backpressure. `done` runs once the upstream side is finished (slot released).
 */
export function relay(
  body: Dispatcher.ResponseData["body"],
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  buffer: number,
  noBody: boolean,
  done: (ok: boolean) => void,
): void {
  let finished = false;
  const finish = (ok: boolean) => {
    if (finished) return;
    finished = true;
    done(ok);
  };
  // Destroyed without an error (the client went away mid-stream) ends with `close` alone.
  body.once("close", () => finish(false));
  if (noBody) {
    // HEAD, 204 and 304: the upstream's Content-Length describes the resource, not this message.
    body.once("end", () => finish(true));
    body.once("error", () => finish(false));
    body.resume();
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let streaming = false;
  body.on("data", (c: Buffer) => {
    if (!streaming) {
      size += c.length;
      chunks.push(c);
      if (size <= buffer) return;
      streaming = true;
      if (!res.headersSent) res.writeHead(status, headers);
      for (const b of chunks.splice(0)) res.write(b);
      return;
    }
    if (!res.write(c)) {
      body.pause();
      res.once("drain", () => body.resume());
    }
  });
  body.once("end", () => {
    finish(true);
    if (streaming) res.end();
    else {
      headers["content-length"] = size;
      res.writeHead(status, headers);
      res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    }
  });
  body.once("error", () => {
    finish(false);
    if (res.headersSent) res.destroy();
    else {
      res.writeHead(502, { "content-type": "application/json", connection: "close" });
      res.end(
        JSON.stringify({
          error: {
            code: "MAMORI_SHIELD_UPSTREAM",
            message: "the upstream answer broke off",
            hint: "Retry; the backend may be restarting.",
          },
        }),
      );
    }
  });
  // A client gone mid-stream must not leave the backend's connection paused forever.
  res.once("close", () => {
    if (!finished && streaming) body.destroy();
  });
}

/** The shield's three cookies from a Cookie header, in the order of `names`; others are ignored. */
export function readCookies(header: string | undefined, names: readonly [string, string, string]) {
  const out: [string | undefined, string | undefined, string | undefined] = [undefined, undefined, undefined];
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    const i = names.indexOf(part.slice(0, eq).trim());
    if (i !== -1 && out[i] === undefined) out[i] = part.slice(eq + 1).trim();
  }
  return out;
}
