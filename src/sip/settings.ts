import { z } from "zod";

/**
 * The PBX guard's settings: thresholds, windows, a mode per rule and the ban ladder. Every key has a
 * shipped default, so `pbxGuardSettingsSchema.parse({})` is a working guard and a config file names only
 * what it changes; an unknown key is an error (a typo must not silently leave a default in force).
 *
 * Modes: `enforce` does what the rule asks (ban, flag, request a block); `report` records what it would
 * have done and does nothing; `off` does not look at all.
 */
export const PBX_RULE_MODES = ["enforce", "report", "off"] as const;
export type PbxRuleMode = (typeof PBX_RULE_MODES)[number];

const mode = z.enum(PBX_RULE_MODES).default("enforce");
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const minutes = int(1, 525_600);
const count = int(1, 1_000_000);

// Every key of a rule has a default, so `{}` is a valid input; TypeScript cannot see that through the generic.
const rule = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ mode, ...shape }).prefault({} as never);

export const pbxGuardSettingsSchema = z
  .strictObject({
    /** One alert per rule and subject (address or account) in this many minutes; a ban always alerts. */
    alertSuppressMinutes: minutes.default(30),
    /**
     * Ban length for an address's 1st, 2nd, 3rd … offence; the last step repeats. Short first bans
     * forgive a misconfigured phone quickly; scanners come back and climb to a week.
     */
    banLadderMinutes: z
      .array(minutes)
      .min(1)
      .max(16)
      .refine((l) => l.every((m, i) => i === 0 || m >= (l[i - 1] ?? 0)), {
        error: "must not get shorter from one step to the next",
      })
      .default([10, 60, 1440, 10_080]),
    /** An address's offence count starts again after this many days without an offence. */
    offenceMemoryDays: int(1, 3650).default(30),
    /**
     * A source that authenticated successfully within `hours` is an established one (an office NAT,
     * a trunk): its per-source thresholds (guessing, enumeration, floods, call probing) are multiplied
     * by `factor`, so that one phone with a stale password does not cut off the whole office. Attack
     * rates pass any such factor within seconds.
     */
    established: z
      .strictObject({ hours: int(1, 720).default(24), factor: int(1, 1000).default(4) })
      .prefault({}),
    rules: z
      .strictObject({
        /** Failed logins from one address within the window: brute force from one host (svcrack). */
        "password-guessing": rule({ failures: count.default(10), windowMinutes: minutes.default(10) }),
        /**
         * Failed logins against one account over hours, from any address: slow guessing below the
         * per-address threshold, and distributed guessing (many addresses, few tries each). Fires on
         * `failures` in the window or on `distinctSources` addresses failing; then bans every address
         * that failed at least `contributorFailures` times and never logged in to that account.
         */
        "account-guessing": rule({
          failures: count.default(30),
          distinctSources: count.default(10),
          windowHours: int(1, 720).default(6),
          contributorFailures: count.default(2),
        }),
        /** Distinct user names refused for one address (unknown accounts, 404s): svwar-style scans. */
        "extension-enumeration": rule({
          distinctUsers: count.default(10),
          windowMinutes: minutes.default(10),
        }),
        /** A User-Agent from the scanner list (rules/scanner-user-agents.yaml): banned at once. */
        "scanner-user-agent": rule({}),
        /** REGISTER requests per second from one address, averaged over the window. */
        "register-flood": rule({ perSecond: count.default(20), windowSeconds: int(1, 60).default(5) }),
        /** INVITE requests per second from one address, averaged over the window. */
        "invite-flood": rule({ perSecond: count.default(10), windowSeconds: int(1, 60).default(5) }),
        /** Calls refused for no matching extension (toll-fraud probing of the dialplan) from one address. */
        "call-probing": rule({ calls: count.default(5), windowMinutes: minutes.default(10) }),
        /** The SIP server's own limiter (Kamailio pike) blocked the address this often. */
        "server-rate-limited": rule({ count: count.default(3), windowMinutes: minutes.default(10) }),
        /**
         * A login to an account from a network (/ipv4Bits, /ipv6Bits) never seen for it. Silent while
         * the guard learns (the first `learningDays` of its history).
         */
        "new-network": rule({
          ipv4Bits: int(8, 32).default(24),
          ipv6Bits: int(16, 128).default(64),
          learningDays: int(0, 365).default(7),
        }),
        /** A login to an account from a country never seen for it (needs a GeoIP lookup). */
        "new-country": rule({ learningDays: int(0, 365).default(7) }),
        /**
         * A successful login after at least `failuresBefore` failures from the same address, or for the
         * same account, within the lookback: a password that was just guessed.
         */
        "suspicious-login": rule({
          failuresBefore: count.default(5),
          lookbackMinutes: minutes.default(60),
        }),
        /**
         * The chain that costs money: a suspicious login (or, with `armOnNewPlace`, a login from a new
         * network or country) followed within `watchMinutes` by an international call from that account.
         * Asks the call guard to block the account's international calling for `blockMinutes`.
         */
        "pbx-compromise": rule({
          watchMinutes: minutes.default(240),
          armOnNewPlace: z.boolean().default(true),
          blockMinutes: minutes.default(1440),
        }),
      })
      .prefault({}),
    /**
     * Memory bounds: addresses and accounts followed at once. Past them the longest-held state is
     * dropped first, so a botnet of millions of addresses costs a bounded amount of memory.
     */
    limits: z
      .strictObject({
        maxSources: int(100, 10_000_000).default(200_000),
        maxAccounts: int(100, 10_000_000).default(100_000),
      })
      .prefault({}),
  })
  .prefault({});

export type PbxGuardSettings = z.output<typeof pbxGuardSettingsSchema>;
/** What a config file may give: any subset of the settings. */
export type PbxGuardSettingsInput = z.input<typeof pbxGuardSettingsSchema>;
export type PbxRuleSettings = PbxGuardSettings["rules"];
export type PbxRuleId = keyof PbxRuleSettings;

export const defaultPbxGuardSettings: PbxGuardSettings = pbxGuardSettingsSchema.parse({});

export const PBX_RULE_IDS = Object.keys(defaultPbxGuardSettings.rules) as PbxRuleId[];
