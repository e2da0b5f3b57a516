import { type ShieldSettingsInput, shieldSettingsSchema } from "./settings.js";
import { ShieldEngine } from "./shield.js";
import { Sim, SimBackend } from "./test-sim.js";
import type { BanRequest, Decision, ModeChange, RequestFacts } from "./types.js";

/**
 * The world of the shield's event-time tests: the engine in front of a simulated backend (fixed workers
 * and service time, by default 10 × 50 ms = 200 requests/s), customers running transactions as closed
 * loops, floods as open loops.
 */

export type Result = { status: number; latencyMs: number; decision: Decision["type"] };

export class World {
  readonly sim = new Sim();
  readonly backend: SimBackend;
  readonly engine: ShieldEngine;
  readonly bans: BanRequest[] = [];
  readonly modes: ModeChange[] = [];
  forwardedBy = new Map<string, number>();
  private readonly waiting = new Map<number, () => void>();
  private ids = 0;

  constructor(settings: ShieldSettingsInput, backend = { workers: 10, serviceMs: 50 }) {
    this.backend = new SimBackend(this.sim, backend.workers, backend.serviceMs);
    this.engine = new ShieldEngine(shieldSettingsSchema.parse(settings), {
      secrets: ["s".repeat(40)],
      newId: () => `id${++this.ids}`,
    });
    const tick = () => {
      this.apply(this.engine.tick(this.sim.now));
      this.sim.at(this.sim.now + 100, tick);
    };
    this.sim.at(0, tick);
  }

  /** Sends a request; `done` gets the status and, for forwarded ones, the gateway's cookies. */
  send(facts: RequestFacts, kind: string, done: (r: Result, cookies: string[]) => void): void {
    const at = this.sim.now;
    const d = this.engine.decide(at, facts);
    this.drainEvents();
    if (d.type === "invalid" || d.type === "shed" || d.type === "challenge") {
      const status = d.type === "invalid" ? 400 : d.type === "shed" ? d.status : 403;
      done({ status, latencyMs: 0, decision: d.type }, d.type === "challenge" ? [d.nonce] : []);
      return;
    }
    const go = () => {
      const sent = this.sim.now;
      this.forwardedBy.set(kind, (this.forwardedBy.get(kind) ?? 0) + 1);
      this.backend.submit(() => {
        const mark = facts.path === "/login" ? `cust-${facts.peer}` : undefined;
        const h = this.engine.answerHeaders(this.sim.now, d.ctx, 200, mark);
        this.apply(this.engine.complete(this.sim.now, d.ticket, this.sim.now - sent, "ok"));
        done({ status: 200, latencyMs: this.sim.now - at, decision: d.type }, h.setCookie);
      });
    };
    if (d.type === "forward") go();
    else this.waiting.set(d.ticket, go);
  }

  private apply(r: { started: { ticket: number }[]; expired: { ticket: number }[] }): void {
    for (const s of r.started) {
      const go = this.waiting.get(s.ticket);
      this.waiting.delete(s.ticket);
      go?.();
    }
    for (const e of r.expired) this.waiting.delete(e.ticket);
    this.drainEvents();
  }

  private drainEvents(): void {
    for (const e of this.engine.drainEvents()) {
      if (e.type === "ban") this.bans.push(e.ban);
      if (e.type === "mode-change") this.modes.push(e.change);
    }
  }
}

/** A fixed-seed generator, so every run sees the same arrivals. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    return x / 2 ** 32;
  };
}
export const random = lcg(42);

export const cookieValue = (cookies: string[], name: string) =>
  cookies.map((c) => new RegExp(`^${name}=([^;]*)`).exec(c)?.[1]).find((v) => v !== undefined && v !== "");

export const facts = (
  peer: string,
  method: string,
  path: string,
  extra: Partial<RequestFacts> = {},
): RequestFacts => ({
  peer,
  forwarded: undefined,
  method,
  path,
  customerToken: undefined,
  transactionToken: undefined,
  pass: undefined,
  ...extra,
});

/**
 * A logged-in customer: every `everyMs`, a transaction of four steps (account, cart, checkout, payment);
 * a shed step is retried after its Retry-After, three times at most. Counts transactions begun and done.
 */
export function customer(
  w: World,
  peer: string,
  token: string,
  startMs: number,
  everyMs: number,
  untilMs: number,
  tally: Tally,
) {
  const steps = [
    ["GET", "/account"],
    ["POST", "/cart"],
    ["POST", "/checkout"],
    ["POST", "/payments/complete"],
  ] as const;
  const run = () => {
    if (w.sim.now >= untilMs) return;
    tally.begun++;
    const began = w.sim.now;
    let txn: string | undefined;
    const step = (i: number, tries: number) => {
      const [method, path] = steps[i] as (typeof steps)[number];
      w.send(
        facts(peer, method, path, { customerToken: token, transactionToken: txn }),
        "customer",
        (r, cookies) => {
          if (r.status === 200) {
            txn = cookieValue(cookies, "mamori_t") ?? txn;
            if (i + 1 < steps.length) return step(i + 1, 0);
            tally.done++;
            tally.latencies.push(w.sim.now - began);
            tally.began.push(began);
            return;
          }
          tally.shedSteps++;
          if (tries < 3) w.sim.at(w.sim.now + 1000, () => step(i, tries + 1));
        },
      );
    };
    step(0, 0);
    w.sim.at(w.sim.now + everyMs, run);
  };
  w.sim.at(startMs, run);
}

/** `began[i]` is when the transaction of `latencies[i]` began. */
export type Tally = {
  begun: number;
  done: number;
  shedSteps: number;
  latencies: number[];
  began: number[];
};
export const tally = (): Tally => ({ begun: 0, done: 0, shedSteps: 0, latencies: [], began: [] });

/** Customer session cookies as the gateway issues them after a login the backend marked. */
export function login(w: World, peers: string[], spreadMs = 0): Map<string, string> {
  const tokens = new Map<string, string>();
  peers.forEach((p, i) => {
    w.sim.at(w.sim.now + (spreadMs * i) / peers.length, () =>
      w.send(facts(p, "POST", "/login"), "login", (_r, cookies) => {
        const t = cookieValue(cookies, "mamori_c");
        if (t) tokens.set(p, t);
      }),
    );
  });
  return tokens;
}

/**
 * An open-loop flood: `rps` requests/s from `address(i)`, none keeping cookies or running scripts;
 * `extra` is what every request carries (a forged cookie, say).
 */
export function flood(
  w: World,
  rps: number,
  fromMs: number,
  toMs: number,
  address: (i: number) => string,
  path = "/login",
  extra: Partial<RequestFacts> = {},
) {
  let i = 0;
  const step = 1000 / rps;
  for (let t = fromMs; t < toMs; t += step) {
    const n = i++;
    w.sim.at(t, () => w.send(facts(address(n), "POST", path, extra), "flood", () => {}));
  }
}

export const quiet = { attack: { minRps: 1e6 }, bans: { mode: "off" } } as const;
/** Bot n in a network of its own, as a botnet spread over the Internet is. */
export const botnet = (n: number) => `10.${(n >> 8) & 255}.${n & 255}.${1 + ((n >> 16) & 127)}`;
export const customerPeer = (i: number) => `198.51.${i & 255}.${1 + (i >> 8)}`;
