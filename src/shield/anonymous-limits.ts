import type { ShieldSettings } from "./settings.js";
import { BucketMap } from "./token-bucket.js";

/**
 * The rate limits on unknown clients: per address, per network (a host rotating addresses in its
 * subnet) and per challenge pass (one pass shared by many hosts of a network), all scaled by `factor`
 * (tighter under attack). Customers and transactions are limited per client instead, never per
 * address: many of them may share one (an office, a carrier-grade NAT).
 */
export type AnonymousVerdict =
  | undefined
  | { readonly reason: "address-rate" | "prefix-rate" | "client-rate"; readonly waitMs: number };

export class AnonymousLimits {
  private readonly addresses: BucketMap;
  private readonly prefixes: BucketMap;

  constructor(
    private readonly s: ShieldSettings["anonymous"],
    limits: ShieldSettings["limits"],
    /** Shared with the per-customer and per-transaction buckets (one bound for all clients). */
    private readonly clients: BucketMap,
  ) {
    this.addresses = new BucketMap(limits.addresses);
    this.prefixes = new BucketMap(limits.prefixes);
  }

  check(
    at: number,
    address: string,
    prefix: string,
    passId: string | undefined,
    factor: number,
  ): AnonymousVerdict {
    const s = this.s;
    const ra = s.perAddress.perSecond * factor;
    const ba = Math.max(1, s.perAddress.burst * factor);
    if (!this.addresses.take(address, at, ra, ba)) {
      return { reason: "address-rate", waitMs: this.addresses.waitMs(address, at, ra, ba) };
    }
    const rp = s.perPrefix.perSecond * factor;
    const bp = Math.max(1, s.perPrefix.burst * factor);
    if (!this.prefixes.take(prefix, at, rp, bp)) {
      return { reason: "prefix-rate", waitMs: this.prefixes.waitMs(prefix, at, rp, bp) };
    }
    if (passId === undefined) return undefined;
    const key = `p:${passId}`;
    const rc = s.perPass.perSecond * factor;
    const bc = Math.max(1, s.perPass.burst * factor);
    if (!this.clients.take(key, at, rc, bc))
      return { reason: "client-rate", waitMs: this.clients.waitMs(key, at, rc, bc) };
    return undefined;
  }
}
