import { MinHeap } from "../core/heap.js";

/**
 * A discrete-event simulation for the shield's tests: a clock of scheduled callbacks, and a backend
 * with a fixed number of workers and a service time, queueing what it cannot serve at once (as an app
 * server with a fixed thread pool does). Everything runs in event time, in milliseconds.
 */
export class Sim {
  now = 0;
  private readonly heap = new MinHeap<() => void>();
  private seq = 0;

  at(t: number, f: () => void): void {
    // A tiny, growing offset keeps callbacks at the same time in the order they were scheduled.
    this.heap.push(Math.max(t, this.now) + ++this.seq * 1e-9, f);
  }

  run(until: number, maxEvents = 5_000_000): void {
    for (let n = 0; n < maxEvents; n++) {
      const k = this.heap.peekKey();
      if (k === undefined || k > until) break;
      const f = this.heap.pop() as () => void;
      this.now = k;
      f();
    }
    this.now = until;
  }
}

export class SimBackend {
  busy = 0;
  served = 0;
  private readonly waiting: (() => void)[] = [];
  private head = 0;

  constructor(
    private readonly sim: Sim,
    public workers: number,
    public serviceMs: number,
  ) {}

  /** Serves one request; `done` is called when it is finished. */
  submit(done: () => void): void {
    if (this.busy < this.workers) this.start(done);
    else this.waiting.push(done);
  }

  get queued(): number {
    return this.waiting.length - this.head;
  }

  private start(done: () => void): void {
    this.busy++;
    this.sim.at(this.sim.now + this.serviceMs, () => {
      this.busy--;
      this.served++;
      // Those already waiting go first, before anything `done` submits.
      while (this.busy < this.workers && this.head < this.waiting.length) {
        const next = this.waiting[this.head++] as () => void;
        this.start(next);
      }
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      done();
    });
  }
}
