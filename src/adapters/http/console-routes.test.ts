import assert from "node:assert/strict";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pino } from "pino";
import { buildApp } from "../../app/build.js";
import { loadConfig } from "../../config/load.js";

/** The routes the console reads: in process, on a manual clock. */
const quiet = pino({ level: "silent" });
const T0 = Date.UTC(2026, 10, 24, 2, 0, 0);
const allDay = { days: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"], start: "00:00", end: "24:00" };

async function appAt(clock: { t: number }, yaml: Record<string, unknown> = {}) {
  const config = loadConfig({ overrides: { "store.sqlite": ":memory:", ...yaml } });
  const app = await buildApp(config, { log: quiet, now: () => clock.t, manualClock: true });
  const key = app.initialAdminKey ?? "";
  const call = (
    method: "GET" | "POST" | "PUT" | "DELETE",
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
    as = key,
  ) =>
    app.http.inject({
      method,
      url,
      headers: { authorization: `Bearer ${as}`, ...headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  return { app, call };
}

test("history, usage and one alert tell the story of an attack as it happens", async () => {
  const clock = { t: T0 };
  const { app, call } = await appAt(clock);
  await call("PUT", "/v1/accounts/pbx", {
    international: { mode: "all" },
    businessHours: allDay,
    holidays: { calendar: "none" },
    caps: { callsPerSecond: 100, spendPerDay: 50_000 },
  });
  await app.tick();
  let denied = 0;
  for (let i = 0; i < 12; i++) {
    clock.t += 1000;
    const r = await call("POST", "/v1/calls/authorize", {
      callId: `c${i}`,
      account: "pbx",
      to: `+2327${6_100_000 + i * 7919}`,
    });
    if (r.json().decision === "deny") denied++;
  }
  assert.ok(denied > 0, "the attack is stopped");
  await call("POST", "/v1/calls/c0/answer", {});
  clock.t += 30_000;
  await call("POST", "/v1/calls/c0/hangup", {});

  const h = (await call("GET", "/v1/stats/history?minutes=5")).json();
  assert.equal(h.stepSeconds, 60);
  assert.equal(h.at.length, 5);
  const sum = (name: string) => (h.series[name] as number[]).reduce((a, b) => a + b, 0);
  assert.equal(sum("calls.allowed") + sum("calls.denied"), 12);
  assert.equal(sum("calls.denied"), denied);
  assert.ok(sum("calls.internationalSpend") > 0, "allowed +232 calls cost money");
  assert.ok(sum("alerts") >= 1);

  const u = (await call("GET", "/v1/accounts/pbx/usage?hours=6")).json();
  assert.equal(u.usage.caps.spendPerDay, 50_000);
  assert.ok(u.usage.spendToday > 0);
  assert.equal(u.bucketSeconds, 600);
  const sl = u.history.filter((r: { country: string }) => r.country === "SL");
  assert.equal(
    sl.reduce((a: number, r: { allowed: number; denied: number }) => a + r.allowed + r.denied, 0),
    12,
  );

  const list = (await call("GET", "/v1/alerts?account=pbx&severity=critical")).json().alerts;
  const one = await call("GET", `/v1/alerts/${list[0].id}`);
  assert.equal(one.statusCode, 200);
  assert.equal(one.json().alert.rule, list[0].rule);
  assert.match(one.json().rule.note, /\w{10,}/);
  assert.equal((await call("GET", "/v1/alerts/999999")).json().error.code, "MAMORI_NOT_FOUND");

  const me = (await call("GET", "/v1/me")).json();
  assert.equal(me.role, "admin");
  await app.close();
});

test("a replay by upload gives the CLI's summary and report; bad uploads get clear errors", async () => {
  const clock = { t: T0 };
  const dir = mkdtempSync(join(tmpdir(), "mamori-replay-route-"));
  const { app, call } = await appAt(clock, { "server.replayDir": dir });
  const viewer = (await call("POST", "/v1/keys", { name: "v", role: "viewer" })).json().secret;
  // The replay runs under the stored policies: this account may call abroad, so its calls are judged.
  await call("PUT", "/v1/accounts/pbx", { international: { mode: "all" }, outsideLinePrefix: "0" });
  const csv = [0, 1, 2, 3, 4, 5, 6, 7]
    .map(
      (i) =>
        `"pbx","1001","00102327610${1000 + i}","from-internal","""x"" <1001>","PJSIP/1001-1","PJSIP/trunk-2","Dial","","2026-03-01 02:0${i}:00","2026-03-01 02:0${i}:02","2026-03-01 02:0${i}:40",40,38,"ANSWERED","DOCUMENTATION"`,
    )
    .join("\n");
  const octet = { "content-type": "application/octet-stream" };
  const r = await call("POST", "/v1/replay?format=asterisk-csv&name=Master.csv", csv, octet);
  assert.equal(r.statusCode, 200, r.body);
  const a = r.json();
  assert.equal(a.rows.used, 8);
  assert.equal(a.file, "Master.csv");
  assert.ok(
    a.alertCount >= 1,
    `calls to +232 in the night raise alerts: ${JSON.stringify(a.calls)} ${JSON.stringify(a.rejections)}`,
  );
  assert.match(a.reportHtml, /^<!doctype html>/i);
  assert.ok(a.byRule.length >= 1);

  assert.equal((await call("POST", "/v1/replay?format=asterisk-csv", "", octet)).statusCode, 400);
  const badFormat = await call("POST", "/v1/replay?format=excel", csv, octet);
  assert.equal(badFormat.json().error.code, "MAMORI_BAD_REQUEST");
  assert.match(badFormat.json().error.message, /format/);
  const asViewer = await call("POST", "/v1/replay?format=asterisk-csv", csv, octet, viewer);
  assert.equal(asViewer.json().error.code, "MAMORI_FORBIDDEN");

  // From the server's folder: by name only, never a path or a link out of it (links are not listed).
  writeFileSync(join(dir, "Master.csv"), csv);
  symlinkSync("/etc/hostname", join(dir, "outside"));
  assert.deepEqual(
    (await call("GET", "/v1/replay/files")).json().files.map((f: { name: string }) => f.name),
    ["Master.csv"],
  );
  const byName = await call("POST", "/v1/replay/file", { file: "Master.csv", format: "asterisk-csv" });
  assert.equal(byName.json().rows.used, 8);
  const up = await call("POST", "/v1/replay/file", { file: "../etc/passwd", format: "asterisk-csv" });
  assert.equal(up.json().error.code, "MAMORI_BAD_REQUEST");
  const link = await call("POST", "/v1/replay/file", { file: "outside", format: "asterisk-csv" });
  assert.equal(link.json().error.code, "MAMORI_NOT_FOUND", "a link out of the folder is refused");
  await app.close();
});
