import { createReadStream, readdirSync, realpathSync, statSync } from "node:fs";
import { basename, join, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { z } from "zod";
import type { History } from "../../app/history.js";
import { replayAlertJson, replayByRule, replayReportHtml, runReplay } from "../../app/replay-run.js";
import type { CallGuard } from "../../calls/guard.js";
import { accountIdSchema } from "../../calls/policy.js";
import type { HourBucket } from "../../calls/replay.js";
import { type RuleId, ruleCatalogue } from "../../calls/rules.js";
import type { Config } from "../../config/schema.js";
import { MamoriError } from "../../core/errors.js";
import { pbxRuleCatalogue } from "../../sip/rule-catalogue.js";
import type { PbxRuleId } from "../../sip/settings.js";
import { timeZoneSchema } from "../ingest/cdr/column-map.js";
import { cdrFormats } from "../ingest/cdr/index.js";
import type { Store } from "../store/store.js";
import type { TimeSource } from "./calls-routes.js";
import type { AnyRoute } from "./route-table.js";

/**
 * What the operator console needs beyond the resource routes: who the key is, per-minute history of
 * the live counters, an account's usage against its caps, and a replay of a CDR file with the same
 * report as `mamori replay --report`. Public API like the rest: scripts may use them too.
 */
export type ConsoleDeps = {
  readonly config: Config;
  readonly store: Store;
  readonly guard: CallGuard;
  readonly history: History;
  /** Brings the history up to now before it is read (otherwise it moves once a second). */
  readonly sampleHistory: (at: number) => Promise<void>;
  readonly now: TimeSource;
};

const replayQuery = z
  .object({
    format: z.enum(cdrFormats),
    timeZone: timeZoneSchema.optional().describe("zone of wall-clock times in the file (default UTC)"),
    horizonHours: z.coerce.number().min(0).max(48).optional(),
    name: z.string().max(200).optional().describe("the file's name, for the report's title"),
  })
  .strict();

const fileReplayBody = z
  .object({
    file: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^/\\]+$/, "a file name inside server.replayDir, without folders")
      .describe("name of a file in server.replayDir"),
    format: z.enum(cdrFormats),
    timeZone: timeZoneSchema.optional(),
    horizonHours: z.number().min(0).max(48).optional(),
  })
  .strict();

/**
 * Per account: calls, spend and money saved, with hourly points for the accounts that cost the most
 * (the report's charts; every account is in the downloadable report).
 */
function accountSeries(
  series: ReadonlyMap<string, ReadonlyMap<number, HourBucket>>,
  alerts: readonly { account: string }[],
) {
  const alerted = new Map<string, number>();
  for (const a of alerts) alerted.set(a.account, (alerted.get(a.account) ?? 0) + 1);
  const rows = [...series].map(([account, hours]) => {
    let calls = 0;
    let denied = 0;
    let cost = 0;
    let saved = 0;
    for (const b of hours.values()) {
      calls += b.calls;
      denied += b.denied;
      cost += b.cost;
      saved += b.saved;
    }
    return {
      account,
      calls,
      denied,
      cost: Math.round(cost),
      saved: Math.round(saved),
      alerts: alerted.get(account) ?? 0,
      hours,
    };
  });
  rows.sort((a, b) => b.alerts - a.alerts || b.cost - a.cost);
  return rows.slice(0, 200).map(({ hours, ...r }, i) => ({
    ...r,
    hourly:
      i < 12
        ? [...hours.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([at, b]) => ({
              at: new Date(at).toISOString(),
              calls: b.calls,
              denied: b.denied,
              cost: Math.round(b.cost),
            }))
        : undefined,
  }));
}

/** At most one replay runs at a time: it shares the process with the call path. */
let replaying = false;

export function consoleRoutes(d: ConsoleDeps): AnyRoute[] {
  const replay = async (
    name: string,
    stream: Readable,
    o: {
      format: (typeof cdrFormats)[number];
      timeZone?: string | undefined;
      horizonHours?: number | undefined;
    },
  ) => {
    if (replaying)
      throw new MamoriError("MAMORI_CONFLICT", "a replay is running already; try again when it ends");
    replaying = true;
    try {
      const run = await runReplay([{ name, stream }], {
        format: o.format,
        config: d.config,
        accounts: await d.store.listAccounts(),
        cdr: { ...d.config.cdr, ...(o.timeZone ? { timeZone: o.timeZone } : {}) },
        horizonHours: o.horizonHours,
        // A large file must not hold up call decisions: give the event loop a turn after each batch.
        onProgress: () => new Promise<void>((r) => setImmediate(r)),
      });
      const s = run.replayer.stats;
      return {
        file: name,
        seconds: run.seconds,
        rows: { read: run.cdr.lines, used: run.cdr.records, rejected: run.cdr.rejected },
        rejectedByReason: run.cdr.rejectedByReason,
        rejections: run.rejections,
        calls: {
          allowed: s.allowed,
          denied: s.denied,
          terminated: s.terminated,
          late: s.late,
          estimatedSpend: Math.round(s.cost),
          saved: Math.round(s.saved),
        },
        currency: "JPY",
        byRule: replayByRule(run.alerts),
        alertCount: run.alerts.length,
        alerts: run.alerts.slice(0, 1000).map(replayAlertJson),
        accounts: accountSeries(run.replayer.series, run.alerts),
        reportHtml: replayReportHtml(run, `Mamori replay: ${name}`, [name]),
      };
    } finally {
      replaying = false;
    }
  };

  const replayDir = () => {
    const dir = d.config.server.replayDir;
    if (!dir)
      throw new MamoriError(
        "MAMORI_NOT_FOUND",
        "no server.replayDir is configured; upload the file instead (POST /v1/replay)",
      );
    return resolve(dir);
  };

  return [
    {
      method: "GET",
      url: "/v1/alerts/:id",
      summary: "One alert with its evidence, the note of its rule, and the decision taken",
      tags: ["alerts"],
      role: "viewer",
      params: z.object({ id: z.coerce.number().int().positive() }).strict(),
      handler: async ({ params }) => {
        const [a] = await d.store.listAlerts({ before: params.id + 1, limit: 1 });
        if (!a || a.id !== params.id) throw new MamoriError("MAMORI_NOT_FOUND", `no alert ${params.id}`);
        const note =
          a.guard === "calls"
            ? ruleCatalogue[a.rule as RuleId]?.note
            : a.guard === "pbx"
              ? pbxRuleCatalogue[a.rule as PbxRuleId]?.note
              : undefined;
        return {
          alert: { ...a, at: new Date(a.at).toISOString() },
          rule: { id: a.rule, note: note ?? null },
        };
      },
    },
    {
      method: "GET",
      url: "/v1/rules",
      summary: "The rule catalogues of the call guard and the PBX guard: what each rule looks for",
      tags: ["alerts"],
      role: "viewer",
      handler: async () => ({ calls: ruleCatalogue, pbx: pbxRuleCatalogue }),
    },
    {
      method: "GET",
      url: "/v1/me",
      summary: "The API key making this request: its id, name and role (what the console may show)",
      tags: ["keys"],
      role: "viewer",
      handler: async ({ key }) => ({ id: key?.id, name: key?.name, role: key?.role }),
    },
    {
      method: "GET",
      url: "/v1/stats/history",
      summary:
        "Per-minute history of the live counters (calls allowed and denied, international spend, SIP login failures, bans, shield admitted and shed, flow rates); kept in memory, so it starts again after a restart",
      tags: ["events"],
      role: "viewer",
      query: z.object({ minutes: z.coerce.number().int().min(1).max(1440).default(60) }).strict(),
      handler: async ({ query }) => {
        const t = d.now();
        await d.sampleHistory(t);
        return d.history.read(t, query.minutes);
      },
    },
    {
      method: "GET",
      url: "/v1/accounts/:id/usage",
      summary:
        "An account's spend against its caps now, and its calls per destination country over the last hours",
      tags: ["accounts"],
      role: "viewer",
      params: z.object({ id: accountIdSchema }).strict(),
      query: z
        .object({
          hours: z.coerce
            .number()
            .int()
            .min(1)
            .max(24 * 31)
            .default(24),
        })
        .strict(),
      handler: async ({ params, query }) => {
        const t = d.now();
        const bucketMs = query.hours <= 6 ? 600_000 : query.hours <= 72 ? 3_600_000 : 86_400_000;
        const since = Math.floor((t - query.hours * 3_600_000) / bucketMs) * bucketMs;
        const rows = await d.store.callHistory(params.id, since, bucketMs);
        return {
          account: params.id,
          usage: d.guard.usage(params.id, t),
          bucketSeconds: bucketMs / 1000,
          since: new Date(since).toISOString(),
          history: rows.map((r) => ({ ...r, at: new Date(r.at).toISOString(), cost: Math.round(r.cost) })),
        };
      },
    },
    {
      method: "POST",
      url: "/v1/replay",
      summary:
        "Replay an uploaded CDR file (the raw file as the body) through the call guard with the stored account policies; answers the summary, the alerts and the HTML report of `mamori replay --report`",
      tags: ["replay"],
      role: "operator",
      query: replayQuery,
      consumes: ["application/octet-stream", "text/csv", "text/plain"],
      bodyLimit: d.config.server.replayUploadBytes,
      handler: async ({ query }, req) => {
        const body = req.body;
        if (!Buffer.isBuffer(body) || body.length === 0)
          throw new MamoriError(
            "MAMORI_BAD_REQUEST",
            "send the CDR file itself as the body, with Content-Type: application/octet-stream",
            [{ path: "body", message: "empty or not a file" }],
          );
        return replay(basename(query.name ?? "upload"), Readable.from([body]), query);
      },
    },
    {
      method: "GET",
      url: "/v1/replay/files",
      summary: "CDR files in server.replayDir that POST /v1/replay/file can replay",
      tags: ["replay"],
      role: "operator",
      handler: async () => {
        const dir = replayDir();
        const files = readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isFile() && !e.name.startsWith("."))
          .map((e) => {
            const st = statSync(join(dir, e.name));
            return { name: e.name, bytes: st.size, modifiedAt: st.mtime.toISOString() };
          })
          .sort((a, b) => a.name.localeCompare(b.name));
        return { files };
      },
    },
    {
      method: "POST",
      url: "/v1/replay/file",
      summary: "Replay a CDR file from server.replayDir by name (same answer as POST /v1/replay)",
      tags: ["replay"],
      role: "operator",
      body: fileReplayBody,
      handler: async ({ body }) => {
        const dir = realpathSync(replayDir());
        let path: string;
        try {
          path = realpathSync(resolve(dir, body.file));
        } catch {
          throw new MamoriError("MAMORI_NOT_FOUND", `no file ${body.file} in the replay folder`);
        }
        // The name is one path segment already; this also refuses a link that leads out of the folder.
        if (!path.startsWith(dir + sep) || !statSync(path).isFile())
          throw new MamoriError("MAMORI_NOT_FOUND", `no file ${body.file} in the replay folder`);
        return replay(body.file, createReadStream(path, { highWaterMark: 1 << 20 }), body);
      },
    },
  ];
}
