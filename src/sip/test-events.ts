/**
 * SIP security events built in code, for the PBX guard's tests: each builder fills in what a log
 * parser or the HEP decoder would, so a test reads as the sequence of things that happened.
 */
import { canonicalIp, makeAddress } from "../core/sip-address.js";
import type {
  AuthFailureReason,
  SipAddress,
  SipAuthFailure,
  SipAuthSuccess,
  SipCallRejected,
  SipChallengeSent,
  SipRateLimited,
  SipRequest,
  SipResponse,
} from "../core/sip-events.js";

export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** A Tuesday morning, 2026-03-03 09:00 UTC: far from any window edge. */
export const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);

const PBX = addr("192.0.2.10", 5060);

export function addr(ip: string, port = 5060): SipAddress {
  const c = canonicalIp(ip);
  if (!c) throw new Error(`bad test address ${ip}`);
  return makeAddress(c, port, "udp");
}

const raw = { source: "test", line: 1 };

type Extra = { userAgent?: string; method?: string; service?: SipAuthFailure["service"] };

export function failure(
  at: number,
  ip: string,
  account: string | undefined,
  reason: AuthFailureReason = "wrong-password",
  extra: Extra = {},
): SipAuthFailure {
  return {
    type: "sip.auth-failure",
    at,
    service: extra.service ?? "asterisk-pjsip",
    source: addr(ip),
    destination: PBX,
    account,
    reason,
    method: extra.method ?? "REGISTER",
    userAgent: extra.userAgent,
    raw,
  };
}

export function success(at: number, ip: string, account: string, extra: Extra = {}): SipAuthSuccess {
  return {
    type: "sip.auth-success",
    at,
    service: extra.service ?? "asterisk-pjsip",
    source: addr(ip),
    destination: PBX,
    account,
    method: extra.method ?? "REGISTER",
    userAgent: extra.userAgent,
    raw,
  };
}

export function challenge(at: number, ip: string, account: string, method = "REGISTER"): SipChallengeSent {
  return {
    type: "sip.challenge-sent",
    at,
    service: "asterisk-pjsip",
    source: addr(ip),
    account,
    method,
    raw,
  };
}

export function request(
  at: number,
  ip: string,
  method: string,
  toUser: string,
  userAgent?: string,
): SipRequest {
  return {
    type: "sip.request",
    at,
    service: "hep",
    source: addr(ip),
    destination: PBX,
    method,
    requestUri: `sip:${toUser}@192.0.2.10`,
    requestUser: toUser,
    toUser,
    fromUser: toUser,
    account: toUser,
    hasAuthorization: false,
    userAgent,
    raw,
  };
}

/** A response from the PBX to a client, as HEP capture shows it. */
export function response(
  at: number,
  client: string,
  status: number,
  method: string,
  toUser: string,
): SipResponse {
  return {
    type: "sip.response",
    at,
    service: "hep",
    source: PBX,
    destination: addr(client),
    status,
    reasonPhrase: String(status),
    method,
    toUser,
    fromUser: toUser,
    account: toUser,
    raw,
  };
}

export function rejectedCall(at: number, ip: string, to: string): SipCallRejected {
  return { type: "sip.call-rejected", at, service: "asterisk-chan_sip", source: addr(ip), to, raw };
}

export function rateLimited(at: number, ip: string): SipRateLimited {
  return { type: "sip.rate-limited", at, service: "kamailio", source: addr(ip), limiter: "pike", raw };
}
