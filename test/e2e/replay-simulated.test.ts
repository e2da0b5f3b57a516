import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runSimulate } from "../../src/cli/simulate.js";
import { scenarioNames } from "../../src/sim/index.js";
import { mamoriCommand, tempDir } from "../support/mamori-process.js";
import { repoRoot } from "../support/paths.js";

/**
 * A simulated month of a small carrier (100 accounts, every fraud scenario once), written as Master.csv and
 * replayed by the real `mamori replay` under the simulated accounts' policies: every incident must raise
 * an alert on its account within its labelled window, and no account that was never attacked may get a
 * critical alert or a block.
 */
type Label = { account: string; scenario: string; start: string; end: string; calls: number };
type AlertLine = { at: string; rule: string; severity: string; account: string; decision: string };

const readJsonLines = <T>(path: string): T[] =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T);

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const { cmd, args: full } = mamoriCommand(args);
  const child = spawn(cmd, full, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test("mamori replay catches every simulated incident and leaves benign accounts alone", {
  timeout: 90_000,
}, async () => {
  const dir = tempDir("mamori-sim-");
  const files = {
    out: join(dir, "Master.csv"),
    labels: join(dir, "labels.jsonl"),
    accountsOut: join(dir, "accounts.yaml"),
    alerts: join(dir, "alerts.jsonl"),
  };
  const sim = await runSimulate({
    accounts: 100,
    days: 30,
    start: "2026-04-20",
    seed: 11,
    format: "asterisk-csv",
    out: files.out,
    labels: files.labels,
    accountsOut: files.accountsOut,
    timeZone: "Asia/Tokyo",
  });
  assert.ok(sim.calls > 100_000, `a month of calls (${sim.calls})`);
  const r = await run(
    [
      "replay",
      "--format",
      "asterisk-csv",
      files.out,
      "--accounts",
      files.accountsOut,
      "--alerts",
      files.alerts,
      "--quiet",
    ],
    60_000,
  );
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, new RegExp(`Replayed ${sim.calls.toLocaleString("en-US")} calls`));
  assert.match(r.output, /rejected 0/);

  const labels = readJsonLines<Label>(files.labels);
  const alerts = readJsonLines<AlertLine>(files.alerts);
  assert.deepEqual(labels.map((l) => l.scenario).sort(), [...scenarioNames].sort());
  for (const l of labels) {
    const [from, to] = [Date.parse(l.start), Date.parse(l.end)];
    const hits = alerts.filter(
      (a) => a.account === l.account && Date.parse(a.at) >= from && Date.parse(a.at) <= to,
    );
    assert.ok(hits.length > 0, `${l.scenario} on ${l.account} (${l.start} … ${l.end}) raised no alert`);
  }
  const victims = new Set(labels.map((l) => l.account));
  const benign = alerts.filter((a) => !victims.has(a.account));
  const serious = benign.filter((a) => a.severity === "critical" || a.decision === "block");
  assert.deepEqual(serious, [], "benign accounts get no critical alert and no block");
});
