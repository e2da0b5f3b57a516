import { createHash, randomBytes } from "node:crypto";
import { MamoriError } from "../../core/errors.js";
import type { ApiKeyRecord, Role, Store } from "../store/store.js";

/**
 * API keys: a random secret shown once, stored as its SHA-256 (a 256-bit random secret needs no slow
 * hash: there is nothing to guess). Roles: switch (authorize and call events only), operator (read
 * everything, block and unblock, ban and unban), admin (everything, including accounts and keys).
 */
export const hashKey = (secret: string): string => createHash("sha256").update(secret).digest("hex");

export function newKey(name: string, role: Role, at: number): { record: ApiKeyRecord; secret: string } {
  const id = "key_" + randomBytes(6).toString("hex");
  const secret = `mk_${role}_${randomBytes(24).toString("base64url")}`;
  return { record: { id, name, role, hash: hashKey(secret), createdAt: at, revokedAt: null }, secret };
}

/**
 * What a role may do. viewer reads; switch asks about calls and reports their life; operator reads,
 * asks, blocks, bans and lifts; admin also changes accounts and keys.
 */
export function allows(have: Role, need: Role): boolean {
  switch (need) {
    case "viewer":
      return have !== "switch";
    case "switch":
      return have !== "viewer";
    case "operator":
      return have === "operator" || have === "admin";
    case "admin":
      return have === "admin";
  }
}

/**
 * Key lookups happen on every authorize, so they are cached for 30 s; a revocation through the API
 * clears the cache at once, one made on the database by the CLI is seen within the 30 s.
 */
const CACHE_MS = 30_000;

export class KeyRing {
  private readonly cache = new Map<string, { key: ApiKeyRecord | null; at: number }>();
  constructor(private readonly store: Store) {}

  /** The key a request carries; from the cache without waiting, else from the store. */
  identify(
    header: string | undefined,
    apiKeyHeader: string | undefined,
  ): ApiKeyRecord | Promise<ApiKeyRecord> {
    let secret = apiKeyHeader;
    if (!secret && header) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m)
        throw new MamoriError("MAMORI_UNAUTHENTICATED", "the Authorization header must be 'Bearer <key>'");
      secret = m[1];
    }
    if (!secret) throw new MamoriError("MAMORI_UNAUTHENTICATED", "this route needs an API key");
    // Cached by the secret itself: hashing it on every call would cost more than the decision.
    const now = Date.now();
    const hit = this.cache.get(secret);
    if (hit && now - hit.at < CACHE_MS) return usable(hit.key);
    return this.lookUp(secret, now);
  }

  private async lookUp(secret: string, now: number): Promise<ApiKeyRecord> {
    const key = (await this.store.keyByHash(hashKey(secret))) ?? null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(secret, { key, at: now });
    return usable(key);
  }

  forget(): void {
    this.cache.clear();
  }
}

function usable(key: ApiKeyRecord | null): ApiKeyRecord {
  if (!key || key.revokedAt !== null)
    throw new MamoriError("MAMORI_UNAUTHENTICATED", "unknown or revoked API key");
  return key;
}
