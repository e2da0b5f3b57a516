import { z } from "zod";
import type { FlowService } from "../../app/flow-service.js";
import type { Store } from "../store/store.js";
import type { TimeSource } from "./calls-routes.js";
import type { AnyRoute } from "./route-table.js";

/** The flow guard: attacks past and present, mitigations in force, top talkers. */
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const limit = z.coerce.number().int().min(1).max(1000).default(100);

export function flowRoutes(flows: FlowService, store: Store, now: TimeSource): AnyRoute[] {
  return [
    {
      method: "GET",
      url: "/v1/attacks",
      summary: "Attacks, newest first, with signature and peak rates; active=true for those under way",
      tags: ["flows"],
      role: "viewer",
      query: z.object({ active: z.enum(["true", "false"]).optional(), limit }).strict(),
      handler: async ({ query }) => ({
        attacks: (await store.listAttacks({ active: query.active === "true", limit: query.limit })).map(
          (a) => ({
            ...(a.doc as object),
            id: a.id,
            victim: a.victim,
            kind: a.kind,
            startedAt: iso(a.startedAt),
            updatedAt: iso(a.updatedAt),
            endedAt: iso(a.endedAt),
            active: a.endedAt === null,
          }),
        ),
      }),
    },
    {
      method: "GET",
      url: "/v1/mitigations",
      summary: "Mitigations (RTBH, Flowspec, nftables), newest first; active=true for those in force",
      tags: ["flows"],
      role: "viewer",
      query: z.object({ active: z.enum(["true", "false"]).optional(), limit }).strict(),
      handler: async ({ query }) => {
        const t = now();
        const rows = await store.listMitigations({
          activeAt: query.active === "true" ? t : undefined,
          limit: query.limit,
        });
        return {
          mitigations: rows.map((m) => ({
            ...(m.doc as object),
            id: m.id,
            attackId: m.attackId,
            type: m.type,
            createdAt: iso(m.createdAt),
            expiresAt: iso(m.expiresAt),
            active: m.withdrawnAt === null && m.expiresAt > t,
            withdrawnAt: iso(m.withdrawnAt),
            withdrawnBy: m.withdrawnBy,
            withdrawReason: m.withdrawReason,
          })),
        };
      },
    },
    {
      method: "DELETE",
      url: "/v1/mitigations/:id",
      summary: "Withdraw a mitigation by hand (BGP withdraw); it is not placed again for that attack",
      tags: ["flows"],
      role: "operator",
      params: z.object({ id: z.string().min(1).max(100) }).strict(),
      body: z
        .object({ reason: z.string().min(3).max(500) })
        .partial()
        .strict(),
      handler: async ({ params, body, key }) => {
        await flows.withdraw(params.id, body?.reason ?? "withdrawn by operator", key?.id ?? "?", now());
        return { withdrawn: params.id };
      },
    },
    {
      method: "GET",
      url: "/v1/flows/top",
      summary: "Live top talkers among the protected hosts: inbound and outbound rates per host",
      tags: ["flows"],
      role: "viewer",
      query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) }).strict(),
      handler: async ({ query }) => ({ hosts: flows.guard.topHosts(query.limit), stats: flows.stats }),
    },
  ];
}
