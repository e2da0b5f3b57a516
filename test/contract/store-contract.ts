import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Store } from "../../src/adapters/store/store.js";
import type { Block, Verdict } from "../../src/calls/verdict.js";

/**
 * The contract every Store adapter must pass: SQLite today, PostgreSQL when Mamori scales out. Each
 * test gets a fresh, empty store from the factory; `reopen` (when given) closes it and opens the same
 * data again, to prove that what matters survives a restart.
 */
export type StoreFactory = {
  create(): Promise<Store>;
  reopen?(s: Store): Promise<Store>;
};

const verdict = (over: Partial<Verdict> = {}): Verdict => ({
  callId: "c-1",
  account: "acme",
  at: 1_700_000_000_000,
  decision: "allow",
  reasons: [],
  reportOnly: [],
  findings: [],
  number: {
    input: "+23276123456",
    e164: "23276123456",
    international: true,
    country: "SL",
    countryCallingCode: "232",
    type: "MOBILE",
    valid: true,
    risk: undefined,
    rate: undefined,
  },
  estimatedCost: 360,
  block: undefined,
  alerts: [],
  learnedCountry: undefined,
  repeat: false,
  ...over,
});

const block = (over: Partial<Block> = {}): Block => ({
  id: "blk-1",
  account: "acme",
  scope: "international",
  createdAt: 1_700_000_000_000,
  until: 1_700_000_000_000 + 3_600_000,
  rule: "cost-velocity",
  reason: "estimated spend 4000 in 5 minutes",
  evidence: { spend: 4000 },
  createdBy: "engine",
  ...over,
});

export function storeContract(name: string, f: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    test("accounts: create, replace, list, delete, each with an audit entry", async () => {
      const s = await f.create();
      assert.equal(await s.putAccount({ id: "acme", country: "JP" }, "key_a", 1), "created");
      assert.equal(
        await s.putAccount({ id: "acme", country: "JP", international: { mode: "off" } }, "key_a", 2),
        "updated",
      );
      assert.deepEqual(await s.getAccount("acme"), {
        id: "acme",
        country: "JP",
        international: { mode: "off" },
      });
      assert.equal((await s.listAccounts()).length, 1);
      assert.equal(await s.deleteAccount("acme", "key_a", 3), true);
      assert.equal(await s.deleteAccount("acme", "key_a", 4), false);
      assert.equal(await s.getAccount("acme"), undefined);
      const audit = await s.listAudit({});
      assert.deepEqual(
        audit.map((e) => e.action),
        ["account.delete", "account.update", "account.create"],
      );
      assert.ok(audit.every((e) => e.actor === "key_a"));
      await s.close();
    });

    test("a decision is stored with its alerts, block and learned country in one go", async () => {
      const s = await f.create();
      await s.recordVerdict(
        verdict({
          decision: "deny",
          reasons: [{ rule: "cost-velocity", message: "too fast" }],
          block: block(),
          learnedCountry: "SL",
          alerts: [
            {
              at: 1_700_000_000_000,
              rule: "cost-velocity",
              severity: "critical",
              account: "acme",
              callId: "c-1",
              decision: "block",
              message: "too fast",
              evidence: { spend: 4000 },
            },
          ],
        }),
      );
      const [call] = await s.listCalls({ account: "acme" });
      assert.equal(call?.decision, "deny");
      assert.deepEqual(call?.reasons, [{ rule: "cost-velocity", message: "too fast" }]);
      const [alert] = await s.listAlerts({ account: "acme" });
      assert.equal(alert?.rule, "cost-velocity");
      assert.deepEqual(alert?.evidence, { spend: 4000 });
      assert.equal(alert?.guard, "calls");
      assert.equal((await s.listBlocks({ activeAt: 1_700_000_000_001 })).length, 1);
      assert.deepEqual(await s.seenCountries(), [
        { account: "acme", country: "SL", firstAt: 1_700_000_000_000 },
      ]);
      assert.equal((await s.listAudit({ subject: "acme" }))[0]?.action, "block.create");
      await s.close();
    });

    test("call history counts an account's calls per bucket and country, billed cost once known", async () => {
      const s = await f.create();
      const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000);
      await s.recordVerdict(verdict({ callId: "a", at: t0 + 1000 }));
      await s.recordVerdict(verdict({ callId: "b", at: t0 + 2000 }));
      await s.recordVerdict(
        verdict({ callId: "c", at: t0 + 3000, decision: "deny", reasons: [{ rule: "x", message: "y" }] }),
      );
      await s.recordVerdict(verdict({ callId: "d", at: t0 + 3_600_000 + 5 }));
      await s.recordVerdict(verdict({ callId: "other", account: "zeta", at: t0 + 1000 }));
      await s.recordHangup("a", t0 + 60_000, 30, 90);
      const rows = await s.callHistory("acme", t0, 3_600_000);
      assert.deepEqual(rows, [
        { at: t0, country: "SL", international: true, allowed: 2, denied: 1, cost: 90 + 360 },
        { at: t0 + 3_600_000, country: "SL", international: true, allowed: 1, denied: 0, cost: 360 },
      ]);
      assert.deepEqual(await s.callHistory("acme", t0 + 3_600_000, 3_600_000), [rows[1]]);
      await s.close();
    });

    test("call lifecycle: open calls are those allowed and not ended; answer and hang-up are idempotent", async () => {
      const s = await f.create();
      await s.recordVerdict(verdict({ callId: "open" }));
      await s.recordVerdict(verdict({ callId: "done" }));
      await s.recordVerdict(
        verdict({ callId: "denied", decision: "deny", reasons: [{ rule: "x", message: "y" }] }),
      );
      await s.recordAnswer("done", 1_700_000_005_000);
      await s.recordHangup("done", 1_700_000_035_000, 30, 90);
      await s.recordHangup("done", 1_700_000_099_000, 94, 999);
      const open = await s.openCalls(0);
      assert.deepEqual(
        open.map((c) => c.callId),
        ["open"],
      );
      const done = (await s.listCalls({})).find((c) => c.callId === "done");
      assert.equal(done?.billsec, 30);
      assert.equal(done?.cost, 90);
      await s.close();
    });

    test("blocks: listed while in force, lifted once with who and why", async () => {
      const s = await f.create();
      await s.insertBlock(block({ id: "b1" }));
      await s.insertBlock(block({ id: "b2", until: null, createdBy: "key_op" }));
      await s.insertBlock(block({ id: "old", until: 1_700_000_000_000 + 1000 }));
      const at = 1_700_000_000_000 + 60_000;
      assert.deepEqual((await s.listBlocks({ activeAt: at })).map((b) => b.id).sort(), ["b1", "b2"]);
      assert.equal(await s.liftBlock("b2", "key_op", "customer confirmed the calls", at), true);
      assert.equal(await s.liftBlock("b2", "key_op", "again", at), false);
      const b2 = await s.getBlock("b2");
      assert.equal(b2?.liftedBy, "key_op");
      assert.equal(b2?.liftReason, "customer confirmed the calls");
      assert.deepEqual(
        (await s.listBlocks({ activeAt: at })).map((b) => b.id),
        ["b1"],
      );
      assert.equal((await s.listAudit({ actor: "key_op" }))[0]?.action, "block.lift");
      await s.close();
    });

    test("keys: stored by hash, found by hash, revoked", async () => {
      const s = await f.create();
      await s.insertKey({
        id: "key_1",
        name: "kamailio",
        role: "switch",
        hash: "ab".repeat(32),
        createdAt: 1,
        revokedAt: null,
      });
      assert.equal((await s.keyByHash("ab".repeat(32)))?.role, "switch");
      assert.equal(await s.keyByHash("cd".repeat(32)), undefined);
      assert.equal(await s.revokeKey("key_1", 2), true);
      assert.equal(await s.revokeKey("key_1", 3), false);
      assert.equal((await s.keyByHash("ab".repeat(32)))?.revokedAt, 2);
      await s.close();
    });

    test("webhook outbox: due deliveries, retry later, delivered ones leave the queue", async () => {
      const s = await f.create();
      await s.enqueueDeliveries(
        [
          { target: "http://127.0.0.1:1/a", body: "{}" },
          { target: "http://127.0.0.1:1/b", body: "{}" },
        ],
        100,
      );
      const due = await s.dueDeliveries(100, 10);
      assert.equal(due.length, 2);
      await s.markDelivered(due[0]?.id ?? -1);
      await s.markRetry(due[1]?.id ?? -1, 200, "connection refused");
      assert.equal((await s.dueDeliveries(150, 10)).length, 0);
      assert.equal((await s.dueDeliveries(200, 10))[0]?.attempts, 1);
      await s.markRetry(due[1]?.id ?? -1, null, "gave up");
      assert.equal((await s.dueDeliveries(10_000, 10)).length, 0);
      await s.close();
    });

    test("what matters survives a restart: accounts, blocks, open calls, history, pending deliveries", async (t) => {
      if (!f.reopen) return t.skip("this store has no reopen");
      let s = await f.create();
      await s.putAccount({ id: "acme" }, "key_a", 1);
      await s.insertBlock(block({ id: "keep", until: null }));
      await s.recordVerdict(verdict({ callId: "up", learnedCountry: "SL" }));
      await s.enqueueDeliveries([{ target: "http://127.0.0.1:1/a", body: "{}" }], 5);
      s = await f.reopen(s);
      assert.equal((await s.listAccounts()).length, 1);
      assert.equal((await s.listBlocks({ activeAt: Date.now() }))[0]?.id, "keep");
      assert.equal((await s.openCalls(0))[0]?.callId, "up");
      assert.equal((await s.seenCountries()).length, 1);
      assert.equal((await s.dueDeliveries(10, 10)).length, 1);
      await s.close();
    });

    test("bans: stored with an audit entry, listed while in force, lifted once, offences counted per address", async () => {
      const s = await f.create();
      const base = {
        guard: "pbx" as const,
        rule: "password-guessing",
        reason: "12 failed logins in 10 minutes",
        severity: "critical" as const,
        evidence: { failures: 12 },
        createdBy: "engine",
      };
      await s.insertBan({
        ...base,
        id: "ban-1",
        address: "203.0.113.5",
        createdAt: 1000,
        until: 601_000,
        offence: 1,
      });
      await s.insertBan({
        ...base,
        id: "ban-2",
        address: "203.0.113.5",
        createdAt: 700_000,
        until: 4_300_000,
        offence: 2,
      });
      await s.insertBan({
        ...base,
        id: "ban-3",
        address: "2001:db8::7",
        createdAt: 700_000,
        until: null,
        offence: 1,
      });
      assert.deepEqual((await s.listBans({ activeAt: 800_000 })).map((b) => b.id).sort(), ["ban-2", "ban-3"]);
      assert.deepEqual(
        (await s.listBans({ address: "203.0.113.5" })).map((b) => b.id),
        ["ban-2", "ban-1"],
      );
      const offences = (await s.banOffences(0)).sort((a, b) => a.address.localeCompare(b.address));
      assert.deepEqual(offences, [
        { address: "2001:db8::7", count: 1, lastAt: 700_000 },
        { address: "203.0.113.5", count: 2, lastAt: 700_000 },
      ]);
      assert.equal(await s.liftBan("ban-3", "key_op", "our own SBC", 900_000), true);
      assert.equal(await s.liftBan("ban-3", "key_op", "again", 900_001), false);
      assert.equal((await s.getBan("ban-3"))?.liftedBy, "key_op");
      const audit = await s.listAudit({ subject: "2001:db8::7" });
      assert.deepEqual(
        audit.map((e) => e.action),
        ["ban.lift", "ban.create"],
      );
      await s.close();
    });

    test("learned places and account flags", async () => {
      const s = await f.create();
      await s.addLearnedPlaces([
        { account: "100", kind: "network", value: "198.51.100.0/24", firstAt: 5 },
        { account: "100", kind: "network", value: "198.51.100.0/24", firstAt: 9 },
        { account: "100", kind: "country", value: "JP", firstAt: 5 },
      ]);
      assert.equal((await s.learnedPlaces()).length, 2);
      await s.insertAccountFlags([
        {
          at: 10,
          account: "100",
          type: "suspicious-login",
          rule: "suspicious-login",
          severity: "warning",
          reason: "r",
          evidence: { n: 1 },
        },
      ]);
      const [flag] = await s.listAccountFlags({ account: "100" });
      assert.equal(flag?.type, "suspicious-login");
      assert.deepEqual(flag?.evidence, { n: 1 });
      await s.close();
    });

    test("flow guard: attacks upserted, mitigations stored, renewed, withdrawn once and kept across a restart", async (t) => {
      let s = await f.create();
      await s.upsertAttack({
        id: "atk-1",
        victim: "192.0.2.10",
        kind: "udp-flood",
        startedAt: 100,
        updatedAt: 100,
        endedAt: null,
        doc: { peak: 1 },
      });
      await s.upsertAttack({
        id: "atk-1",
        victim: "192.0.2.10",
        kind: "amplification",
        startedAt: 100,
        updatedAt: 200,
        endedAt: null,
        doc: { peak: 9 },
      });
      const [a] = await s.listAttacks({ active: true });
      assert.equal(a?.kind, "amplification");
      assert.deepEqual(a?.doc, { peak: 9 });
      const m = {
        id: "bh-1",
        attackId: "atk-1",
        type: "blackhole",
        createdAt: 150,
        expiresAt: 1000,
        doc: { prefix: "192.0.2.10/32" },
      };
      await s.upsertMitigation(m, "engine");
      await s.upsertMitigation({ ...m, expiresAt: 2000 }, "engine");
      assert.equal((await s.listMitigations({ activeAt: 1500 }))[0]?.expiresAt, 2000);
      if (f.reopen) s = await f.reopen(s);
      else t.diagnostic("no reopen");
      assert.equal((await s.listMitigations({ activeAt: 1500 })).length, 1);
      assert.equal(await s.withdrawMitigation("bh-1", "key_op", "attack over", 1600), true);
      assert.equal(await s.withdrawMitigation("bh-1", "key_op", "again", 1601), false);
      assert.equal((await s.listMitigations({ activeAt: 1700 })).length, 0);
      assert.deepEqual(
        (await s.listAudit({ subject: "bh-1" })).map((e) => e.action),
        ["mitigation.withdraw", "mitigation.create"],
      );
      await s.close();
    });

    test("calls by account: newest first, filtered, across thousands of decisions, a prune and a restart", async () => {
      let s = await f.create();
      const t0 = 1_700_000_000_000;
      const logged: Promise<void>[] = [];
      for (let i = 0; i < 2500; i++)
        logged.push(
          s.recordVerdict(
            verdict({
              callId: `k-${i}`,
              account: `acct-${i % 7}`,
              at: t0 + i * 1000,
              ...(i % 5 === 0 ? { decision: "deny" as const, reasons: [{ rule: "x", message: "y" }] } : {}),
            }),
          ),
        );
      await Promise.all(logged);
      const three = await s.listCalls({ account: "acct-3", limit: 1000 });
      assert.equal(three.length, Math.ceil((2500 - 3) / 7));
      assert.ok(three.every((c) => c.account === "acct-3"));
      assert.deepEqual(
        three.map((c) => c.at),
        [...three.map((c) => c.at)].sort((a, b) => b - a),
      );
      const denied = await s.listCalls({ account: "acct-0", decision: "deny", limit: 1000 });
      assert.equal(denied.length, Math.ceil(2500 / 35));
      const window = await s.listCalls({ account: "acct-1", since: t0 + 700_000, before: t0 + 1_400_000 });
      assert.deepEqual(
        window.map((c) => c.callId),
        Array.from({ length: 100 }, (_, k) => 1394 - k * 7)
          .filter((i) => i >= 700)
          .map((i) => `k-${i}`),
      );
      // The same call logged again (a retry after a restart) is listed once, as it is now.
      await s.recordVerdict(verdict({ callId: "k-3", account: "acct-3", at: t0 + 9_000_000 }));
      const again = await s.listCalls({ account: "acct-3", limit: 1000 });
      assert.equal(again.filter((c) => c.callId === "k-3").length, 1);
      assert.equal(again[0]?.callId, "k-3");
      // Denied calls are pruned, the newest row among them (SQLite hands its rowid to the next row):
      // a call logged after the prune is listed, also after a restart.
      await s.recordVerdict(
        verdict({
          callId: "last-denied",
          account: "acct-9",
          at: t0 + 9_500_000,
          decision: "deny",
          reasons: [{ rule: "x", message: "y" }],
        }),
      );
      assert.equal((await s.listCalls({ account: "acct-9" })).length, 1);
      assert.equal(await s.pruneCalls(t0 + 10_000_000), Math.ceil(2500 / 5) + 1);
      await s.recordVerdict(verdict({ callId: "after-prune", account: "acct-9", at: t0 + 20_000_000 }));
      if (f.reopen) s = await f.reopen(s);
      assert.deepEqual(
        (await s.listCalls({ account: "acct-9" })).map((c) => c.callId),
        ["after-prune"],
      );
      assert.equal((await s.listCalls({ account: "acct-0", decision: "deny" })).length, 0);
      await s.close();
    });

    test("the decision log is pruned by age, keeping calls still up", async () => {
      const s = await f.create();
      await s.recordVerdict(verdict({ callId: "old-ended", at: 1000 }));
      await s.recordHangup("old-ended", 2000, 1, 1);
      await s.recordVerdict(verdict({ callId: "old-open", at: 1000 }));
      await s.recordVerdict(verdict({ callId: "new", at: 10_000 }));
      assert.equal(await s.pruneCalls(5000), 1);
      assert.deepEqual((await s.listCalls({})).map((c) => c.callId).sort(), ["new", "old-open"]);
      await s.close();
    });
  });
}
