/**
 * Asterisk's `messages` (full) log: the NOTICE lines that res_pjsip, chan_sip, chan_iax2 and the
 * manager write when someone fails to authenticate or dials an extension that does not exist.
 *
 * The From header, the Call-ID and the dialled extension come from the caller and are printed
 * unescaped, so a caller can write `' failed for '198.51.100.7:5060' ...` into its display name or its
 * Call-ID and make a naive pattern blame another host (the log injection fail2ban's Asterisk filter
 * suffered). Every pattern is anchored at both ends with a fixed reason text, and a line in which the
 * address field appears more than once with different addresses is rejected: we cannot tell which
 * copy Asterisk wrote, and banning the wrong host is worse than counting a rejected line.
 */
import { parseHostPort, parseTransport } from "../../../core/sip-address.js";
import type { AuthFailureReason, SipService } from "../../../core/sip-events.js";
import { userOfAddressText } from "../hep/sip-uri.js";
import { serviceOfFile, splitAsteriskLine } from "./asterisk-prefix.js";
import { parseLogTime } from "./log-time.js";
import { compact, emitted, type ParseContext, rejected, type SipLineResult, SKIP } from "./types.js";

// res_pjsip/pjsip_distributor.c log_failed_request(); the method is absent before Asterisk 13.8 and
// 18+ appends "after N tries in X ms" to "No matching endpoint found".
const PJSIP_FAILED =
  /^Request (?:'([A-Za-z]+)' )?from '(.*)' failed for '([^'\s]+)' \(callid: (\S*)\) - (No matching endpoint found|Not match Endpoint(?: Contact)? ACL|Failed to authenticate|Error to authenticate)(?: after \d+ tries in [\d.]+ ms)?\s*$/;

const PJSIP_REASONS: Readonly<Record<string, AuthFailureReason>> = {
  "No matching endpoint found": "unknown-account",
  "Not match Endpoint ACL": "acl",
  "Not match Endpoint Contact ACL": "acl",
  "Failed to authenticate": "wrong-password",
  "Error to authenticate": "other",
};

// chan_sip.c handle_request_register() and its siblings.
const CHAN_SIP_REGISTER =
  /^Registration from '(.*)' failed for '([^'\s]+)' - (Wrong password|No matching peer found|Username\/auth name mismatch|Device does not match ACL|ACL error \(permit\/deny\)|Peer is not supposed to register|Not a local domain)\s*$/;

const CHAN_SIP_REASONS: Readonly<Record<string, AuthFailureReason>> = {
  "Wrong password": "wrong-password",
  "No matching peer found": "unknown-account",
  "Username/auth name mismatch": "user-mismatch",
  "Device does not match ACL": "acl",
  "ACL error (permit/deny)": "acl",
  "Peer is not supposed to register": "not-allowed",
  "Not a local domain": "not-allowed",
};

// chan_sip prints `(203.0.113.5:5060)`; res_pjsip_session prints `(UDP:203.0.113.5:5060)`.
const CALL_REJECTED =
  /^Call from '(.*)' \((?:(UDP|TCP|TLS|WS|WSS|SCTP):)?([^\s()]+)\) to extension '([^'\s]*)' rejected because extension not found in context '([^'\s]*)'\.?\s*$/;

// chan_iax2.c and manager.c.
const HOST_FAILED_AS = /^Host (\S+) failed to authenticate as '(.*)'\s*$/;
const HOST_FAILED_MD5 = /^Host (\S+) failed MD5 authentication for '(.*)' \(([^()]*)\)\s*$/;
const NO_REGISTRATION = /^No registration for peer '(.*)' \(from (\S+)\)\s*$/;
const AMI_FAILED = /^(\S+) failed to authenticate as '(.*)'\s*$/;
const AMI_NO_USER = /^(\S+) tried to authenticate with nonexistent user '(.*)'\s*$/;

// Every place an address field could be copied into the caller's text, per pattern family.
const PJSIP_ADDRS = /' failed for '([^'\s]+)' \(callid: /g;
const CHAN_SIP_ADDRS = /' failed for '([^'\s]+)' - /g;
const CALL_ADDRS = /' \((?:(?:UDP|TCP|TLS|WS|WSS|SCTP):)?([^\s()]+)\) to extension '/g;

/** True when `re` finds the address field more than once, naming different hosts. */
function ambiguous(message: string, re: RegExp): boolean {
  let seen: string | undefined;
  for (const m of message.matchAll(re)) {
    const a = parseHostPort(m[1]!);
    const key = a ? a.ip : m[1]!;
    if (seen !== undefined && seen !== key) return true;
    seen = key;
  }
  return false;
}

/** Cheap test before any regular expression runs: most lines of a busy PBX are not about security. */
const INTERESTING = /failed|rejected because|No registration for peer|nonexistent user/;

type Match =
  | { readonly kind: "ambiguous" }
  | {
      readonly kind: "failure" | "call";
      readonly service: SipService;
      readonly host: string;
      readonly transport?: string | undefined;
      readonly account?: string | undefined;
      readonly reason?: AuthFailureReason;
      readonly method?: string | undefined;
      readonly callId?: string | undefined;
      readonly detail: string;
      readonly to?: string;
      readonly context?: string;
    };

const AMBIGUOUS = { kind: "ambiguous" } as const;

function match(message: string, fileService: SipService | undefined): Match | undefined {
  let m = PJSIP_FAILED.exec(message);
  if (m) {
    if (ambiguous(message, PJSIP_ADDRS)) return AMBIGUOUS;
    return {
      kind: "failure",
      service: "asterisk-pjsip",
      host: m[3]!,
      account: userOfAddressText(m[2]!),
      reason: PJSIP_REASONS[m[5]!]!,
      method: m[1]?.toUpperCase(),
      callId: m[4] === "" ? undefined : m[4],
      detail: m[5]!,
    };
  }
  m = CHAN_SIP_REGISTER.exec(message);
  if (m) {
    if (ambiguous(message, CHAN_SIP_ADDRS)) return AMBIGUOUS;
    return {
      kind: "failure",
      service: "asterisk-chan_sip",
      host: m[2]!,
      account: userOfAddressText(m[1]!),
      reason: CHAN_SIP_REASONS[m[3]!]!,
      method: "REGISTER",
      detail: m[3]!,
    };
  }
  m = CALL_REJECTED.exec(message);
  if (m) {
    if (ambiguous(message, CALL_ADDRS)) return AMBIGUOUS;
    return {
      kind: "call",
      service: m[2] ? "asterisk-pjsip" : (fileService ?? "asterisk-chan_sip"),
      host: m[3]!,
      transport: m[2],
      account: userOfAddressText(m[1]!),
      method: "INVITE",
      detail: "extension not found",
      to: m[4]!,
      context: m[5]!,
    };
  }
  m = HOST_FAILED_MD5.exec(message);
  if (m) {
    const service = fileService ?? "asterisk-iax2";
    return {
      kind: "failure",
      service,
      host: m[1]!,
      account: userOfAddressText(m[2]!),
      reason: "wrong-password",
      detail: `MD5 authentication failed (${m[3]})`,
    };
  }
  m = HOST_FAILED_AS.exec(message);
  if (m) {
    const service = fileService ?? "asterisk-iax2";
    return {
      kind: "failure",
      service,
      host: m[1]!,
      account: userOfAddressText(m[2]!),
      reason: "wrong-password",
      detail: "failed to authenticate",
    };
  }
  m = NO_REGISTRATION.exec(message);
  if (m) {
    const service = fileService ?? "asterisk-iax2";
    return {
      kind: "failure",
      service,
      host: m[2]!,
      account: userOfAddressText(m[1]!),
      reason: "unknown-account",
      detail: "no registration for peer",
    };
  }
  m = AMI_NO_USER.exec(message);
  if (m) {
    return {
      kind: "failure",
      service: "asterisk-ami",
      host: m[1]!,
      account: userOfAddressText(m[2]!),
      reason: "unknown-account",
      detail: "nonexistent user",
    };
  }
  m = AMI_FAILED.exec(message);
  if (m) {
    return {
      kind: "failure",
      service: "asterisk-ami",
      host: m[1]!,
      account: userOfAddressText(m[2]!),
      reason: "wrong-password",
      detail: "failed to authenticate",
    };
  }
  return undefined;
}

export function parseAsteriskMessages(line: string, ctx: ParseContext): SipLineResult {
  if (!INTERESTING.test(line)) return SKIP;
  const parts = splitAsteriskLine(line);
  const m = match(parts.message, serviceOfFile(parts.file));
  if (!m) return SKIP;
  if (m.kind === "ambiguous") return rejected(ctx, "the address field appears more than once: not trusted");
  const source = parseHostPort(m.host, m.transport ? parseTransport(m.transport) : undefined);
  if (!source) return rejected(ctx, `unreadable source address ${JSON.stringify(m.host.slice(0, 60))}`);
  if (parts.time === undefined) return rejected(ctx, "line has no time stamp");
  const time = parseLogTime(parts.time, ctx);
  if (!time.ok) return rejected(ctx, time.error);
  const base = {
    at: time.at,
    service: m.service,
    source,
    account: m.account,
    callId: m.callId,
    raw: { source: ctx.source, line: ctx.line },
  };
  if (m.kind === "call") {
    return emitted(
      compact({ type: "sip.call-rejected", ...base, to: m.to!, context: m.context, detail: m.detail }),
    );
  }
  return emitted(
    compact({
      type: "sip.auth-failure",
      ...base,
      reason: m.reason ?? "other",
      method: m.method,
      detail: m.detail,
    }),
  );
}
