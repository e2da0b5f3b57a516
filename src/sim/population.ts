/**
 * The simulated customers of a Japanese carrier: small and large offices, companies that call a few
 * countries abroad, outbound call centres, and sites that work through the night (hospitals, logistics).
 * Each gets the policy its operator would plausibly have set: country JP, an outside-line digit where its
 * PBX uses one, international calling off for a share of those that never call abroad, an allow-list or
 * everything for the rest, and caps sized to the call centres' volume.
 */
import type { AccountPolicy } from "../calls/policy.js";
import { type BusinessCountry, businessCountries, type DialStyle, japaneseNumber } from "./numbers.js";
import { mixSeed, Prng } from "./prng.js";

export const accountKinds = ["office", "international-office", "call-centre", "night-shift"] as const;
export type AccountKind = (typeof accountKinds)[number];

const KIND_SHARES: readonly number[] = [0.68, 0.15, 0.05, 0.12];

export type SimAccount = {
  readonly index: number;
  readonly id: string;
  readonly kind: AccountKind;
  readonly policy: AccountPolicy;
  readonly style: DialStyle;
  /** Phones (offices, night-shift sites) or agents (call centres). */
  readonly lines: number;
  /** Calls per line on a working day (offices and night-shift sites). */
  readonly callsPerLine: number;
  readonly worksSaturday: boolean;
  /** National numbers the account calls again and again, most-called first. */
  readonly contacts: readonly string[];
  /** Countries an international office calls, each with its own few numbers (E.164 digits). */
  readonly abroad: readonly { readonly country: BusinessCountry; readonly numbers: readonly string[] }[];
  readonly internationalPerWeek: number;
  /** Address the account's PBX sends its calls from. */
  readonly pbxIp: string;
  /** First extension number; extensions are firstExtension … firstExtension + lines - 1. */
  readonly firstExtension: number;
};

const allWeek = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const weekdays = ["mon", "tue", "wed", "thu", "fri"] as const;

function kindOf(rng: Prng, index: number, total: number): AccountKind {
  // The first accounts cover every kind, so that even a small simulation has one of each.
  if (index < accountKinds.length && total >= 8) return accountKinds[index] as AccountKind;
  return accountKinds[rng.weighted(KIND_SHARES)] as AccountKind;
}

function styleOf(rng: Prng): DialStyle {
  return (["national", "outside-line", "e164", "mixed"] as const)[
    rng.weighted([45, 30, 10, 15])
  ] as DialStyle;
}

export function makeAccount(seed: number, index: number, total: number, timeZone: string): SimAccount {
  const rng = new Prng(mixSeed(seed, index, 0xacc0));
  const kind = kindOf(rng, index, total);
  const style = styleOf(rng);
  const id = `jp${String(10001 + index)}`;
  const lines =
    kind === "call-centre"
      ? rng.int(6, 20)
      : kind === "night-shift"
        ? rng.int(3, 15)
        : Math.round(Math.exp(rng.range(Math.log(2), Math.log(40))));
  const callsPerLine = kind === "night-shift" ? rng.range(5, 9) : rng.range(1.5, 4.5);
  const worksSaturday = kind === "call-centre" ? rng.chance(0.5) : rng.chance(0.1);
  const contacts = Array.from({ length: 8 + lines * 3 }, () => japaneseNumber(rng));
  const abroad =
    kind === "international-office"
      ? pickCountries(rng).map((country) => ({
          country,
          numbers: Array.from({ length: rng.int(2, 6) }, () => country.number(rng)),
        }))
      : [];
  const policy: Record<string, unknown> = {
    id,
    name: `${kindName[kind]} ${index + 1}`,
    country: "JP",
    timeZone,
  };
  if (style === "outside-line") policy.outsideLinePrefix = "0";
  const days = worksSaturday ? [...weekdays, "sat"] : [...weekdays];
  if (kind === "call-centre") policy.businessHours = { days, start: "09:00", end: "21:00" };
  else if (kind === "night-shift" && rng.chance(0.6))
    policy.businessHours = { days: [...allWeek], start: "00:00", end: "24:00" };
  else if (kind === "office" && (worksSaturday || rng.chance(0.3)))
    policy.businessHours = { days, start: "08:30", end: "19:30" };
  policy.holidays = { calendar: "jp" };
  policy.international = internationalOf(rng, kind, abroad);
  if (kind === "call-centre") {
    policy.caps = {
      concurrentCalls: lines + 10,
      callsPerMinute: Math.max(60, lines * 4),
      spendPerHour: lines * 2000,
      spendPerDay: lines * 15_000,
      spendPerMonth: lines * 300_000,
    };
  }
  const octet = (n: number) => n & 255;
  return {
    index,
    id,
    kind,
    policy: policy as AccountPolicy,
    style,
    lines,
    callsPerLine,
    worksSaturday,
    contacts,
    abroad,
    internationalPerWeek: kind === "international-office" ? rng.range(1, 6) : 0,
    pbxIp: `10.${octet(index >> 8)}.${octet(index)}.${rng.int(2, 250)}`,
    firstExtension: rng.pick([100, 200, 300, 1000, 2000]) + 1,
  };
}

const kindName: Record<AccountKind, string> = {
  office: "Office",
  "international-office": "Trading office",
  "call-centre": "Call centre",
  "night-shift": "Night-shift site",
};

function pickCountries(rng: Prng): BusinessCountry[] {
  const n = rng.int(1, 3);
  const out: BusinessCountry[] = [];
  while (out.length < n) {
    const c = businessCountries[rng.weighted(businessCountries.map((b) => b.weight))] as BusinessCountry;
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

function internationalOf(
  rng: Prng,
  kind: AccountKind,
  abroad: SimAccount["abroad"],
): { mode: "off" | "allow-list" | "all"; countries?: string[] } {
  if (kind === "international-office")
    return rng.chance(0.5)
      ? { mode: "allow-list", countries: abroad.map((a) => a.country.country) }
      : { mode: "all" };
  const offShare = kind === "office" ? 0.45 : kind === "call-centre" ? 0.5 : 0.35;
  return rng.chance(offShare) ? { mode: "off" } : { mode: "all" };
}

/** An extension of the account, the caller of one of its calls. */
export const extensionOf = (a: SimAccount, rng: Prng): string =>
  String(a.firstExtension + rng.int(0, a.lines - 1));
