/**
 * Kamailio log lines about authentication and flooding.
 *
 * Kamailio's auth module says nothing about the source of a failed attempt, so a deployment logs it
 * from the routing script. The line we recommend for deployments puts the fields Kamailio
 * itself knows first and the caller's text last, so nothing a caller sends can shift the address:
 *
 *   if (!auth_check("$fd", "subscriber", "1")) {
 *       $var(rc) = $rc;
 *       if ($var(rc) != -5) {
 *           xlog("L_NOTICE", "mamori event=auth-failure rc=$var(rc) ts=$TV(Sn) si=$si sp=$sp pr=$pr m=$rm fu=$fU au=$au ci=$ci ua=$ua\n");
 *       }
 *       auth_challenge("$fd", "0");
 *       exit;
 *   }
 *   xlog("L_NOTICE", "mamori event=auth-success rc=1 ts=$TV(Sn) si=$si sp=$sp pr=$pr m=$rm fu=$fU au=$au ci=$ci ua=$ua\n");
 *
 * `event` is auth-failure, auth-success, challenge-sent or rate-limited; `rc` is the auth function's
 * return code (-1 error, -2 wrong password, -3 unknown user, -4 nonce expired, -5 no credentials,
 * -6 nonce reused, -8 auth user differs from From user); `ts` is `$TV(Sn)`, seconds.microseconds,
 * because Kamailio writing to stderr or a plain file prints no time of its own; `ua` runs to the end
 * of the line because a User-Agent has spaces. Of repeated keys the first counts: the trusted ones come
 * before anything the caller wrote.
 *
 * Also read:
 * - the default kamailio.cfg pike alert: `ALERT: pike blocking REGISTER from sip:100@x (IP:203.0.113.5:5062)`;
 * - pike's own notice: `PIKE - BLOCKing ip 203.0.113.5, node=0x7f...`;
 * - the auth module's own errors (`Credentials are not filled properly`, `Invalid nonce value received`)
 *   when a log_prefix of the form `log_prefix="{si=$si sp=$sp pr=$pr m=$rm} "` names the source; use
 *   either that prefix or the xlog line above, not both, or each failure is counted twice;
 * - a hand-written `xlog("... auth failed ... from $si ...")`, if it names exactly one address.
 *
 * Lines look like ` 1(12151) NOTICE: <script>: ...` on stderr, or behind a syslog header.
 */
import { canonicalIp, makeAddress, parseHostPort, parseTransport } from "../../../core/sip-address.js";
import type { AuthFailureReason, SipAddress } from "../../../core/sip-events.js";
import { cleanLine, parseSyslogHeader } from "./log-prefix.js";
import { parseLogTime } from "./log-time.js";
import { compact, emitted, type ParseContext, rejected, type SipLineResult, SKIP } from "./types.js";

const PREFIX =
  /^\s*(?:\{[^}]*\}\s*)?(?:\d+\(\d+\)\s+)?(DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|ERR|CRITICAL|CRIT|ALERT|BUG|EMERG)\s*:\s*(?:\{([^}]*)\}\s+)?(<script>|<core>|[\w-]+)(?:\s+\[[^\]]*\])?:\s+(?:\w+\(\):\s+)?/;

const RC_REASONS: Readonly<Record<string, AuthFailureReason>> = {
  "-1": "other",
  "-2": "wrong-password",
  "-3": "unknown-account",
  "-4": "challenge-failed",
  "-6": "challenge-failed",
  "-8": "user-mismatch",
};

const DEFAULT_PIKE = /^ALERT: pike blocking (\S+) from (.*) \(IP:([^\s()]+):(\d{1,5})\)\s*$/;
const STOCK_PIKE = /^PIKE - BLOCKing ip ([^\s,]+), node=\S+\s*$/;
const STOCK_AUTH: ReadonlyArray<readonly [RegExp, AuthFailureReason]> = [
  [/^Credentials are not filled properly/, "bad-format"],
  [/^Invalid nonce value received/, "challenge-failed"],
];
const FREEFORM = /\bauth(?:entication)?\s+fail(?:ed|ure)\b/i;
const FREEFORM_ADDR =
  /(?:\bfrom\s+(?:ip\s+)?|\bIP[:=]\s*|\bsi[:=]\s*|\bsrc(?:_ip)?[:=]\s*)(\[[0-9a-fA-F:.]+\](?::\d+)?|[0-9a-fA-F:.]*[0-9a-fA-F](?::\d+)?)/gi;

const nullable = (v: string | undefined): string | undefined =>
  v === undefined || v === "" || v === "<null>" ? undefined : v;

/** Our `key=value ... ua=<rest>` line; the first occurrence of a key wins. */
function fields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < text.length) {
    while (text[pos] === " ") pos++;
    const eq = text.indexOf("=", pos);
    if (eq === -1) break;
    const key = text.slice(pos, eq);
    if (!/^[a-z]+$/.test(key)) break;
    if (key === "ua") {
      if (!out.has(key)) out.set(key, text.slice(eq + 1).trimEnd());
      break;
    }
    const sp = text.indexOf(" ", eq + 1);
    const end = sp === -1 ? text.length : sp;
    if (!out.has(key)) out.set(key, text.slice(eq + 1, end));
    pos = end;
  }
  return out;
}

function address(
  ip: string | undefined,
  port: string | undefined,
  proto: string | undefined,
): SipAddress | undefined {
  if (ip === undefined) return undefined;
  const c = canonicalIp(ip);
  if (!c) return undefined;
  const p = port !== undefined && /^\d{1,5}$/.test(port) && Number(port) <= 65535 ? Number(port) : undefined;
  return makeAddress(c, p, proto ? parseTransport(proto) : undefined);
}

function timeOf(explicit: string | undefined, fallback: string | undefined, ctx: ParseContext) {
  const t = explicit ?? fallback;
  if (t === undefined)
    return { ok: false as const, error: "line has no time stamp (add ts=$TV(Sn) to the xlog line)" };
  return parseLogTime(t, ctx);
}

export function parseKamailio(line: string, ctx: ParseContext): SipLineResult {
  const clean = cleanLine(line);
  const sys = parseSyslogHeader(clean);
  const rest = sys ? sys.rest : clean;
  const p = PREFIX.exec(rest);
  let message = (p ? rest.slice(p[0].length) : rest).trim();
  if (!p) {
    // An unfamiliar prefix: the script's message starts after the first "<script>: ", which Kamailio
    // wrote before any text a caller controls.
    const script = message.indexOf("<script>: ");
    if (script !== -1) message = message.slice(script + 10).trim();
  }
  const logPrefix = p?.[2];
  const raw = { source: ctx.source, line: ctx.line };

  // Only at the very start: "mamori event=" inside a hand-written line may be a caller's text.
  if (message.startsWith("mamori event=")) {
    const f = fields(message.slice(7));
    const event = f.get("event");
    const source = address(nullable(f.get("si")), nullable(f.get("sp")), nullable(f.get("pr")));
    if (!source) return rejected(ctx, "mamori line without a readable si=");
    const time = timeOf(nullable(f.get("ts")), sys?.time, ctx);
    if (!time.ok) return rejected(ctx, time.error);
    const base = {
      at: time.at,
      service: "kamailio" as const,
      source,
      account: nullable(f.get("au")) ?? nullable(f.get("fu")),
      userAgent: nullable(f.get("ua")),
      callId: nullable(f.get("ci")),
      method: nullable(f.get("m"))?.toUpperCase(),
      raw,
    };
    const rc = f.get("rc");
    switch (event) {
      case "auth-failure":
        if (rc === "-5") return emitted(compact({ type: "sip.challenge-sent", ...base }));
        return emitted(
          compact({
            type: "sip.auth-failure",
            ...base,
            reason: RC_REASONS[rc ?? ""] ?? "other",
            detail: `rc=${rc ?? "?"}`,
          }),
        );
      case "auth-success":
        return emitted(compact({ type: "sip.auth-success", ...base }));
      case "challenge-sent":
        return emitted(compact({ type: "sip.challenge-sent", ...base }));
      case "rate-limited":
        return emitted(
          compact({ type: "sip.rate-limited", ...base, limiter: nullable(f.get("by")) ?? "script" }),
        );
      default:
        return rejected(ctx, `unknown mamori event ${JSON.stringify(event ?? "")}`);
    }
  }

  let m = DEFAULT_PIKE.exec(message);
  if (m) {
    const source = address(m[3], m[4], undefined);
    if (!source) return rejected(ctx, "pike alert with unreadable address");
    const time = timeOf(undefined, sys?.time, ctx);
    if (!time.ok) return rejected(ctx, time.error);
    const from = m[2]!;
    const at = from.indexOf("@");
    const colon = from.indexOf(":");
    const account = at > colon && colon !== -1 ? nullable(from.slice(colon + 1, at)) : undefined;
    return emitted(
      compact({
        type: "sip.rate-limited",
        at: time.at,
        service: "kamailio" as const,
        source,
        account,
        limiter: "pike",
        method: m[1]!.toUpperCase(),
        raw,
      }),
    );
  }
  m = STOCK_PIKE.exec(message);
  if (m) {
    const source = address(m[1], undefined, undefined);
    if (!source) return rejected(ctx, "pike notice with unreadable address");
    const time = timeOf(undefined, sys?.time, ctx);
    if (!time.ok) return rejected(ctx, time.error);
    return emitted({
      type: "sip.rate-limited",
      at: time.at,
      service: "kamailio",
      source,
      limiter: "pike",
      raw,
    });
  }
  for (const [re, reason] of STOCK_AUTH) {
    if (!re.test(message)) continue;
    if (!logPrefix)
      return rejected(ctx, "auth module message without a source address (set log_prefix, see parser notes)");
    const f = fields(logPrefix);
    const source = address(nullable(f.get("si")), nullable(f.get("sp")), nullable(f.get("pr")));
    if (!source) return rejected(ctx, "log_prefix without a readable si=");
    const time = timeOf(undefined, sys?.time, ctx);
    if (!time.ok) return rejected(ctx, time.error);
    return emitted(
      compact({
        type: "sip.auth-failure",
        at: time.at,
        service: "kamailio" as const,
        source,
        reason,
        method: nullable(f.get("m"))?.toUpperCase(),
        detail: message,
        raw,
      }),
    );
  }
  if (FREEFORM.test(message)) {
    const found = new Map<string, SipAddress>();
    for (const a of message.matchAll(FREEFORM_ADDR)) {
      const addr = parseHostPort(a[1]!);
      if (addr) found.set(addr.ip, addr);
    }
    if (found.size === 0) return rejected(ctx, "auth failure line names no source address");
    if (found.size > 1) return rejected(ctx, "auth failure line names more than one address: not trusted");
    const time = timeOf(undefined, sys?.time, ctx);
    if (!time.ok) return rejected(ctx, time.error);
    const source = [...found.values()][0]!;
    return emitted({
      type: "sip.auth-failure",
      at: time.at,
      service: "kamailio",
      source,
      reason: "other",
      detail: message,
      raw,
    });
  }
  return SKIP;
}
