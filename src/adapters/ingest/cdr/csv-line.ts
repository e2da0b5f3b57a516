/**
 * CSV for CDR files: one record per line, RFC 4180 quoting with doubled quotes.
 *
 * Written by hand rather than taken from a CSV package: the one well-kept streaming parser (csv-parse)
 * is not a dependency, and the ingest goal (a million CDRs per second per core end to end) needs a hot
 * loop that finds field ends with `indexOf` instead of visiting characters one by one, uses no regular
 * expressions and allocates nothing but the field strings themselves (into an array the caller reuses).
 *
 * The parser is deliberately lenient where switches are sloppy, because a CDR row that a human can read
 * should not be lost: FreeSWITCH's mod_cdr_csv writes values between quotes without escaping quotes in
 * them, so a quote inside a quoted field that is not followed by the delimiter is kept as a character;
 * spaces between a delimiter and an opening quote (templates written `"a", "b"`) are skipped. A quote
 * inside an unquoted field is an ordinary character.
 */

/** Returned by {@link parseCsvLine} when a quoted field runs past the end of the text. */
export const CSV_UNTERMINATED = -1;

const QUOTE = 34;
const SPACE = 32;

/**
 * Splits one CSV record into `out` (reused between calls; entries past the returned count are stale).
 * Returns the number of fields, or {@link CSV_UNTERMINATED} when a quoted field is still open at the end
 * of `text` (the record continues on the next line, or is broken). Fields whose index is marked in
 * `skip` are scanned but not copied out (they read as ""), which saves the allocation of columns the
 * caller never looks at.
 */
export function parseCsvLine(text: string, out: string[], delimiter = ",", skip?: Uint8Array): number {
  const len = text.length;
  const d = delimiter.charCodeAt(0);
  let n = 0;
  let i = 0;
  for (;;) {
    const keep = skip === undefined || skip[n] !== 1;
    let c = i < len ? text.charCodeAt(i) : -1;
    if (c === SPACE && d !== SPACE) {
      // `a, "b"`: the quote still opens a quoted field. Anything else keeps its spaces.
      let k = i + 1;
      while (k < len && text.charCodeAt(k) === SPACE) k++;
      if (k < len && text.charCodeAt(k) === QUOTE) {
        i = k;
        c = QUOTE;
      }
    }
    if (c !== QUOTE) {
      const j = text.indexOf(delimiter, i);
      if (j === -1) {
        out[n++] = !keep ? "" : i === 0 ? text : text.slice(i);
        return n;
      }
      out[n++] = keep ? text.slice(i, j) : "";
      i = j + 1;
      continue;
    }
    let value = "";
    let start = i + 1;
    let q = text.indexOf('"', start);
    for (;;) {
      if (q === -1) return CSV_UNTERMINATED;
      const next = q + 1 < len ? text.charCodeAt(q + 1) : -1;
      if (next === QUOTE) {
        if (keep) value += text.slice(start, q + 1);
        start = q + 2;
        q = text.indexOf('"', start);
        continue;
      }
      if (next === d || next === -1) {
        i = q + 1;
        break;
      }
      if (next === SPACE) {
        // `"b" ,` closes too; a quote followed by spaces and more text is a stray quote.
        let k = q + 2;
        while (k < len && text.charCodeAt(k) === SPACE) k++;
        if (k === len || text.charCodeAt(k) === d) {
          i = k;
          break;
        }
      }
      q = text.indexOf('"', q + 1);
    }
    out[n++] = keep ? value + text.slice(start, q) : "";
    if (i >= len) return n;
    i++;
  }
}

/** A `skip` mask for {@link parseCsvLine}: every column below `width` that is not in `wanted`. */
export function skipMask(width: number, wanted: Iterable<number>): Uint8Array {
  const mask = new Uint8Array(width).fill(1);
  for (const w of wanted) if (w >= 0 && w < width) mask[w] = 0;
  return mask;
}

/** Writes fields as one CSV record that {@link parseCsvLine} reads back unchanged. */
export function formatCsvLine(fields: readonly string[], delimiter = ","): string {
  let line = "";
  for (let f = 0; f < fields.length; f++) {
    const v = fields[f] ?? "";
    if (f > 0) line += delimiter;
    const needsQuotes =
      v.includes(delimiter) ||
      v.includes('"') ||
      v.includes("\n") ||
      v.includes("\r") ||
      v.charCodeAt(0) === SPACE ||
      v.charCodeAt(v.length - 1) === SPACE;
    line += needsQuotes ? '"' + v.replaceAll('"', '""') + '"' : v;
  }
  return line;
}

export type CsvRecordHandler = (fields: string[], count: number, line: number, text: string) => void;
export type CsvBrokenHandler = (line: number, text: string) => void;

/**
 * Turns lines into CSV records, joining the rare record whose quoted field holds a line break. A quote
 * that is never closed must not swallow the rest of the file: when the joined lines still do not close
 * it after `maxLines` lines, or close it with a column count that `plausible` refuses, the first line
 * is reported broken and the lines after it are read again on their own.
 */
export class CsvRecordSplitter {
  private readonly fields: string[] = [];
  private pending: string[] = [];
  private pendingNos: number[] = [];

  constructor(
    private readonly delimiter: string,
    private readonly onRecord: CsvRecordHandler,
    private readonly onBroken: CsvBrokenHandler,
    private readonly plausible: (count: number) => boolean = () => true,
    private readonly skip?: Uint8Array,
    private readonly maxLines = 8,
  ) {}

  /** True while a record is open across lines (an empty line then belongs to it). */
  get waiting(): boolean {
    return this.pending.length > 0;
  }

  push(line: string, lineNo: number): void {
    if (this.pending.length === 0) {
      const n = parseCsvLine(line, this.fields, this.delimiter, this.skip);
      if (n !== CSV_UNTERMINATED) {
        this.onRecord(this.fields, n, lineNo, line);
        return;
      }
      this.pending.push(line);
      this.pendingNos.push(lineNo);
      return;
    }
    this.pending.push(line);
    this.pendingNos.push(lineNo);
    const text = this.pending.join("\n");
    const n = parseCsvLine(text, this.fields, this.delimiter, this.skip);
    if (n !== CSV_UNTERMINATED && !this.plausible(n)) {
      this.giveUp();
    } else if (n !== CSV_UNTERMINATED) {
      const first = this.pendingNos[0] ?? lineNo;
      this.pending = [];
      this.pendingNos = [];
      this.onRecord(this.fields, n, first, text);
    } else if (this.pending.length >= this.maxLines) {
      this.giveUp();
    }
  }

  /** Call at the end of input: a record still open is reported broken. */
  finish(): void {
    while (this.pending.length > 0) this.giveUp();
  }

  private giveUp(): void {
    const lines = this.pending;
    const nos = this.pendingNos;
    this.pending = [];
    this.pendingNos = [];
    this.onBroken(nos[0] ?? 0, lines[0] ?? "");
    for (let k = 1; k < lines.length; k++) this.push(lines[k] ?? "", nos[k] ?? 0);
  }
}
