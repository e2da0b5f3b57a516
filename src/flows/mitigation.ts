import { z } from "zod";
import { err, ok, type Result } from "../core/result.js";
import { type Attack, fnv1a } from "./attack.js";
import { Proto } from "./metrics.js";
import type { FlowGuardSettings, MitigationKind } from "./settings.js";

/**
 * Mitigations: what the policy asks an action (ExaBGP, nftables) to put in place against an attack.
 * Plain data, so that the store can keep them and the engine can be seeded with those in force after
 * a restart. The id is derived from what the mitigation does (the route or rule itself), so the same
 * blackhole decided twice has the same id, and an action that is told twice does nothing new.
 */
const matchSchema = z
  .object({
    /** The victim: a host (/32, /128) or an aggregate prefix. */
    destination: z.string(),
    protocol: z.number().int().min(0).max(255).nullable(),
    sourcePorts: z.array(z.number().int().min(0).max(65535)),
    packetLength: z
      .object({ min: z.number().int().min(0), max: z.number().int().max(65535) })
      .strict()
      .nullable(),
    /** TCP SYN set (SYN floods). */
    synOnly: z.boolean(),
    /** Only IP fragments. */
    fragments: z.boolean(),
  })
  .strict();
export type TrafficMatch = z.infer<typeof matchSchema>;

const common = {
  id: z.string().min(1).max(64),
  attackId: z.string().nullable(),
  group: z.string(),
  /** Epoch ms. */
  createdAt: z.number(),
  expiresAt: z.number(),
  dryRun: z.boolean(),
  reason: z.string(),
};

export const mitigationSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("blackhole"),
      ...common,
      prefix: z.string(),
      nextHop: z.string(),
      communities: z.array(z.string()),
    })
    .strict(),
  z
    .object({
      type: z.literal("flowspec"),
      ...common,
      match: matchSchema,
      action: z.discriminatedUnion("type", [
        z.object({ type: z.literal("discard") }).strict(),
        z.object({ type: z.literal("rate-limit"), bytesPerSecond: z.number().int().nonnegative() }).strict(),
      ]),
      communities: z.array(z.string()),
    })
    .strict(),
  z
    .object({
      type: z.literal("nftables"),
      ...common,
      match: matchSchema,
      /** Top sources of the attack, which a host-level filter can drop by address. */
      sources: z.array(z.string()),
    })
    .strict(),
]);
export type Mitigation = z.infer<typeof mitigationSchema>;
export type BlackholeMitigation = Extract<Mitigation, { type: "blackhole" }>;
export type FlowspecMitigation = Extract<Mitigation, { type: "flowspec" }>;
export type NftablesMitigation = Extract<Mitigation, { type: "nftables" }>;

/** The canonical text of what a mitigation does; its id is a hash of this. */
export function mitigationKey(m: Mitigation): string {
  switch (m.type) {
    case "blackhole":
      return `bh|${m.prefix}|${m.nextHop}|${[...m.communities].sort().join(",")}`;
    case "flowspec":
      return `fs|${matchKey(m.match)}|${m.action.type === "discard" ? "discard" : `rl${m.action.bytesPerSecond}`}`;
    case "nftables":
      return `nf|${matchKey(m.match)}|${[...m.sources].sort().join(",")}`;
  }
}

function matchKey(t: TrafficMatch): string {
  const len = t.packetLength ? `${t.packetLength.min}-${t.packetLength.max}` : "";
  return `${t.destination}|${t.protocol ?? ""}|${[...t.sourcePorts].sort((a, b) => a - b).join(",")}|${len}|${t.synOnly ? "syn" : ""}|${t.fragments ? "frag" : ""}`;
}

const PREFIX = { blackhole: "bh", flowspec: "fs", nftables: "nf" } as const;

export function mitigationIdOf(m: Mitigation): string {
  const key = mitigationKey(m);
  // Two independent 32-bit hashes: 64 bits keep collisions out of reach for any realistic table.
  return `${PREFIX[m.type]}-${fnv1a(key)}${fnv1a(`${key}#`)}`;
}

/** Everything the policy needs besides the attack. */
export type PolicyContext = {
  readonly settings: FlowGuardSettings;
  readonly kind: MitigationKind;
  readonly now: number;
  readonly isAllowListed: (prefix: string) => boolean;
};

export type PolicyDecision =
  | { readonly type: "mitigate"; readonly mitigation: Mitigation }
  | { readonly type: "none"; readonly reason: string };

/**
 * The mitigation an attack calls for under its group's policy, or why there is none. Inbound only:
 * an outbound attack is the carrier's own host misbehaving, which is reported, not routed away.
 */
export function decideMitigation(a: Attack, ctx: PolicyContext): PolicyDecision {
  if (a.direction !== "inbound") return { type: "none", reason: "outbound attacks are reported only" };
  const kind = ctx.kind;
  if (kind.type === "none") return { type: "none", reason: `group ${a.group} alerts only` };
  const victim = a.victim.prefix;
  if (ctx.isAllowListed(victim)) return { type: "none", reason: `${victim} is on the never-mitigate list` };
  const s = ctx.settings.mitigation;
  const v6 = victim.includes(":");
  const base = {
    attackId: a.id,
    group: a.group,
    createdAt: ctx.now,
    dryRun: s.dryRun,
    reason: `${a.kind}${a.services.length ? ` (${a.services.join(", ")})` : ""} towards ${victim}`,
  };
  const match = matchOf(a);
  let m: Mitigation;
  if (kind.type === "blackhole" && a.victim.type === "host") {
    m = {
      type: "blackhole",
      id: "",
      ...base,
      expiresAt: ctx.now + s.ttlSeconds.blackhole * 1000,
      prefix: victim,
      nextHop: v6 ? s.bgp.nextHop6 : s.bgp.nextHop4,
      communities: [...s.bgp.blackholeCommunities],
    };
  } else if (kind.type === "nftables") {
    m = {
      type: "nftables",
      id: "",
      ...base,
      expiresAt: ctx.now + s.ttlSeconds.nftables * 1000,
      match,
      sources: a.signature.topSources
        .map((t) => t.address)
        .filter((addr) => !ctx.isAllowListed(addr.includes(":") ? `${addr}/128` : `${addr}/32`)),
    };
  } else {
    // Flowspec; also what a blackhole group gets for a prefix (carpet bombing): dropping a whole
    // prefix's traffic is never decided by a machine, dropping what matches the attack is.
    const action =
      kind.type === "flowspec" && kind.action === "rate-limit"
        ? { type: "rate-limit" as const, bytesPerSecond: kind.rateLimitBytesPerSecond }
        : { type: "discard" as const };
    if (a.victim.type === "prefix" && match.protocol === null) {
      return { type: "none", reason: `no signature narrow enough to filter a whole prefix (${victim})` };
    }
    m = {
      type: "flowspec",
      id: "",
      ...base,
      expiresAt: ctx.now + s.ttlSeconds.flowspec * 1000,
      match,
      action,
      communities: [...s.bgp.flowspecCommunities],
    };
  }
  return { type: "mitigate", mitigation: { ...m, id: mitigationIdOf(m) } };
}

/** The traffic an attack's signature picks out. */
export function matchOf(a: Attack): TrafficMatch {
  const sig = a.signature;
  const sized = a.vector === "amplification" || a.vector === "udp-flood";
  return {
    destination: a.victim.prefix,
    protocol: sig.protocol,
    sourcePorts: [...sig.sourcePorts].sort((x, y) => x - y),
    packetLength: sized && sig.packetLength && sig.packetLength.min > 0 ? sig.packetLength : null,
    synOnly: a.vector === "syn-flood" && sig.protocol === Proto.tcp,
    fragments: a.vector === "fragment-flood",
  };
}

/** Parses a stored mitigation (the store's rows, an operator's file): the boundary check. */
export function parseMitigation(value: unknown): Result<Mitigation, string> {
  const r = mitigationSchema.safeParse(value);
  if (!r.success) return err(r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return ok(r.data);
}
