import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { err, ok, type Result } from "../core/result.js";

/** What is wrong with a shipped or operator-supplied rules file, and where. */
export type RulesFileError = {
  readonly source: string;
  /** 1-based line of the offending node, when it can be found. */
  readonly line: number | undefined;
  /** 0-based index of the list entry at fault, when the problem is inside one. */
  readonly entry: number | undefined;
  /** One sentence naming the source, the place and the problem. */
  readonly message: string;
};

/**
 * A zod refinement for lists keyed by prefix: a prefix listed twice is an error, since one of the two
 * entries would silently lose. The issue points at the second entry so the message carries its line.
 */
export function rejectDuplicatePrefixes(
  items: readonly { readonly prefix: string }[],
  ctx: z.RefinementCtx,
): void {
  const seen = new Map<string, number>();
  for (let i = 0; i < items.length; i++) {
    const prefix = items[i]?.prefix ?? "";
    const earlier = seen.get(prefix);
    if (earlier !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [i, "prefix"],
        message: `"${prefix}" is already listed at entry [${earlier}]; keep one entry per prefix`,
      });
      return;
    }
    seen.set(prefix, i);
  }
}

/** The subset of a zod issue that the messages below look at. */
type IssueFacts = {
  readonly code?: string | undefined;
  readonly input?: unknown;
  readonly keys?: readonly string[];
};

/** A zod error message that tells a missing value from a wrong one. */
export function valueError(missing: string, wrong: string): (issue: IssueFacts) => string {
  return (issue) => (issue.input === undefined ? missing : wrong);
}

/** A zod error message for a mapping: names unknown keys, otherwise says what the mapping should hold. */
export function mappingError(expected: string): (issue: IssueFacts) => string {
  return (issue) =>
    issue.code === "unrecognized_keys" && issue.keys !== undefined
      ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((key) => `"${key}"`).join(", ")} (expected ${expected})`
      : `must be a mapping with ${expected}`;
}

type Doc = ReturnType<typeof parseDocument>;

/**
 * Parses YAML text and validates it with a zod schema, reporting the first problem with the file name,
 * the line and the path inside the document (`destinations[3].prefix`), so an operator editing the
 * file can go straight to it.
 */
export function parseRulesYaml<T>(
  text: string,
  source: string,
  schema: z.ZodType<T>,
): Result<T, RulesFileError> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const line = yamlError.linePos?.[0].line ?? lineCounter.linePos(yamlError.pos[0]).line;
    const problem = yamlError.message.split("\n")[0] ?? yamlError.message;
    return err(fileError(source, line, undefined, `not valid YAML: ${problem}`));
  }
  const parsed = schema.safeParse(doc.toJS());
  if (parsed.success) return ok(parsed.data);
  const issue = parsed.error.issues[0];
  if (issue === undefined) return err(fileError(source, undefined, undefined, "does not match the schema"));
  const path = issue.path.filter((part): part is string | number => typeof part !== "symbol");
  const entry = path.find((part): part is number => typeof part === "number");
  const where = path.length === 0 ? "" : `${formatPath(path)}: `;
  return err(fileError(source, lineOf(doc, lineCounter, path), entry, where + issue.message));
}

function fileError(
  source: string,
  line: number | undefined,
  entry: number | undefined,
  problem: string,
): RulesFileError {
  const at = line !== undefined && line > 0 ? ` line ${line}` : "";
  return { source, line, entry, message: `${source}${at}: ${problem}` };
}

/** The line of the deepest node on the path that exists (a missing key points at its parent). */
function lineOf(doc: Doc, lineCounter: LineCounter, path: (string | number)[]): number | undefined {
  for (let depth = path.length; depth > 0; depth--) {
    const node: unknown = doc.getIn(path.slice(0, depth), true);
    if (typeof node === "object" && node !== null && "range" in node) {
      const range = (node as { range?: readonly number[] | null }).range;
      const start = range?.[0];
      if (start !== undefined) return lineCounter.linePos(start).line;
    }
  }
  return undefined;
}

function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out === "" ? part : `.${part}`;
  return out;
}
