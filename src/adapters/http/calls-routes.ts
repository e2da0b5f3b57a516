import { z } from "zod";
import type { Authorized, CallService } from "../../app/call-service.js";
import { accountIdSchema } from "../../calls/policy.js";
import type { Verdict } from "../../calls/verdict.js";
import { MamoriError } from "../../core/errors.js";
import type { AnyRoute } from "./route-table.js";

/** The switch-facing routes: authorize a call, report its answer and hang-up. */
const isoTime = z.iso.datetime({ offset: true }).describe("event time, ISO 8601; for trusted replayers only");

export const authorizeBody = z
  .object({
    callId: z.string().min(1).max(256),
    account: accountIdSchema,
    to: z.string().min(1).max(128).describe("the number as dialled"),
    from: z.string().max(128).optional(),
    sourceIp: z.union([z.ipv4(), z.ipv6()]).optional(),
    at: isoTime.optional(),
  })
  .strict();

const callEventBody = z
  .object({
    at: isoTime.optional(),
    billsec: z.coerce
      .number()
      .nonnegative()
      .max(31 * 86_400)
      .optional()
      .describe("billed seconds; a number, or its text in form bodies"),
    cause: z.string().max(128).optional(),
    account: accountIdSchema.optional(),
    /** Kamailio's dialog identifiers, so that Mamori can end the call through dlg.end_dlg. */
    dialog: z
      .object({
        hEntry: z.coerce.number().int().nonnegative(),
        hId: z.coerce.number().int().nonnegative(),
        fromTag: z.string().max(128).optional(),
        toTag: z.string().max(128).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const callIdParams = z.object({ callId: z.string().min(1).max(256) }).strict();

export type TimeSource = () => number;

/** Live callers get the service's clock; operator and admin keys may replay with event time. */
function eventTime(at: string | undefined, role: string | undefined, now: TimeSource): number {
  if (at === undefined) return now();
  if (role === "switch")
    throw new MamoriError(
      "MAMORI_FORBIDDEN",
      "'at' (event time) is accepted only from operator or admin keys used for replays; live switches leave it out",
    );
  return Date.parse(at);
}

const reasonSchema = {
  type: "object",
  properties: { rule: { type: "string" }, message: { type: "string" } },
  required: ["rule", "message"],
} as const;

/** The JSON answer of authorize, for its compiled serializer and the OpenAPI document. */
export const verdictSchema = {
  type: "object",
  properties: {
    callId: { type: "string" },
    account: { type: "string" },
    decision: { type: "string", enum: ["allow", "deny"] },
    reasons: { type: "array", items: reasonSchema },
    reportOnly: {
      type: "array",
      items: reasonSchema,
      description: "report-only rules that would have denied",
    },
    number: {
      type: ["object", "null"],
      properties: {
        e164: { type: "string" },
        country: { type: ["string", "null"] },
        type: { type: "string" },
        international: { type: "boolean" },
        risk: {
          type: ["object", "null"],
          properties: { level: { type: "string" }, prefix: { type: "string" }, reason: { type: "string" } },
        },
        ratePerMinute: { type: ["number", "null"] },
      },
    },
    estimatedCost: { type: "number" },
    blockedUntil: {
      type: ["string", "null"],
      description: "end of the account's block on international calls (null: until lifted); absent if none",
    },
    alerts: {
      type: "array",
      items: {
        type: "object",
        properties: { rule: { type: "string" }, severity: { type: "string" }, message: { type: "string" } },
      },
    },
    repeat: { type: "boolean" },
    stored: { type: "boolean" },
  },
} as const;

export function verdictBody({ verdict: v, stored }: Authorized, blockedUntil: number | null | undefined) {
  const n = v.number;
  return {
    callId: v.callId,
    account: v.account,
    decision: v.decision,
    reasons: v.reasons,
    reportOnly: v.reportOnly,
    number: n
      ? {
          e164: "+" + n.e164,
          country: n.country ?? null,
          type: n.type,
          international: n.international,
          risk: n.risk ? { level: n.risk.level, prefix: "+" + n.risk.prefix, reason: n.risk.reason } : null,
          ratePerMinute: n.rate?.perMinute ?? null,
        }
      : null,
    estimatedCost: Math.round(v.estimatedCost * 100) / 100,
    blockedUntil:
      blockedUntil === undefined
        ? undefined
        : blockedUntil === null
          ? null
          : new Date(blockedUntil).toISOString(),
    // The compiled serializer picks the fields it names, so alerts go out as they are.
    alerts: v.alerts,
    repeat: v.repeat,
    stored,
  };
}

/** One line a switch script can test with one comparison: `allow`, or `deny <rule>: <message>`. */
export function verdictText(v: Verdict): string {
  if (v.decision === "allow") return "allow\n";
  const r = v.reasons[0];
  return `deny ${r?.rule ?? "policy"}: ${(r?.message ?? "denied").replace(/[\r\n]+/g, " ")}\n`;
}

export function callRoutes(calls: CallService, now: TimeSource): AnyRoute[] {
  const decide = async (body: z.infer<typeof authorizeBody>, role: string | undefined) => {
    const at = eventTime(body.at, role, now);
    const out = await calls.authorize({
      type: "call.attempt",
      at,
      callId: body.callId,
      account: body.account,
      to: body.to,
      from: body.from,
      sourceIp: body.sourceIp,
    });
    const v = out.verdict;
    return { out, blockedUntil: v.block?.until ?? calls.guard.activeBlock(body.account, at)?.until };
  };
  return [
    {
      method: "POST",
      url: "/v1/calls/authorize",
      summary:
        "May this call proceed? Answers allow or deny with the reasons (JSON, or one line with Accept: text/plain)",
      tags: ["calls"],
      role: "switch",
      body: authorizeBody,
      consumes: ["application/json", "application/x-www-form-urlencoded"],
      produces: ["application/json", "text/plain"],
      response: verdictSchema,
      handler: async ({ body, key }, req, reply) => {
        const { out, blockedUntil } = await decide(body, key?.role);
        const accept = req.headers.accept ?? "";
        if (accept.startsWith("text/plain"))
          return reply.type("text/plain; charset=utf-8").send(verdictText(out.verdict));
        return verdictBody(out, blockedUntil);
      },
    },
    {
      method: "POST",
      url: "/v1/calls/authorize.txt",
      summary: "The same decision as one line of text: `allow` or `deny <rule>: <message>`",
      tags: ["calls"],
      role: "switch",
      body: authorizeBody,
      consumes: ["application/json", "application/x-www-form-urlencoded"],
      produces: ["text/plain"],
      handler: async ({ body, key }, _req, reply) => {
        const { out } = await decide(body, key?.role);
        return reply.type("text/plain; charset=utf-8").send(verdictText(out.verdict));
      },
    },
    {
      method: "POST",
      url: "/v1/calls/:callId/answer",
      summary: "The call was answered (safe to repeat; ignored for calls Mamori did not allow)",
      tags: ["calls"],
      role: "switch",
      params: callIdParams,
      body: callEventBody,
      handler: async ({ params, body, key }) => {
        const at = eventTime(body.at, key?.role, now);
        return { callId: params.callId, ...(await calls.answer(params.callId, at, body.dialog)) };
      },
    },
    {
      method: "POST",
      url: "/v1/calls/:callId/hangup",
      summary: "The call ended (safe to repeat and to send before the answer)",
      tags: ["calls"],
      role: "switch",
      params: callIdParams,
      body: callEventBody,
      handler: async ({ params, body, key }) => {
        const at = eventTime(body.at, key?.role, now);
        return { callId: params.callId, ...(await calls.hangup(params.callId, at, body.billsec)) };
      },
    },
  ];
}
