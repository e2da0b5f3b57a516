/**
 * The error catalogue: every error a client can see, with a stable code, its HTTP status and a hint on
 * how to fix it. Codes never change meaning; new ones are appended.
 */
export const errorCatalogue = {
  MAMORI_BAD_REQUEST: { status: 400, hint: "Check the request body against GET /openapi.json." },
  MAMORI_BAD_JSON: { status: 400, hint: "Send a JSON body with Content-Type: application/json." },
  MAMORI_UNSUPPORTED_MEDIA: {
    status: 415,
    hint: "Send application/json (or application/x-www-form-urlencoded to the .txt endpoints).",
  },
  MAMORI_BODY_TOO_LARGE: {
    status: 413,
    hint: "Send a smaller body; the limit is server.bodyLimitBytes (API) or the shield's server.maxBodyBytes (gateway).",
  },
  MAMORI_UNAUTHENTICATED: {
    status: 401,
    hint: "Send an API key as 'Authorization: Bearer <key>' (create one with `mamori keys create`).",
  },
  MAMORI_FORBIDDEN: { status: 403, hint: "Use a key whose role allows this (switch, operator or admin)." },
  MAMORI_NOT_FOUND: { status: 404, hint: "Check the identifier; list what exists with the matching GET." },
  MAMORI_ROUTE_NOT_FOUND: { status: 404, hint: "See GET /openapi.json for the routes this service has." },
  MAMORI_CONFLICT: { status: 409, hint: "The resource changed state already; fetch it again." },
  MAMORI_STORE_UNAVAILABLE: {
    status: 503,
    hint: "The store cannot be written (disk full, read-only, locked). Fix the store; GET /health shows its state.",
  },
  MAMORI_INTERNAL: {
    status: 500,
    hint: "An unexpected error; the log has the details under the request id.",
  },
  // The billing shield's own answers to clients of the billing API.
  MAMORI_SHIELD_OVERLOADED: {
    status: 503,
    hint: "The service is at capacity; retry after the time in Retry-After.",
  },
  MAMORI_SHIELD_RATE_LIMITED: {
    status: 429,
    hint: "Too many requests from this client; retry after the time in Retry-After.",
  },
  MAMORI_SHIELD_BANNED: {
    status: 403,
    hint: "This address is blocked for abuse for a while; contact the operator if this is wrong.",
  },
  MAMORI_SHIELD_CHALLENGE: {
    status: 403,
    hint: "Open the page in a browser, or solve the challenge: find n such that SHA-256(nonce + '~' + n) starts with `bits` zero bits, and send 'x-mamori-pass: nonce~n'.",
  },
  MAMORI_SHIELD_UPSTREAM: { status: 504, hint: "The billing service did not answer in time; retry shortly." },
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

/** An error meant for the client: code, message and, for validation, the fields at fault. */
export class MamoriError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: readonly { path: string; message: string }[] | undefined;
  constructor(code: ErrorCode, message: string, details?: readonly { path: string; message: string }[]) {
    super(message);
    this.name = "MamoriError";
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.details = details;
  }
}
