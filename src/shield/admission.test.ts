import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Admission, type AdmissionOptions } from "./admission.js";
import { defaultShieldSettings } from "./settings.js";
import { CLIENT_CLASSES, type ClientClass } from "./types.js";

const d = defaultShieldSettings;
const options: AdmissionOptions = { reserved: d.reserved, maxShare: d.maxShare, queues: d.queues };

function fill(a: Admission, cls: ClientClass, n: number): number[] {
  const tickets: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = a.tryAdmit(0, cls);
    if (r.type === "forward") tickets.push(r.ticket);
  }
  return tickets;
}

describe("admission with partitions", () => {
  it("keeps the transactions' reservation even when a flood holds every slot", () => {
    const a = new Admission(options, 10);
    assert.equal(fill(a, "anonymous", 50).length, 10);
    assert.equal(a.queuedOf("anonymous"), 40);
    // 30% of 10 is reserved for transactions: three start at once over the limit, the fourth waits.
    for (let i = 0; i < 3; i++) assert.equal(a.tryAdmit(0, "transaction").type, "forward");
    assert.equal(a.tryAdmit(0, "transaction").type, "queue");
    // Customers have their own 40%.
    for (let i = 0; i < 4; i++) assert.equal(a.tryAdmit(0, "customer").type, "forward");
    assert.equal(a.tryAdmit(0, "customer").type, "queue");
    assert.equal(a.inflight, 17);
    // Nothing more starts until the total is under the limit again; then the transaction goes first.
    for (let i = 0; i < 7; i++) a.release("anonymous");
    assert.deepEqual(a.drain(1), []);
    a.release("anonymous");
    assert.deepEqual(
      a.drain(1).map((s) => s.cls),
      ["transaction"],
    );
    a.release("anonymous");
    assert.deepEqual(
      a.drain(1).map((s) => s.cls),
      ["customer"],
    );
    a.release("anonymous");
    assert.deepEqual(
      a.drain(1).map((s) => s.cls),
      ["anonymous"],
    );
  });

  it("lends idle reservations: alone, anonymous traffic may use the whole limit", () => {
    const a = new Admission(options, 20);
    assert.equal(fill(a, "anonymous", 20).length, 20);
    assert.equal(a.tryAdmit(0, "anonymous").type, "queue");
  });

  it("lets unknown traffic fill the backend only to its knee, and customers up to the limit", () => {
    const a = new Admission(options, 20);
    a.setLimit(20, 6);
    assert.equal(a.knee, 6);
    assert.equal(fill(a, "anonymous", 30).length, 6);
    assert.equal(a.tryAdmit(0, "suspicious").type, "shed");
    // Customers arriving after the flood still start at once, past the knee and up to the limit.
    assert.equal(fill(a, "customer", 14).length, 14);
    assert.equal(a.tryAdmit(0, "customer").type, "queue");
    // Freed slots go to customers first, and to nobody unknown while the total is at the knee or over.
    a.release("anonymous");
    assert.deepEqual(
      a.drain(1).map((s) => s.cls),
      ["customer"],
    );
    for (let i = 0; i < 14; i++) a.release("customer");
    assert.deepEqual(a.drain(1), []);
    a.release("customer");
    assert.deepEqual(
      a.drain(1).map((s) => s.cls),
      ["anonymous"],
    );
  });

  it("caps anonymous traffic under attack and sheds suspicious traffic outright", () => {
    const a = new Admission(options, 20);
    a.setAttack(true);
    assert.equal(fill(a, "anonymous", 20).length, 6);
    assert.deepEqual(a.tryAdmit(0, "suspicious"), { type: "shed", reason: "capacity" });
  });

  it("sheds at the queue's length and expires at its deadline", () => {
    const a = new Admission(
      { ...options, queues: { ...options.queues, anonymous: { length: 2, timeoutMs: 500 } } },
      1,
    );
    assert.equal(a.tryAdmit(0, "anonymous").type, "forward");
    assert.equal(a.tryAdmit(0, "anonymous").type, "queue");
    assert.equal(a.tryAdmit(100, "anonymous").type, "queue");
    assert.deepEqual(a.tryAdmit(200, "anonymous"), { type: "shed", reason: "queue-full" });
    const expired: { ticket: number; cls: ClientClass }[] = [];
    assert.deepEqual(a.drain(550, expired), []);
    assert.equal(expired.length, 1);
    a.release("anonymous");
    assert.equal(a.drain(560, expired).length, 1);
  });

  it("skips requests cancelled while waiting", () => {
    const a = new Admission(options, 1);
    fill(a, "customer", 1);
    const q = a.tryAdmit(0, "customer");
    assert.equal(q.type, "queue");
    if (q.type === "queue") assert.equal(a.cancel("customer", q.ticket), true);
    assert.equal(a.queuedOf("customer"), 0);
    a.release("customer");
    assert.deepEqual(a.drain(1), []);
  });

  it("starts a request only under the limit (or knee) or inside its class's reservation, and bounds every queue", () => {
    const op = fc.oneof(
      fc.record({ type: fc.constant("admit" as const), cls: fc.constantFrom(...CLIENT_CLASSES) }),
      fc.record({ type: fc.constant("release" as const), pick: fc.nat() }),
      fc.record({
        type: fc.constant("limit" as const),
        limit: fc.integer({ min: 1, max: 40 }),
        knee: fc.integer({ min: 1, max: 40 }),
      }),
      fc.record({ type: fc.constant("attack" as const), on: fc.boolean() }),
      fc.record({ type: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 3000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const a = new Admission(options, 10);
        const running: ClientClass[] = [];
        let at = 0;
        for (const o of ops) {
          if (o.type === "admit") {
            const total = a.inflight;
            const mine = a.inflightOf(o.cls);
            const L = a.limit;
            const lower = o.cls === "anonymous" || o.cls === "suspicious";
            const ceiling = lower ? a.knee : L;
            const share = d.reserved[o.cls];
            const reserved = share > 0 ? Math.max(1, Math.floor(share * L)) : 0;
            const r = a.tryAdmit(at, o.cls);
            if (r.type === "forward") {
              running.push(o.cls);
              // A start is either under the limit (the knee for unknown clients) or inside the class's
              // own reservation.
              assert.ok(
                total < ceiling || mine < reserved,
                `${o.cls}: ${total}/${ceiling}, own ${mine}/${reserved}`,
              );
            }
          } else if (o.type === "release" && running.length > 0) {
            const [cls] = running.splice(o.pick % running.length, 1);
            a.release(cls as ClientClass);
          } else if (o.type === "limit") a.setLimit(o.limit, o.knee);
          else if (o.type === "attack") a.setAttack(o.on);
          else if (o.type === "wait") at += o.ms;
          for (const s of a.drain(at)) running.push(s.cls);
          assert.equal(a.inflight, running.length);
          for (const c of CLIENT_CLASSES) {
            assert.ok(a.queuedOf(c) <= d.queues[c].length);
            assert.ok(a.inflightOf(c) >= 0);
          }
        }
      }),
    );
  });
});
