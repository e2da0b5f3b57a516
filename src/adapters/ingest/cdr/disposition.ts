/**
 * How a call ended, from the words each switch uses: Asterisk dispositions, SIP final response codes
 * (Kamailio), FreeSWITCH hangup causes (Q.850 names).
 */
import type { Disposition } from "./types.js";

/** Asterisk's disposition strings, and its numeric form (`${CDR(disposition,u)}`: 0, 2, 4, 8, 16). */
export function asteriskDisposition(s: string): Disposition | undefined {
  switch (s) {
    case "ANSWERED":
    case "8":
      return "ANSWERED";
    case "NO ANSWER":
    case "0":
      return "NO ANSWER";
    case "BUSY":
    case "4":
      return "BUSY";
    case "FAILED":
    case "2":
      return "FAILED";
    case "CONGESTION":
    case "16":
      return "CONGESTION";
    case "UNKNOWN":
      return "UNKNOWN";
    default:
      return undefined;
  }
}

/** Outcome of an unanswered call from its final SIP response code. */
export function sipCodeDisposition(code: number): Disposition {
  if (code >= 200 && code < 300) return "ANSWERED";
  if (code === 486 || code === 600) return "BUSY";
  if (code === 408 || code === 480 || code === 487 || code === 603) return "NO ANSWER";
  if (code === 503) return "CONGESTION";
  return code >= 300 ? "FAILED" : "UNKNOWN";
}

/** Outcome of an unanswered call from a FreeSWITCH hangup cause. */
export function hangupCauseDisposition(cause: string): Disposition {
  switch (cause) {
    case "USER_BUSY":
      return "BUSY";
    case "NO_ANSWER":
    case "NORMAL_CLEARING":
    case "NO_USER_RESPONSE":
    case "ORIGINATOR_CANCEL":
    case "ALLOTTED_TIMEOUT":
    case "LOSE_RACE":
    case "PICKED_OFF":
      return "NO ANSWER";
    case "NORMAL_CIRCUIT_CONGESTION":
    case "SWITCH_CONGESTION":
    case "REQUESTED_CHAN_UNAVAIL":
      return "CONGESTION";
    case "":
      return "UNKNOWN";
    default:
      return "FAILED";
  }
}

/**
 * A disposition written any of the ways above (generic CSV); undefined when the value means nothing
 * known. Case and `_`/space differences are forgiven.
 */
export function anyDisposition(value: string): Disposition | undefined {
  const s = value.trim().toUpperCase();
  if (s === "") return undefined;
  const direct = asteriskDisposition(s.replaceAll("_", " "));
  if (direct) return direct;
  if (s === "NOANSWER") return "NO ANSWER";
  const c0 = s.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57 && s.length === 3) {
    const code = Number(s);
    if (Number.isInteger(code)) return sipCodeDisposition(code);
  }
  // NORMAL_CLEARING ends answered and unanswered calls alike: the answer time decides.
  if (s === "NORMAL_CLEARING") return undefined;
  const cause = hangupCauseDisposition(s);
  return cause === "FAILED" && !KNOWN_FAILED.has(s) ? undefined : cause;
}

const KNOWN_FAILED = new Set([
  "CALL_REJECTED",
  "UNALLOCATED_NUMBER",
  "NO_ROUTE_DESTINATION",
  "DESTINATION_OUT_OF_ORDER",
  "INVALID_NUMBER_FORMAT",
  "NORMAL_TEMPORARY_FAILURE",
  "RECOVERY_ON_TIMER_EXPIRE",
  "INCOMPATIBLE_DESTINATION",
  "SERVICE_UNAVAILABLE",
  "MEDIA_TIMEOUT",
  "FAILED",
]);
