import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { repoRoot } from "../../test/support/paths.js";
import { classifyNumber, lookupRate, lookupRisk } from "../calls/numbering.js";
import { loadNumberingData, RISK_FILE, TARIFF_FILE } from "./rules-files.js";

const rulesDir = join(repoRoot, "rules");
const data = loadNumberingData(rulesDir);

describe("shipped rules", () => {
  test("load", () => {
    assert.equal(data.currency, "JPY");
    assert.ok(data.risk.entries.length >= 40);
    assert.ok(data.tariffs.rates.length >= 40);
  });

  test("each file opens with a comment naming its sources and when to update it", () => {
    for (const name of [RISK_FILE, TARIFF_FILE]) {
      const text = readFileSync(join(rulesDir, name), "utf8");
      assert.ok(text.startsWith("#"), name);
      const header = text.slice(0, text.search(/^[a-z]/m));
      assert.match(header, /Sources/, name);
      assert.match(header, /When to update/, name);
    }
    assert.match(readFileSync(join(rulesDir, TARIFF_FILE), "utf8"), /INDICATIVE FIGURES/);
  });

  test("the risk list holds the codes Japanese carriers warn about, as high", () => {
    for (const prefix of ["224", "232", "237", "239", "245", "252", "370", "371", "423", "670"]) {
      const entry = data.risk.entries.find((e) => e.prefix === prefix);
      assert.equal(entry?.level, "high", prefix);
    }
  });

  test("the risk list holds satellite, non-geographic and other IRSF-prone codes", () => {
    const listed = new Set(data.risk.entries.map((e) => e.prefix));
    const required = ["870", "881", "882", "883", "53", "216", "220", "231", "242", "243", "246", "263"];
    required.push("674", "675", "682", "683", "688", "690");
    for (const prefix of required) assert.ok(listed.has(prefix), prefix);
    for (const entry of data.risk.entries) assert.ok(entry.reason.length > 3, entry.prefix);
    assert.equal(lookupRisk(data.risk, "881612345678")?.prefix, "8816");
    assert.equal(lookupRisk(data.risk, "37190123456")?.prefix, "37190");
    assert.equal(lookupRisk(data.risk, "81312345678"), undefined);
    assert.equal(lookupRisk(data.risk, "12125551234"), undefined);
  });

  test("the tariff prices Japan, cheap destinations, high-risk ones and a catch-all", () => {
    const perMinute = (digits: string) => lookupRate(data.tariffs, digits)?.perMinute ?? Number.NaN;
    assert.ok(
      data.tariffs.rates.some((rate) => rate.prefix === ""),
      "catch-all",
    );
    assert.ok(perMinute("81312345678") < 10, "Japan fixed");
    assert.ok(perMinute("819012345678") > perMinute("81312345678"), "Japan mobile above fixed");
    assert.equal(perMinute("81120444444"), 0, "free dial");
    assert.ok(perMinute("815012345678") < 10, "050 IP");
    for (const cheap of ["12125551234", "8613812345678", "821012345678", "442079460000"]) {
      assert.ok(perMinute(cheap) <= 30, cheap);
    }
    const sierraLeone = perMinute("23276123456");
    assert.ok(sierraLeone >= 100 && sierraLeone <= 250, "Sierra Leone");
    for (const satellite of ["870773123456", "881612345678", "8821612345678"]) {
      const price = perMinute(satellite);
      assert.ok(price >= 500 && price <= 1500, satellite);
    }
    assert.equal(
      perMinute("9991234"),
      lookupRate(data.tariffs, "")?.perMinute,
      "unlisted falls to the catch-all",
    );
  });

  test("classifyNumber with the shipped data", () => {
    const result = classifyNumber("0-010-232-76-123456", { country: "JP", outsideLinePrefix: "0" }, data);
    assert.ok(result.ok);
    assert.equal(result.value.risk?.level, "high");
    assert.equal(result.value.rate?.description, "Sierra Leone");
  });
});

describe("loadNumberingData on bad files", () => {
  const dir = mkdtempSync(join(tmpdir(), "mamori-rules-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a missing file is named", () => {
    assert.throws(() => loadNumberingData(join(dir, "absent")), /risk-destinations\.yaml/);
  });

  test("a malformed entry is named with file and line", () => {
    copyFileSync(join(rulesDir, TARIFF_FILE), join(dir, TARIFF_FILE));
    writeFileSync(
      join(dir, RISK_FILE),
      'destinations:\n  - prefix: "232"\n    level: severe\n    reason: x\n',
    );
    assert.throws(() => loadNumberingData(dir), /risk-destinations\.yaml line 3: destinations\[0\]\.level/);
  });

  test("a broken tariff is named too", () => {
    copyFileSync(join(rulesDir, RISK_FILE), join(dir, RISK_FILE));
    writeFileSync(join(dir, TARIFF_FILE), "currency: JPY\nrates: []\n");
    assert.throws(() => loadNumberingData(dir), /tariffs\.yaml line 2: rates: must list at least one rate/);
  });
});
