import { CLASS_INDEX, CLIENT_CLASSES, type ClientClass, type Started } from "./types.js";

/**
 * Priority admission to the upstream under a concurrency limit, with capacity partitions per class.
 *
 * A class may start a request when (a) the total in flight is under the limit, no higher class is
 * waiting and the class is under its cap (`maxShare`), or (b) the class is under its reservation
 * (`reserved` × limit), even if the total is at the limit. So idle reservations are lent to anyone,
 * and a flood that has taken every free slot still cannot keep a transaction out: the backend sees at
 * most limit + the higher classes' reservations for about one service time, and the flood gets nothing
 * more until the total is back under the limit. Whatever cannot start waits in its class's short queue
 * (bounded, with a deadline); freed slots go to the highest class waiting.
 *
 * The lower classes (anonymous, suspicious) answer to a second, tighter ceiling on the total, the
 * backend's knee (see adaptive-limit.ts): past it a request waits in the backend's own queue, in front
 * of customers who arrive later, and the gateway can no longer put them first. So unknown traffic fills
 * the backend only up to where it starts to queue, at all times and from the first request of a flood;
 * the headroom between the knee and the limit is for customers and transactions.
 *
 * Queues are rings of fixed size; a ticket is a number the caller maps to its request.
 */
export type QueueSetting = { readonly length: number; readonly timeoutMs: number };
export type AdmissionOptions = {
  readonly reserved: Readonly<Record<ClientClass, number>>;
  readonly maxShare: {
    readonly normal: { readonly anonymous: number; readonly suspicious: number };
    readonly attack: { readonly anonymous: number; readonly suspicious: number };
  };
  readonly queues: Readonly<Record<ClientClass, QueueSetting>>;
};

export type AdmitResult =
  | { readonly type: "forward"; readonly ticket: number }
  | { readonly type: "queue"; readonly ticket: number; readonly deadline: number }
  | { readonly type: "shed"; readonly reason: "capacity" | "queue-full" };

/** Index of the first class bound by the knee: anonymous, then suspicious. */
const LOWER = CLASS_INDEX.anonymous;

class Ring {
  readonly tickets: Float64Array;
  readonly deadlines: Float64Array;
  head = 0;
  size = 0;
  /** Entries cancelled but not yet passed by the head. */
  holes = 0;
  constructor(readonly capacity: number) {
    this.tickets = new Float64Array(Math.max(1, capacity));
    this.deadlines = new Float64Array(Math.max(1, capacity));
  }
  get waiting(): number {
    return this.size - this.holes;
  }
  push(ticket: number, deadline: number): void {
    const i = (this.head + this.size) % this.tickets.length;
    this.tickets[i] = ticket;
    this.deadlines[i] = deadline;
    this.size++;
  }
  /** Drops cancelled entries at the head; returns whether a live one is there. */
  settle(): boolean {
    while (this.size > 0 && this.tickets[this.head] === -1) this.shift();
    return this.size > 0;
  }
  shift(): number {
    const t = this.tickets[this.head] as number;
    if (t === -1) this.holes--;
    this.head = (this.head + 1) % this.tickets.length;
    this.size--;
    return t;
  }
  cancel(ticket: number): boolean {
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) % this.tickets.length;
      if (this.tickets[i] === ticket) {
        this.tickets[i] = -1;
        this.holes++;
        return true;
      }
    }
    return false;
  }
}

export class Admission {
  private limitValue: number;
  /** Ceiling on the total for a lower class to start (never above the limit). */
  private kneeValue: number;
  private attack = false;
  private readonly inflightBy = new Int32Array(CLIENT_CLASSES.length);
  private total = 0;
  private readonly rings: Ring[];
  private nextTicket = 1;

  constructor(
    private readonly o: AdmissionOptions,
    limit: number,
  ) {
    this.limitValue = Math.max(1, Math.floor(limit));
    this.kneeValue = this.limitValue;
    this.rings = CLIENT_CLASSES.map((c) => new Ring(o.queues[c].length));
  }

  get limit(): number {
    return this.limitValue;
  }

  get inflight(): number {
    return this.total;
  }

  inflightOf(cls: ClientClass): number {
    return this.inflightBy[CLASS_INDEX[cls]] as number;
  }

  queuedOf(cls: ClientClass): number {
    return (this.rings[CLASS_INDEX[cls]] as Ring).waiting;
  }

  get knee(): number {
    return Math.min(this.kneeValue, this.limitValue);
  }

  /** `knee`: the total up to which anonymous and suspicious requests may start (the limit when left out). */
  setLimit(limit: number, knee = limit): void {
    this.limitValue = Math.max(1, Math.floor(limit));
    this.kneeValue = Math.max(1, Math.floor(knee));
  }

  setAttack(attack: boolean): void {
    this.attack = attack;
  }

  tryAdmit(at: number, cls: ClientClass): AdmitResult {
    const c = CLASS_INDEX[cls];
    const ring = this.rings[c] as Ring;
    if (ring.waiting === 0 && this.admissible(c)) {
      this.start(c);
      return { type: "forward", ticket: this.nextTicket++ };
    }
    if (ring.size >= ring.capacity)
      return { type: "shed", reason: ring.capacity === 0 ? "capacity" : "queue-full" };
    const ticket = this.nextTicket++;
    const deadline = at + this.o.queues[cls].timeoutMs;
    ring.push(ticket, deadline);
    return { type: "queue", ticket, deadline };
  }

  /** A forwarded request finished (answered, failed or abandoned). */
  release(cls: ClientClass): void {
    const c = CLASS_INDEX[cls];
    if ((this.inflightBy[c] as number) > 0) {
      this.inflightBy[c] = (this.inflightBy[c] as number) - 1;
      this.total--;
    }
  }

  /** A queued request whose client went away. */
  cancel(cls: ClientClass, ticket: number): boolean {
    return (this.rings[CLASS_INDEX[cls]] as Ring).cancel(ticket);
  }

  /**
   * Starts queued requests while there is room, highest class first, and returns them; requests past
   * their deadline are put in `expired` instead.
   */
  drain(at: number, expired: Started[] = []): Started[] {
    const started: Started[] = [];
    for (let c = 0; c < CLIENT_CLASSES.length; c++) {
      const ring = this.rings[c] as Ring;
      const cls = CLIENT_CLASSES[c] as ClientClass;
      while (ring.settle()) {
        if ((ring.deadlines[ring.head] as number) <= at) {
          expired.push({ ticket: ring.shift(), cls });
          continue;
        }
        if (!this.admissible(c, true)) break;
        this.start(c);
        started.push({ ticket: ring.shift(), cls });
      }
    }
    return started;
  }

  private start(c: number): void {
    this.inflightBy[c] = (this.inflightBy[c] as number) + 1;
    this.total++;
  }

  /** `fromQueue`: the head of the class's own queue asks, so its own queue does not count as ahead. */
  private admissible(c: number, fromQueue = false): boolean {
    const cls = CLIENT_CLASSES[c] as ClientClass;
    const L = this.limitValue;
    const mine = this.inflightBy[c] as number;
    const share = this.o.reserved[cls];
    const reserved = share > 0 ? Math.max(1, Math.floor(share * L)) : 0;
    if (mine < reserved) return true;
    if (this.total >= (c >= LOWER ? Math.min(L, this.kneeValue) : L)) return false;
    for (let h = 0; h < c; h++) if ((this.rings[h] as Ring).waiting > 0) return false;
    if (!fromQueue && (this.rings[c] as Ring).waiting > 0) return false;
    const cap = this.capOf(cls);
    return cap >= 1 || mine < Math.max(reserved, Math.floor(cap * L));
  }

  private capOf(cls: ClientClass): number {
    const m = this.attack ? this.o.maxShare.attack : this.o.maxShare.normal;
    return cls === "anonymous" ? m.anonymous : cls === "suspicious" ? m.suspicious : 1;
  }
}
