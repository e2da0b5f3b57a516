import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type MamoriProcess, mamoriCommand, startMamori, tempDir } from "../support/mamori-process.js";
import { fixture, repoRoot } from "../support/paths.js";

/** The `mamori` commands an operator types, against a running service and its database. */
function mamori(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const { cmd, args: full } = mamoriCommand(args);
  const child = spawn(cmd, full, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    }),
  );
}

describe("mamori CLI", () => {
  let m: MamoriProcess;
  let env: Record<string, string>;

  before(async () => {
    m = await startMamori();
    env = { MAMORI_URL: m.url, MAMORI_KEY: m.adminKey ?? "", MAMORI_DB: m.db };
  });
  after(async () => {
    await m?.stop();
  });

  test("keys: create a switch key on the database, list it, revoke it", async () => {
    const created = await mamori(["keys", "create", "--role", "switch", "--name", "kamailio"], env);
    assert.equal(created.code, 0, created.err);
    const [line, secret] = created.out.trim().split("\n");
    assert.match(secret ?? "", /^mk_switch_/);
    const id = (line ?? "").split(" ")[0] ?? "";
    const listed = await mamori(["keys", "list", "--json"], env);
    assert.ok((JSON.parse(listed.out) as { id: string }[]).some((k) => k.id === id));
    assert.equal((await mamori(["keys", "revoke", id], env)).code, 0);
    assert.equal(
      (await mamori(["keys", "revoke", id], env)).code,
      1,
      "a second revoke says there is no such key",
    );
  });

  test("accounts: set from a YAML file, get, list, delete", async () => {
    const file = join(tempDir("mamori-cli-"), "accounts.yaml");
    writeFileSync(
      file,
      "accounts:\n  - id: acme\n    country: JP\n    outsideLinePrefix: '0'\n    international: { mode: 'off' }\n",
    );
    const set = await mamori(["accounts", "set", file], env);
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, /acme: created/);
    const got = JSON.parse((await mamori(["accounts", "get", "acme"], env)).out) as {
      policy: { international: { mode: string } };
    };
    assert.equal(got.policy.international.mode, "off");
    assert.match((await mamori(["accounts", "list"], env)).out, /acme/);
    const bad = join(tempDir("mamori-cli-"), "bad.yaml");
    writeFileSync(bad, "id: acme\ninternational: { mode: sometimes }\n");
    const refused = await mamori(["accounts", "set", bad], env);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /international\.mode/);
    assert.equal((await mamori(["accounts", "delete", "acme"], env)).code, 0);
  });

  test("blocks and bans: create, list, lift with a reason", async () => {
    const block = JSON.parse(
      (await mamori(["blocks", "create", "acme", "--reason", "customer on holiday", "--minutes", "60"], env))
        .out,
    ) as { id: string };
    assert.match((await mamori(["blocks", "list"], env)).out, new RegExp(block.id));
    const lifted = JSON.parse(
      (await mamori(["blocks", "lift", block.id, "--reason", "back from holiday"], env)).out,
    ) as { active: boolean };
    assert.equal(lifted.active, false);

    const ban = JSON.parse(
      (await mamori(["bans", "create", "203.0.113.9", "--reason", "scanner seen by hand"], env)).out,
    ) as { id: string; address: string };
    assert.equal(ban.address, "203.0.113.9");
    assert.match((await mamori(["bans", "list", "--json"], env)).out, /203\.0\.113\.9/);
    assert.equal((await mamori(["bans", "lift", ban.id, "--reason", "wrong address"], env)).code, 0);
    const none = await mamori(["bans", "list", "--json"], env);
    assert.deepEqual(JSON.parse(none.out), []);
  });

  test("a command without a key, or against no service, says what to do", async () => {
    const noKey = await mamori(["blocks", "list"], { MAMORI_URL: m.url, MAMORI_KEY: "" });
    assert.equal(noKey.code, 1);
    assert.match(noKey.err, /MAMORI_UNAUTHENTICATED/);
    const down = await mamori(["blocks", "list"], { MAMORI_URL: "http://127.0.0.1:9", MAMORI_KEY: "x" });
    assert.equal(down.code, 1);
    assert.match(down.err, /cannot reach Mamori/);
  });

  test("number and audit-pbx work without a service", async () => {
    const n = JSON.parse(
      (await mamori(["number", "0010232761234567", "--country", "JP", "--outside-line", "0", "--json"])).out,
    ) as {
      country: string;
      international: boolean;
      risk: { level: string } | null;
    };
    assert.equal(n.country, "SL");
    assert.equal(n.international, true);
    assert.equal(n.risk?.level, "high");
    const audit = await mamori(["audit-pbx", fixture("pbx", "asterisk-weak"), "--json"]);
    assert.equal(audit.code, 3, "critical findings give exit code 3");
    assert.ok((JSON.parse(audit.out) as { findings: unknown[] }).findings.length > 0);
    assert.equal((await mamori(["audit-pbx", fixture("pbx", "asterisk-good")])).code, 0);
  });
});
