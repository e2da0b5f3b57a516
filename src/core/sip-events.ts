/**
 * SIP security events: what the PBX guard's sources (Asterisk, Kamailio and FreeSWITCH logs, HEPv3
 * capture) tell its detectors. Every source speaks this one vocabulary, so a brute-force detector does
 * not care whether a failed REGISTER came from a log line or from a captured 401.
 *
 * Times are epoch milliseconds of the event itself, never of the clock that read it.
 */

/** Which program saw the event. */
export const SIP_SERVICES = [
  "asterisk-pjsip",
  "asterisk-chan_sip",
  "asterisk-iax2",
  "asterisk-ami",
  "asterisk",
  "kamailio",
  "freeswitch",
  "hep",
] as const;
export type SipService = (typeof SIP_SERVICES)[number];

export const SIP_TRANSPORTS = ["udp", "tcp", "tls", "ws", "wss", "sctp"] as const;
export type SipTransport = (typeof SIP_TRANSPORTS)[number];

export type IpFamily = "ipv4" | "ipv6";

/** A network endpoint. `ip` is in canonical text form without brackets (`2001:db8::5`, not `[2001:db8::5]`). */
export type SipAddress = {
  readonly ip: string;
  readonly family: IpFamily;
  readonly port?: number | undefined;
  readonly transport?: SipTransport | undefined;
};

/** Where an event came from: a log file name and line, or a HEP listener and packet number. */
export type RawOrigin = { readonly source: string; readonly line: number };

/**
 * Why authentication failed, in the PBX guard's words. The PBX's own wording stays in `detail`.
 * - wrong-password: the account exists and the digest did not match.
 * - unknown-account: no such account, endpoint or peer (enumeration looks like this).
 * - acl: the account exists but the source address is not permitted.
 * - not-allowed: the request type is refused for this caller.
 * - challenge-failed: the digest answered a stale, reused or foreign nonce.
 * - user-mismatch: the authentication user differs from the From user.
 * - unexpected-address: the request came from an address other than the registered one.
 * - auth-method-not-allowed: an authentication method the PBX refuses.
 * - bad-format: the request was malformed.
 * - limit: refused because of a session, memory or load limit.
 * - other: a failure the source did not classify.
 */
export const AUTH_FAILURE_REASONS = [
  "wrong-password",
  "unknown-account",
  "acl",
  "not-allowed",
  "challenge-failed",
  "user-mismatch",
  "unexpected-address",
  "auth-method-not-allowed",
  "bad-format",
  "limit",
  "other",
] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

/** The common methods; sources report any token they see, upper-cased. */
export const SIP_METHODS = [
  "REGISTER",
  "INVITE",
  "ACK",
  "BYE",
  "CANCEL",
  "OPTIONS",
  "SUBSCRIBE",
  "NOTIFY",
  "PUBLISH",
  "MESSAGE",
  "INFO",
  "PRACK",
  "UPDATE",
  "REFER",
] as const;

type SipEventBase = {
  /** Epoch ms of the event. */
  readonly at: number;
  readonly service: SipService;
  /**
   * The remote party the event is about: the client that failed to authenticate, the sender of a
   * captured request. For `sip.response` it is the sender of the response; see `destination` there.
   */
  readonly source: SipAddress;
  /** Account, endpoint, peer or user name when the source names one; undefined for `<unknown>`. */
  readonly account?: string | undefined;
  readonly userAgent?: string | undefined;
  readonly callId?: string | undefined;
  readonly raw: RawOrigin;
};

export type SipAuthFailure = SipEventBase & {
  readonly type: "sip.auth-failure";
  readonly reason: AuthFailureReason;
  readonly method?: string | undefined;
  /** The address the request was sent to, when known. */
  readonly destination?: SipAddress | undefined;
  /** The source's own words for the failure, e.g. "Failed to authenticate". */
  readonly detail?: string | undefined;
};

export type SipAuthSuccess = SipEventBase & {
  readonly type: "sip.auth-success";
  readonly method?: string | undefined;
  readonly destination?: SipAddress | undefined;
};

export type SipChallengeSent = SipEventBase & {
  readonly type: "sip.challenge-sent";
  readonly method?: string | undefined;
  readonly destination?: SipAddress | undefined;
};

/** A call refused because nothing in the dialplan matched: the signature of toll-fraud probing. */
export type SipCallRejected = SipEventBase & {
  readonly type: "sip.call-rejected";
  /** The number or extension dialled, as the caller sent it. */
  readonly to: string;
  readonly context?: string | undefined;
  readonly detail?: string | undefined;
};

/** The SIP server's own flood protection (Kamailio pike) blocked the source. */
export type SipRateLimited = SipEventBase & {
  readonly type: "sip.rate-limited";
  readonly limiter: string;
  readonly method?: string | undefined;
};

/** Fields both captured requests and responses carry. */
type SipMessageFields = {
  readonly destination?: SipAddress | undefined;
  readonly fromUser?: string | undefined;
  readonly fromTag?: string | undefined;
  readonly toUser?: string | undefined;
  readonly cseq?: number | undefined;
  /** HEP capture agent id, when the event came from HEP. */
  readonly captureId?: number | undefined;
};

export type SipRequest = SipEventBase &
  SipMessageFields & {
    readonly type: "sip.request";
    readonly method: string;
    readonly requestUri: string;
    /** The user part of the Request-URI: the number or extension asked for. */
    readonly requestUser?: string | undefined;
    readonly hasAuthorization: boolean;
    /** The digest `username` of Authorization or Proxy-Authorization, when present. */
    readonly authUser?: string | undefined;
    readonly contact?: string | undefined;
    readonly expires?: number | undefined;
  };

export type SipResponse = SipEventBase &
  SipMessageFields & {
    readonly type: "sip.response";
    readonly status: number;
    readonly reasonPhrase: string;
    /** The method of the request being answered, from CSeq. */
    readonly method?: string | undefined;
    /** The Server header: the responder's software. */
    readonly server?: string | undefined;
  };

export type SipEvent =
  | SipAuthFailure
  | SipAuthSuccess
  | SipChallengeSent
  | SipCallRejected
  | SipRateLimited
  | SipRequest
  | SipResponse;

export type SipEventType = SipEvent["type"];
