import { z } from "zod";
import { exabgpNeighborSchema } from "../adapters/actions/exabgp/config.js";
import { cdrReaderOptionsSchema } from "../adapters/ingest/cdr/options.js";
import { accountPolicySchema } from "../calls/policy.js";
import { ruleOverridesSchema } from "../calls/rules.js";
import { parseCidr } from "../core/cidr.js";
import { isValidTimeZone } from "../core/local-time.js";
import { flowGuardSettingsSchema } from "../flows/settings.js";
import { shieldSettingsSchema } from "../shield/settings.js";
import { pbxGuardSettingsSchema } from "../sip/settings.js";

/**
 * The one configuration file (`--config FILE`, YAML), a section per guard. Every key is documented in
 * the README; an unknown or malformed key stops the start with a message naming it (strict objects).
 */
const port = z.number().int().min(0).max(65535);
const cidrText = z
  .string()
  .refine((t) => parseCidr(t).ok, "an IP address or CIDR prefix such as 192.0.2.0/24");

export const webhookSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    /** Which events go to this target; all when left out. */
    events: z
      .array(z.enum(["alert", "block", "terminate", "block.lift", "ban", "ban.lift", "attack", "mitigation"]))
      .optional(),
    /** Sent as `Authorization: Bearer …` when set. */
    token: z.string().min(1).optional(),
    timeoutMs: z.number().int().positive().max(60_000).default(5000),
    /** Give up after this many tries (with exponential backoff from 1 s, capped at 10 min). */
    maxAttempts: z.number().int().positive().max(100).default(12),
  })
  .strict();

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().min(1).default("127.0.0.1"),
        port: port.default(8080),
        /** Answer bodies larger than this are refused with 413. */
        bodyLimitBytes: z.number().int().positive().max(10_000_000).default(1_000_000),
        /** Serve the operator console at /console/ (built by the start command). */
        console: z.boolean().default(true),
        /** CDR files uploaded to the console's replay page may be this large. */
        replayUploadBytes: z.number().int().positive().max(2_000_000_000).default(200_000_000),
        /** Folder of CDR files that the console may replay by name; none when left out. */
        replayDir: z.string().min(1).optional(),
      })
      .strict()
      .default({
        host: "127.0.0.1",
        port: 8080,
        bodyLimitBytes: 1_000_000,
        console: true,
        replayUploadBytes: 200_000_000,
      }),
    store: z
      .object({
        /** SQLite database file; ":memory:" for a throwaway store. */
        sqlite: z.string().min(1).default("mamori.db"),
        /** Decision-log rows older than this many days are deleted (0 keeps them forever). */
        retentionDays: z.number().int().nonnegative().max(36500).default(90),
      })
      .strict()
      .default({ sqlite: "mamori.db", retentionDays: 90 }),
    /** Folder of the rule data (risk list, tariffs, holidays); the shipped pack when left out. */
    rulesDir: z.string().min(1).optional(),
    logging: z
      .object({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
      })
      .strict()
      .default({ level: "info" }),
    callGuard: z
      .object({
        defaultCountry: z
          .string()
          .regex(/^[A-Z]{2}$/, "an ISO 3166 two-letter country code such as JP")
          .default("JP"),
        defaultTimeZone: z
          .string()
          .refine(isValidTimeZone, "an IANA time zone such as Asia/Tokyo")
          .default("Asia/Tokyo"),
        /** Policy for an account the switch names but Mamori does not know. */
        unknownAccount: z
          .object({ international: z.enum(["off", "all"]).default("off") })
          .strict()
          .default({ international: "off" }),
        /** Minutes assumed per call to estimate its cost at authorize time. */
        assumedCallMinutes: z.number().positive().max(600).default(2),
        alertSuppressMinutes: z.number().nonnegative().max(1440).default(30),
        ringTimeoutMinutes: z.number().positive().max(1440).default(10),
        staleCallHours: z.number().positive().max(168).default(24),
        emergencyNumbers: z.array(z.string().regex(/^\d{2,6}$/)).default([]),
        /** Deployment-wide rule settings: mode (enforce, report, off) and thresholds per rule. */
        rules: ruleOverridesSchema.optional(),
        /** Default caps for accounts that set none. */
        caps: accountPolicySchema.shape.caps,
        /** Ends live calls that pass their limits through Kamailio's JSON-RPC (dlg.end_dlg). */
        kamailio: z
          .object({
            rpcUrl: z.url({ protocol: /^https?$/ }),
            timeoutMs: z.number().int().positive().max(60_000).default(2000),
          })
          .strict()
          .optional(),
        /** Accounts to load at start (YAML with `accounts: [...]`); API changes are kept in the store. */
        accountsFile: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    /** FastAGI for Asterisk: `AGI(agi://mamori:4573/authorize)`. AGI has no credentials: keep it on trusted networks. */
    fastagi: z
      .object({
        enabled: z.boolean().default(false),
        host: z.string().min(1).default("127.0.0.1"),
        port: port.default(4573),
        /** Networks allowed to connect (loopback when empty). */
        allowed: z.array(cidrText).default([]),
      })
      .strict()
      .default({ enabled: false, host: "127.0.0.1", port: 4573, allowed: [] }),
    pbxGuard: z
      .object({
        /** Networks never banned, whatever they do: the PBX itself, the carrier's SBCs, the office. */
        trusted: z.array(cidrText).default([]),
        /** Detector thresholds, rule modes and the ban ladder (see src/sip/settings.ts). */
        settings: pbxGuardSettingsSchema.optional(),
        /** A MaxMind-format country database (GeoLite2-Country …) for the new-country rule; none is shipped. */
        geoipDatabase: z.string().min(1).optional(),
        /** Log files to follow across rotation. */
        logs: z
          .array(
            z
              .object({
                path: z.string().min(1),
                format: z
                  .enum(["auto", "asterisk-security", "asterisk-messages", "kamailio", "freeswitch"])
                  .default("auto"),
                /** Zone of log times that carry no offset (UTC when left out). */
                timeZone: z
                  .string()
                  .refine(isValidTimeZone, "an IANA time zone such as Asia/Tokyo")
                  .optional(),
                /** Read the file from its start instead of only new lines. */
                fromStart: z.boolean().default(false),
              })
              .strict(),
          )
          .default([]),
        /** HEPv3 capture (Kamailio siptrace, FreeSWITCH, Asterisk res_hep) on UDP. */
        hep: z
          .object({
            host: z.string().min(1).default("127.0.0.1"),
            port: port.default(9060),
            /** Packets without this HEP authentication key are refused. */
            authKey: z.string().min(1).optional(),
          })
          .strict()
          .optional(),
        /** Bans enforced by Kamailio: an htable its script drops (deploy/kamailio/pbx-guard.cfg). */
        kamailio: z
          .object({
            /** Kamailio's JSON-RPC endpoint (xhttp + jsonrpcs), e.g. http://127.0.0.1:5072/RPC. */
            rpcUrl: z.url({ protocol: /^https?$/ }),
            /** The htable of banned source addresses. */
            table: z
              .string()
              .regex(/^[A-Za-z0-9_]{1,64}$/)
              .default("mamori_bans"),
            timeoutMs: z.number().int().positive().max(60_000).default(2000),
          })
          .strict()
          .optional(),
        /** How often the enforcers are made to match the stored bans (a restarted Kamailio forgets them). */
        reconcileSeconds: z.number().int().positive().max(86_400).default(60),
        /** Bans enforced in the kernel: Mamori's own nftables table and sets (needs root). */
        nftables: z
          .object({
            enabled: z.boolean().default(false),
            hook: z.enum(["prerouting", "input"]).optional(),
            /** Run nft inside this network namespace. */
            netns: z
              .string()
              .regex(/^[\w.-]{1,64}$/)
              .optional(),
          })
          .strict()
          .default({ enabled: false }),
      })
      .strict()
      .prefault({}),
    flowGuard: z
      .object({
        /** Listen for flow telemetry and detect floods; off until the operator lists its networks. */
        enabled: z.boolean().default(false),
        /** Networks, host groups, thresholds, baselines and mitigation (see src/flows/settings.ts). */
        settings: flowGuardSettingsSchema.optional(),
        collector: z
          .object({
            host: z.string().min(1).default("127.0.0.1"),
            /** UDP ports; false turns a protocol off. */
            netflowPort: z.union([port, z.literal(false)]).default(2055),
            ipfixPort: z.union([port, z.literal(false)]).default(4739),
            sflowPort: z.union([port, z.literal(false)]).default(6343),
            /** Only these exporters are decoded (all when empty). */
            exporters: z.array(z.string().min(2)).default([]),
            /** Sampling rate per exporter address, when the exporter does not say or says wrong. */
            sampling: z.record(z.string(), z.number().int().positive()).default({}),
          })
          .strict()
          .prefault({}),
        /** BGP through ExaBGP for RTBH and Flowspec (Debian's exabgp). */
        exabgp: z
          .object({
            neighbors: z.array(exabgpNeighborSchema).min(1),
            /** Directory for ExaBGP's configuration and the API socket. */
            runDir: z.string().min(1).default("mamori-exabgp"),
            netns: z
              .string()
              .regex(/^[\w.-]{1,64}$/)
              .optional(),
            restartAfterMs: z.number().int().positive().max(600_000).default(5000),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    /** The billing shield: a gateway in front of the billing and payment API. */
    shield: z
      .object({
        enabled: z.boolean().default(false),
        /** The billing API behind the gateway, e.g. http://10.0.0.5:9000. */
        upstream: z.url({ protocol: /^https?$/ }).optional(),
        host: z.string().min(1).default("127.0.0.1"),
        port: port.default(8088),
        /** Classes, limits, attack mode, challenge, bans, time-outs (see src/shield/settings.ts). */
        settings: shieldSettingsSchema.optional(),
      })
      .strict()
      .refine((s) => !s.enabled || s.upstream !== undefined, {
        message: "shield.upstream is required when the shield is enabled",
        path: ["upstream"],
      })
      .prefault({}),
    webhooks: z.array(webhookSchema).default([]),
    /** How CDR files are read by `mamori replay` and `mamori watch` (time zone, column map, …). */
    cdr: cdrReaderOptionsSchema.optional(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type WebhookConfig = z.infer<typeof webhookSchema>;

/** The accounts file: policies, and optionally how this customer's CDR files are read. */
export const accountsFileSchema = z
  .object({ accounts: z.array(accountPolicySchema), cdr: cdrReaderOptionsSchema.optional() })
  .strict();
