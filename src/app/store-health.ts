import type { Logger } from "pino";
import { MamoriError } from "../core/errors.js";
import type { Metrics } from "./metrics.js";

/**
 * Watches store writes. When the store refuses one (disk full, read-only, locked), the service keeps
 * deciding from memory, says so in /health, and refuses changes with 503 rather than pretend they
 * were kept. The next successful write clears the state.
 */
export class StoreHealth {
  degradedSince: number | null = null;
  lastError: string | null = null;

  constructor(
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  get degraded(): boolean {
    return this.degradedSince !== null;
  }

  ok(): void {
    if (this.degradedSince !== null) {
      this.log.info({ since: new Date(this.degradedSince).toISOString() }, "store writable again");
      this.degradedSince = null;
      this.lastError = null;
      this.metrics.storeDegraded.set(0);
    }
  }

  failed(err: unknown, what: string): void {
    this.metrics.storeErrors.inc();
    this.lastError = `${what}: ${(err as Error)?.message ?? String(err)}`;
    if (this.degradedSince === null) {
      this.degradedSince = Date.now();
      this.metrics.storeDegraded.set(1);
      this.log.error({ err, what }, "store write failed; deciding from memory");
    }
  }

  /** Runs a write that must succeed for the caller's answer to be true (changes made by people). */
  async must<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      const v = await fn();
      this.ok();
      return v;
    } catch (err) {
      this.failed(err, what);
      throw new MamoriError(
        "MAMORI_STORE_UNAVAILABLE",
        `the store refused the write (${what}); nothing was changed`,
      );
    }
  }

  /** Runs a write the decision path makes; on failure it is logged and counted, and false returned. */
  async try(what: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      this.ok();
      return true;
    } catch (err) {
      this.failed(err, what);
      return false;
    }
  }

  /** The same for a write already started (the call path: no closure per decision). */
  async settle(what: string, write: Promise<unknown>): Promise<boolean> {
    try {
      await write;
      if (this.degradedSince !== null) this.ok();
      return true;
    } catch (err) {
      this.failed(err, what);
      return false;
    }
  }
}
