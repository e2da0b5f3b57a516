/**
 * Cuts a stream of lines into JSON objects, whichever way the switch wrote them: one per line (JSON
 * lines), pretty-printed over many lines, concatenated, or as the elements of one top-level array. Only
 * the object being read is held in memory, and never more than `maxChars` of it: an array of a million
 * CDRs is read one CDR at a time.
 *
 * The scanner only tracks strings and nesting (JSON.parse validates each object afterwards); inside a
 * string it jumps from quote to quote with indexOf.
 */

export type JsonObjectHandler = (text: string, line: number) => void;
export type JsonErrorHandler = (line: number, reason: string, raw: string) => void;

/** Index of the quote closing a string that started before `from`, or -1 when it does not close on this line. */
function stringEnd(line: string, from: number): number {
  let q = line.indexOf('"', from);
  while (q !== -1) {
    let slashes = 0;
    for (let b = q - 1; b >= from && line.charCodeAt(b) === 92; b--) slashes++;
    if ((slashes & 1) === 0) return q;
    q = line.indexOf('"', q + 1);
  }
  return -1;
}

export class JsonObjectSplitter {
  private parts: string[] = [];
  private size = 0;
  /** Nesting depth inside the current object; 0 between objects. */
  private depth = 0;
  private inString = false;
  /** Inside a top-level `[ … ]` whose elements are the objects. */
  private inArray = false;
  private startLine = 0;
  /** The current object is over the limit: still scanned to find its end, no longer kept. */
  private dropping = false;

  constructor(
    private readonly onObject: JsonObjectHandler,
    private readonly onError: JsonErrorHandler,
    private readonly maxChars: number,
  ) {}

  push(line: string, lineNo: number): void {
    const len = line.length;
    let i = 0;
    let segStart = this.depth > 0 ? 0 : -1;
    while (i < len) {
      if (this.depth === 0) {
        const c = line.charCodeAt(i);
        if (c === 32 || c === 9 || c === 13 || c === 0xfeff) {
          i++;
        } else if (c === 123) {
          this.depth = 1;
          this.inString = false;
          this.startLine = lineNo;
          segStart = i;
          i++;
        } else if (c === 91 && !this.inArray) {
          this.inArray = true;
          i++;
        } else if ((c === 44 || c === 93) && this.inArray) {
          if (c === 93) this.inArray = false;
          i++;
        } else {
          this.onError(lineNo, "expected a JSON object", line);
          return;
        }
        continue;
      }
      if (this.inString) {
        const q = stringEnd(line, i);
        if (q === -1) break;
        this.inString = false;
        i = q + 1;
        continue;
      }
      const c = line.charCodeAt(i);
      if (c === 34) this.inString = true;
      else if (c === 123 || c === 91) this.depth++;
      else if (c === 125 || c === 93) {
        this.depth--;
        if (this.depth === 0) {
          this.complete(line.slice(segStart, i + 1));
          segStart = -1;
        }
      }
      i++;
    }
    if (this.depth > 0 && segStart >= 0) this.keep(segStart === 0 ? line : line.slice(segStart));
  }

  /** End of input: an object still open is reported. */
  finish(): void {
    if (this.depth > 0) {
      const raw = this.parts.join("\n");
      this.reset();
      this.onError(this.startLine, "JSON object is not closed at the end of the input", raw);
    }
  }

  private keep(segment: string): void {
    if (this.dropping) return;
    this.size += segment.length + 1;
    if (this.size > this.maxChars) {
      this.dropping = true;
      this.parts = [];
      return;
    }
    this.parts.push(segment);
  }

  private complete(tail: string): void {
    if (this.dropping) {
      this.reset();
      this.onError(this.startLine, `JSON object is larger than ${this.maxChars} characters`, "");
      return;
    }
    const text = this.parts.length === 0 ? tail : this.parts.join("\n") + "\n" + tail;
    this.reset();
    if (text.length > this.maxChars) {
      this.onError(this.startLine, `JSON object is larger than ${this.maxChars} characters`, "");
      return;
    }
    this.onObject(text, this.startLine);
  }

  private reset(): void {
    this.parts = [];
    this.size = 0;
    this.depth = 0;
    this.inString = false;
    this.dropping = false;
  }
}
