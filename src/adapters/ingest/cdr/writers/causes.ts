/**
 * How each switch says why a call ended, for the writers: the inverse of the readers' disposition.ts.
 * Each value maps back to the same disposition through the matching reader.
 */
import type { Disposition } from "./types.js";

/** FreeSWITCH hangup cause (Q.850 name), also what CGRateS carries from FreeSWITCH. */
export function hangupCause(d: Disposition): string {
  switch (d) {
    case "ANSWERED":
      return "NORMAL_CLEARING";
    case "NO ANSWER":
      return "NO_ANSWER";
    case "BUSY":
      return "USER_BUSY";
    case "CONGESTION":
      return "NORMAL_CIRCUIT_CONGESTION";
    case "FAILED":
      return "CALL_REJECTED";
    case "UNKNOWN":
      return "";
  }
}

/** Final SIP response of an unanswered INVITE, as Kamailio's acc module records it. */
export function sipFailure(d: Disposition): { code: number; reason: string } {
  switch (d) {
    case "BUSY":
      return { code: 486, reason: "Busy Here" };
    case "CONGESTION":
      return { code: 503, reason: "Service Unavailable" };
    case "FAILED":
      return { code: 404, reason: "Not Found" };
    case "UNKNOWN":
      return { code: 500, reason: "Server Internal Error" };
    default:
      return { code: 487, reason: "Request Terminated" };
  }
}
