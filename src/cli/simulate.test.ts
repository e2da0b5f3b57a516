import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "../../test/support/mamori-process.js";
import { type CdrFormat, cdrFormats, createCdrStats, readCdrFile } from "../adapters/ingest/cdr/index.js";
import { loadAccountsFileWithCdr } from "../app/build.js";
import { runSimulate } from "./simulate.js";

test("simulate writes every format so that its reader, with the accounts file's cdr options, reads it all", async () => {
  const dir = tempDir("mamori-simulate-");
  for (const format of cdrFormats) {
    const files = {
      out: join(dir, `cdr-${format}`),
      labels: join(dir, `labels-${format}.jsonl`),
      accountsOut: join(dir, `accounts-${format}.yaml`),
    };
    const s = await runSimulate({
      accounts: 12,
      days: 4,
      start: "2026-05-01",
      seed: 3,
      format,
      scenarios: "sequential",
      ...files,
    });
    const { accounts, cdr } = loadAccountsFileWithCdr(files.accountsOut);
    assert.equal(accounts.length, 12);
    const stats = createCdrStats();
    const ids = new Set<string>();
    for await (const item of readCdrFile(files.out, format as CdrFormat, cdr ?? {}, stats))
      if (item.type === "record") ids.add(item.record.callId);
    assert.equal(stats.rejected, 0, `${format}: ${JSON.stringify(stats.rejectedByReason)}`);
    assert.equal(ids.size, s.calls, format);
    const labels = readFileSync(files.labels, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(Object.keys(labels[0]), ["account", "scenario", "start", "end", "calls"]);
    assert.equal(labels[0].scenario, "sequential");
  }
});
