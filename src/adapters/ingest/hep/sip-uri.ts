/**
 * SIP name-addr and URI pieces (RFC 3261 §20.10, §25.1) as the PBX guard needs them: who the message
 * says it is from and to, never trusted, only reported. Shared by the SIP parser and the log parsers,
 * which see the same From header text inside Asterisk's messages.
 */

export type NameAddr = {
  readonly display?: string | undefined;
  readonly uri: string;
  /** Header parameters after the address (`;tag=...`), raw. */
  readonly params: string;
};

/** Parses `"Display" <sip:u@h>;tag=x`, `Display <sip:u@h>` or a bare `sip:u@h;tag=x`. */
export function parseNameAddr(text: string): NameAddr | undefined {
  const s = text.trim();
  if (s === "") return undefined;
  let i = 0;
  let display: string | undefined;
  if (s[0] === '"') {
    let out = "";
    i = 1;
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (c === "\\" && i + 1 < s.length) {
        out += s[++i];
        continue;
      }
      if (c === '"') break;
      out += c;
    }
    if (i >= s.length) return undefined;
    display = out;
    i++;
    while (s[i] === " " || s[i] === "\t") i++;
    if (s[i] !== "<") return undefined;
  } else {
    const lt = s.indexOf("<");
    if (lt !== -1) {
      const d = s.slice(0, lt).trim();
      if (d !== "") display = d;
      i = lt;
    }
  }
  if (s[i] === "<") {
    const gt = s.indexOf(">", i + 1);
    if (gt === -1) return undefined;
    return { display, uri: s.slice(i + 1, gt).trim(), params: s.slice(gt + 1).trim() };
  }
  const semi = s.indexOf(";");
  if (semi === -1) return { display, uri: s, params: "" };
  return { display, uri: s.slice(0, semi).trim(), params: s.slice(semi).trim() };
}

/** The value of a `;name=value` parameter in a raw parameter list, case-insensitive on the name. */
export function paramValue(params: string, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const part of params.split(";")) {
    const eq = part.indexOf("=");
    const key = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (key === want) return eq === -1 ? "" : part.slice(eq + 1).trim();
  }
  return undefined;
}

function unescapeUser(user: string): string {
  if (user.indexOf("%") === -1) return user;
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/** The user part of a sip:, sips: or tel: URI (`sip:100:pw@host` -> `100`), or undefined. */
export function uriUser(uri: string): string | undefined {
  const colon = uri.indexOf(":");
  if (colon === -1) return undefined;
  const scheme = uri.slice(0, colon).toLowerCase();
  const rest = uri.slice(colon + 1);
  if (scheme === "tel") {
    const semi = rest.indexOf(";");
    const n = semi === -1 ? rest : rest.slice(0, semi);
    return n === "" ? undefined : n;
  }
  if (scheme !== "sip" && scheme !== "sips") return undefined;
  const at = rest.lastIndexOf("@");
  if (at <= 0) return undefined;
  let user = rest.slice(0, at);
  const pw = user.indexOf(":");
  if (pw !== -1) user = user.slice(0, pw);
  return user === "" ? undefined : unescapeUser(user);
}

/** The user of a From/To header text, or of the text itself when it is a bare user name. */
export function userOfAddressText(text: string): string | undefined {
  const t = text.trim();
  if (t === "" || t === "<unknown>" || t === "unknown") return undefined;
  const na = parseNameAddr(t);
  if (na && /^(sips?|tel):/i.test(na.uri)) return uriUser(na.uri);
  return t;
}
