/**
 * Asterisk's security event log (res_security_log, the `security` logger channel): one line of
 * `Key="value"` pairs per event, e.g.
 *
 *   [2024-01-05 03:12:45] SECURITY[1234] res_security_log.c: SecurityEvent="InvalidPassword",
 *   EventTV="2024-01-05T03:12:45.123+0900",Severity="Error",Service="PJSIP",EventVersion="2",
 *   AccountID="100",SessionID="abc",LocalAddress="IPV4/UDP/192.0.2.10/5060",
 *   RemoteAddress="IPV4/UDP/203.0.113.5/5062",Challenge="...",ReceivedChallenge="...",ReceivedHash="..."
 *
 * Asterisk does not escape quotes in values, and AccountID, SessionID and the request fields come from
 * the caller. A caller who writes `x",RemoteAddress="IPV4/UDP/198.51.100.7/5060` into its user name
 * would otherwise make us blame another host, so a line that repeats a key is rejected as tampered.
 */
import { parseHostPort, parseTransport } from "../../../core/sip-address.js";
import type { AuthFailureReason, SipAddress, SipService } from "../../../core/sip-events.js";
import { splitAsteriskLine } from "./asterisk-prefix.js";
import { parseLogTime } from "./log-time.js";
import { compact, emitted, type ParseContext, rejected, type SipLineResult, SKIP } from "./types.js";

/** Event name -> what it means for the PBX guard. `null`: not a failure and not interesting. */
const FAILURES: Readonly<Record<string, AuthFailureReason>> = {
  InvalidAccountID: "unknown-account",
  InvalidPassword: "wrong-password",
  ChallengeResponseFailed: "challenge-failed",
  FailedACL: "acl",
  RequestNotAllowed: "not-allowed",
  RequestNotSupported: "not-allowed",
  InvalidTransport: "not-allowed",
  AuthMethodNotAllowed: "auth-method-not-allowed",
  RequestBadFormat: "bad-format",
  UnexpectedAddress: "unexpected-address",
  SessionLimit: "limit",
  MemoryLimit: "limit",
  LoadAverage: "limit",
};

const SERVICES: Readonly<Record<string, SipService>> = {
  PJSIP: "asterisk-pjsip",
  SIP: "asterisk-chan_sip",
  IAX2: "asterisk-iax2",
  AMI: "asterisk-ami",
};

/** `Key="value"` pairs; a value ends at a quote followed by `,Key="` or by the end of the line. */
export function parseSecurityFields(text: string): Map<string, string> | { duplicate: string } | undefined {
  const fields = new Map<string, string>();
  const KEY = /([A-Za-z][A-Za-z0-9_]*)="/y;
  const NEXT = /",[A-Za-z][A-Za-z0-9_]*="/g;
  let pos = 0;
  while (pos < text.length) {
    KEY.lastIndex = pos;
    const k = KEY.exec(text);
    if (!k) return undefined;
    const start = pos + k[0].length;
    NEXT.lastIndex = start;
    const n = NEXT.exec(text);
    let end: number;
    let next: number;
    if (n) {
      end = n.index;
      next = n.index + 2;
    } else {
      const tail = text.trimEnd();
      if (!tail.endsWith('"') || tail.length - 1 < start) return undefined;
      end = tail.length - 1;
      next = text.length;
    }
    const key = k[1]!;
    if (fields.has(key)) return { duplicate: key };
    fields.set(key, text.slice(start, end));
    pos = next;
  }
  return fields;
}

/** `IPV4/UDP/203.0.113.5/5062` or `IPV6/TCP/[2001:db8::5]/5060` (with or without brackets). */
export function parseSecurityAddress(value: string): SipAddress | undefined {
  const first = value.indexOf("/");
  const second = value.indexOf("/", first + 1);
  const last = value.lastIndexOf("/");
  if (first === -1 || second === -1 || last <= second) return undefined;
  const family = value.slice(0, first).toUpperCase();
  if (family !== "IPV4" && family !== "IPV6") return undefined;
  const transport = parseTransport(value.slice(first + 1, second));
  const host = value.slice(second + 1, last);
  const port = value.slice(last + 1);
  if (!/^\d{1,5}$/.test(port)) return undefined;
  const addr = parseHostPort(
    host.startsWith("[") ? `${host}:${port}` : host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
    transport,
  );
  return addr;
}

const optional = (v: string | undefined): string | undefined =>
  v === undefined || v === "" || v === "<unknown>" ? undefined : v;

export function parseAsteriskSecurity(line: string, ctx: ParseContext): SipLineResult {
  const parts = splitAsteriskLine(line);
  const at = parts.message.indexOf('SecurityEvent="');
  if (at === -1) return SKIP;
  const parsed = parseSecurityFields(parts.message.slice(at));
  if (!parsed) return rejected(ctx, "malformed security event fields");
  if (!(parsed instanceof Map)) {
    return rejected(ctx, `field ${parsed.duplicate} appears twice: the line was tampered with, not trusted`);
  }
  const f = parsed;
  const name = f.get("SecurityEvent")!;
  const reason = FAILURES[name];
  const kind =
    name === "SuccessfulAuth"
      ? "sip.auth-success"
      : name === "ChallengeSent"
        ? "sip.challenge-sent"
        : reason !== undefined || f.get("Severity") === "Error"
          ? "sip.auth-failure"
          : undefined;
  if (!kind) return SKIP;

  const remote = f.get("RemoteAddress");
  if (remote === undefined) return rejected(ctx, `${name} without RemoteAddress`);
  const source = parseSecurityAddress(remote);
  if (!source) return rejected(ctx, `unreadable RemoteAddress ${JSON.stringify(remote.slice(0, 80))}`);
  const local = f.get("LocalAddress");
  const destination = local ? parseSecurityAddress(local) : undefined;

  const tv = f.get("EventTV") ?? parts.time;
  if (tv === undefined) return rejected(ctx, "no EventTV and no log time stamp");
  const time = parseLogTime(tv, ctx);
  if (!time.ok) return rejected(ctx, `EventTV: ${time.error}`);

  const sessionId = optional(f.get("SessionID"));
  const base = {
    at: time.at,
    service: SERVICES[f.get("Service") ?? ""] ?? "asterisk",
    source,
    account: optional(f.get("AccountID")),
    // chan_sip puts a pointer here, PJSIP the Call-ID.
    callId: sessionId && !/^0x[0-9a-f]+$/i.test(sessionId) ? sessionId : undefined,
    destination,
    method: optional(f.get("RequestType")),
    raw: { source: ctx.source, line: ctx.line },
  };
  if (kind === "sip.auth-failure") {
    return emitted(compact({ type: kind, ...base, reason: reason ?? "other", detail: name }));
  }
  return emitted(compact({ type: kind, ...base }));
}
