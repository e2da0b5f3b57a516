import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lastEntry, parseAsteriskConf } from "./asterisk-conf.js";
import {
  asteriskPatternRegex,
  internationalMatchAsterisk,
  internationalMatchRegex,
} from "./dial-patterns.js";
import { loadFreeswitchTree } from "./freeswitch-conf.js";
import { maskSecret, secretWeakness } from "./secrets.js";
import { parseXml } from "./xml.js";

describe("Asterisk .conf parser", () => {
  it("applies templates, (+) additions, comments and includes with globs", () => {
    const files = new Map([
      [
        "pjsip.conf",
        [
          "[base](!) ; a template",
          "type=endpoint",
          "context=internal",
          ";-- a block comment",
          "password=hidden",
          "--;",
          "[phone](base)",
          "context=phones\\;odd",
          "#include pjsip.d/*.conf",
          "#include missing.conf",
          "#tryinclude optional.conf",
          "[phone](+)",
          "allow=ulaw",
        ].join("\n"),
      ],
      ["pjsip.d/a.conf", "[a]\ntype=auth\n"],
      ["pjsip.d/b.conf", "#include /etc/asterisk/pjsip.conf\n[b]\ntype=aor\n"],
    ]);
    const { sections, warnings } = parseAsteriskConf("pjsip.conf", files);
    assert.deepEqual(
      sections.map((s) => [s.name, s.isTemplate, s.file, s.line]),
      [
        ["base", true, "pjsip.conf", 1],
        ["phone", false, "pjsip.conf", 7],
        ["a", false, "pjsip.d/a.conf", 1],
        ["b", false, "pjsip.d/b.conf", 2],
      ],
    );
    const phone = sections[1]!;
    assert.deepEqual(
      phone.entries.map((e) => [e.key, e.value, e.line, e.inheritedFrom]),
      [
        ["type", "endpoint", 2, "base"],
        ["context", "internal", 3, "base"],
        ["context", "phones;odd", 8, undefined],
        ["allow", "ulaw", 13, undefined],
      ],
    );
    assert.equal(lastEntry(phone, "CONTEXT")?.value, "phones;odd");
    assert.deepEqual(warnings, [
      "pjsip.d/b.conf:1: #include pjsip.conf would loop; skipped",
      "pjsip.conf:10: #include missing.conf not found in the audited directory",
    ]);
  });
});

describe("dial patterns", () => {
  it("translates Asterisk patterns", () => {
    assert.equal(asteriskPatternRegex("_NXX-XXXX")?.source, "^[2-9][0-9][0-9][0-9][0-9][0-9][0-9]$");
    assert.equal(asteriskPatternRegex("100"), undefined);
    assert.ok(asteriskPatternRegex("_[13-5]X!")?.test("40"));
    assert.equal(asteriskPatternRegex("_[13-5]X!")?.test("20"), false);
  });

  it("knows which patterns reach abroad", () => {
    for (const p of [
      "_00X.",
      "_011X.",
      "_010X.",
      "_+X.",
      "_9011.",
      "_X.",
      "_0X.",
      "_.",
      "_0011X.",
      "_90X.",
    ]) {
      assert.ok(internationalMatchAsterisk(p), p);
    }
    for (const p of ["_1XX", "_NXXNXXXXXX", "_0[2-9]XXXXXXXX", "_1NXXNXXXXXX", "911", "_*X."]) {
      assert.equal(internationalMatchAsterisk(p), undefined, p);
    }
    assert.ok(internationalMatchRegex("^(011\\d+)$"));
    assert.equal(internationalMatchRegex("^(10[01][0-9])$"), undefined);
    assert.equal(internationalMatchRegex("^(unclosed"), null);
  });
});

describe("secrets", () => {
  it("masks without revealing length or much of the value", () => {
    assert.equal(maskSecret(""), "****");
    assert.equal(maskSecret("abc"), "****");
    assert.equal(maskSecret("1234"), "1****");
    assert.equal(maskSecret("a-very-long-secret"), "a-****");
  });

  it("grades weaknesses", () => {
    const list = new Set(["password"]);
    assert.deepEqual(secretWeakness("Password", [], list), {
      severity: "critical",
      reasons: ["is in the list of common passwords", "is 8 characters long (fewer than 10)"],
    });
    assert.equal(secretWeakness("", [], list)?.severity, "critical");
    assert.deepEqual(secretWeakness("1234567890123", [], list), {
      severity: "high",
      reasons: ["is digits only"],
    });
    assert.deepEqual(secretWeakness("xx-alice-Secret-9", ["alice"], list), {
      severity: "high",
      reasons: ["contains the account name"],
    });
    assert.equal(secretWeakness("Rk4-random-Words-22", ["100"], list), undefined);
  });
});

describe("XML and the FreeSWITCH preprocessor", () => {
  it("parses elements with line numbers and entities, and tolerates mistakes", () => {
    const { root, warnings } = parseXml(
      '<?xml version="1.0"?>\n<!-- c -->\n<a x="1 &amp; 2">\n  <b y=\'q\'/>\n  <![CDATA[<z/>]]>\n</c>\n',
      "t.xml",
    );
    const a = root.children[0]!;
    assert.equal(a.attrs.x, "1 & 2");
    assert.equal(a.line, 3);
    assert.deepEqual(
      a.children.map((c) => [c.name, c.attrs.y, c.line]),
      [["b", "q", 4]],
    );
    assert.deepEqual(warnings, ["t.xml:6: </c> closes nothing", "t.xml: <a> is not closed"]);
  });

  it("sets variables in order and splices includes relative to the including file", () => {
    const files = new Map([
      [
        "vars.xml",
        '<include><X-PRE-PROCESS cmd="set" data="pw=abc"/><X-PRE-PROCESS cmd="set" data="pw2=$${pw}d"/></include>',
      ],
      [
        "dialplan/default.xml",
        '<include><context name="default"><X-PRE-PROCESS cmd="include" data="default/*.xml"/></context></include>',
      ],
      ["dialplan/default/x.xml", '<include><extension name="x" v="$${pw2}"/></include>'],
    ]);
    const tree = loadFreeswitchTree(files);
    const ctx = tree.roots.find((r) => r.name === "context")!;
    assert.deepEqual(
      ctx.children.map((c) => [c.name, c.attrs.v, c.raw.v, c.file]),
      [["extension", "abcd", "$${pw2}", "dialplan/default/x.xml"]],
    );
    assert.deepEqual(tree.warnings, []);
  });
});
