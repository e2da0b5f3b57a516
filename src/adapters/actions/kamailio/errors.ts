/**
 * What can go wrong when Mamori drives Kamailio over JSON-RPC, each with a message that says what to
 * do. Thrown, not returned: this is an edge, and its caller (the composition root) logs the error,
 * shows it in /health and tries again at the next ban or reconcile.
 */
export const KAMAILIO_ERROR_CODES = [
  /** No connection: Kamailio is down, or nothing listens at the RPC address. */
  "unreachable",
  /** Kamailio did not answer within the time allowed. */
  "timeout",
  /** An HTTP status other than 200: a wrong path, or a request from an address the route refuses. */
  "http",
  /** Kamailio ran the method and answered with a JSON-RPC error. */
  "rpc",
  /** The answer is not the JSON-RPC this client expects. */
  "bad-output",
  /** The htable named in the options is not defined in Kamailio's configuration. */
  "no-table",
  /** An address that is not an IPv4 or IPv6 address; nothing was sent. */
  "invalid-address",
] as const;
export type KamailioErrorCode = (typeof KAMAILIO_ERROR_CODES)[number];

export class KamailioError extends Error {
  readonly code: KamailioErrorCode;
  /** The RPC method that failed, when one was called. */
  readonly method: string | undefined;
  /** The JSON-RPC error code Kamailio answered (404 for a missing key, 500 for most else). */
  readonly rpcCode: number | undefined;

  constructor(
    code: KamailioErrorCode,
    message: string,
    options: { method?: string; rpcCode?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KamailioError";
    this.code = code;
    this.method = options.method;
    this.rpcCode = options.rpcCode;
  }
}
