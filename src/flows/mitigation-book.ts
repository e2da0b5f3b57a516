import type { Mitigation } from "./mitigation.js";

/**
 * The mitigations in force and when each is due to go. A mitigation lives while its attack goes on
 * (renewed before its TTL runs out); once the attack has ended it stays for the hold-down, and never
 * past its expiry. Mitigations restored after a restart have no attack until one adopts them, so
 * they go at their expiry: that is the reconciliation of what was in force with what still should be.
 */
export class MitigationBook {
  private readonly inForce = new Map<string, Mitigation>();
  /** Withdrawal time of mitigations whose attack has ended. */
  private readonly withdrawAt = new Map<string, number>();
  /** Attacks still going, by id: their mitigations are renewed rather than withdrawn. */
  private readonly ttlMs = new Map<string, number>();

  get size(): number {
    return this.inForce.size;
  }

  get(id: string): Mitigation | undefined {
    return this.inForce.get(id);
  }

  all(): Mitigation[] {
    return [...this.inForce.values()];
  }

  /**
   * Places a decided mitigation. Returns what to announce: the new mitigation, or the one already
   * in force with the same id re-attached to this attack (an action receiving it again does nothing).
   */
  place(m: Mitigation, ttlMs: number): Mitigation {
    const had = this.inForce.get(m.id);
    const placed: Mitigation = had
      ? { ...had, attackId: m.attackId, expiresAt: Math.max(had.expiresAt, m.expiresAt), reason: m.reason }
      : m;
    this.inForce.set(m.id, placed);
    this.withdrawAt.delete(m.id);
    this.ttlMs.set(m.id, ttlMs);
    return placed;
  }

  /** Seeds a mitigation that was in force before a restart. */
  restore(m: Mitigation): void {
    if (this.inForce.has(m.id)) return;
    this.inForce.set(m.id, m);
    this.ttlMs.set(m.id, Math.max(0, m.expiresAt - m.createdAt));
  }

  /** The attack behind a mitigation has ended: it goes after the hold-down (or at expiry if sooner). */
  attackEnded(id: string, at: number): void {
    if (this.inForce.has(id)) this.withdrawAt.set(id, at);
  }

  /** Takes a mitigation out at once (an operator's removal). */
  remove(id: string): Mitigation | undefined {
    const m = this.inForce.get(id);
    if (!m) return undefined;
    this.inForce.delete(id);
    this.withdrawAt.delete(id);
    this.ttlMs.delete(id);
    return m;
  }

  /**
   * Renews the mitigations of attacks still going (when half their TTL has passed) and takes out the
   * ones due. `active(attackId)` says whether an attack is still going.
   */
  due(
    now: number,
    active: (attackId: string | null) => boolean,
  ): { renewed: Mitigation[]; withdraw: Mitigation[] } {
    const renewed: Mitigation[] = [];
    const withdraw: Mitigation[] = [];
    for (const [id, m] of this.inForce) {
      const ttl = this.ttlMs.get(id) ?? 0;
      if (active(m.attackId) && !this.withdrawAt.has(id)) {
        if (m.expiresAt - now < ttl / 2) {
          const r = { ...m, expiresAt: now + ttl };
          this.inForce.set(id, r);
          renewed.push(r);
        }
        continue;
      }
      const at = Math.min(this.withdrawAt.get(id) ?? Number.POSITIVE_INFINITY, m.expiresAt);
      if (now >= at) withdraw.push(m);
    }
    for (const m of withdraw) this.remove(m.id);
    return { renewed, withdraw };
  }
}
