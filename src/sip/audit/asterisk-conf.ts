/**
 * Asterisk's .conf format as the config loader reads it: `[section]` headers with options
 * (`(!)` template, `(name,...)` inherit, `(+)` add to an earlier section), `key = value` and
 * `key => value` lines, `;` comments (`\;` is a literal semicolon), `;-- ... --;` block comments, and
 * `#include` / `#tryinclude` (quoted, bracketed or bare, with `*` globs), resolved against the other
 * files of the audited directory. Inherited entries keep the file and line where they were written,
 * so a weak password set in a template is reported where it can be fixed.
 */
import type { ConfigFiles } from "./types.js";

export type ConfEntry = {
  readonly key: string;
  readonly value: string;
  readonly file: string;
  readonly line: number;
  /** The template it came from, when inherited. */
  readonly inheritedFrom?: string;
};

export type ConfSection = {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly isTemplate: boolean;
  readonly templates: readonly string[];
  /** Inherited entries first (in template order), then the section's own, as Asterisk applies them. */
  readonly entries: ConfEntry[];
};

export type ParsedConf = { readonly sections: readonly ConfSection[]; readonly warnings: readonly string[] };

const MAX_INCLUDE_DEPTH = 10;

/** Where an #include names a file: relative to the config directory; /etc/asterisk/ paths map into it. */
function resolveInclude(target: string, files: ConfigFiles): string[] {
  let t = target.trim().replace(/^["<]|[">]$/g, "");
  t = t.replace(/^\/etc\/asterisk\//, "");
  if (t.startsWith("/")) t = t.slice(t.lastIndexOf("/") + 1);
  t = t.replace(/^\.\//, "");
  if (!t.includes("*") && !t.includes("?")) return files.has(t) ? [t] : [];
  const re = new RegExp(
    "^" +
      t
        .split("")
        .map((c) => (c === "*" ? "[^/]*" : c === "?" ? "[^/]" : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
        .join("") +
      "$",
  );
  return [...files.keys()].filter((k) => re.test(k)).sort();
}

/** Removes comments from one line; `inBlock` carries a `;-- --;` block across lines. */
function stripComments(line: string, state: { inBlock: boolean }): string {
  let out = "";
  let i = 0;
  while (i < line.length) {
    if (state.inBlock) {
      const end = line.indexOf("--;", i);
      if (end === -1) return out;
      state.inBlock = false;
      i = end + 3;
      continue;
    }
    const c = line[i]!;
    if (c === "\\" && line[i + 1] === ";") {
      out += ";";
      i += 2;
      continue;
    }
    if (c === ";") {
      if (line.startsWith(";--", i)) {
        state.inBlock = true;
        i += 3;
        continue;
      }
      return out;
    }
    out += c;
    i++;
  }
  return out;
}

export function parseAsteriskConf(fileName: string, files: ConfigFiles): ParsedConf {
  const sections: ConfSection[] = [];
  const warnings: string[] = [];
  let current: ConfSection | undefined;

  const findSection = (name: string, before: number): ConfSection | undefined => {
    for (let i = Math.min(before, sections.length) - 1; i >= 0; i--)
      if (sections[i]!.name === name) return sections[i];
    return undefined;
  };

  const visit = (file: string, stack: readonly string[]) => {
    const text = files.get(file);
    if (text === undefined) return;
    const state = { inBlock: false };
    const lines = text.split(/\r?\n/);
    for (let n = 0; n < lines.length; n++) {
      const lineNo = n + 1;
      const raw = lines[n]!;
      const trimmedRaw = raw.trim();
      if (!state.inBlock && trimmedRaw.startsWith("#")) {
        const m = /^#\s*(include|tryinclude|exec)\s+(.+)$/i.exec(trimmedRaw);
        if (!m) continue;
        const kind = m[1]!.toLowerCase();
        if (kind === "exec") {
          warnings.push(`${file}:${lineNo}: #exec output is not audited`);
          continue;
        }
        const targets = resolveInclude(m[2]!, files);
        if (targets.length === 0) {
          if (kind === "include")
            warnings.push(`${file}:${lineNo}: #include ${m[2]!.trim()} not found in the audited directory`);
          continue;
        }
        for (const target of targets) {
          if (stack.includes(target) || stack.length >= MAX_INCLUDE_DEPTH) {
            warnings.push(`${file}:${lineNo}: #include ${target} would loop; skipped`);
            continue;
          }
          visit(target, [...stack, target]);
        }
        continue;
      }
      const line = stripComments(raw, state).trim();
      if (line === "") continue;
      if (line.startsWith("[")) {
        const m = /^\[([^\]]*)\]\s*(?:\(([^)]*)\))?/.exec(line);
        if (!m) {
          warnings.push(`${file}:${lineNo}: unreadable section header`);
          continue;
        }
        const name = m[1]!.trim();
        const options = (m[2] ?? "")
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
        if (options.includes("+")) {
          const earlier = findSection(name, sections.length);
          if (earlier) {
            current = earlier;
            continue;
          }
        }
        const templates = options.filter((o) => o !== "!" && o !== "+");
        const entries: ConfEntry[] = [];
        for (const t of templates) {
          const base = findSection(t, sections.length);
          if (!base) {
            warnings.push(`${file}:${lineNo}: template ${t} of [${name}] is not defined before it`);
            continue;
          }
          for (const e of base.entries)
            entries.push(e.inheritedFrom ? e : { ...e, inheritedFrom: base.name });
        }
        current = { name, file, line: lineNo, isTemplate: options.includes("!"), templates, entries };
        sections.push(current);
        continue;
      }
      const m = /^([^=]+?)\s*(=>|=)\s*(.*)$/.exec(line);
      if (!m) continue;
      if (!current) {
        warnings.push(`${file}:${lineNo}: setting outside any section ignored`);
        continue;
      }
      current.entries.push({ key: m[1]!.trim(), value: m[3]!.trim(), file, line: lineNo });
    }
  };

  visit(fileName, [fileName]);
  return { sections, warnings };
}

/** The last value of `key` (later settings win), case-insensitive on the key. */
export function lastEntry(section: ConfSection, key: string): ConfEntry | undefined {
  const k = key.toLowerCase();
  for (let i = section.entries.length - 1; i >= 0; i--)
    if (section.entries[i]!.key.toLowerCase() === k) return section.entries[i];
  return undefined;
}

export function allEntries(section: ConfSection, key: string): ConfEntry[] {
  const k = key.toLowerCase();
  return section.entries.filter((e) => e.key.toLowerCase() === k);
}

/** Asterisk's ast_true(): yes, true, y, t, 1, on. */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(yes|true|y|t|1|on)$/i.test(value.trim());
}

/** Asterisk's ast_false(): no, false, n, f, 0, off. */
export function isFalse(value: string | undefined): boolean {
  return value !== undefined && /^(no|false|n|f|0|off)$/i.test(value.trim());
}
