import { z } from "zod";
import { parseCidr } from "../core/cidr.js";
import { isValidTimeZone } from "../core/local-time.js";

/**
 * The flow guard's settings (the `flowGuard` section of the configuration file). Every key is
 * commented here; the shipped defaults alert only (mitigation `none`) so that a new deployment
 * watches before it acts.
 */

const cidr = z.string().refine((s) => parseCidr(s).ok, "a CIDR prefix such as 192.0.2.0/24 or 2001:db8::/48");
const address = z.string().refine((s) => {
  const r = parseCidr(s);
  return r.ok && r.value.bits === (r.value.family === "ipv4" ? 32 : 128) && !s.includes("/");
}, "an IPv4 or IPv6 address");
const community = z.string().regex(/^\d{1,10}:\d{1,10}$/, "a BGP community such as 65535:666");
const positive = z.number().positive();

/** Thresholds of one direction; any subset. Traffic above any of them is an attack. */
export const thresholdsSchema = z
  .object({
    /** Packets per second, all protocols. */
    pps: positive.optional(),
    /** Megabits per second, all protocols. */
    mbps: positive.optional(),
    /** Flow records per second (NetFlow and IPFIX; sFlow samples packets, not flows). */
    flowsPerSecond: positive.optional(),
    /** Per protocol: TCP, UDP and ICMP (v4 and v6) packets and megabits per second. */
    tcpPps: positive.optional(),
    tcpMbps: positive.optional(),
    udpPps: positive.optional(),
    udpMbps: positive.optional(),
    icmpPps: positive.optional(),
    icmpMbps: positive.optional(),
    /** TCP packets with SYN set and ACK clear. */
    synPps: positive.optional(),
    /** IP fragments (reported by the exporter, or TCP/UDP flows without ports). */
    fragmentPps: positive.optional(),
  })
  .strict();
export type Thresholds = z.infer<typeof thresholdsSchema>;

/** What the policy asks the routers (or the host) to do about an attack on a host of the group. */
export const mitigationKindSchema = z.discriminatedUnion("type", [
  /** Alert only. */
  z.object({ type: z.literal("none") }).strict(),
  /** Remotely triggered blackhole of the victim's /32 or /128 (all its traffic is dropped). */
  z.object({ type: z.literal("blackhole") }).strict(),
  /** BGP Flowspec rule matching the attack's signature towards the victim. */
  z
    .object({
      type: z.literal("flowspec"),
      /** Drop what matches, or let it through at a rate. */
      action: z.enum(["discard", "rate-limit"]).default("discard"),
      /** For rate-limit: bytes per second allowed through (Flowspec traffic-rate is in bytes). */
      rateLimitBytesPerSecond: z.number().int().nonnegative().default(0),
    })
    .strict(),
  /** A filter on the host itself (the nftables action), for hosts that Mamori protects directly. */
  z.object({ type: z.literal("nftables") }).strict(),
]);
export type MitigationKind = z.infer<typeof mitigationKindSchema>;

const groupBody = {
  /** Thresholds per host, inbound (towards the host). */
  thresholds: thresholdsSchema.default({}),
  /** Thresholds per host, outbound (from the host: a compromised host attacking others). Alert only. */
  outboundThresholds: thresholdsSchema.optional(),
  /** Thresholds per aggregate prefix (see `aggregate`), inbound: catches carpet bombing. */
  prefixThresholds: thresholdsSchema.optional(),
  /** Learned thresholds (see `baselines`) for this group's hosts; off keeps only the fixed ones. */
  learned: z.boolean().default(true),
  mitigation: mitigationKindSchema.default({ type: "none" }),
};

export const hostGroupSchema = z
  .object({
    /** A name for messages, attacks and mitigations. */
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, '_', '.', '-' (at most 64)"),
    /** The group's prefixes; a host belongs to the group with the longest prefix that holds it. */
    prefixes: z.array(cidr).min(1),
    ...groupBody,
  })
  .strict();
export type HostGroup = z.infer<typeof hostGroupSchema>;

export const DEFAULT_GROUP = {
  thresholds: {
    pps: 50_000,
    mbps: 1000,
    flowsPerSecond: 5000,
    synPps: 20_000,
    icmpPps: 10_000,
    fragmentPps: 10_000,
  },
  prefixThresholds: { pps: 200_000, mbps: 4000 },
  learned: true,
  mitigation: { type: "none" },
} as const;

const DEFAULT_BASELINES = {
  enabled: true,
  floor: { pps: 2000, mbps: 20, flowsPerSecond: 500 },
  ema: { timeConstantMinutes: 60, warmupMinutes: 120, factor: 5 },
  profile: { percentile: 0.95, factor: 3, learningRate: 0.1, minSamples: 120 },
} as const;

export const flowGuardSettingsSchema = z
  .object({
    /** The carrier's protected networks; only addresses inside them (or inside a group) are counted. */
    networks: z.array(cidr).default([]),
    /** Host groups with their own thresholds and mitigation; hosts in no group use `defaultGroup`. */
    hostGroups: z.array(hostGroupSchema).default([]),
    /**
     * Thresholds and mitigation for hosts in `networks` that are in no group. Given, it replaces the
     * shipped one whole (keys left out are unset, not shipped values).
     */
    defaultGroup: z.object(groupBody).strict().prefault(DEFAULT_GROUP),
    /** Prefix length of the aggregates counted inside the networks (carpet bombing spreads over them). */
    aggregate: z
      .object({
        ipv4Bits: z.number().int().min(8).max(32).default(24),
        ipv6Bits: z.number().int().min(16).max(128).default(64),
      })
      .strict()
      .prefault({}),
    /** Rates are averaged over this many seconds. */
    windowSeconds: z.number().int().min(1).max(60).default(5),
    /**
     * A flow record covers many seconds (the exporter's active timeout); its packets are spread over
     * that many seconds from the moment it arrives instead of all landing in one second.
     */
    spread: z
      .object({
        enabled: z.boolean().default(true),
        /** Longest spread; longer flows are counted at their average rate for this long. */
        horizonSeconds: z.number().int().min(4).max(600).default(64),
      })
      .strict()
      .prefault({}),
    /** Hosts tracked one by one (about 3 KB each); beyond, new hosts count only in their prefix. */
    maxHosts: z.number().int().min(16).max(4_000_000).default(16_384),
    /** Aggregate prefixes tracked. */
    maxPrefixes: z.number().int().min(16).max(1_000_000).default(4096),
    /** A host with no traffic for this long gives back its slot (and its learned profile). */
    hostIdleHours: z
      .number()
      .positive()
      .max(24 * 90)
      .default(24 * 8),
    /** Sizes of the bounded "top" tables kept per host and prefix. */
    topK: z
      .object({
        sourcePorts: z.number().int().min(2).max(32).default(8),
        sources: z.number().int().min(2).max(32).default(8),
      })
      .strict()
      .prefault({}),
    /** Learned thresholds: threshold = min(fixed, max(floor, factor × baseline)). */
    baselines: z
      .object({
        enabled: z.boolean().default(DEFAULT_BASELINES.enabled),
        /** Hour-of-week bins use this zone's local time. */
        timeZone: z.string().refine(isValidTimeZone, "an IANA time zone such as Asia/Tokyo").default("UTC"),
        /** Learned thresholds never go below these. */
        floor: z
          .object({
            pps: positive.default(DEFAULT_BASELINES.floor.pps),
            mbps: positive.default(DEFAULT_BASELINES.floor.mbps),
            flowsPerSecond: positive.default(DEFAULT_BASELINES.floor.flowsPerSecond),
          })
          .strict()
          .prefault({}),
        /** Moving average per host: the baseline until the profile has learned the hour. */
        ema: z
          .object({
            /** Time constant of the average. */
            timeConstantMinutes: positive.max(7 * 24 * 60).default(DEFAULT_BASELINES.ema.timeConstantMinutes),
            /** The average is not used before the host has been seen this long. */
            warmupMinutes: z.number().nonnegative().default(DEFAULT_BASELINES.ema.warmupMinutes),
            factor: positive.default(DEFAULT_BASELINES.ema.factor),
          })
          .strict()
          .prefault({}),
        /** A high percentile of per-minute rates per hour of the week (and per hour of the day). */
        profile: z
          .object({
            percentile: z.number().min(0.5).max(0.999).default(DEFAULT_BASELINES.profile.percentile),
            factor: positive.default(DEFAULT_BASELINES.profile.factor),
            /** Step of the streaming percentile estimate (larger learns faster, forgets faster). */
            learningRate: z.number().min(0.001).max(1).default(DEFAULT_BASELINES.profile.learningRate),
            /** Per-minute samples a bin needs before it is trusted (60 = one hour seen once). */
            minSamples: z.number().int().min(1).max(255).default(DEFAULT_BASELINES.profile.minSamples),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    attacks: z
      .object({
        /** An attack ends once its rates have stayed below threshold this long (hold-down). */
        endAfterSeconds: z.number().int().min(1).max(86_400).default(60),
        /** An ongoing attack is reported as updated at most this often (and on a new peak or kind). */
        updateEverySeconds: z.number().int().min(1).max(3600).default(10),
        /** A source port or protocol is part of the signature from this share of the packets. */
        signatureShare: z.number().min(0.05).max(1).default(0.2),
      })
      .strict()
      .prefault({}),
    mitigation: z
      .object({
        /** Decide and record, but mark every mitigation dry-run: the actions do not carry them out. */
        dryRun: z.boolean().default(false),
        /** After an attack ended, its mitigation stays this long before it is withdrawn (hold-down). */
        withdrawAfterSeconds: z
          .number()
          .int()
          .min(0)
          .max(7 * 86_400)
          .default(300),
        /** Longest life of a mitigation; renewed while its attack goes on. */
        ttlSeconds: z
          .object({
            blackhole: z
              .number()
              .int()
              .min(10)
              .max(30 * 86_400)
              .default(3600),
            flowspec: z
              .number()
              .int()
              .min(10)
              .max(30 * 86_400)
              .default(1800),
            nftables: z
              .number()
              .int()
              .min(10)
              .max(30 * 86_400)
              .default(1800),
          })
          .strict()
          .prefault({}),
        /** Never mitigate these (a blackhole of the carrier's own DNS is worse than the attack). */
        allowList: z.array(cidr).default([]),
        bgp: z
          .object({
            /** Next hop of blackhole routes: an address the routers map to a discard route. */
            nextHop4: address.default("192.0.2.1"),
            /** The IPv6 discard prefix (RFC 6666) by default. */
            nextHop6: address.default("100::1"),
            /** Communities on blackhole routes; 65535:666 is BLACKHOLE (RFC 7999). */
            blackholeCommunities: z.array(community).default(["65535:666"]),
            /** Communities on Flowspec rules (most routers need none). */
            flowspecCommunities: z.array(community).default([]),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type FlowGuardSettings = z.infer<typeof flowGuardSettingsSchema>;
export type FlowGuardSettingsInput = z.input<typeof flowGuardSettingsSchema>;

/** Settings with every default filled in (what an empty `flowGuard:` section means). */
export function defaultFlowGuardSettings(overrides: FlowGuardSettingsInput = {}): FlowGuardSettings {
  return flowGuardSettingsSchema.parse(overrides);
}
