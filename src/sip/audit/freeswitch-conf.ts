/**
 * A FreeSWITCH configuration directory as FreeSWITCH's preprocessor would see it: `X-PRE-PROCESS`
 * `set` defines `$${name}` variables in document order and `include` splices other files in (globs
 * allowed; a file wrapped in `<include>` contributes its children). Starts from freeswitch.xml when
 * present; otherwise from vars.xml and the top-level files of directory/, sip_profiles/ and dialplan/,
 * plus autoload_configs/event_socket.conf.xml, which is how the stock tree includes them.
 */
import type { ConfigFiles } from "./types.js";
import { parseXml, type XmlElement } from "./xml.js";

export type FsNode = {
  readonly name: string;
  /** Attribute values with `$${vars}` substituted. */
  readonly attrs: Readonly<Record<string, string>>;
  /** Attribute values as written. */
  readonly raw: Readonly<Record<string, string>>;
  readonly children: readonly FsNode[];
  readonly file: string;
  readonly line: number;
};

export type FsVariable = { readonly value: string; readonly file: string; readonly line: number };

export type FsConfig = {
  readonly roots: readonly FsNode[];
  readonly vars: ReadonlyMap<string, FsVariable>;
  readonly warnings: readonly string[];
};

const MAX_DEPTH = 12;

function normalise(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out.join("/");
}

function globMatch(pattern: string, files: ConfigFiles): string[] {
  if (!pattern.includes("*") && !pattern.includes("?")) return files.has(pattern) ? [pattern] : [];
  const re = new RegExp(
    "^" +
      pattern
        .split("")
        .map((c) => (c === "*" ? "[^/]*" : c === "?" ? "[^/]" : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
        .join("") +
      "$",
  );
  return [...files.keys()].filter((k) => re.test(k)).sort();
}

export function loadFreeswitchTree(files: ConfigFiles): FsConfig {
  const vars = new Map<string, FsVariable>();
  const warnings: string[] = [];
  const substitute = (v: string) =>
    v.indexOf("$${") === -1
      ? v
      : v.replace(/\$\$\{([^}]+)\}/g, (all, n: string) => vars.get(n)?.value ?? all);

  const resolve = (data: string, from: string): string[] => {
    let target = data.trim();
    // Absolute paths point into the live tree; map them to the audited copy.
    const conf = target.indexOf("/conf/");
    if (target.startsWith("/"))
      target = conf === -1 ? target.slice(target.lastIndexOf("/") + 1) : target.slice(conf + 6);
    target = target.replace(/^\$\$\{conf_dir\}\//, "");
    const dir = from.includes("/") ? from.slice(0, from.lastIndexOf("/")) : "";
    const relative = globMatch(normalise(dir ? `${dir}/${target}` : target), files);
    return relative.length > 0 ? relative : globMatch(normalise(target), files);
  };

  const expandFile = (path: string, stack: readonly string[]): FsNode[] => {
    const text = files.get(path);
    if (text === undefined) return [];
    const parsed = parseXml(text, path);
    warnings.push(...parsed.warnings);
    let top = parsed.root.children;
    if (top.length === 1 && top[0]!.name.toLowerCase() === "include") top = top[0]!.children;
    return expandList(top, path, stack);
  };

  const expandList = (nodes: readonly XmlElement[], file: string, stack: readonly string[]): FsNode[] => {
    const out: FsNode[] = [];
    for (const n of nodes) {
      if (n.name.toUpperCase() === "X-PRE-PROCESS") {
        const cmd = (n.attrs.cmd ?? "").toLowerCase();
        const data = n.attrs.data ?? "";
        if (cmd === "set") {
          const eq = data.indexOf("=");
          if (eq > 0)
            vars.set(data.slice(0, eq).trim(), {
              value: substitute(data.slice(eq + 1)),
              file: n.file,
              line: n.line,
            });
        } else if (cmd === "include") {
          const targets = resolve(substitute(data), file);
          if (targets.length === 0 && !data.includes("*"))
            warnings.push(`${n.file}:${n.line}: include ${data} not found in the audited directory`);
          for (const t of targets) {
            if (stack.includes(t) || stack.length >= MAX_DEPTH) {
              warnings.push(`${n.file}:${n.line}: include ${t} would loop; skipped`);
              continue;
            }
            out.push(...expandFile(t, [...stack, t]));
          }
        }
        continue;
      }
      const attrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(n.attrs)) attrs[k] = substitute(v);
      out.push({
        name: n.name,
        attrs,
        raw: n.attrs,
        children: expandList(n.children, file, stack),
        file: n.file,
        line: n.line,
      });
    }
    return out;
  };

  let starts: string[];
  if (files.has("freeswitch.xml")) starts = ["freeswitch.xml"];
  else {
    const top = [...files.keys()]
      .filter((k) => /^(directory|sip_profiles|dialplan)\/[^/]+\.xml$/.test(k))
      .sort();
    starts = ["vars.xml", ...top, "autoload_configs/event_socket.conf.xml"].filter((f) => files.has(f));
  }
  const roots: FsNode[] = [];
  for (const s of starts) roots.push(...expandFile(s, [s]));
  return { roots, vars, warnings };
}

/** Every node named `name` (case-insensitive) under `nodes`, in document order. */
export function findAll(nodes: readonly FsNode[], name: string): FsNode[] {
  const want = name.toLowerCase();
  const out: FsNode[] = [];
  const walk = (list: readonly FsNode[]) => {
    for (const n of list) {
      if (n.name.toLowerCase() === want) out.push(n);
      walk(n.children);
    }
  };
  walk(nodes);
  return out;
}

/** `<param name=... value=...>` children of the given `<settings>`/`<params>` containers. */
export function paramsOf(container: FsNode | undefined, tag = "param"): FsNode[] {
  return container ? container.children.filter((c) => c.name.toLowerCase() === tag) : [];
}

/** FreeSWITCH's switch_true(). */
export function fsTrue(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  return (
    ["yes", "on", "true", "t", "enabled", "active", "allow"].includes(v) ||
    (/^\d+$/.test(v) && Number(v) !== 0)
  );
}
