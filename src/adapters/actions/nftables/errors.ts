/**
 * What can go wrong when Mamori drives nftables, each with a message that says what to do. These are
 * thrown: the action is an edge, and its caller (the composition root) logs them and retries later.
 */
export const NFT_ERROR_CODES = [
  /** The nft (or ip, for a namespace) program is not installed or not on PATH. */
  "not-installed",
  /** Not root and without CAP_NET_ADMIN. */
  "permission",
  /** The network namespace named in the options does not exist. */
  "netns",
  /** An address that is not an IPv4 or IPv6 address; nothing reached nft. */
  "invalid-address",
  /** nft ran longer than the time allowed. */
  "timeout",
  /** nft answered something this action cannot read. */
  "bad-output",
  /** nft refused the commands; the message carries its own words. */
  "failed",
] as const;
export type NftErrorCode = (typeof NFT_ERROR_CODES)[number];

export class NftablesError extends Error {
  readonly code: NftErrorCode;
  /** nft's standard error, when it ran. */
  readonly stderr: string | undefined;

  constructor(code: NftErrorCode, message: string, options: { stderr?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "NftablesError";
    this.code = code;
    this.stderr = options.stderr;
  }
}
