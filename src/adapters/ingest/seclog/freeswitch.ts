/**
 * FreeSWITCH's log (freeswitch.log, or fs_cli output) lines from mod_sofia about authentication:
 *
 *   2024-01-05 03:12:45.123456 [WARNING] sofia_reg.c:1688 SIP auth failure (REGISTER) on sofia profile 'internal' for [100@192.0.2.10] from ip 203.0.113.5
 *   2024-01-05 03:12:45.123456 [WARNING] sofia_reg.c:1676 SIP auth challenge (INVITE) on sofia profile 'internal' for [900441234567@192.0.2.10] from ip 203.0.113.5
 *   2024-01-05 03:12:45.123456 [WARNING] sofia_reg.c:3140 Can't find user [100@192.0.2.10] from 203.0.113.5
 *   2024-01-05 03:12:45.123456 [DEBUG] sofia.c:10412 IP 203.0.113.5 Rejected by acl "domains"
 *
 * Newer releases put the CPU idle percentage after the time (`97.93% [WARNING]`) and a call's UUID
 * before it. The user and domain inside `[...]` come from the caller, so the address is taken from the
 * fixed tail at the end of the line. Times carry no zone: they are read in the context's zone.
 */
import { parseHostPort } from "../../../core/sip-address.js";
import { userOfAddressText } from "../hep/sip-uri.js";
import { cleanLine, parseSyslogHeader } from "./log-prefix.js";
import { parseLogTime } from "./log-time.js";
import { compact, emitted, type ParseContext, rejected, type SipLineResult, SKIP } from "./types.js";

const PREFIX =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\s+)?(?:(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)\s+)?(?:\d{1,3}(?:\.\d+)?%\s+)?\[([A-Z]+)\]\s+(?:[\w.]+\.c:\d+\s+)?/;

const AUTH =
  /^SIP auth (failure|challenge) \(([A-Za-z]+)\) on sofia profile '([^']*)' for \[(.*)\] from ip (\S+)\s*$/;
const NO_USER = /^Can't find user \[(.*)\] from (\S+)\s*$/;
const ACL = /^IP (\S+) Rejected by (?:register )?acl "([^"]*)"\s*$/;

/** `user@domain` -> user; the domain may itself contain `@` only if the caller put one there. */
function userOf(text: string): string | undefined {
  const at = text.lastIndexOf("@");
  return userOfAddressText(at === -1 ? text : text.slice(0, at));
}

export function parseFreeswitch(line: string, ctx: ParseContext): SipLineResult {
  if (
    line.indexOf("SIP auth") === -1 &&
    line.indexOf("Can't find user") === -1 &&
    line.indexOf("Rejected by") === -1
  ) {
    return SKIP;
  }
  const clean = cleanLine(line);
  const sys = parseSyslogHeader(clean);
  const rest = sys ? sys.rest : clean;
  const p = PREFIX.exec(rest);
  if (!p) return SKIP;
  const message = rest.slice(p[0].length).trim();
  const raw = { source: ctx.source, line: ctx.line };

  const when = () => {
    const t = p[1] ?? sys?.time;
    if (t === undefined) return { ok: false as const, error: "line has no time stamp" };
    return parseLogTime(t, ctx);
  };

  let m = AUTH.exec(message);
  if (m) {
    const source = parseHostPort(m[5]!);
    if (!source) return rejected(ctx, `unreadable source address ${JSON.stringify(m[5]!.slice(0, 60))}`);
    const time = when();
    if (!time.ok) return rejected(ctx, time.error);
    const base = {
      at: time.at,
      service: "freeswitch" as const,
      source,
      account: userOf(m[4]!),
      method: m[2]!.toUpperCase(),
      raw,
    };
    if (m[1] === "challenge") return emitted(compact({ type: "sip.challenge-sent", ...base }));
    return emitted(
      compact({
        type: "sip.auth-failure",
        ...base,
        reason: "wrong-password" as const,
        detail: `SIP auth failure on profile ${m[3]}`,
      }),
    );
  }
  m = NO_USER.exec(message);
  if (m) {
    const source = parseHostPort(m[2]!);
    if (!source) return rejected(ctx, `unreadable source address ${JSON.stringify(m[2]!.slice(0, 60))}`);
    const time = when();
    if (!time.ok) return rejected(ctx, time.error);
    return emitted(
      compact({
        type: "sip.auth-failure",
        at: time.at,
        service: "freeswitch" as const,
        source,
        account: userOf(m[1]!),
        reason: "unknown-account" as const,
        detail: "Can't find user",
        raw,
      }),
    );
  }
  m = ACL.exec(message);
  if (m) {
    const source = parseHostPort(m[1]!);
    if (!source) return rejected(ctx, `unreadable source address ${JSON.stringify(m[1]!.slice(0, 60))}`);
    const time = when();
    if (!time.ok) return rejected(ctx, time.error);
    return emitted({
      type: "sip.auth-failure",
      at: time.at,
      service: "freeswitch",
      source,
      reason: "acl",
      detail: `rejected by acl ${m[2]}`,
      raw,
    });
  }
  return SKIP;
}
