import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { loadConfig } from "../src/config/load.js";
import { accountsFileSchema } from "../src/config/schema.js";
import { repoRoot } from "./support/paths.js";

/** The README's configuration examples are what operators copy: they must load as they are. */
const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
const yamlBlocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");

test("every YAML example in the README is a valid configuration or accounts file", () => {
  assert.ok(yamlBlocks.length >= 3, "the README has its examples");
  const dir = mkdtempSync(join(tmpdir(), "mamori-readme-"));
  for (const [i, text] of yamlBlocks.entries()) {
    const doc = parse(text) as Record<string, unknown>;
    if ("accounts" in doc) {
      const r = accountsFileSchema.safeParse(doc);
      assert.ok(r.success, `accounts example #${i + 1}: ${JSON.stringify(r.error?.issues)}`);
      continue;
    }
    const file = join(dir, `example-${i}.yaml`);
    writeFileSync(file, text);
    assert.doesNotThrow(() => loadConfig({ file }), `configuration example #${i + 1}`);
  }
});
