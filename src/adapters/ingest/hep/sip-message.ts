/**
 * A small, forgiving SIP message parser (RFC 3261 §7): the start line and the headers the PBX guard
 * needs (Via, From, To, Call-ID, CSeq, User-Agent, Server, Contact, Expires, Authorization), compact
 * header forms, folded lines, LF or CRLF line ends. The body is never decoded.
 *
 * Scanners send broken messages on purpose, so nothing here throws: a message whose start line is not
 * SIP is an error with a reason; a header that cannot be read is left out. Only the header block, at
 * most `maxHeaderBytes`, is decoded, so a large body costs nothing.
 */
import { err, ok, type Result } from "../../../core/result.js";
import { type NameAddr, paramValue, parseNameAddr, uriUser } from "./sip-uri.js";

export type SipParty = NameAddr & { readonly user?: string | undefined; readonly tag?: string | undefined };

export type SipVia = {
  readonly transport: string;
  readonly host: string;
  readonly port?: number | undefined;
  readonly branch?: string | undefined;
  readonly received?: string | undefined;
  readonly rport?: string | undefined;
};

type SipCommon = {
  /** The topmost Via: the hop that sent this message. */
  readonly via?: SipVia | undefined;
  readonly from?: SipParty | undefined;
  readonly to?: SipParty | undefined;
  readonly callId?: string | undefined;
  readonly cseq?: { readonly seq: number; readonly method: string } | undefined;
  readonly userAgent?: string | undefined;
  readonly server?: string | undefined;
  readonly contact?: string | undefined;
  readonly expires?: number | undefined;
  /** True when Authorization or Proxy-Authorization is present. */
  readonly hasAuthorization: boolean;
  /** The digest `username` the client offered. */
  readonly authUser?: string | undefined;
};

export type SipRequestMessage = SipCommon & {
  readonly type: "request";
  readonly method: string;
  readonly requestUri: string;
};

export type SipResponseMessage = SipCommon & {
  readonly type: "response";
  readonly status: number;
  readonly reason: string;
};

export type SipMessage = SipRequestMessage | SipResponseMessage;

export type SipParseLimits = { readonly maxHeaderBytes?: number; readonly maxHeaders?: number };

const COMPACT: Readonly<Record<string, string>> = {
  v: "via",
  f: "from",
  t: "to",
  i: "call-id",
  m: "contact",
  l: "content-length",
  c: "content-type",
  k: "supported",
  s: "subject",
  e: "content-encoding",
};

const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;
const REQUEST_LINE = /^([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP\/2\.0$/i;
const STATUS_LINE = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/i;
const VIA =
  /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[0-9a-fA-F:.]+\]|[^\s;:,]+)(?:\s*:\s*(\d{1,5}))?\s*(;.*)?$/i;
const USERNAME = /(?:^|[\s,])username\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/i;

const utf8 = new TextDecoder("utf-8");

/** End of the header block: index of the blank line, or -1. */
function headerEnd(data: Uint8Array, limit: number): number {
  const n = Math.min(data.length, limit);
  for (let i = 0; i < n; i++) {
    if (data[i] !== 10) continue;
    if (data[i + 1] === 10) return i;
    if (data[i + 1] === 13 && data[i + 2] === 10) return i;
  }
  return -1;
}

function party(value: string): SipParty | undefined {
  const na = parseNameAddr(value);
  if (!na) return undefined;
  return { ...na, user: uriUser(na.uri), tag: paramValue(na.params, "tag") };
}

/** The first element of a comma-separated header value, respecting quotes and angle brackets. */
function firstElement(value: string): string {
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === "<") angle = true;
    else if (!quoted && c === ">") angle = false;
    else if (!quoted && !angle && c === ",") return value.slice(0, i).trim();
  }
  return value.trim();
}

function via(value: string): SipVia | undefined {
  const m = VIA.exec(firstElement(value));
  if (!m) return undefined;
  const params = m[4] ?? "";
  const port = m[3] === undefined ? undefined : Number(m[3]);
  return {
    transport: m[1]!.toUpperCase(),
    host: m[2]!,
    port: port !== undefined && port <= 65535 ? port : undefined,
    branch: paramValue(params, "branch"),
    received: paramValue(params, "received"),
    rport: paramValue(params, "rport"),
  };
}

export function parseSipMessage(
  data: Uint8Array | string,
  limits: SipParseLimits = {},
): Result<SipMessage, string> {
  const maxHeaderBytes = limits.maxHeaderBytes ?? 16 * 1024;
  const maxHeaders = limits.maxHeaders ?? 200;
  let text: string;
  if (typeof data === "string") {
    const end = data.search(/\r?\n\r?\n/);
    text = end === -1 ? data.slice(0, maxHeaderBytes) : data.slice(0, Math.min(end, maxHeaderBytes));
  } else {
    const end = headerEnd(data, maxHeaderBytes);
    text = utf8.decode(data.subarray(0, end === -1 ? Math.min(data.length, maxHeaderBytes) : end));
  }
  // Keep-alives (CRLF pings) and empty datagrams are not messages.
  const start = text.replace(/^(?:\r?\n)+/, "");
  const lines = start.split(/\r?\n/);
  const first = (lines[0] ?? "").trim();
  if (first === "") return err("empty message");

  let head:
    | { type: "request"; method: string; requestUri: string }
    | { type: "response"; status: number; reason: string };
  const status = STATUS_LINE.exec(first);
  if (status) head = { type: "response", status: Number(status[1]), reason: (status[2] ?? "").trim() };
  else {
    const req = REQUEST_LINE.exec(first);
    if (!req) return err(`not a SIP start line: ${JSON.stringify(first.slice(0, 60))}`);
    head = { type: "request", method: req[1]!.toUpperCase(), requestUri: req[2]! };
  }

  const headers = new Map<string, string>();
  let count = 0;
  let last: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") break;
    if ((line[0] === " " || line[0] === "\t") && last !== undefined) {
      headers.set(last, headers.get(last) + " " + line.trim());
      continue;
    }
    if (++count > maxHeaders) return err(`more than ${maxHeaders} header lines`);
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const rawName = line.slice(0, colon).trim();
    if (!TOKEN.test(rawName)) continue;
    const lower = rawName.toLowerCase();
    const name = COMPACT[lower] ?? lower;
    const value = line.slice(colon + 1).trim();
    // The first occurrence wins for single-valued headers; Via keeps the topmost hop.
    if (!headers.has(name)) headers.set(name, value);
    last = name;
  }

  const get = (n: string) => headers.get(n);
  const cseqText = get("cseq");
  const cseqMatch = cseqText === undefined ? null : /^(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)/.exec(cseqText);
  const expiresText = get("expires");
  const auth = get("authorization") ?? get("proxy-authorization");
  const userMatch = auth === undefined ? null : USERNAME.exec(auth);
  const callId = get("call-id");
  const common: SipCommon = {
    via: get("via") === undefined ? undefined : via(get("via")!),
    from: get("from") === undefined ? undefined : party(get("from")!),
    to: get("to") === undefined ? undefined : party(get("to")!),
    callId: callId === "" ? undefined : callId,
    cseq: cseqMatch ? { seq: Number(cseqMatch[1]), method: cseqMatch[2]!.toUpperCase() } : undefined,
    userAgent: get("user-agent") || undefined,
    server: get("server") || undefined,
    contact: get("contact") || undefined,
    expires: expiresText !== undefined && /^\d{1,10}$/.test(expiresText) ? Number(expiresText) : undefined,
    hasAuthorization: auth !== undefined,
    authUser: userMatch ? (userMatch[1] ?? userMatch[2])?.replace(/\\(.)/g, "$1") : undefined,
  };
  return ok({ ...common, ...head });
}
