import { putBounded } from "./detectors/common.js";
import type { ActiveBan } from "./types.js";

type Offences = { count: number; lastAt: number };

/**
 * The guard's memory of bans: which are in force (one per address), and how often each address
 * offended, for the escalating ladder (10 minutes, an hour, a day, a week …). An offence count starts
 * again after `memoryMs` without an offence, so an address that changed hands is not punished for
 * its previous owner forever.
 */
export class BanBook {
  private readonly offences = new Map<string, Offences>();
  private readonly active = new Map<string, ActiveBan>();

  constructor(
    private readonly ladderMs: readonly number[],
    private readonly memoryMs: number,
    private readonly maxEntries: number,
  ) {}

  /** Offences known from the store; the larger count wins, so seeding twice does no harm. */
  seedOffences(address: string, count: number, lastAt: number): void {
    if (!(count > 0)) return;
    const o = this.offences.get(address);
    if (!o) this.put(this.offences, address, { count, lastAt });
    else {
      o.count = Math.max(o.count, count);
      o.lastAt = Math.max(o.lastAt, lastAt);
    }
  }

  /** Offences of the address still remembered at `at`. */
  offencesOf(address: string, at: number): number {
    const o = this.offences.get(address);
    return o && at - o.lastAt <= this.memoryMs ? o.count : 0;
  }

  inForce(address: string, at: number): ActiveBan | undefined {
    const b = this.active.get(address);
    return b && b.until > at ? b : undefined;
  }

  /** Remembers a ban made elsewhere (the store at start, an operator); the longer one stays. */
  apply(ban: ActiveBan): void {
    const b = this.active.get(ban.address);
    if (!b || ban.until > b.until) this.put(this.active, ban.address, ban);
  }

  lift(address: string): boolean {
    return this.active.delete(address);
  }

  /** Counts an offence and puts the ban for it in force; returns its step on the ladder. */
  record(address: string, at: number, rule: string): { offence: number; durationMs: number } {
    const offence = this.offencesOf(address, at) + 1;
    const step = Math.min(offence, this.ladderMs.length) - 1;
    const durationMs = this.ladderMs[step] ?? this.ladderMs[this.ladderMs.length - 1] ?? 600_000;
    this.offences.delete(address);
    this.put(this.offences, address, { count: offence, lastAt: at });
    this.put(this.active, address, { address, until: at + durationMs, rule });
    return { offence, durationMs };
  }

  /** Bans still in force at `at`, for the API and for reconciling the kernel's sets. */
  list(at: number): ActiveBan[] {
    const out: ActiveBan[] = [];
    for (const b of this.active.values()) if (b.until > at) out.push(b);
    return out;
  }

  /** Forgets bans that ended and offences past memory. */
  expire(now: number): void {
    for (const [a, b] of this.active) if (b.until <= now) this.active.delete(a);
    for (const [a, o] of this.offences) if (now - o.lastAt > this.memoryMs) this.offences.delete(a);
  }

  private put<V>(map: Map<string, V>, key: string, value: V): void {
    putBounded(map, key, value, this.maxEntries);
  }
}
