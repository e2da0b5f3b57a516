import type { Logger } from "pino";
import type { WebhookConfig } from "../../../config/schema.js";
import type { Store } from "../../store/store.js";

/**
 * Webhook alerts: JSON POSTs to the operator's targets. Deliveries go through an outbox in the store, so
 * an alert survives a restart and a target that is down; a dispatcher retries with exponential backoff.
 * Nothing here ever runs on the decision path: enqueueing is one insert, sending happens on a timer.
 */
export type WebhookEvent = {
  readonly event:
    | "alert"
    | "block"
    | "terminate"
    | "block.lift"
    | "ban"
    | "ban.lift"
    | "attack"
    | "mitigation";
  readonly at: string;
  readonly [k: string]: unknown;
};

export type WebhookStats = { delivered: number; retried: number; failed: number; queuedInMemory: number };

const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 10 * 60_000;

export class WebhookDispatcher {
  readonly stats: WebhookStats = { delivered: 0, retried: 0, failed: 0, queuedInMemory: 0 };
  /** Deliveries that could not even be written to the store (store down): kept here and sent from memory. */
  private readonly fallback: { target: string; body: string; attempts: number; nextAt: number }[] = [];
  private readonly byUrl: Map<string, WebhookConfig>;
  private running = false;

  constructor(
    private readonly targets: readonly WebhookConfig[],
    private readonly store: Store,
    private readonly log: Logger,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.byUrl = new Map(targets.map((t) => [t.url, t]));
  }

  get enabled(): boolean {
    return this.targets.length > 0;
  }

  private readonly listeners = new Set<(e: WebhookEvent) => void>();

  /** Live listeners (the API's event stream) get every event as it happens; returns the unsubscribe. */
  subscribe(fn: (e: WebhookEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Queues an event for every target that wants it, and hands it to live listeners. Never throws. */
  async enqueue(events: readonly WebhookEvent[], now: number): Promise<void> {
    for (const e of events)
      for (const fn of this.listeners) {
        try {
          fn(e);
        } catch (err) {
          this.log.warn({ err }, "event listener failed");
        }
      }
    if (this.targets.length === 0 || events.length === 0) return;
    const items: { target: string; body: string }[] = [];
    for (const e of events) {
      const body = JSON.stringify(e);
      for (const t of this.targets)
        if (!t.events || t.events.includes(e.event)) items.push({ target: t.url, body });
    }
    try {
      await this.store.enqueueDeliveries(items, now);
    } catch (err) {
      this.log.warn({ err }, "webhook outbox not writable; keeping deliveries in memory");
      for (const i of items) this.fallback.push({ ...i, attempts: 0, nextAt: now });
      this.stats.queuedInMemory = this.fallback.length;
    }
  }

  /** Sends what is due. Called on a timer; overlapping calls are skipped. */
  async dispatch(now: number): Promise<void> {
    if (this.running || this.targets.length === 0) return;
    this.running = true;
    try {
      let due: Awaited<ReturnType<Store["dueDeliveries"]>> = [];
      try {
        due = await this.store.dueDeliveries(now, 50);
      } catch {
        due = [];
      }
      await Promise.all(
        due.map(async (d) => {
          const error = await this.send(d.target, d.body);
          try {
            if (error === undefined) await this.store.markDelivered(d.id);
            else await this.store.markRetry(d.id, this.nextAt(d.target, d.attempts + 1, now), error);
          } catch (err) {
            this.log.warn({ err }, "cannot record webhook delivery state");
          }
        }),
      );
      for (let i = this.fallback.length - 1; i >= 0; i--) {
        const f = this.fallback[i];
        if (!f || f.nextAt > now) continue;
        const error = await this.send(f.target, f.body);
        f.attempts++;
        const next = error === undefined ? null : this.nextAt(f.target, f.attempts, now);
        if (next === null) this.fallback.splice(i, 1);
        else f.nextAt = next;
      }
      this.stats.queuedInMemory = this.fallback.length;
    } finally {
      this.running = false;
    }
  }

  private nextAt(target: string, attempts: number, now: number): number | null {
    const max = this.byUrl.get(target)?.maxAttempts ?? 12;
    if (attempts >= max) {
      this.stats.failed++;
      this.log.error({ target, attempts }, "webhook delivery given up");
      return null;
    }
    this.stats.retried++;
    return now + Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempts - 1));
  }

  /** Returns undefined on success, the reason otherwise. */
  private async send(target: string, body: string): Promise<string | undefined> {
    const cfg = this.byUrl.get(target);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "mamori-webhook",
    };
    if (cfg?.token) headers.authorization = `Bearer ${cfg.token}`;
    try {
      const res = await this.fetchImpl(target, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(cfg?.timeoutMs ?? 5000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        this.stats.delivered++;
        return undefined;
      }
      return `HTTP ${res.status}`;
    } catch (err) {
      return (err as Error).message;
    }
  }
}
