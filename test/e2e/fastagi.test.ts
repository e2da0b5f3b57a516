import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { buildApp } from "../../src/app/build.js";
import { loadConfig } from "../../src/config/load.js";
import { runAgi } from "../support/agi-client.js";

/**
 * FastAGI end to end: the real service listening on loopback, and a client that speaks AGI as
 * Asterisk does (Asterisk itself is not packaged in Debian here).
 */
async function start() {
  const config = loadConfig({
    overrides: { "store.sqlite": ":memory:", "server.port": 0, fastagi: { enabled: true, port: 0 } },
  });
  const app = await buildApp(config, { log: pino({ level: "silent" }), manualClock: true });
  await app.listen();
  const port = app.fastagiAddress()?.port ?? 0;
  await app.calls.putAccount({ id: "acme", international: { mode: "off" } }, "test", Date.now());
  await app.calls.putAccount({ id: "intl", international: { mode: "all" } }, "test", Date.now());
  return { app, port };
}

test("authorize over FastAGI sets MAMORI_DECISION for the dialplan", async () => {
  const { app, port } = await start();
  try {
    const denied = await runAgi(port, "authorize", {
      agi_uniqueid: "1.1",
      agi_accountcode: "acme",
      agi_extension: "010232761234567",
    });
    assert.equal(denied.variables.MAMORI_DECISION, "deny");
    assert.equal(denied.variables.MAMORI_RULE, "international-barred");
    assert.match(denied.variables.MAMORI_REASON ?? "", /^international-barred: /);
    assert.equal(denied.closedByServer, true);

    // Arguments override the channel's fields: AGI(agi://mamori/authorize,${CDR(accountcode)},${EXTEN}).
    const allowed = await runAgi(
      port,
      "authorize",
      { agi_uniqueid: "1.2" },
      { args: ["intl", "+12125551234"] },
    );
    assert.equal(allowed.variables.MAMORI_DECISION, "allow");
    assert.equal(allowed.variables.MAMORI_RULE, "");
    assert.equal(app.calls.guard.liveCount("intl"), 1);

    await runAgi(port, "answer", { agi_uniqueid: "1.2" });
    await runAgi(port, "hangup", { agi_uniqueid: "1.2" }, { args: ["42"] });
    assert.equal(app.calls.guard.liveCount("intl"), 0);
    const [row] = await app.store.listCalls({ account: "intl" });
    assert.equal(row?.billsec, 42);
  } finally {
    await app.close();
  }
});

test("a caller hanging up mid-session and a missing account are handled without a crash", async () => {
  const { app, port } = await start();
  try {
    const cut = await runAgi(
      port,
      "authorize",
      { agi_uniqueid: "2.1", agi_accountcode: "intl", agi_extension: "+12125551234" },
      { hangupAfter: 1 },
    );
    assert.equal(cut.commands[0]?.startsWith("SET VARIABLE MAMORI_DECISION"), true);
    const missing = await runAgi(port, "authorize", {
      agi_uniqueid: "2.2",
      agi_callerid: "unknown",
      agi_extension: "+12125551234",
    });
    assert.equal(missing.variables.MAMORI_DECISION, "error");
    assert.match(missing.variables.MAMORI_REASON ?? "", /missing account/);
    const unknown = await runAgi(port, "launch-missiles", { agi_uniqueid: "2.3" });
    assert.equal(unknown.variables.MAMORI_DECISION, "error");
    // The service still answers.
    const ok = await runAgi(port, "authorize", {
      agi_uniqueid: "2.4",
      agi_accountcode: "intl",
      agi_extension: "0312345678",
    });
    assert.equal(ok.variables.MAMORI_DECISION, "allow");
  } finally {
    await app.close();
  }
});
