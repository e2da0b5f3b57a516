import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  type PbxGuardKamailio,
  pbxGuardKamailioMissing,
  sipAnswers,
  startPbxGuardKamailio,
} from "../../../../test/support/pbx-guard-kamailio.js";
import { artifactsDir, freePort } from "../../../../test/support/peers.js";
import { KamailioError } from "./errors.js";
import { KamailioHtableBans, MAX_EXPIRE_S, parseDump } from "./htable-bans.js";
import { KamailioRpc, type RpcCaller, type RpcParam } from "./rpc.js";

/** An RPC caller that records calls and answers from a script. */
function fakeRpc(answer: (method: string, params: readonly RpcParam[]) => unknown = () => "Ok.") {
  const calls: { method: string; params: readonly RpcParam[] }[] = [];
  const rpc: RpcCaller = {
    async call(method, params = []) {
      calls.push({ method, params });
      const a = answer(method, params);
      if (a instanceof Error) throw a;
      return a;
    },
  };
  return { calls, rpc };
}

const rpcError = (method: string, rpcCode: number, message: string) =>
  new KamailioError("rpc", `Kamailio RPC ${method} failed: ${rpcCode} ${message}`, { method, rpcCode });

/** A fetch that answers one body with one status, and keeps the requests. */
function fakeFetch(status: number, body: string) {
  const requests: { url: string; body: unknown }[] = [];
  const f = (async (url: string | URL | Request, init?: RequestInit) => {
    requests.push({ url: String(url), body: JSON.parse(String(init?.body)) });
    return new Response(body, { status });
  }) as typeof fetch;
  return { requests, fetch: f };
}

describe("Kamailio JSON-RPC client", () => {
  test("posts JSON-RPC 2.0 and returns the result", async () => {
    const f = fakeFetch(200, '{"jsonrpc":"2.0","result":"kamailio 5.6.3","id":1}');
    const rpc = new KamailioRpc({ url: "http://127.0.0.1:5071/RPC", fetch: f.fetch });
    assert.equal(await rpc.call("core.version"), "kamailio 5.6.3");
    await rpc.call("dlg.end_dlg", [1234, 5678, "Reason: Q.850;cause=21\r\n"]);
    assert.deepEqual(f.requests[1], {
      url: "http://127.0.0.1:5071/RPC",
      body: {
        jsonrpc: "2.0",
        method: "dlg.end_dlg",
        params: [1234, 5678, "Reason: Q.850;cause=21\r\n"],
        id: 2,
      },
    });
  });

  test("turns each kind of failure into an error that says what to check", async () => {
    const cases: [number, string, string, RegExp][] = [
      [
        200,
        '{"jsonrpc":"2.0","error":{"code":500,"message":"No such htable"},"id":1}',
        "rpc",
        /500 No such htable/,
      ],
      [403, "forbidden\n", "http", /HTTP 403: .*only to 127\.0\.0\.0\/8/],
      [404, "POST /RPC\n", "http", /HTTP 404: the path is wrong/],
      [200, "<html>", "bad-output", /not a JSON-RPC answer/],
    ];
    for (const [status, body, code, message] of cases) {
      const rpc = new KamailioRpc({ url: "http://127.0.0.1:5071/RPC", fetch: fakeFetch(status, body).fetch });
      await assert.rejects(
        rpc.call("htable.dump", ["mamori_bans"]),
        (e: unknown) => e instanceof KamailioError && e.code === code && message.test(e.message),
        `${status} ${body}`,
      );
    }
    const withCode = new KamailioRpc({
      url: "http://127.0.0.1:5071/RPC",
      fetch: fakeFetch(200, '{"jsonrpc":"2.0","error":{"code":404,"message":"Key not found in htable."}}')
        .fetch,
    });
    await assert.rejects(withCode.call("htable.delete", ["t", "k"]), (e: unknown) => {
      return e instanceof KamailioError && e.rpcCode === 404 && e.method === "htable.delete";
    });
    assert.throws(() => new KamailioRpc({ url: "ftp://x/RPC" }), RangeError);
    assert.throws(() => new KamailioRpc({ url: "not a url" }), RangeError);
    await assert.rejects(new KamailioRpc({ url: "http://127.0.0.1:1/RPC" }).call("bad method"), RangeError);
  });

  test("says when nothing listens, and gives up on a Kamailio that does not answer", async (t) => {
    const closed = await freePort();
    const refused = new KamailioRpc({ url: `http://127.0.0.1:${closed}/RPC`, timeoutMs: 2000 });
    await assert.rejects(
      refused.call("core.version"),
      (e: unknown) =>
        e instanceof KamailioError && e.code === "unreachable" && /ECONNREFUSED/.test(e.message),
    );

    const sockets = new Set<Socket>();
    const hung = createServer((s) => {
      sockets.add(s);
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => hung.listen(0, "127.0.0.1", r));
    t.after(() => {
      for (const s of sockets) s.destroy();
      hung.close();
    });
    const address = hung.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const slow = new KamailioRpc({ url: `http://127.0.0.1:${port}/RPC`, timeoutMs: 300 });
    const started = Date.now();
    await assert.rejects(
      slow.call("core.version"),
      (e: unknown) => e instanceof KamailioError && e.code === "timeout" && /within 300 ms/.test(e.message),
    );
    assert.ok(Date.now() - started < 2000, "gave up at the time-out");
  });
});

describe("Kamailio htable bans, over a fake RPC", () => {
  test("bans with setxi and whole seconds, unbans with delete, and checks addresses first", async () => {
    const f = fakeRpc();
    const bans = new KamailioHtableBans({ rpc: f.rpc });
    assert.equal(bans.name, "kamailio");
    assert.deepEqual(await bans.ban("2001:DB8:0::5", 600_000), {
      address: "2001:db8::5",
      expireSeconds: 600,
    });
    await bans.ban("[::ffff:198.51.100.7]", 1500);
    await bans.ban("198.51.100.8", 1);
    await bans.ban("198.51.100.9", 400 * 365 * 86_400_000);
    await bans.unban("198.51.100.7");
    assert.deepEqual(f.calls, [
      { method: "htable.setxi", params: ["mamori_bans", "2001:db8::5", 1, 600] },
      { method: "htable.setxi", params: ["mamori_bans", "198.51.100.7", 1, 2] },
      { method: "htable.setxi", params: ["mamori_bans", "198.51.100.8", 1, 1] },
      { method: "htable.setxi", params: ["mamori_bans", "198.51.100.9", 1, MAX_EXPIRE_S] },
      { method: "htable.delete", params: ["mamori_bans", "198.51.100.7"] },
    ]);
    for (const bad of ["not-an-ip", "198.51.100.7[0]", "10.0.0.1; drop", ""]) {
      await assert.rejects(
        bans.ban(bad, 1000),
        (e: unknown) => e instanceof KamailioError && e.code === "invalid-address",
      );
    }
    await assert.rejects(bans.ban("198.51.100.7", 0), RangeError);
    await assert.rejects(bans.ban("198.51.100.7", Number.NaN), RangeError);
    assert.equal(f.calls.length, 5, "nothing invalid reached Kamailio");
    assert.throws(() => new KamailioHtableBans({ rpc: f.rpc, table: "bans; x" }), RangeError);
    assert.throws(() => new KamailioHtableBans({}), RangeError);
  });

  test("unbanning an address that is not banned is fine; other failures are not", async () => {
    const f = fakeRpc((method) =>
      method === "htable.delete" ? rpcError(method, 404, "Key not found in htable.") : "Ok.",
    );
    await new KamailioHtableBans({ rpc: f.rpc }).unban("198.51.100.7");
    const g = fakeRpc((method) =>
      method === "htable.delete" ? new KamailioError("timeout", "no answer", { method }) : "Ok.",
    );
    await assert.rejects(
      new KamailioHtableBans({ rpc: g.rpc }).unban("198.51.100.7"),
      (e: unknown) => e instanceof KamailioError && e.code === "timeout",
    );
  });

  test("a table Kamailio does not have is named, with the line that defines it", async () => {
    const f = fakeRpc((method) => {
      if (method === "htable.setxi") return rpcError(method, 500, "Failed to set the item");
      if (method === "htable.listTables") return [{ name: "mamori_bans", size: 1024 }];
      return rpcError(method, 500, "No such htable");
    });
    const bans = new KamailioHtableBans({ rpc: f.rpc, table: "other_bans" });
    for (const op of [
      () => bans.ban("198.51.100.7", 1000),
      () => bans.unban("198.51.100.7"),
      () => bans.list(),
    ]) {
      await assert.rejects(
        op(),
        (e: unknown) =>
          e instanceof KamailioError &&
          e.code === "no-table" &&
          /other_bans=>size=10;autoexpire=3600;/.test(e.message),
      );
    }
    // The table exists, the set failed for another reason: that reason is kept.
    const g = fakeRpc((method) =>
      method === "htable.setxi" ? rpcError(method, 500, "Failed to set the item") : [{ name: "mamori_bans" }],
    );
    await assert.rejects(
      new KamailioHtableBans({ rpc: g.rpc }).ban("198.51.100.7", 1000),
      (e: unknown) => e instanceof KamailioError && e.code === "rpc",
    );
  });

  test("reads htable.dump and refuses what is not one", () => {
    const dump = [
      { entry: 393, size: 1, slot: [{ name: "2001:db8::1", value: 1, type: "int" }] },
      {
        entry: 798,
        size: 2,
        slot: [
          { name: "127.0.0.9", value: 1, type: "int" },
          { name: "x", value: "a", type: "str" },
        ],
      },
    ];
    assert.deepEqual(parseDump(dump, "t"), ["2001:db8::1", "127.0.0.9", "x"]);
    assert.deepEqual(parseDump([], "t"), []);
    for (const bad of [{}, "Ok.", [1], [{ slot: "x" }], [{ slot: [{ value: 1 }] }]]) {
      assert.throws(
        () => parseDump(bad, "t"),
        (e: unknown) => e instanceof KamailioError && e.code === "bad-output",
      );
    }
  });

  test("reconcile adds the missing, re-times the present, removes the rest", async () => {
    const now = 1_000_000;
    const f = fakeRpc((method) =>
      method === "htable.dump"
        ? [
            { entry: 1, size: 1, slot: [{ name: "198.51.100.7", value: 1, type: "int" }] },
            {
              entry: 2,
              size: 2,
              slot: [
                { name: "198.51.100.8", value: 1, type: "int" },
                { name: "junk", value: 1, type: "int" },
              ],
            },
          ]
        : "Ok.",
    );
    const result = await new KamailioHtableBans({ rpc: f.rpc, concurrency: 2 }).reconcile(
      [
        { address: "198.51.100.7", until: now + 60_000 },
        { address: "2001:db8::9", until: now + 1_500 },
        { address: "198.51.100.8", until: now - 1 }, // over: removed
        { address: "nope", until: now + 1 },
      ],
      now,
    );
    assert.deepEqual(result, {
      added: ["2001:db8::9"],
      updated: ["198.51.100.7"],
      removed: ["198.51.100.8", "junk"],
      invalid: ["nope"],
    });
    const calls = f.calls.slice(1).map((c) => `${c.method} ${c.params.join(" ")}`);
    assert.deepEqual(calls.sort(), [
      "htable.delete mamori_bans 198.51.100.8",
      "htable.delete mamori_bans junk",
      "htable.setxi mamori_bans 198.51.100.7 1 60",
      "htable.setxi mamori_bans 2001:db8::9 1 2",
    ]);
  });
});

describe("Kamailio htable bans, with the real Kamailio on pbx-guard.cfg", () => {
  const skip = pbxGuardKamailioMissing();
  let kamailio: PbxGuardKamailio | undefined;
  let bans: KamailioHtableBans;

  before(async () => {
    if (skip) return;
    const dir = artifactsDir("kamailio-htable", `run-${Date.now()}-${process.pid}`);
    // HEP goes to a port nobody reads; this test is about the table.
    kamailio = await startPbxGuardKamailio({ dir, hepPort: await freePort(), users: [] });
    bans = new KamailioHtableBans({ rpcUrl: kamailio.rpcUrl, timeoutMs: 2000 });
  });

  after(async () => {
    await kamailio?.process.stop();
  });

  test("ban, re-ban, list, unban twice: Kamailio holds what Mamori asked", { skip }, async () => {
    assert.deepEqual(await bans.list(), []);
    await bans.ban("127.0.0.21", 600_000);
    await bans.ban("127.0.0.21", 1_200_000); // re-timed, still one entry
    await bans.ban("2001:db8::21", 60_000);
    assert.deepEqual((await bans.list()).sort(), ["127.0.0.21", "2001:db8::21"]);
    const item = (await kamailio?.rpc.call("htable.get", ["mamori_bans", "127.0.0.21"])) as {
      item: { name: string; value: number; expire: string };
    };
    assert.equal(item.item.value, 1);
    assert.match(item.item.expire, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, "the entry has an expiry");
    await bans.unban("127.0.0.21");
    await bans.unban("127.0.0.21");
    await bans.unban("2001:db8::21");
    assert.deepEqual(await bans.list(), []);
  });

  test("a banned address gets no answer from Kamailio; others do; an unban lets it back", {
    skip,
  }, async () => {
    const port = kamailio?.sipPort ?? 0;
    assert.equal(await sipAnswers("127.0.0.22", port), true, "served before the ban");
    await bans.ban("127.0.0.22", 60_000);
    assert.equal(await sipAnswers("127.0.0.22", port, 700), false, "dropped while banned");
    assert.equal(await sipAnswers("127.0.0.23", port), true, "another address is still served");
    await bans.unban("127.0.0.22");
    assert.equal(await sipAnswers("127.0.0.22", port), true, "served again after the unban");
  });

  test("a ban ends by itself at its expiry, without Mamori", { skip }, async () => {
    const port = kamailio?.sipPort ?? 0;
    await bans.ban("127.0.0.24", 1000);
    assert.equal(await sipAnswers("127.0.0.24", port, 300), false, "dropped while banned");
    // Expiry counts whole seconds; the entry itself stays in htable.dump until the module's expiry
    // timer (every 20 s by default) removes it, but lookups stop matching at once.
    const deadline = Date.now() + 5000;
    let served = false;
    while (!served && Date.now() < deadline) served = await sipAnswers("127.0.0.24", port, 300);
    assert.ok(served, "served again within a few seconds of the expiry");
  });

  test("reconcile makes the table match the store", { skip }, async () => {
    await bans.reconcile([], Date.now()); // starts from an empty table, whatever ran before
    const now = Date.now();
    await bans.ban("127.0.0.25", 60_000); // not in the store any more: removed
    await bans.ban("127.0.0.26", 60_000);
    const result = await bans.reconcile(
      [
        { address: "127.0.0.26", until: now + 120_000 },
        { address: "127.0.0.27", until: now + 120_000 },
      ],
      now,
    );
    assert.deepEqual(result, {
      added: ["127.0.0.27"],
      updated: ["127.0.0.26"],
      removed: ["127.0.0.25"],
      invalid: [],
    });
    assert.deepEqual((await bans.list()).sort(), ["127.0.0.26", "127.0.0.27"]);
    await bans.reconcile([], now);
    assert.deepEqual(await bans.list(), []);
  });

  test("a table that is not configured, and a wrong path, are reported as such", { skip }, async () => {
    const other = new KamailioHtableBans({ rpcUrl: kamailio?.rpcUrl, table: "not_configured" });
    await assert.rejects(
      other.ban("127.0.0.28", 1000),
      (e: unknown) => e instanceof KamailioError && e.code === "no-table",
    );
    await assert.rejects(
      other.unban("127.0.0.28"),
      (e: unknown) => e instanceof KamailioError && e.code === "no-table",
    );
    const wrongPath = new KamailioRpc({ url: `http://127.0.0.1:${kamailio?.rpcPort}/api` });
    await assert.rejects(
      wrongPath.call("core.version"),
      (e: unknown) => e instanceof KamailioError && e.code === "http" && /404/.test(e.message),
    );
  });
});
