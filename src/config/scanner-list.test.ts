import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { repoRoot } from "../../test/support/paths.js";
import { matchScanner, parseScannerList } from "../sip/scanner-list.js";
import { loadScannerList, SCANNER_FILE } from "./scanner-list.js";

const rulesDir = join(repoRoot, "rules");

describe("scanner User-Agent list", () => {
  test("the shipped list loads and names the usual tools", () => {
    const list = loadScannerList(rulesDir);
    assert.ok(list.patterns.length >= 10);
    for (const ua of [
      "friendly-scanner",
      "sipvicious",
      "sipcli/v1.8",
      "VaxSIPUserAgent/3.1",
      "sundayddr",
      "iWar",
      "SIParator",
      "pplsip",
      "sip-scan",
    ])
      assert.ok(matchScanner(list, ua), ua);
    for (const ua of [
      "Yealink SIP-T46S 66.86.0.15",
      "Zoiper rv2.10.16",
      "Asterisk PBX 20.5.0",
      "Grandstream GXP2170",
    ])
      assert.equal(matchScanner(list, ua), undefined, ua);
  });

  test("the shipped file opens with its sources and when to update it", () => {
    const text = readFileSync(join(rulesDir, SCANNER_FILE), "utf8");
    const header = text.slice(0, text.search(/^[a-z]/m));
    assert.match(header, /Sources/);
    assert.match(header, /When to update/);
  });

  test("matches case-insensitively anywhere in the header", () => {
    const r = parseScannerList("agents:\n  - match: Friendly-Scanner\n    note: svmap\n", "t.yaml");
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.equal(matchScanner(r.value, "FRIENDLY-SCANNER/0.9")?.note, "svmap");
    assert.equal(matchScanner(r.value, "x friendly-scanner y")?.match, "friendly-scanner");
  });

  test("bad files are refused with the file, the line and the problem", () => {
    const cases: [string, RegExp][] = [
      ["agents:\n  - match: ab\n    note: x\n", /t\.yaml line 2: agents\[0\]\.match: must be at least 4/],
      [
        "agents:\n  - match: sipcli\n    note: a\n  - match: SIPCLI\n    note: b\n",
        /line 4: .*already listed/,
      ],
      ["agents:\n  - match: sipcli\n", /note: is required/],
      ["agents: []\n", /at least one agent/],
      ["agent:\n  - match: sipcli\n", /agents: is required/],
      ["agents: [\n", /not valid YAML/],
    ];
    for (const [text, want] of cases) {
      const r = parseScannerList(text, "t.yaml");
      assert.equal(r.ok, false, text);
      if (!r.ok) assert.match(r.error.message, want, text);
    }
  });

  const dir = mkdtempSync(join(tmpdir(), "mamori-scanners-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("loading names the file when it is missing or malformed", () => {
    assert.throws(() => loadScannerList(dir), /cannot read scanner list .*scanner-user-agents\.yaml/);
    const file = join(dir, "mine.yaml");
    writeFileSync(file, "agents:\n  - match: x\n    note: y\n");
    assert.throws(() => loadScannerList(file), /mine\.yaml line 2/);
  });
});
