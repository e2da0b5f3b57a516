import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fixture } from "../../../../test/support/paths.js";
import { auditPbxDirectory } from "./audit-directory.js";
import { detectPbxKind, loadPbxConfig } from "./load.js";

const tmp = mkdtempSync(join(tmpdir(), "mamori-pbx-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("PBX configuration directories", () => {
  it("tells Asterisk from FreeSWITCH", () => {
    assert.equal(detectPbxKind(fixture("pbx", "asterisk-weak")), "asterisk");
    assert.equal(detectPbxKind(fixture("pbx", "freeswitch-weak")), "freeswitch");
    assert.equal(detectPbxKind(tmp), undefined);
  });

  it("loads only the configuration files, by relative path, without following links", async () => {
    const dir = join(tmp, "ast");
    mkdirSync(join(dir, "pjsip.d"), { recursive: true });
    writeFileSync(join(dir, "pjsip.conf"), "#include pjsip.d/*.conf\n");
    writeFileSync(join(dir, "pjsip.d", "users.conf"), "[1]\ntype=auth\n");
    writeFileSync(join(dir, "notes.txt"), "not config");
    symlinkSync(join(dir, "pjsip.d"), join(dir, "loop"));
    const loaded = await loadPbxConfig(dir);
    assert.equal(loaded.kind, "asterisk");
    assert.deepEqual([...loaded.files.keys()], ["pjsip.conf", "pjsip.d/users.conf"]);
    assert.deepEqual(loaded.skipped, ["loop: symbolic link not followed"]);
    await assert.rejects(loadPbxConfig(tmp + "/nothing-here-" + Date.now()), /ENOENT|neither/);
  });

  it("audits a directory with the shipped password list", async () => {
    const weak = await auditPbxDirectory(fixture("pbx", "asterisk-weak"));
    assert.equal(weak.kind, "asterisk");
    assert.equal(weak.filesRead, 8);
    assert.equal(weak.findings.length, 16);
    const good = await auditPbxDirectory(fixture("pbx", "asterisk-good"));
    assert.deepEqual(good.findings, []);
    const fs = await auditPbxDirectory(fixture("pbx", "freeswitch-weak"));
    assert.equal(fs.kind, "freeswitch");
    assert.equal(fs.findings.length, 7);
  });
});
