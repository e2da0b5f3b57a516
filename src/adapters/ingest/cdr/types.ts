import type { CallRecord, Rejected, SourcePosition } from "../../../core/call-events.js";

/** The CDR formats `mamori replay --format` accepts (DESIGN.md, CLI contract). */
export const cdrFormats = [
  "asterisk-csv",
  "freeswitch-csv",
  "freeswitch-json",
  "kamailio-acc",
  "cgrates-json",
  "csv",
] as const;
export type CdrFormat = (typeof cdrFormats)[number];

/** What a CDR reader yields: a usable call, or a row it could not use and why. */
export type CdrItem =
  | { readonly type: "record"; readonly record: CallRecord; readonly pos: SourcePosition }
  | { readonly type: "rejected"; readonly rejected: Rejected };

/**
 * Something worth telling the operator that is not a rejected row: a Master.csv whose column layout
 * changes mid-file, a Kamailio INVITE that never got its BYE.
 */
export type CdrNotice = SourcePosition & { readonly message: string };

export type Disposition = CallRecord["disposition"];

/** Which field names the account: the account code, the caller, or the account code unless empty. */
export const accountFromValues = ["accountcode", "caller", "accountcode-or-caller"] as const;
export type AccountFrom = (typeof accountFromValues)[number];

/**
 * The synchronous heart of every format: lines in, items out. Readers wrap it in async iteration;
 * keeping the parsing itself synchronous lets a file reader parse a whole chunk of lines per await.
 */
export interface CdrLineParser {
  /** One line without its line terminator; pushes zero or more items onto `out`. */
  push(line: string, lineNo: number, out: CdrItem[]): void;
  /** End of input: pushes what was held back (an open multi-line record, unpaired calls). */
  finish(out: CdrItem[]): void;
}
