import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { requirePeer } from "../../../../test/support/peers.js";
import { NftablesError } from "./errors.js";
import { NftablesBans, type NftRunner } from "./nftables.js";
import { elementScript, ensureScript, MAX_TIMEOUT_MS, parseTableJson, planReconcile } from "./script.js";

const pexec = promisify(execFile);

/** A runner that records what would have run and answers from a script. */
function fakeRunner(answer: (args: readonly string[]) => { stdout?: string; error?: unknown } = () => ({})) {
  const calls: { file: string; args: readonly string[]; input: string | undefined }[] = [];
  const run: NftRunner = async (file, args, input) => {
    calls.push({ file, args, input });
    const a = answer(args);
    if (a.error !== undefined) throw a.error;
    return { stdout: a.stdout ?? "", stderr: "" };
  };
  return { calls, run };
}

const LISTED = JSON.stringify({
  nftables: [
    { metainfo: { version: "1.0.6" } },
    { table: { family: "inet", name: "mamori", handle: 1 } },
    {
      set: {
        family: "inet",
        name: "banned4",
        table: "mamori",
        type: "ipv4_addr",
        flags: ["timeout"],
        elem: [{ elem: { val: "198.51.100.7", timeout: 600, expires: 540 } }, "198.51.100.8"],
      },
    },
    {
      set: {
        family: "inet",
        name: "banned6",
        table: "mamori",
        type: "ipv6_addr",
        elem: [{ elem: { val: "2001:db8::5", timeout: 3600, expires: 3000 } }],
      },
    },
    { set: { family: "inet", name: "banned4", table: "other", elem: ["203.0.113.1"] } },
  ],
});

describe("nftables scripts", () => {
  test("ensure touches only Mamori's table, and re-running it keeps the bans", () => {
    const s = ensureScript("prerouting", -300);
    for (const line of s.trim().split("\n"))
      assert.match(line, /^(add|flush) (table|set|chain|rule) inet mamori\b/);
    assert.match(s, /type filter hook prerouting priority -300; policy accept;/);
    assert.match(s, /ip saddr @banned4 counter drop/);
    assert.match(s, /ip6 saddr @banned6 counter drop/);
    assert.doesNotMatch(s, /flush (set|table|ruleset)/);
    assert.throws(() => ensureScript("input", 0.5), RangeError);
  });

  test("bans and unbans in one transaction that works whether the element is there or not", () => {
    const s = elementScript([
      { type: "put", address: { address: "198.51.100.7", family: "ipv4" }, timeoutMs: 600_000 },
      { type: "remove", address: { address: "198.51.100.8", family: "ipv4" } },
      { type: "put", address: { address: "2001:db8::5", family: "ipv6" }, timeoutMs: 90 * 86_400_000 },
    ]);
    assert.equal(
      s,
      [
        "add element inet mamori banned4 { 198.51.100.7, 198.51.100.8 }",
        "delete element inet mamori banned4 { 198.51.100.7, 198.51.100.8 }",
        "add element inet mamori banned4 { 198.51.100.7 timeout 600000ms }",
        "add element inet mamori banned6 { 2001:db8::5 }",
        "delete element inet mamori banned6 { 2001:db8::5 }",
        `add element inet mamori banned6 { 2001:db8::5 timeout ${MAX_TIMEOUT_MS}ms }`,
        "",
      ].join("\n"),
    );
  });

  test("reads the elements of both sets, and nothing of other tables", () => {
    assert.deepEqual(parseTableJson(LISTED), [
      { address: "198.51.100.7", family: "ipv4", timeoutMs: 600_000, expiresMs: 540_000 },
      { address: "198.51.100.8", family: "ipv4", timeoutMs: undefined, expiresMs: undefined },
      { address: "2001:db8::5", family: "ipv6", timeoutMs: 3_600_000, expiresMs: 3_000_000 },
    ]);
    assert.throws(
      () => parseTableJson("nope"),
      (e: unknown) => e instanceof NftablesError && e.code === "bad-output",
    );
  });

  test("plans a reconcile: missing added, stray removed, off timeouts re-timed, the rest left", () => {
    const now = 1_000_000;
    const plan = planReconcile(
      parseTableJson(LISTED),
      [
        { address: "198.51.100.7", until: now + 540_000 + 2000 }, // within tolerance: left alone
        { address: "::ffff:198.51.100.8", until: now + 60_000 }, // no timeout in the set: re-timed
        { address: "2001:db8::9", until: now + 60_000 }, // missing: added
        { address: "203.0.113.4", until: now - 1 }, // over already: ignored
        { address: "not-an-ip", until: now + 1 },
      ],
      now,
    );
    assert.deepEqual(plan.added, ["2001:db8::9"]);
    assert.deepEqual(plan.updated, ["198.51.100.8"]);
    assert.deepEqual(plan.removed, ["2001:db8::5"]);
    assert.deepEqual(plan.invalid, ["not-an-ip"]);
  });

  test("runs nft with arguments, inside a namespace when asked, and never a shell", async () => {
    const f = fakeRunner();
    const nft = new NftablesBans({ netns: "mamori-x", run: f.run });
    await nft.ban("2001:DB8::0:5", 600_000);
    assert.equal(f.calls[0]?.file, "ip");
    assert.deepEqual(f.calls[0]?.args, ["netns", "exec", "mamori-x", "nft", "-f", "-"]);
    assert.match(f.calls[0]?.input ?? "", /\{ 2001:db8::5 timeout 600000ms \}/);
    assert.throws(() => new NftablesBans({ netns: "a b; rm -rf /" }), NftablesError);
  });

  test("refuses what is not an address before anything runs", async () => {
    const f = fakeRunner();
    const nft = new NftablesBans({ run: f.run });
    for (const bad of ["198.51.100.7 } ; flush ruleset ; {", "198.51.100.0/24", "", "example.com"]) {
      await assert.rejects(
        nft.ban(bad, 60_000),
        (e: unknown) => e instanceof NftablesError && e.code === "invalid-address",
      );
      await assert.rejects(nft.unban(bad), NftablesError);
    }
    await assert.rejects(nft.ban("198.51.100.7", 0), RangeError);
    assert.equal(f.calls.length, 0);
  });

  test("says clearly when nft is missing, when it is not root, and lists nothing before ensure", async () => {
    const missing = new NftablesBans({
      run: fakeRunner(() => ({ error: Object.assign(new Error("spawn nft ENOENT"), { code: "ENOENT" }) }))
        .run,
    });
    await assert.rejects(
      missing.ensure(),
      (e: unknown) => e instanceof NftablesError && e.code === "not-installed",
    );
    const notRoot = new NftablesBans({
      run: fakeRunner(() => ({
        error: Object.assign(new Error("exit 1"), {
          code: 1,
          stderr: "Error: Could not process rule: Operation not permitted\n",
        }),
      })).run,
    });
    await assert.rejects(
      notRoot.ensure(),
      (e: unknown) => e instanceof NftablesError && e.code === "permission",
    );
    const noTable = new NftablesBans({
      run: fakeRunner(() => ({
        error: Object.assign(new Error("exit 1"), {
          code: 1,
          stderr: "Error: No such file or directory\nlist table inet mamori\n",
        }),
      })).run,
    });
    assert.deepEqual(await noTable.list(), []);
  });
});

// ---- against the kernel, in a network namespace of the test's own ---------------------------------

const NS = `mamori-t-${process.pid}`;

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root to create a network namespace and nftables rules";
  return requirePeer("nft", "ip");
}

async function ip(...args: string[]): Promise<string> {
  const { stdout } = await pexec("ip", args, { timeout: 10_000 });
  return stdout;
}

async function inNs(...args: string[]): Promise<string> {
  const { stdout } = await pexec("ip", ["netns", "exec", NS, ...args], { timeout: 10_000 });
  return stdout;
}

/** UDP echo on 127.0.0.1 and ::1; prints its two ports, exits by itself after a minute. */
const ECHO_SERVER = `
const dgram = require("node:dgram");
const ports = {};
let ready = 0;
for (const [type, host] of [["udp4", "127.0.0.1"], ["udp6", "::1"]]) {
  const s = dgram.createSocket(type);
  s.on("message", (m, r) => s.send(m, r.port, r.address));
  s.bind(0, host, () => {
    ports[type] = s.address().port;
    if (++ready === 2) console.log(JSON.stringify(ports));
  });
}
setTimeout(() => process.exit(0), 60000);
`;

/** Sends from each source address to the echo server; prints which got an answer. Bounded: 3 × 300 ms each. */
const ECHO_CLIENT = `
const dgram = require("node:dgram");
const ports = JSON.parse(process.argv[1]);
const sources = process.argv.slice(2);
function once(src) {
  const v6 = src.includes(":");
  return new Promise((resolve) => {
    const s = dgram.createSocket(v6 ? "udp6" : "udp4");
    const done = (ok) => { clearTimeout(t); try { s.close(); } catch {} resolve(ok); };
    const t = setTimeout(() => done(false), 300);
    s.on("message", () => done(true));
    s.on("error", () => done(false));
    s.bind(0, src, () => s.send("ping", v6 ? ports.udp6 : ports.udp4, v6 ? "::1" : "127.0.0.1"));
  });
}
(async () => {
  const out = {};
  for (const src of sources) {
    out[src] = false;
    for (let i = 0; i < 3 && !out[src]; i++) out[src] = await once(src);
  }
  console.log(JSON.stringify(out));
})();
`;

describe("nftables in a network namespace", () => {
  let skip = whyNot();
  let server: ChildProcess | undefined;
  let ports = "";
  const nft = new NftablesBans({ netns: NS });

  before(async () => {
    if (skip) return;
    try {
      await ip("netns", "add", NS);
    } catch (e) {
      skip = `cannot create a network namespace here: ${(e as Error).message.split("\n")[0]}`;
      return;
    }
    await inNs("ip", "link", "set", "lo", "up");
    await inNs("ip", "-6", "addr", "add", "fd00::2/128", "dev", "lo", "nodad");
    // Someone else's table, which Mamori must leave as it is.
    await inNs(
      "nft",
      "add table inet other; add set inet other keep { type ipv4_addr; }; add element inet other keep { 192.0.2.1 }",
    );
  });

  after(async () => {
    if (server && server.exitCode === null) server.kill("SIGKILL");
    if (!whyNot()) await ip("netns", "del", NS).catch(() => undefined);
  });

  async function echo(...sources: string[]): Promise<Record<string, boolean>> {
    if (!server) {
      server = spawn("ip", ["netns", "exec", NS, process.execPath, "-e", ECHO_SERVER], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const first = await Promise.race([
        once(server.stdout!, "data").then(([d]) => String(d)),
        new Promise<string>((_, reject) =>
          setTimeout(() => reject(new Error("echo server did not start")), 5000),
        ),
      ]);
      ports = first.trim();
    }
    return JSON.parse(await inNs(process.execPath, "-e", ECHO_CLIENT, ports, ...sources));
  }

  test("ensure creates the table, sets and chain, twice without harm, and leaves other tables alone", async (t) => {
    if (skip) return t.skip(skip);
    await nft.ensure();
    await nft.ensure();
    const ruleset = await inNs("nft", "list", "ruleset");
    assert.match(ruleset, /table inet mamori/);
    assert.match(ruleset, /set banned4 \{\s*type ipv4_addr\s*flags timeout/);
    assert.match(ruleset, /set banned6 \{\s*type ipv6_addr\s*flags timeout/);
    assert.match(ruleset, /hook prerouting priority raw; policy accept;/);
    assert.equal(ruleset.match(/saddr @banned4/g)?.length, 1, "the rule is not duplicated");
    assert.match(await inNs("nft", "list", "table", "inet", "other"), /192\.0\.2\.1/);
  });

  test("ban, list with time left, re-time, unban; unbanning twice is fine", async (t) => {
    if (skip) return t.skip(skip);
    await nft.ban("198.51.100.7", 60_000);
    await nft.ban("2001:db8::5", 3_600_000);
    let listed = await nft.list();
    const v4 = listed.find((e) => e.address === "198.51.100.7");
    assert.ok(v4 && v4.expiresMs !== undefined && v4.expiresMs <= 60_000 && v4.expiresMs >= 50_000);
    assert.ok(listed.some((e) => e.address === "2001:db8::5" && e.family === "ipv6"));
    await nft.ban("198.51.100.7", 7_200_000);
    listed = await nft.list();
    assert.ok((listed.find((e) => e.address === "198.51.100.7")?.expiresMs ?? 0) > 7_000_000);
    await nft.unban("198.51.100.7");
    await nft.unban("198.51.100.7");
    await nft.unban("2001:db8::5");
    assert.deepEqual(await nft.list(), []);
  });

  test("a banned source is dropped in the kernel while others get through", async (t) => {
    if (skip) return t.skip(skip);
    await nft.ensure();
    assert.deepEqual(await echo("127.0.0.1", "127.0.0.2", "::1", "fd00::2"), {
      "127.0.0.1": true,
      "127.0.0.2": true,
      "::1": true,
      "fd00::2": true,
    });
    await nft.ban("127.0.0.2", 60_000);
    await nft.ban("fd00::2", 60_000);
    assert.deepEqual(await echo("127.0.0.1", "127.0.0.2", "::1", "fd00::2"), {
      "127.0.0.1": true,
      "127.0.0.2": false,
      "::1": true,
      "fd00::2": false,
    });
    const counters = await inNs("nft", "list", "chain", "inet", "mamori", "prerouting");
    assert.match(counters, /@banned4 counter packets [1-9]/);
    await nft.unban("127.0.0.2");
    await nft.unban("fd00::2");
    assert.deepEqual(await echo("127.0.0.2", "fd00::2"), { "127.0.0.2": true, "fd00::2": true });
  });

  test("reconcile adds the missing, removes the stray, re-times the off", async (t) => {
    if (skip) return t.skip(skip);
    const now = Date.now();
    await nft.ban("203.0.113.9", 60_000); // stray
    await nft.ban("203.0.113.10", 60_000); // wanted for longer
    const r = await nft.reconcile(
      [
        { address: "203.0.113.10", until: now + 3_600_000 },
        { address: "2001:db8::77", until: now + 600_000 },
        { address: "bogus", until: now + 1 },
      ],
      now,
    );
    assert.deepEqual(
      { added: r.added, updated: r.updated, removed: r.removed, invalid: r.invalid },
      { added: ["2001:db8::77"], updated: ["203.0.113.10"], removed: ["203.0.113.9"], invalid: ["bogus"] },
    );
    const listed = await nft.list();
    assert.deepEqual(listed.map((e) => e.address).sort(), ["2001:db8::77", "203.0.113.10"]);
    const again = await nft.reconcile(
      [
        { address: "203.0.113.10", until: now + 3_600_000 },
        { address: "2001:db8::77", until: now + 600_000 },
      ],
      Date.now(),
    );
    assert.deepEqual(
      [again.added, again.updated, again.removed],
      [[], [], []],
      "a second pass changes nothing",
    );
  });

  test("teardown removes Mamori's table only", async (t) => {
    if (skip) return t.skip(skip);
    await nft.teardown();
    await nft.teardown();
    const ruleset = await inNs("nft", "list", "ruleset");
    assert.doesNotMatch(ruleset, /table inet mamori/);
    assert.match(ruleset, /table inet other/);
  });
});
