/**
 * Can a dial pattern reach a foreign number? Rather than list the patterns that look international
 * (`_00X.`, `_011X.`, `_010X.`, `_+X.`, `_9011.`), each pattern is tried against numbers as users
 * dial abroad under the common access codes, with and without an outside-line digit. That also
 * catches the catch-alls (`_X.`, `_0X.`, `_.`) that let international calls through unnoticed.
 */

const ACCESS_CODES = ["00", "011", "010", "0011", "001", "0010"];
const SUBSCRIBER = "441632960123";

/** Numbers a caller would dial for a UK number from the main numbering plans. */
export const INTERNATIONAL_SAMPLES: readonly string[] = (() => {
  const base = [...ACCESS_CODES.map((c) => c + SUBSCRIBER), "+" + SUBSCRIBER];
  const withOutsideLine = ACCESS_CODES.flatMap((c) => ["9" + c + SUBSCRIBER, "0" + c + SUBSCRIBER]);
  return [...base, ...withOutsideLine, "9+" + SUBSCRIBER];
})();

/** An Asterisk extension pattern (`_XXX.`) as a regular expression; undefined for literal extensions. */
export function asteriskPatternRegex(pattern: string): RegExp | undefined {
  if (!pattern.startsWith("_")) return undefined;
  let out = "^";
  const p = pattern.slice(1);
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    const u = c.toUpperCase();
    if (u === "X") out += "[0-9]";
    else if (u === "Z") out += "[1-9]";
    else if (u === "N") out += "[2-9]";
    else if (c === ".") out += ".+";
    else if (c === "!") out += ".*";
    else if (c === "-") continue;
    else if (c === "[") {
      const end = p.indexOf("]", i + 1);
      if (end === -1) return undefined;
      const set = p.slice(i + 1, end).replace(/[\\\]^]/g, "\\$&");
      out += `[${set}]`;
      i = end;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  try {
    return new RegExp(out + "$", "i");
  } catch {
    return undefined;
  }
}

/** A foreign number the Asterisk pattern accepts, or undefined. */
export function internationalMatchAsterisk(pattern: string): string | undefined {
  const re = asteriskPatternRegex(pattern);
  return re ? INTERNATIONAL_SAMPLES.find((s) => re.test(s)) : undefined;
}

/** A foreign number a FreeSWITCH condition expression (PCRE) accepts, or undefined; null when unreadable. */
export function internationalMatchRegex(expression: string): string | undefined | null {
  let re: RegExp;
  try {
    re = new RegExp(expression.replace(/^\(\?i\)/, ""));
  } catch {
    return null;
  }
  return INTERNATIONAL_SAMPLES.find((s) => re.test(s));
}
