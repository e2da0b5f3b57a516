import { z } from "zod";
import { ok, type Result } from "../core/result.js";
import { buildDigitTrie, type DigitTrie, longestPrefixMatch } from "./digit-trie.js";
import type { RiskEntry } from "./number-info.js";
import {
  mappingError,
  parseRulesYaml,
  type RulesFileError,
  rejectDuplicatePrefixes,
  valueError,
} from "./rules-yaml.js";

/** Destinations known for revenue share fraud, indexed for longest-prefix lookup on E.164 digits. */
export type RiskTable = {
  readonly trie: DigitTrie<RiskEntry>;
  /** The entries as given, for listing; a repeated prefix keeps only its last entry in the trie. */
  readonly entries: readonly RiskEntry[];
};

export function buildRiskTable(entries: readonly RiskEntry[]): RiskTable {
  return { trie: buildDigitTrie(entries, (entry) => entry.prefix), entries };
}

/** The most specific risk entry for a number: "8816" wins over "881" for +881612345678. */
export function lookupRisk(table: RiskTable, e164Digits: string): RiskEntry | undefined {
  return longestPrefixMatch(table.trie, e164Digits);
}

const riskEntrySchema = z.strictObject(
  {
    prefix: z
      .string({
        error: valueError(
          'is required, as a quoted string of digits such as "232"',
          'must be a quoted string of digits such as "232" (unquoted digits read as a number)',
        ),
      })
      .regex(/^[1-9][0-9]{0,14}$/, {
        error: "must be 1 to 15 digits of an E.164 number without '+' (no leading 0), e.g. \"232\"",
      }),
    level: z.enum(["high", "elevated"], {
      error: valueError('is required: "high" or "elevated"', 'must be "high" or "elevated"'),
    }),
    reason: z
      .string({
        error: valueError("is required: say in a few words why this destination is risky", "must be text"),
      })
      .trim()
      .min(1, { error: "must not be empty" }),
  },
  { error: mappingError("prefix, level and reason") },
);

const riskFileSchema = z.strictObject(
  {
    destinations: z
      .array(riskEntrySchema, {
        error: valueError("is required", "must be a list of {prefix, level, reason} entries"),
      })
      .min(1, { error: "must list at least one destination" })
      .superRefine(rejectDuplicatePrefixes),
  },
  { error: mappingError("a `destinations` list") },
);

/**
 * Reads a risk list (see rules/risk-destinations.yaml for the format). Pure: the caller supplies the
 * text and a source name used in error messages.
 */
export function parseRiskFile(text: string, source: string): Result<RiskEntry[], RulesFileError> {
  const parsed = parseRulesYaml(text, source, riskFileSchema);
  return parsed.ok ? ok(parsed.value.destinations) : parsed;
}
