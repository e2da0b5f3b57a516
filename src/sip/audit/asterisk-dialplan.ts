/**
 * extensions.conf as the audit needs it: contexts, what each includes, and the outbound routes that
 * accept foreign numbers. A route counts as checked when its extension runs anything that can refuse
 * the call before or around Dial (Authenticate, DISA, an AGI such as Mamori's FastAGI authorizer,
 * a conditional jump, a subroutine, or a CURL lookup); the audit gives the benefit of the doubt there
 * and reports routes that go straight to Dial.
 */
import type { ConfEntry, ParsedConf } from "./asterisk-conf.js";
import { internationalMatchAsterisk } from "./dial-patterns.js";

export type Priority = { readonly app: string; readonly args: string; readonly entry: ConfEntry };

export type DialplanContext = {
  readonly name: string;
  readonly includes: readonly string[];
  /** Extension name (pattern) -> its priorities in file order. */
  readonly extensions: ReadonlyMap<string, readonly Priority[]>;
};

export type Dialplan = ReadonlyMap<string, DialplanContext>;

export type InternationalRoute = {
  readonly context: string;
  readonly pattern: string;
  /** A foreign number the pattern accepts. */
  readonly sample: string;
  readonly checked: boolean;
  /** The extension's first line. */
  readonly entry: ConfEntry;
};

const NOT_CONTEXTS = new Set(["general", "globals"]);
const CHECK_APPS = new Set([
  "authenticate",
  "vmauthenticate",
  "disa",
  "agi",
  "eagi",
  "gotoif",
  "gotoiftime",
  "execif",
  "gosubif",
  "gosub",
  "macro",
  "macroif",
]);

function parseApp(text: string): { app: string; args: string } {
  const m = /^\s*([A-Za-z][\w]*)\s*(?:\((.*)\)?|,(.*))?\s*$/.exec(text);
  if (!m) return { app: "", args: text };
  return { app: m[1]!.toLowerCase(), args: (m[2] ?? m[3] ?? "").replace(/\)\s*$/, "") };
}

export function readDialplan(parsed: ParsedConf | undefined): Dialplan {
  const out = new Map<string, { name: string; includes: string[]; extensions: Map<string, Priority[]> }>();
  if (!parsed) return out;
  for (const section of parsed.sections) {
    if (section.isTemplate || NOT_CONTEXTS.has(section.name.toLowerCase())) continue;
    let ctx = out.get(section.name);
    if (!ctx) {
      ctx = { name: section.name, includes: [], extensions: new Map() };
      out.set(section.name, ctx);
    }
    let last: string | undefined;
    for (const e of section.entries) {
      const key = e.key.toLowerCase();
      if (key === "include") {
        ctx.includes.push(e.value.split(",")[0]!.trim());
        continue;
      }
      let name: string | undefined;
      let rest: string;
      if (key === "exten") {
        const first = e.value.indexOf(",");
        if (first === -1) continue;
        name = e.value.slice(0, first).trim().split("/")[0]!.trim();
        const second = e.value.indexOf(",", first + 1);
        if (second === -1) continue;
        rest = e.value.slice(second + 1);
        last = name;
      } else if (key === "same") {
        if (last === undefined) continue;
        name = last;
        const first = e.value.indexOf(",");
        if (first === -1) continue;
        rest = e.value.slice(first + 1);
      } else continue;
      const list = ctx.extensions.get(name) ?? [];
      list.push({ ...parseApp(rest), entry: e });
      ctx.extensions.set(name, list);
    }
  }
  return out;
}

/** Every context a call entering at `starts` can reach through `include =>`. */
export function reachable(dialplan: Dialplan, starts: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const todo = [...starts];
  while (todo.length > 0) {
    const c = todo.pop()!;
    if (seen.has(c)) continue;
    seen.add(c);
    for (const inc of dialplan.get(c)?.includes ?? []) todo.push(inc);
  }
  return seen;
}

/**
 * Extensions that accept a foreign number and pass it to Dial. Dialling a fixed target (`_X.` that
 * rings reception) is not a route abroad, so the extension must use the dialled number
 * (`${EXTEN}`) somewhere, usually in Dial itself.
 */
export function internationalRoutes(dialplan: Dialplan): InternationalRoute[] {
  const out: InternationalRoute[] = [];
  for (const ctx of dialplan.values()) {
    for (const [pattern, priorities] of ctx.extensions) {
      if (!priorities.some((p) => p.app === "dial")) continue;
      if (!priorities.some((p) => /\$\{EXTEN\b/i.test(p.args))) continue;
      const sample = internationalMatchAsterisk(pattern);
      if (sample === undefined) continue;
      const checked = priorities.some((p) => CHECK_APPS.has(p.app) || /\bCURL\s*\(/i.test(p.args));
      out.push({ context: ctx.name, pattern, sample, checked, entry: priorities[0]!.entry });
    }
  }
  return out;
}
