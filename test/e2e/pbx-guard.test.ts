/**
 * The PBX guard end to end, with the real programs on loopback: Kamailio on the shipped
 * deploy/kamailio/pbx-guard.cfg (digest authentication, HEPv3 to Mamori, bans from an htable),
 * the real `mamori serve`, SIPVicious as the attacker and SIPp as an honest phone.
 *
 * - svcrack guesses extension 101's password from 127.0.0.2 (with a phone's User-Agent, so that the
 *   guessing itself, not the tool's well-known name, is what gets it banned);
 * - svwar scans extensions from 127.0.0.3 as shipped, User-Agent and all;
 * - SIPp registers from 127.0.0.10 (trusted) and 127.0.0.11 (not) after one wrong password.
 *
 * Mamori enforces its bans in Kamailio's htable itself (`pbxGuard.kamailio`); the test reads the
 * htable through the same enforcer class to see them arrive.
 * When run as root with nft and ip, Mamori also bans through nftables inside a network namespace
 * that this test creates and deletes.
 *
 * SIPVicious runs through a small launcher that binds its socket to the attacker's address (see
 * `sipvicious` in test/support/pbx-guard-kamailio.ts).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { KamailioHtableBans } from "../../src/adapters/actions/kamailio/htable-bans.js";
import { readHexCapture } from "../support/hep-packets.js";
import { client, type MamoriProcess, startMamori } from "../support/mamori-process.js";
import { fixture } from "../support/paths.js";
import {
  type PbxGuardKamailio,
  pbxGuardKamailioMissing,
  sipAnswers,
  sipvicious,
  startPbxGuardKamailio,
  stillRunning,
} from "../support/pbx-guard-kamailio.js";
import { artifactsDir, freePort, requirePeer, startProcess, stopAll, which } from "../support/peers.js";

const pexec = promisify(execFile);

const ATTACKER_GUESS = "127.0.0.2";
const ATTACKER_SCAN = "127.0.0.3";
const OFFICE = "127.0.0.10"; // on pbxGuard.trusted
const PHONE = "127.0.0.11"; // not trusted: an ordinary phone somewhere
const STRONG = "Vq7-strong-pass-x9";
const WEAK = "1234";
const USERS = [
  { user: "100", password: STRONG },
  { user: "101", password: WEAK },
];
/** password-guessing's shipped threshold: failures from one address within 10 minutes. */
const GUESS_THRESHOLD = 10;

const svcrack = which("sipvicious_svcrack") ?? which("svcrack");
const svwar = which("sipvicious_svwar") ?? which("svwar");
const skip =
  pbxGuardKamailioMissing() ??
  requirePeer("sipp") ??
  (svcrack && svwar ? undefined : "not installed: sipvicious (run scripts/install-peers.sh as root)");

/** Why the nftables part cannot run here, or undefined when it can. */
function nftMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "not root: the nftables part needs root to create a network namespace";
  return requirePeer("nft", "ip");
}

// ------------------------------------------------------------------ SIPp as an honest phone

async function registerAfterOneWrongPassword(
  dir: string,
  kamailioPort: number,
  fromIp: string,
  user: string,
) {
  const right = USERS.find((u) => u.user === user)?.password ?? "";
  const scenario = join(dir, `register-retry-${fromIp}.xml`);
  writeFileSync(
    scenario,
    readFileSync(fixture("sipp", "register-retry.xml"), "utf8")
      .replaceAll("@USER@", user)
      .replaceAll("@WRONG@", "not-the-password")
      .replaceAll("@RIGHT@", right),
  );
  const base = join(dir, `sipp-${fromIp}-${Date.now()}`);
  const args = ["-sf", scenario, "-i", fromIp, "-p", String(await freePort()), "-m", "1", "-nostdin"];
  args.push("-timeout", "10s", "-trace_msg", "-message_file", `${base}.msg`, `127.0.0.1:${kamailioPort}`);
  const sipp = await startProcess("sipp", args, { name: `sipp-${fromIp}`, logDir: dir });
  const status = await sipp.waitForExit(15_000);
  return { code: status.code, messages: readFileSync(`${base}.msg`, "utf8") };
}

// ------------------------------------------------------------------ Mamori's bans into Kamailio

type BanJson = {
  id: string;
  address: string;
  rule: string;
  active: boolean;
  until: string | null;
  evidence: Record<string, unknown>;
  createdBy: string;
};

// ------------------------------------------------------------------ waiting, bounded

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function nftBanned(netns: string): Promise<string[]> {
  const { stdout } = await pexec(
    "ip",
    ["netns", "exec", netns, "nft", "-j", "list", "set", "inet", "mamori", "banned4"],
    {
      timeout: 5000,
    },
  );
  const parsed = JSON.parse(stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
  const elems = parsed.nftables.find((x) => x.set)?.set?.elem ?? [];
  return elems.map((e) =>
    typeof e === "string" ? e : String((e as { elem?: { val?: unknown } }).elem?.val ?? JSON.stringify(e)),
  );
}

// ------------------------------------------------------------------ the test

describe("PBX guard: SIPVicious against Kamailio, caught by Mamori", { skip }, () => {
  let dir = "";
  const netns = `mamori-e2e-${process.pid}`;
  let nftSkip = nftMissing();
  let netnsCreated = false;
  let mamori: MamoriProcess | undefined;
  let kamailio: PbxGuardKamailio;
  let api: ReturnType<typeof client>;
  let enforcer: KamailioHtableBans;

  before(async () => {
    dir = artifactsDir("pbx-guard", `run-${Date.now()}-${process.pid}`);
    if (!nftSkip) {
      try {
        await pexec("ip", ["netns", "add", netns], { timeout: 5000 });
        netnsCreated = true;
      } catch (e) {
        nftSkip = `cannot create a network namespace: ${(e as Error).message.split("\n")[0]}`;
      }
    }
    const hepPort = await freePort();
    kamailio = await startPbxGuardKamailio({ dir, hepPort, users: USERS });
    enforcer = new KamailioHtableBans({ rpcUrl: kamailio.rpcUrl, timeoutMs: 2000 });
    const config = [
      "pbxGuard:",
      `  trusted: ["${OFFICE}/32"]`,
      `  hep: { host: 127.0.0.1, port: ${hepPort} }`,
      `  kamailio: { rpcUrl: "${kamailio.rpcUrl}" }`,
      ...(netnsCreated ? [`  nftables: { enabled: true, netns: ${netns} }`] : []),
      "",
    ].join("\n");
    mamori = await startMamori({ config });
    assert.ok(mamori.adminKey, "Mamori printed its first admin key");
    api = client(mamori.url, mamori.adminKey);
  });

  after(async () => {
    await stopAll();
    if (mamori) {
      writeFileSync(join(dir, "mamori.log"), mamori.output());
      await mamori.stop();
    }
    if (netnsCreated) await pexec("ip", ["netns", "delete", netns], { timeout: 5000 }).catch(() => undefined);
  });

  async function bansOf(address: string): Promise<BanJson[]> {
    const res = await api("GET", `/v1/bans?address=${encodeURIComponent(address)}`);
    assert.equal(res.status, 200, res.text);
    return res.json.bans as BanJson[];
  }

  async function assertNeverBanned(...addresses: string[]) {
    for (const a of addresses) assert.deepEqual(await bansOf(a), [], `${a} was banned`);
  }

  /** The PBX guard's view: SIP events read so far, and enforcers that failed (by name). */
  async function guardHealth(): Promise<{ events: number; enforcement: Record<string, string> }> {
    const res = await api("GET", "/health");
    assert.equal(res.status, 200, res.text);
    return res.json.checks.pbxGuard;
  }

  /** Registers from each address and waits until Mamori has read every message of it from HEP. */
  async function honestPhonesRegister() {
    const seen = (await guardHealth()).events;
    for (const ip of [OFFICE, PHONE]) {
      const r = await registerAfterOneWrongPassword(dir, kamailio.sipPort, ip, "100");
      assert.equal(r.code, 0, `SIPp from ${ip} registered (401, 403, 401, 200); see ${dir}`);
      assert.match(r.messages, /SIP\/2\.0 403 Forbidden/, "the wrong password got 403");
      assert.match(r.messages, /SIP\/2\.0 200 OK/);
    }
    // Four requests and four answers each, all mirrored: only then is "not banned" worth saying.
    await until("Mamori to read the registrations from HEP", 5000, async () =>
      (await guardHealth()).events >= seen + 16 ? true : undefined,
    );
  }

  test("honest phones register after one wrong password, from the office and from elsewhere", async () => {
    await honestPhonesRegister();
    await assertNeverBanned(OFFICE, PHONE);
  });

  test("svcrack guessing 101's password from 127.0.0.2 is banned for password-guessing, and dropped", async (t) => {
    // 39 wrong guesses, then the right one: Mamori has to stop it before the end of the list.
    const words = Array.from({ length: 39 }, (_, i) => `guess${i}`).concat(WEAK);
    const wordlist = join(dir, "passwords.txt");
    writeFileSync(wordlist, `${words.join("\n")}\n`);
    const started = Date.now();
    // -t 0.02 paces svcrack to about 20 guesses a second (far beyond any phone; full speed is about
    // 60 on loopback) so that the margin between the ban and the end of the list does not depend on
    // how busy the machine is: this test polls Mamori's bans into Kamailio, which the wired
    // enforcer will not need to do.
    const args = ["-vv", "-x", ATTACKER_GUESS, "-P", String(await freePort()), "-t", "0.02"];
    args.push("--maximumtime", "3", "-p", String(kamailio.sipPort), "-u", "101", "-d", wordlist, "127.0.0.1");
    const attack = await sipvicious(svcrack ?? "svcrack", ATTACKER_GUESS, args, {
      dir,
      name: "svcrack",
      userAgent: "Grandstream GXP2170 1.0.11.3",
    });
    try {
      const ban = await until(
        "a ban of 127.0.0.2",
        15_000,
        async () => (await bansOf(ATTACKER_GUESS)).find((b) => b.active) ?? stillRunning(attack),
      );
      const bannedAfterMs = Date.now() - started;
      assert.equal(ban.rule, "password-guessing", JSON.stringify(ban));
      assert.equal(ban.createdBy, "engine");
      assert.ok(
        Number(ban.evidence.failures) <= GUESS_THRESHOLD,
        `banned at ${ban.evidence.failures} failures`,
      );
      assert.deepEqual(ban.evidence.accounts, ["101"]);

      await until("127.0.0.2 in Kamailio's htable", 5000, async () =>
        (await enforcer.list()).includes(ATTACKER_GUESS) ? true : undefined,
      );
      assert.equal(
        await sipAnswers(ATTACKER_GUESS, kamailio.sipPort, 700),
        false,
        "Kamailio drops 127.0.0.2",
      );
      assert.equal(await sipAnswers("127.0.0.4", kamailio.sipPort), true, "and still answers others");

      // svcrack now hears nothing; it would wait 3 s, then 10 s more on its socket. Stop it here.
      await attack.stop(1000);
      const output = attack.output();
      const tried = output.match(/DEBUG:ASipOfRedWine:trying /g)?.length ?? 0;
      assert.doesNotMatch(output, /The password for 101 is/, "svcrack did not find the password");
      assert.ok(tried < words.length, `svcrack tried ${tried} of ${words.length} passwords`);
      t.diagnostic(`svcrack banned after ${bannedAfterMs} ms, ${tried} of ${words.length} passwords tried`);
    } finally {
      await attack.stop(1000);
    }
  });

  test("svwar scanning from 127.0.0.3 learns nothing and is banned at once for its User-Agent", async () => {
    const args = ["-x", ATTACKER_SCAN, "-P", String(await freePort()), "--force", "--maximumtime", "3"];
    args.push("-e", "100-199", "-p", String(kamailio.sipPort), "127.0.0.1");
    const scan = await sipvicious(svwar ?? "svwar", ATTACKER_SCAN, args, { dir, name: "svwar" });
    try {
      const ban = await until(
        "a ban of 127.0.0.3",
        15_000,
        async () => (await bansOf(ATTACKER_SCAN)).find((b) => b.active) ?? stillRunning(scan, 3000),
      );
      assert.equal(ban.rule, "scanner-user-agent", JSON.stringify(ban));
      assert.match(String(ban.evidence.userAgent), /friendly-scanner/);
      // The same challenge for every extension: svwar cannot tell 100 and 101 from the others.
      await scan.waitForExit(10_000);
      assert.match(scan.output(), /found nothing/);
      assert.doesNotMatch(scan.output(), /extension '10[01]' exists/);
      await until("127.0.0.3 in Kamailio's htable", 5000, async () =>
        (await enforcer.list()).includes(ATTACKER_SCAN) ? true : undefined,
      );
    } finally {
      await scan.stop(1000);
    }
  });

  test("the bans reached the kernel: Mamori's nftables set in the test's namespace", async (t) => {
    if (nftSkip) return t.skip(nftSkip);
    const inSet = await until("both attackers in inet mamori banned4", 5000, async () => {
      const set = await nftBanned(netns);
      return set.includes(ATTACKER_GUESS) && set.includes(ATTACKER_SCAN) ? set : undefined;
    });
    assert.ok(!inSet.includes(OFFICE) && !inSet.includes(PHONE), `set: ${inSet.join(", ")}`);
  });

  test("an operator lifts the scanner's ban: Kamailio serves it again and the kernel forgets it", async (t) => {
    const ban = (await bansOf(ATTACKER_SCAN)).find((b) => b.active);
    assert.ok(ban, "needs the scanner's ban from the test before");
    const res = await api("DELETE", `/v1/bans/${ban.id}`, { reason: "end-to-end test lifts it" });
    assert.equal(res.status, 200, res.text);
    await until("127.0.0.3 out of Kamailio's htable", 5000, async () =>
      (await enforcer.list()).includes(ATTACKER_SCAN) ? undefined : true,
    );
    assert.equal(await sipAnswers(ATTACKER_SCAN, kamailio.sipPort), true, "Kamailio answers 127.0.0.3 again");
    assert.equal(
      await sipAnswers(ATTACKER_GUESS, kamailio.sipPort, 500),
      false,
      "127.0.0.2 is still dropped",
    );
    if (nftSkip) {
      t.diagnostic(`nftables not checked: ${nftSkip}`);
      return;
    }
    await until("127.0.0.3 out of the nftables set", 5000, async () =>
      (await nftBanned(netns)).includes(ATTACKER_SCAN) ? undefined : true,
    );
  });

  test("after all that the honest phones still register, and only the attackers were ever banned", async () => {
    await honestPhonesRegister();
    await assertNeverBanned(OFFICE, PHONE);
    const all = (await api("GET", "/v1/bans?limit=1000")).json.bans as BanJson[];
    assert.deepEqual([...new Set(all.map((b) => b.address))].sort(), [ATTACKER_GUESS, ATTACKER_SCAN]);
    assert.deepEqual((await guardHealth()).enforcement, {}, "Mamori's own enforcers never failed");
  });
});

/**
 * The same story without any peer: what pbx-guard.cfg mirrored during such an attack (recorded in
 * test/fixtures/hep/kamailio-pbx-guard.hex), sent to the real Mamori's HEP port. Runs everywhere.
 */
describe("PBX guard: a recorded Kamailio capture of the same attack, replayed to Mamori", () => {
  let mamori: MamoriProcess | undefined;
  after(async () => {
    await mamori?.stop();
  });

  test("the 403s ban the guesser for password-guessing, the scanner's User-Agent bans the scanner", async () => {
    const hepPort = await freePort();
    mamori = await startMamori({ config: `pbxGuard:\n  hep: { host: 127.0.0.1, port: ${hepPort} }\n` });
    const api = client(mamori.url, mamori.adminKey);
    const packets = readHexCapture(fixture("hep", "kamailio-pbx-guard.hex"));
    const socket = createSocket("udp4");
    try {
      for (const p of packets) {
        await new Promise<void>((resolve, reject) =>
          socket.send(p, hepPort, "127.0.0.1", (e) => (e ? reject(e) : resolve())),
        );
      }
    } finally {
      socket.close();
    }
    // The recorded events are in the past, so the bans are over already: list them all.
    const banOf = (address: string) =>
      until(`a ban of ${address}`, 10_000, async () => {
        const res = await api("GET", `/v1/bans?address=${address}`);
        return (res.json?.bans as BanJson[] | undefined)?.[0];
      });
    const guesser = await banOf(ATTACKER_GUESS);
    assert.equal(guesser.rule, "password-guessing");
    assert.equal(guesser.evidence.failures, GUESS_THRESHOLD, "banned at the tenth 403, not later");
    assert.deepEqual(guesser.evidence.accounts, ["101"]);
    const scanner = await banOf(ATTACKER_SCAN);
    assert.equal(scanner.rule, "scanner-user-agent");
    const health = (await api("GET", "/health")).json.checks.pbxGuard;
    assert.equal(health.events, packets.length, "every packet read as one SIP event");
  });
});
