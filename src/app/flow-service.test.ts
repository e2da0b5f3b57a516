import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { netflowV5 } from "../../test/support/flow-packets.js";
import { loadConfig } from "../config/load.js";
import { buildApp } from "./build.js";

/**
 * The flow guard wired into the service: real NetFlow v5 datagrams on loopback to the collector, an
 * attack recorded, a blackhole mitigation stored before it would be announced, and found again after a
 * restart. (ExaBGP and BIRD are exercised in test/e2e/flow-guard.test.ts.)
 */
const flowGuard = {
  enabled: true,
  collector: { netflowPort: 0, ipfixPort: false, sflowPort: false },
  settings: {
    networks: ["192.0.2.0/24"],
    defaultGroup: { thresholds: { pps: 5000 }, learned: false, mitigation: { type: "blackhole" } },
    mitigation: { bgp: { nextHop4: "192.0.2.254" } },
  },
};

async function start(db: string) {
  const config = loadConfig({ overrides: { "store.sqlite": db, "server.port": 0, flowGuard } });
  const app = await buildApp(config, { log: pino({ level: "silent" }), manualClock: true });
  await app.listen();
  return app;
}

test("a NetFlow flood on loopback becomes a stored attack and mitigation that survive a restart", async () => {
  const db = join(mkdtempSync(join(tmpdir(), "mamori-flows-")), "m.db");
  let app = await start(db);
  const port = app.flowPorts()?.netflow ?? 0;
  assert.ok(port > 0);
  const sock = createSocket("udp4");
  try {
    const t0 = Date.now();
    for (let i = 0; i < 25 && Date.now() - t0 < 10_000; i++) {
      const secs = Math.floor(Date.now() / 1000);
      const records = Array.from({ length: 30 }, (_, k) => ({
        src: `198.51.100.${(k % 200) + 1}`,
        dst: "192.0.2.10",
        packets: 400,
        bytes: 400 * 468,
        first: 1000,
        last: 1000,
        srcPort: 123,
        dstPort: 40000 + k,
        protocol: 17,
      }));
      const pkt = netflowV5({ uptime: 1000, unixSecs: secs, sequence: i * 30 }, records);
      await new Promise<void>((r) => sock.send(pkt, port, "127.0.0.1", () => r()));
      await sleep(100);
      await app.tick();
    }
    let attacks = await app.store.listAttacks({});
    for (let i = 0; i < 20 && attacks.length === 0; i++) {
      await sleep(100);
      await app.tick();
      attacks = await app.store.listAttacks({});
    }
    assert.equal(attacks[0]?.victim, "192.0.2.10");
    assert.match(attacks[0]?.kind ?? "", /amplification|udp/);
    const mitigations = await app.store.listMitigations({ activeAt: Date.now() });
    assert.equal(mitigations[0]?.type, "blackhole");
    assert.equal((mitigations[0]?.doc as { prefix?: string } | undefined)?.prefix, "192.0.2.10/32");

    await app.close();
    app = await start(db);
    assert.deepEqual(
      app.flows.guard.mitigations().map((m) => m.id),
      mitigations.map((m) => m.id),
      "the mitigation in force is restored after a restart",
    );
  } finally {
    sock.close();
    await app.close();
  }
});
