import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, loadConfig } from "./load.js";

const write = (text: string): string => {
  const f = join(mkdtempSync(join(tmpdir(), "mamori-cfg-")), "mamori.yaml");
  writeFileSync(f, text);
  return f;
};

test("no file gives the embedded defaults: loopback, port 8080, Japan", () => {
  const c = loadConfig();
  assert.equal(c.server.host, "127.0.0.1");
  assert.equal(c.server.port, 8080);
  assert.equal(c.callGuard.defaultCountry, "JP");
  assert.equal(c.callGuard.unknownAccount.international, "off");
});

test("an unknown key stops the start with a message naming it", () => {
  const f = write("server:\n  port: 9000\n  hots: 0.0.0.0\ncallGuard:\n  defaultCountry: jp\n");
  assert.throws(
    () => loadConfig({ file: f }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.problems.some((p) => p.includes("server") && p.includes('"hots"')) &&
      e.problems.some((p) => p.startsWith("callGuard.defaultCountry")),
  );
});

test("a rule override with a wrong type is named by its path", () => {
  const f = write("callGuard:\n  rules:\n    cost-velocity:\n      per5Minutes: lots\n");
  assert.throws(() => loadConfig({ file: f }), /callGuard\.rules\.cost-velocity\.per5Minutes/);
});

test("environment variables override the file for port and database", () => {
  const f = write("server:\n  port: 9000\nstore:\n  sqlite: a.db\n");
  const c = loadConfig({ file: f, env: { MAMORI_PORT: "9100", MAMORI_DB: "/var/lib/mamori/m.db" } });
  assert.equal(c.server.port, 9100);
  assert.equal(c.store.sqlite, "/var/lib/mamori/m.db");
});

test("a file that is not YAML is reported as such", () => {
  const f = write("server: [unclosed\n");
  assert.throws(() => loadConfig({ file: f }), /not valid YAML/);
});
