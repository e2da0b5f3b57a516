import { z } from "zod";
import { ok, type Result } from "../core/result.js";
import { buildDigitTrie, type DigitTrie, longestPrefixMatch } from "./digit-trie.js";
import type { Rate } from "./number-info.js";
import {
  mappingError,
  parseRulesYaml,
  type RulesFileError,
  rejectDuplicatePrefixes,
  valueError,
} from "./rules-yaml.js";

/** Per-minute and per-call prices by E.164 prefix; the empty prefix, if present, prices everything else. */
export type TariffTable = {
  readonly trie: DigitTrie<Rate>;
  /** The rates as given, for listing; a repeated prefix keeps only its last rate in the trie. */
  readonly rates: readonly Rate[];
};

export type TariffFile = {
  /** ISO 4217 code of every price in the file, e.g. "JPY". */
  readonly currency: string;
  readonly rates: Rate[];
};

export function buildTariffTable(rates: readonly Rate[]): TariffTable {
  return { trie: buildDigitTrie(rates, (rate) => rate.prefix), rates };
}

/** The most specific rate for a number, falling back to the catch-all "" rate when there is one. */
export function lookupRate(table: TariffTable, e164Digits: string): Rate | undefined {
  return longestPrefixMatch(table.trie, e164Digits);
}

const price = (what: string) =>
  z
    .number({ error: valueError(`is required: the ${what}`, `must be a number: the ${what}`) })
    .finite({ error: "must be a finite number" })
    .nonnegative({ error: "must not be negative" });

const rateSchema = z.strictObject(
  {
    prefix: z
      .string({
        error: valueError(
          'is required, as a quoted string of digits such as "232" ("" for the catch-all)',
          'must be a quoted string of digits such as "232" (unquoted digits read as a number)',
        ),
      })
      .regex(/^(?:[1-9][0-9]{0,14})?$/, {
        error:
          "must be up to 15 digits of an E.164 number without '+' (no leading 0), or \"\" for the catch-all",
      }),
    perMinute: price("price of one minute in the file's currency"),
    perCall: price("set-up charge per answered call in the file's currency").default(0),
    description: z
      .string({ error: valueError("is required: name the destination or range", "must be text") })
      .trim()
      .min(1, { error: "must not be empty" }),
  },
  { error: mappingError("prefix, perMinute, optional perCall and description") },
);

const tariffFileSchema = z.strictObject(
  {
    currency: z
      .string({
        error: valueError(
          "is required: the ISO 4217 code of the prices, e.g. JPY",
          "must be text such as JPY",
        ),
      })
      .regex(/^[A-Z]{3}$/, { error: "must be an ISO 4217 code in capitals, e.g. JPY" }),
    rates: z
      .array(rateSchema, {
        error: valueError(
          "is required",
          "must be a list of {prefix, perMinute, perCall, description} entries",
        ),
      })
      .min(1, { error: "must list at least one rate" })
      .superRefine(rejectDuplicatePrefixes),
  },
  { error: mappingError("`currency` and a `rates` list") },
);

/**
 * Reads a tariff file (see rules/tariffs.yaml for the format). Pure: the caller supplies the text and a
 * source name used in error messages.
 */
export function parseTariffFile(text: string, source: string): Result<TariffFile, RulesFileError> {
  const parsed = parseRulesYaml(text, source, tariffFileSchema);
  return parsed.ok ? ok({ currency: parsed.value.currency, rates: parsed.value.rates }) : parsed;
}
