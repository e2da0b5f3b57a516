import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Mitigation } from "../../../flows/mitigation.js";
import { ExabgpCommandError, exabgpLines } from "./commands.js";
import { exabgpConfig, exabgpEnv, exabgpNeighborSchema } from "./config.js";
import { type ExabgpEvent, ExabgpSpeaker } from "./exabgp.js";

const common = { attackId: "fa-1", group: "g", createdAt: 0, expiresAt: 1, dryRun: false, reason: "test" };
const blackhole: Mitigation = {
  type: "blackhole",
  id: "bh-1",
  ...common,
  prefix: "192.0.2.1/32",
  nextHop: "192.0.2.254",
  communities: ["65535:666"],
};
const flowspec: Mitigation = {
  type: "flowspec",
  id: "fs-1",
  ...common,
  match: {
    destination: "192.0.2.1/32",
    protocol: 17,
    sourcePorts: [123],
    packetLength: { min: 256, max: 511 },
    synOnly: false,
    fragments: false,
  },
  action: { type: "discard" },
  communities: [],
};

describe("ExaBGP text API lines", () => {
  it("renders blackhole routes and Flowspec rules, and their withdrawals", () => {
    assert.deepEqual(exabgpLines(blackhole), {
      announce: "announce route 192.0.2.1/32 next-hop 192.0.2.254 community [ 65535:666 ]",
      withdraw: "withdraw route 192.0.2.1/32 next-hop 192.0.2.254 community [ 65535:666 ]",
    });
    assert.deepEqual(exabgpLines(flowspec), {
      announce:
        "announce flow route { match { destination 192.0.2.1/32; protocol =udp; source-port [ =123 ]; packet-length >=256&<=511; } then { discard; } }",
      withdraw:
        "withdraw flow route { match { destination 192.0.2.1/32; protocol =udp; source-port [ =123 ]; packet-length >=256&<=511; } }",
    });
    const v6: Mitigation = {
      ...flowspec,
      match: {
        ...flowspec.match,
        destination: "2001:db8::1/128",
        protocol: 6,
        sourcePorts: [],
        packetLength: null,
        synOnly: true,
      },
      action: { type: "rate-limit", bytesPerSecond: 125_000 },
      communities: ["65000:1"],
    };
    assert.equal(
      exabgpLines(v6)?.announce,
      "announce flow route { match { destination 2001:db8::1/128; next-header =tcp; tcp-flags [ =syn ]; } then { rate-limit 125000; community [ 65000:1 ]; } }",
    );
    assert.equal(
      exabgpLines({ ...flowspec, type: "nftables", sources: [] } as unknown as Mitigation),
      undefined,
    );
  });

  it("refuses values that could smuggle text into ExaBGP's input", () => {
    assert.throws(
      () => exabgpLines({ ...blackhole, prefix: "192.0.2.1/32\nannounce route 0.0.0.0/0" } as Mitigation),
      ExabgpCommandError,
    );
    assert.throws(
      () => exabgpLines({ ...blackhole, communities: ["65535:666 ] next-hop self"] } as Mitigation),
      ExabgpCommandError,
    );
  });
});

describe("ExaBGP configuration", () => {
  it("declares the relay process, the session and the families", () => {
    const n = exabgpNeighborSchema.parse({
      neighbor: "10.0.0.2",
      localAddress: "10.0.0.1",
      routerId: "10.0.0.1",
      localAs: 65001,
      peerAs: 65000,
      peerPort: 1790,
    });
    const text = exabgpConfig([n], ["/usr/bin/node", "/run/m/relay.mjs", "/run/m/api.sock"]);
    for (const line of [
      "run /usr/bin/node /run/m/relay.mjs /run/m/api.sock;",
      "encoder text;",
      "neighbor 10.0.0.2 {",
      "local-as 65001;",
      "peer-as 65000;",
      "connect 1790;",
      "ipv4 unicast;",
      "ipv6 flow;",
      "processes [ mamori ];",
    ]) {
      assert.ok(text.includes(line), line);
    }
    assert.throws(() => exabgpConfig([n], ["/path with space/node"]));
    assert.match(exabgpEnv({ user: "mamori" }), /user = 'mamori'/);
  });
});

// A stand-in for exabgp: runs the configured API process like ExaBGP does, writes every command it
// receives to commands.log, and acknowledges each one.
const FAKE = `#!${process.execPath}
import { spawn } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
const conf = readFileSync(process.argv[process.argv.length - 1], "utf8");
const run = /run ([^;]+);/.exec(conf)[1].split(" ");
const child = spawn(run[0], run.slice(1), { stdio: ["pipe", "pipe", "inherit"] });
let rest = "";
child.stdout.setEncoding("utf8");
child.stdout.on("data", (t) => {
  const parts = (rest + t).split("\\n");
  rest = parts.pop();
  for (const l of parts) {
    appendFileSync("commands.log", process.pid + " " + l + "\\n");
    child.stdin.write(/^(announce|withdraw) /.test(l) ? "done\\n" : "error\\n");
  }
});
child.stdin.write("neighbor 10.0.0.2 up\\n");
process.on("SIGTERM", () => { child.kill(); process.exit(0); });
`;

describe("ExabgpSpeaker", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("sends each change once, and replays everything in force when ExaBGP comes back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mamori-exabgp-"));
    dirs.push(dir);
    const fake = join(dir, "fake-exabgp.mjs");
    await writeFile(fake, FAKE, { mode: 0o755 });
    const runDir = join(dir, "run");
    const events: ExabgpEvent[] = [];
    const speaker = await ExabgpSpeaker.start({
      neighbors: [
        exabgpNeighborSchema.parse({
          neighbor: "10.0.0.2",
          localAddress: "10.0.0.1",
          routerId: "10.0.0.1",
          localAs: 65001,
          peerAs: 65000,
        }),
      ],
      runDir,
      exabgp: fake,
      restartAfterMs: 50,
      onEvent: (e) => events.push(e),
    });
    try {
      const log = async (): Promise<string[]> =>
        (await readFile(join(runDir, "commands.log"), "utf8").catch(() => ""))
          .trim()
          .split("\n")
          .filter(Boolean);
      const until = async (what: string, ok: () => boolean | Promise<boolean>): Promise<void> => {
        for (let i = 0; i < 100; i++) {
          if (await ok()) return;
          await sleep(50);
        }
        assert.fail(`timed out waiting for ${what}; events ${JSON.stringify(events)}`);
      };
      await until("the relay", () => speaker.connected);
      assert.equal(speaker.announce(blackhole), true);
      assert.equal(speaker.announce(flowspec), true);
      assert.equal(speaker.announce(blackhole), true); // again: nothing new is sent
      assert.equal(
        speaker.announce({ ...blackhole, id: "bh-dry", prefix: "192.0.2.9/32", dryRun: true }),
        false,
      );
      assert.equal(speaker.withdraw(blackhole), true);
      await until("four commands", async () => (await log()).length >= 3 && speaker.stats.acked >= 3);
      const first = (await log()).map((l) => l.slice(l.indexOf(" ") + 1));
      assert.deepEqual(first, [
        exabgpLines(blackhole)?.announce,
        exabgpLines(flowspec)?.announce,
        exabgpLines(blackhole)?.withdraw,
      ]);
      assert.ok(events.some((e) => e.type === "neighbor" && e.state === "up"));

      // ExaBGP dies: it is restarted and the rule still in force is announced again.
      const pid = (await log())[0]!.split(" ")[0]!;
      process.kill(Number(pid), "SIGKILL");
      await until("a second API connection", () => speaker.stats.connections >= 2 && speaker.connected);
      await until("the replay", async () => (await log()).some((l) => !l.startsWith(`${pid} `)));
      const replay = (await log())
        .filter((l) => !l.startsWith(`${pid} `))
        .map((l) => l.slice(l.indexOf(" ") + 1));
      assert.deepEqual(replay, [exabgpLines(flowspec)?.announce]);
      assert.deepEqual(
        speaker.inForce().map((m) => m.id),
        ["fs-1"],
      );
    } finally {
      await speaker.stop();
    }
    assert.ok(events.some((e) => e.type === "exit"));
  });
});
