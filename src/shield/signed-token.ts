import { createHmac, timingSafeEqual } from "node:crypto";
import { err, ok, type Result } from "../core/result.js";

/**
 * Tokens the gateway issues and later recognises: customer sessions (`c`), transactions (`t`) and
 * challenge nonces (`n`). A token is `kind.subject.expiry.mac`; the MAC (HMAC-SHA256, first 128 bits)
 * also covers a binding that is not written in the token (the client's network, the customer id), so a
 * token copied to another client fails verification without the token saying what it is bound to.
 * HMAC rather than a JWT library: the gateway is both issuer and only verifier, and the format has to
 * stay small enough for a cookie checked on every request.
 */
export const TOKEN_KINDS = ["c", "t", "n"] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export type TokenError = "malformed" | "bad-signature" | "expired";
export type TokenClaims = { readonly subject: string; readonly expiresAt: number };

const MAX_TOKEN = 512;
const MAC_BYTES = 16;

export class TokenSigner {
  private readonly keys: readonly Buffer[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new RangeError("at least one secret is needed");
    this.keys = secrets.map((s) => Buffer.from(s, "utf8"));
  }

  sign(kind: TokenKind, subject: string, binding: string, expiresAt: number): string {
    const body = `${kind}.${Buffer.from(subject, "utf8").toString("base64url")}.${Math.ceil(expiresAt).toString(36)}`;
    return `${body}.${mac(this.keys[0] as Buffer, body, binding).toString("base64url")}`;
  }

  verify(token: string, kind: TokenKind, binding: string, at: number): Result<TokenClaims, TokenError> {
    if (token.length > MAX_TOKEN) return err("malformed");
    const parts = token.split(".");
    if (parts.length !== 4 || parts[0] !== kind) return err("malformed");
    const [, subj = "", exp = "", sig = ""] = parts;
    const expiresAt = Number.parseInt(exp, 36);
    if (
      !/^[0-9a-z]{1,12}$/.test(exp) ||
      !Number.isFinite(expiresAt) ||
      !/^[A-Za-z0-9_-]{1,700}$/.test(subj)
    ) {
      return err("malformed");
    }
    const given = Buffer.from(sig, "base64url");
    if (given.length !== MAC_BYTES) return err("malformed");
    const body = `${kind}.${subj}.${exp}`;
    let good = false;
    for (const k of this.keys) if (timingSafeEqual(mac(k, body, binding), given)) good = true;
    if (!good) return err("bad-signature");
    if (expiresAt <= at) return err("expired");
    return ok({ subject: Buffer.from(subj, "base64url").toString("utf8"), expiresAt });
  }
}

function mac(key: Buffer, body: string, binding: string): Buffer {
  return createHmac("sha256", key).update(body).update("\n").update(binding).digest().subarray(0, MAC_BYTES);
}
