import { z } from "zod";
import { mappingError, parseRulesYaml, type RulesFileError, valueError } from "../calls/rules-yaml.js";
import type { Result } from "../core/result.js";

/**
 * User-Agent strings of SIP scanners and brute-force tools, matched case-insensitively as substrings.
 * The shipped list is rules/scanner-user-agents.yaml; operators may replace it.
 */
export type ScannerPattern = {
  /** Lower case, for matching. */
  readonly match: string;
  readonly note: string;
};

export type ScannerList = { readonly source: string; readonly patterns: readonly ScannerPattern[] };

// Shorter patterns would match inside ordinary product names.
const MIN_PATTERN = 4;

const entrySchema = z.strictObject(
  {
    match: z
      .string({
        error: valueError("is required: a piece of the User-Agent, e.g. friendly-scanner", "must be text"),
      })
      .trim()
      .min(MIN_PATTERN, { error: `must be at least ${MIN_PATTERN} characters, or it matches real phones` })
      .max(200, { error: "must be at most 200 characters" }),
    note: z
      .string({ error: valueError("is required: say which tool sends it", "must be text") })
      .trim()
      .min(1, { error: "must not be empty" }),
  },
  { error: mappingError("match and note") },
);

const fileSchema = z
  .strictObject(
    {
      agents: z
        .array(entrySchema, { error: valueError("is required", "must be a list of {match, note} entries") })
        .min(1, { error: "must list at least one agent" }),
    },
    { error: mappingError("agents") },
  )
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.agents.forEach((a, i) => {
      const key = a.match.toLowerCase();
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["agents", i, "match"],
          message: `"${a.match}" is already listed at entry [${earlier}]`,
        });
      }
      seen.set(key, i);
    });
  });

/** Reads the scanner list; the error names the file, the line and the problem. */
export function parseScannerList(text: string, source: string): Result<ScannerList, RulesFileError> {
  const parsed = parseRulesYaml(text, source, fileSchema);
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    value: {
      source,
      patterns: parsed.value.agents.map((a) => ({ match: a.match.toLowerCase(), note: a.note })),
    },
  };
}

export const emptyScannerList: ScannerList = { source: "(none)", patterns: [] };

/** The first pattern found in the User-Agent, or undefined. */
export function matchScanner(list: ScannerList, userAgent: string): ScannerPattern | undefined {
  const ua = userAgent.toLowerCase();
  for (const p of list.patterns) if (ua.includes(p.match)) return p;
  return undefined;
}
