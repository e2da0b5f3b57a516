/**
 * Just enough XML for FreeSWITCH's configuration: elements, attributes and line numbers; comments,
 * CDATA, processing instructions and text are skipped. FreeSWITCH's own loader is forgiving, so this
 * one is too: a stray closing tag is ignored and unclosed elements end with the file, each noted as a
 * warning. Hand-written because the audit needs line numbers on every element and nothing else, and
 * the dependencies the project takes on do not include an XML parser.
 */

export type XmlElement = {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  readonly file: string;
  readonly line: number;
};

export type ParsedXml = { readonly root: XmlElement; readonly warnings: readonly string[] };

const ENTITIES: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (s.indexOf("&") === -1) return s;
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
    if (e[0] === "#") {
      const code = e[1] === "x" || e[1] === "X" ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : all;
    }
    return ENTITIES[e.toLowerCase()] ?? all;
  });
}

const ATTR = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

export function parseXml(text: string, file: string): ParsedXml {
  const warnings: string[] = [];
  const newlines: number[] = [];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) newlines.push(i);
  const lineAt = (pos: number): number => {
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newlines[mid]! < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
  const root: XmlElement = { name: "#document", attrs: {}, children: [], file, line: 1 };
  const stack: XmlElement[] = [root];
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    if (lt === -1) break;
    const skipTo = (end: string, from: number): number => {
      const e = text.indexOf(end, from);
      return e === -1 ? text.length : e + end.length;
    };
    if (text.startsWith("<!--", lt)) {
      i = skipTo("-->", lt + 4);
      continue;
    }
    if (text.startsWith("<![CDATA[", lt)) {
      i = skipTo("]]>", lt + 9);
      continue;
    }
    if (text.startsWith("<?", lt)) {
      i = skipTo("?>", lt + 2);
      continue;
    }
    if (text.startsWith("<!", lt)) {
      i = skipTo(">", lt + 2);
      continue;
    }
    // Find the end of the tag, outside quoted attribute values.
    let j = lt + 1;
    let quote: string | undefined;
    for (; j < text.length; j++) {
      const c = text[j];
      if (quote) {
        if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === ">") break;
    }
    if (j >= text.length) {
      warnings.push(`${file}:${lineAt(lt)}: tag never closed`);
      break;
    }
    const inner = text.slice(lt + 1, j);
    i = j + 1;
    if (inner.startsWith("/")) {
      const name = inner.slice(1).trim();
      const at = stack.map((e) => e.name).lastIndexOf(name);
      if (at <= 0) warnings.push(`${file}:${lineAt(lt)}: </${name}> closes nothing`);
      else stack.length = at;
      continue;
    }
    const selfClosing = inner.endsWith("/");
    const body = selfClosing ? inner.slice(0, -1) : inner;
    const nameMatch = /^\s*([^\s/>]+)/.exec(body);
    if (!nameMatch) {
      warnings.push(`${file}:${lineAt(lt)}: unreadable tag`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const m of body.slice(nameMatch[0].length).matchAll(ATTR))
      attrs[m[1]!] = decodeEntities(m[2] ?? m[3] ?? "");
    const el: XmlElement = { name: nameMatch[1]!, attrs, children: [], file, line: lineAt(lt) };
    stack[stack.length - 1]!.children.push(el);
    if (!selfClosing) stack.push(el);
  }
  if (stack.length > 1) warnings.push(`${file}: <${stack[stack.length - 1]!.name}> is not closed`);
  return { root, warnings };
}

/** All descendants named `name` (case-insensitive), depth first, in document order. */
export function descendants(el: XmlElement, name: string): XmlElement[] {
  const want = name.toLowerCase();
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    for (const c of e.children) {
      if (c.name.toLowerCase() === want) out.push(c);
      walk(c);
    }
  };
  walk(el);
  return out;
}

/** Direct children named `name` (case-insensitive). */
export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  const want = name.toLowerCase();
  return el.children.filter((c) => c.name.toLowerCase() === want);
}
