import type { AuthFailureReason, SipResponse } from "../core/sip-events.js";

/**
 * What a captured SIP response says about the client it answers. HEP capture has no "login failed"
 * line; the PBX's answers tell the same story: 403 to a request is a refused login, 404 to a REGISTER
 * an unknown account, 404 to an INVITE or OPTIONS a user that does not exist (what svwar looks for),
 * 2xx to a REGISTER a login that worked. 401 and 407 are ordinary challenges that every phone gets
 * before it logs in, and count for nothing.
 *
 * The client is the response's destination; a response without one says nothing about anybody.
 */
export type ResponseMeaning =
  | {
      readonly type: "failure";
      readonly client: string;
      readonly user: string | undefined;
      readonly reason: AuthFailureReason;
    }
  | { readonly type: "unknown-user"; readonly client: string; readonly user: string }
  | { readonly type: "success"; readonly client: string; readonly user: string | undefined };

/** Methods a client authenticates or probes with; answers to others (BYE, ACK …) say nothing here. */
const CLIENT_METHODS: ReadonlySet<string> = new Set([
  "REGISTER",
  "INVITE",
  "OPTIONS",
  "SUBSCRIBE",
  "MESSAGE",
  "PUBLISH",
  "REFER",
  "NOTIFY",
]);

export function readResponse(e: SipResponse): ResponseMeaning | undefined {
  const client = e.destination?.ip;
  const method = e.method;
  if (client === undefined || method === undefined || !CLIENT_METHODS.has(method)) return undefined;
  const register = method === "REGISTER";
  // For REGISTER the To header names the account being registered; otherwise From names the caller.
  const user = register ? (e.toUser ?? e.account) : e.account;
  if (e.status >= 200 && e.status < 300) return register ? { type: "success", client, user } : undefined;
  if (e.status === 403) return { type: "failure", client, user, reason: "other" };
  if (e.status === 404) {
    if (register) return { type: "failure", client, user, reason: "unknown-account" };
    return e.toUser === undefined ? undefined : { type: "unknown-user", client, user: e.toUser };
  }
  return undefined;
}
