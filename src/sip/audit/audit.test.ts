import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { fixture, repoRoot } from "../../../test/support/paths.js";
import { auditPbx, type PbxKind } from "./audit.js";
import { parsePasswordList } from "./secrets.js";
import type { AuditFinding } from "./types.js";

const weakPasswords = parsePasswordList(readFileSync(join(repoRoot, "rules", "weak-passwords.txt"), "utf8"));

function load(name: string): Map<string, string> {
  const root = fixture("pbx", name);
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(root, p), readFileSync(p, "utf8"));
    }
  };
  walk(root);
  return files;
}

const brief = (f: AuditFinding) => [f.id, f.severity, `${f.file}:${f.line}`, f.section];

/** Every secret written in the fixture, to check that none is printed in full. */
function secretsIn(files: Map<string, string>): string[] {
  const out: string[] = [];
  for (const text of files.values()) {
    for (const m of text.matchAll(/^\s*(?:password|secret)\s*=\s*(\S+)/gim)) out.push(m[1]!);
    for (const m of text.matchAll(/name="(?:password|default_password)" value="([^"$]+)"/g)) out.push(m[1]!);
    for (const m of text.matchAll(/data="default_password=([^"]+)"/g)) out.push(m[1]!);
  }
  return out;
}

function audit(kind: PbxKind, name: string) {
  const files = load(name);
  const report = auditPbx(kind, files, { weakPasswords });
  // Account names are shown; a secret equal to its account name is the only way one can appear.
  const names = new Set(report.findings.map((f) => f.section));
  for (const f of report.findings) {
    for (const s of secretsIn(files)) {
      if (names.has(s) || s.length < 4) continue;
      assert.ok(
        !f.message.includes(s) && !f.fix.includes(s),
        `${f.id} at ${f.file}:${f.line} prints secret ${s}`,
      );
    }
    assert.ok(f.message.length > 0 && f.fix.length > 0);
  }
  return report;
}

describe("PBX audit: Asterisk", () => {
  it("finds each planted weakness in asterisk-weak, and nothing else", () => {
    const report = audit("asterisk", "asterisk-weak");
    assert.deepEqual(report.findings.map(brief), [
      ["ari-exposed", "critical", "ari.conf:5", "asterisk"],
      ["unauth-international", "critical", "extensions.conf:9", "public"],
      ["unauth-international", "critical", "extensions.conf:21", "outbound-intl"],
      ["unauth-international", "critical", "extensions.conf:22", "outbound-intl"],
      ["international-unrestricted", "high", "extensions.conf:26", "outbound-local"],
      ["ami-exposed", "critical", "manager.conf:6", "admin"],
      ["maintenance-account", "high", "manager.conf:6", "admin"],
      ["ami-exposed", "medium", "manager.conf:17", "crm"],
      ["weak-secret", "critical", "pjsip_users.conf:20", "101"],
      ["weak-secret", "high", "pjsip_users.conf:30", "102"],
      ["maintenance-account", "high", "pjsip_users.conf:32", "test"],
      // The template's password, reported where it is written, for the auth that inherits it.
      ["weak-secret", "critical", "pjsip.conf:16", "100"],
      ["guest-calls", "medium", "pjsip.conf:18", "anonymous"],
      ["guest-calls", "medium", "sip.conf:3", "general"],
      ["weak-secret", "critical", "sip.conf:9", "200"],
      ["maintenance-account", "high", "sip.conf:13", "support"],
    ]);
    assert.deepEqual(report.warnings, []);
    const pjsip100 = report.findings.find((f) => f.section === "100");
    assert.equal(
      pjsip100?.message,
      'PJSIP auth "100" password ch**** is in the list of common passwords, is 8 characters long (fewer than 10).',
    );
    const intl = report.findings.find((f) => f.line === 21);
    assert.match(intl?.message ?? "", /through allowguest in sip\.conf/);
    assert.match(intl?.fix ?? "", /AGI\(agi:\/\/127\.0\.0\.1:4573\/authorize\)/);
  });

  it("finds nothing in asterisk-good", () => {
    const report = audit("asterisk", "asterisk-good");
    assert.deepEqual(report.findings, []);
  });

  it("treats chan_sip's defaults as the weaknesses they are", () => {
    const files = new Map([
      ["sip.conf", "[general]\n\n[300]\ntype=friend\nsecret=Wk3-lemon-Tide-408\n"],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Asterisk dialplan text.
      ["extensions.conf", "[default]\nexten => _X.,1,Dial(SIP/carrier/${EXTEN})\n"],
    ]);
    const report = auditPbx("asterisk", files, { weakPasswords });
    assert.deepEqual(report.findings.map(brief), [
      ["unauth-international", "critical", "extensions.conf:2", "default"],
      ["guest-calls", "medium", "sip.conf:1", "general"],
    ]);
    assert.match(report.findings[1]!.message, /on by default/);
  });

  it("skips sip.conf when chan_sip is not loaded, and says so", () => {
    const files = new Map([
      ["modules.conf", "[modules]\nnoload => chan_sip.so\n"],
      ["sip.conf", "[general]\nallowguest=yes\n[1]\nsecret=1\n"],
    ]);
    const report = auditPbx("asterisk", files, { weakPasswords });
    assert.deepEqual(report.findings, []);
    assert.match(report.warnings[0] ?? "", /chan_sip is not loaded/);
  });

  it("lowers the severity of weak AMI secrets that only this host can use", () => {
    const files = new Map([
      ["manager.conf", "[general]\nenabled=yes\nbindaddr=127.0.0.1\n\n[crm]\nsecret=crm\n"],
      ["http.conf", "[general]\nenabled=no\n"],
      ["ari.conf", "[ops]\ntype=user\npassword=ops\n\n[maint]\ntype=user\npassword=Rq8-mango-Vale-55x\n"],
    ]);
    assert.deepEqual(auditPbx("asterisk", files, { weakPasswords }).findings.map(brief), [
      ["weak-secret", "low", "ari.conf:3", "ops"],
      ["maintenance-account", "high", "ari.conf:5", "maint"],
      ["weak-secret", "medium", "manager.conf:6", "crm"],
    ]);
  });
});

describe("PBX audit: FreeSWITCH", () => {
  it("finds each planted weakness in freeswitch-weak, and nothing else", () => {
    const report = audit("freeswitch", "freeswitch-weak");
    assert.deepEqual(report.findings.map(brief), [
      ["event-socket-exposed", "critical", "autoload_configs/event_socket.conf.xml:6", "event_socket.conf"],
      ["international-unrestricted", "high", "dialplan/default/01_international.xml:3", "default"],
      ["unauth-international", "critical", "dialplan/public.xml:10", "public"],
      ["weak-secret", "critical", "directory/default/1000.xml:4", "1000"],
      ["weak-secret", "critical", "directory/default/1001.xml:4", "1001"],
      ["maintenance-account", "high", "directory/default/tech.xml:3", "tech"],
      ["guest-calls", "high", "sip_profiles/internal.xml:6", "internal"],
    ]);
    assert.deepEqual(report.warnings, []);
    const shared = report.findings.find((f) => f.section === "1000");
    assert.match(shared?.message ?? "", /\$\$\{default_password\} \(1\*\*\*\*, set in vars\.xml:3\)/);
    const esl = report.findings[0];
    assert.match(esl?.message ?? "", /well-known default/);
    assert.doesNotMatch(esl?.message ?? "", /ClueCon/i);
  });

  it("accepts a locked-down event socket and reports a weak one on loopback as medium", () => {
    const esl = (ip: string, pw: string, acl = "") =>
      new Map([
        [
          "autoload_configs/event_socket.conf.xml",
          `<configuration name="event_socket.conf"><settings><param name="listen-ip" value="${ip}"/><param name="password" value="${pw}"/>${acl}</settings></configuration>`,
        ],
      ]);
    const run = (files: Map<string, string>) =>
      auditPbx("freeswitch", files, { weakPasswords }).findings.map((f) => [f.id, f.severity]);
    assert.deepEqual(run(esl("127.0.0.1", "Gm4-walnut-Pier-913")), []);
    assert.deepEqual(run(esl("127.0.0.1", "ClueCon")), [["weak-secret", "medium"]]);
    assert.deepEqual(run(esl("0.0.0.0", "Gm4-walnut-Pier-913")), [["event-socket-exposed", "medium"]]);
    assert.deepEqual(run(esl("0.0.0.0", "ClueCon", '<param name="apply-inbound-acl" value="lan"/>')), [
      ["weak-secret", "critical"],
    ]);
  });
});
