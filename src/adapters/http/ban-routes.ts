import { z } from "zod";
import type { PbxService } from "../../app/pbx-service.js";
import type { BanRecord, Store } from "../store/store.js";
import type { TimeSource } from "./calls-routes.js";
import type { AnyRoute } from "./route-table.js";

/** Bans of source addresses (PBX guard, billing shield, operators): list, place by hand, lift. */
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const limit = z.coerce.number().int().min(1).max(1000).default(100);

export const banJson = (b: BanRecord, now: number) => ({
  id: b.id,
  guard: b.guard,
  address: b.address,
  rule: b.rule,
  reason: b.reason,
  severity: b.severity,
  offence: b.offence,
  evidence: b.evidence,
  createdAt: iso(b.createdAt),
  createdBy: b.createdBy,
  until: iso(b.until),
  active: b.liftedAt === null && (b.until === null || b.until > now),
  liftedAt: iso(b.liftedAt),
  liftedBy: b.liftedBy,
  liftReason: b.liftReason,
});

export function banRoutes(pbx: PbxService, store: Store, now: TimeSource): AnyRoute[] {
  return [
    {
      method: "GET",
      url: "/v1/bans",
      summary: "Banned source addresses, newest first; active=true for those in force",
      tags: ["bans"],
      role: "viewer",
      query: z
        .object({
          active: z.enum(["true", "false"]).optional(),
          address: z.string().max(64).optional(),
          guard: z.enum(["pbx", "shield", "flows", "calls"]).optional(),
          limit,
        })
        .strict(),
      handler: async ({ query }) => {
        const t = now();
        const bans = await store.listBans({
          address: query.address,
          guard: query.guard,
          activeAt: query.active === "true" ? t : undefined,
          limit: query.limit,
        });
        return { bans: bans.map((b) => banJson(b, t)) };
      },
    },
    {
      method: "POST",
      url: "/v1/bans",
      summary: "Ban a source address by hand (refused for trusted networks)",
      tags: ["bans"],
      role: "operator",
      body: z
        .object({
          address: z.string().min(2).max(64),
          reason: z.string().min(3).max(500),
          minutes: z
            .number()
            .int()
            .positive()
            .max(525_600)
            .optional()
            .describe("how long; until lifted when left out"),
        })
        .strict(),
      handler: async ({ body, key }, _req, reply) => {
        const t = now();
        const b = await pbx.ban({
          address: body.address,
          reason: body.reason,
          durationMs: body.minutes === undefined ? null : body.minutes * 60_000,
          actor: key?.id ?? "?",
          guard: "pbx",
          rule: "manual",
          at: t,
        });
        reply.code(201);
        return banJson(b, t);
      },
    },
    {
      method: "DELETE",
      url: "/v1/bans/:id",
      summary: "Lift a ban (the reason goes to the audit log); the kernel set and Kamailio are updated",
      tags: ["bans"],
      role: "operator",
      params: z.object({ id: z.string().min(1).max(100) }).strict(),
      body: z
        .object({ reason: z.string().min(3).max(500) })
        .partial()
        .strict(),
      handler: async ({ params, body, key }) => {
        const t = now();
        return banJson(await pbx.lift(params.id, body?.reason ?? "lifted by operator", key?.id ?? "?", t), t);
      },
    },
  ];
}
