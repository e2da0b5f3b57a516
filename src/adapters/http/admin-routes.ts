import { z } from "zod";
import type { CallService } from "../../app/call-service.js";
import { accountIdSchema, accountPolicySchema } from "../../calls/policy.js";
import { MamoriError } from "../../core/errors.js";
import { type Role, roles, type Store } from "../store/store.js";
import type { KeyRing } from "./auth.js";
import { newKey } from "./auth.js";
import type { TimeSource } from "./calls-routes.js";
import type { AnyRoute } from "./route-table.js";

/** Accounts, blocks, alerts, the decision and audit logs, and API keys. */
const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();
const limit = z.coerce.number().int().min(1).max(1000).default(100);
const since = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));
const idParams = z.object({ id: z.string().min(1).max(200) }).strict();
const accountParams = z.object({ id: accountIdSchema }).strict();

const blockBody = z
  .object({
    account: accountIdSchema,
    reason: z.string().min(3).max(500).describe("why, for the audit log and the customer"),
    minutes: z
      .number()
      .int()
      .positive()
      .max(525_600)
      .optional()
      .describe("how long; until lifted when left out"),
  })
  .strict();

const liftBody = z.object({ reason: z.string().min(3).max(500) }).strict();

const blockJson = (b: Awaited<ReturnType<Store["listBlocks"]>>[number], now: number) => ({
  id: b.id,
  account: b.account,
  scope: b.scope,
  rule: b.rule,
  reason: b.reason,
  evidence: b.evidence,
  createdAt: iso(b.createdAt),
  createdBy: b.createdBy,
  until: iso(b.until),
  active: b.liftedAt === null && (b.until === null || b.until > now),
  liftedAt: iso(b.liftedAt),
  liftedBy: b.liftedBy,
  liftReason: b.liftReason,
});

export function adminRoutes(calls: CallService, store: Store, keys: KeyRing, now: TimeSource): AnyRoute[] {
  return [
    {
      method: "GET",
      url: "/v1/accounts",
      summary: "List account policies",
      tags: ["accounts"],
      role: "viewer",
      handler: async () => ({ accounts: await store.listAccounts() }),
    },
    {
      method: "GET",
      url: "/v1/accounts/:id",
      summary: "An account's policy, with its live calls and blocks in force",
      tags: ["accounts"],
      role: "viewer",
      params: accountParams,
      handler: async ({ params }) => {
        const policy = await store.getAccount(params.id);
        if (!policy) throw new MamoriError("MAMORI_NOT_FOUND", `no account ${params.id}; create it with PUT`);
        const t = now();
        const blocks = await store.listBlocks({ account: params.id, activeAt: t });
        return {
          policy,
          liveCalls: calls.guard.liveCount(params.id),
          blocks: blocks.map((b) => blockJson(b, t)),
        };
      },
    },
    {
      method: "PUT",
      url: "/v1/accounts/:id",
      summary: "Create or replace an account's policy (the same schema as the accounts file)",
      tags: ["accounts"],
      role: "admin",
      params: accountParams,
      body: accountPolicySchema.omit({ id: true }).extend({ id: accountIdSchema.optional() }),
      handler: async ({ params, body, key }, _req, reply) => {
        if (body.id !== undefined && body.id !== params.id)
          throw new MamoriError(
            "MAMORI_BAD_REQUEST",
            `body.id "${body.id}" differs from the path's "${params.id}"`,
            [{ path: "body.id", message: "must equal the id in the path, or be left out" }],
          );
        const policy = accountPolicySchema.parse({ ...body, id: params.id });
        const r = await calls.putAccount(policy, key?.id ?? "?", now());
        reply.code(r === "created" ? 201 : 200);
        return { result: r, policy };
      },
    },
    {
      method: "DELETE",
      url: "/v1/accounts/:id",
      summary: "Delete an account's policy (it then gets the policy for unknown accounts)",
      tags: ["accounts"],
      role: "admin",
      params: accountParams,
      handler: async ({ params, key }) => {
        if (!(await calls.deleteAccount(params.id, key?.id ?? "?", now())))
          throw new MamoriError("MAMORI_NOT_FOUND", `no account ${params.id}`);
        return { deleted: params.id };
      },
    },
    {
      method: "GET",
      url: "/v1/alerts",
      summary: "Alerts, newest first",
      tags: ["alerts"],
      role: "viewer",
      query: z
        .object({
          account: accountIdSchema.optional(),
          rule: z.string().max(64).optional(),
          severity: z.enum(["warning", "critical"]).optional(),
          guard: z.enum(["calls", "pbx", "flows", "shield"]).optional(),
          since: since.optional(),
          before: z.coerce.number().int().positive().optional().describe("alert id to page from"),
          limit,
        })
        .strict(),
      handler: async ({ query }) => {
        const alerts = await store.listAlerts(query);
        return { alerts: alerts.map((a) => ({ ...a, at: iso(a.at) })) };
      },
    },
    {
      method: "GET",
      url: "/v1/blocks",
      summary: "Blocks of international calling, newest first; active=true for those in force",
      tags: ["blocks"],
      role: "viewer",
      query: z
        .object({
          account: accountIdSchema.optional(),
          active: z.enum(["true", "false"]).optional(),
          limit,
        })
        .strict(),
      handler: async ({ query }) => {
        const t = now();
        const blocks = await store.listBlocks({
          account: query.account,
          activeAt: query.active === "true" ? t : undefined,
          limit: query.limit,
        });
        return { blocks: blocks.map((b) => blockJson(b, t)) };
      },
    },
    {
      method: "POST",
      url: "/v1/blocks",
      summary: "Block an account's international calling by hand",
      tags: ["blocks"],
      role: "operator",
      body: blockBody,
      handler: async ({ body, key }, _req, reply) => {
        const t = now();
        const b = await calls.block(
          body.account,
          body.reason,
          body.minutes ? t + body.minutes * 60_000 : null,
          key?.id ?? "?",
          t,
        );
        reply.code(201);
        return blockJson(b, t);
      },
    },
    {
      method: "DELETE",
      url: "/v1/blocks/:id",
      summary: "Lift a block (the reason goes to the audit log)",
      tags: ["blocks"],
      role: "operator",
      params: idParams,
      body: liftBody.partial(),
      handler: async ({ params, body, key }, req) => {
        const q = req.query as Record<string, unknown>;
        const reason = body?.reason ?? (typeof q.reason === "string" ? q.reason : "lifted by operator");
        const t = now();
        return blockJson(await calls.lift(params.id, reason, key?.id ?? "?", t), t);
      },
    },
    {
      method: "GET",
      url: "/v1/decisions",
      summary: "The decision log: every call authorized or denied, newest first",
      tags: ["calls"],
      role: "viewer",
      query: z
        .object({
          account: accountIdSchema.optional(),
          decision: z.enum(["allow", "deny"]).optional(),
          since: since.optional(),
          limit,
        })
        .strict(),
      handler: async ({ query }) => {
        const rows = await store.listCalls(query);
        return {
          decisions: rows.map((r) => ({
            ...r,
            at: iso(r.at),
            answeredAt: iso(r.answeredAt),
            endedAt: iso(r.endedAt),
            e164: r.e164 === null ? null : "+" + r.e164,
          })),
        };
      },
    },
    {
      method: "GET",
      url: "/v1/audit",
      summary: "The audit log: every block, lift, policy and key change, and who made it",
      tags: ["audit"],
      role: "viewer",
      query: z
        .object({
          actor: z.string().max(100).optional(),
          subject: z.string().max(200).optional(),
          before: z.coerce.number().int().positive().optional(),
          limit,
        })
        .strict(),
      handler: async ({ query }) => ({
        entries: (await store.listAudit(query)).map((e) => ({ ...e, at: iso(e.at) })),
      }),
    },
    {
      method: "GET",
      url: "/v1/keys",
      summary: "API keys (never their secrets)",
      tags: ["keys"],
      role: "admin",
      handler: async () => ({
        keys: (await store.listKeys()).map((k) => ({
          id: k.id,
          name: k.name,
          role: k.role,
          createdAt: iso(k.createdAt),
          revokedAt: iso(k.revokedAt),
        })),
      }),
    },
    {
      method: "POST",
      url: "/v1/keys",
      summary: "Create an API key; the secret is in this answer only",
      tags: ["keys"],
      role: "admin",
      body: z.object({ name: z.string().min(1).max(100), role: z.enum(roles) }).strict(),
      handler: async ({ body, key }, _req, reply) => {
        const t = now();
        const { record, secret } = newKey(body.name, body.role as Role, t);
        await store.insertKey(record);
        await store.appendAudit({
          at: t,
          actor: key?.id ?? "?",
          action: "key.create",
          subject: record.id,
          detail: { name: record.name, role: record.role },
        });
        reply.code(201);
        return { id: record.id, name: record.name, role: record.role, secret };
      },
    },
    {
      method: "DELETE",
      url: "/v1/keys/:id",
      summary: "Revoke an API key",
      tags: ["keys"],
      role: "admin",
      params: idParams,
      handler: async ({ params, key }) => {
        if (params.id === key?.id)
          throw new MamoriError("MAMORI_CONFLICT", "a key cannot revoke itself; use another admin key");
        const t = now();
        if (!(await store.revokeKey(params.id, t)))
          throw new MamoriError("MAMORI_NOT_FOUND", `no active key ${params.id}`);
        keys.forget();
        await store.appendAudit({
          at: t,
          actor: key?.id ?? "?",
          action: "key.revoke",
          subject: params.id,
          detail: {},
        });
        return { revoked: params.id };
      },
    },
  ];
}
