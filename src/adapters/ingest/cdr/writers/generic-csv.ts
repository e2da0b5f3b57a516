/**
 * A plain CSV of calls with a header line, the shape billing exports and spreadsheets use: ISO 8601 times
 * with the zone's offset, billable seconds, an Asterisk-style disposition. `genericCsvColumnMap` is the
 * column map that reads it back with the `csv` format.
 */
import type { CallRecord } from "../../../../core/call-events.js";
import type { CdrColumnMap } from "../column-map.js";
import { quoteIfNeeded, WallClockText } from "./text.js";
import type { CdrWriter, CdrWriterOptions } from "./types.js";

const COLUMNS = [
  "call_id",
  "account",
  "caller",
  "destination",
  "start",
  "answer",
  "end",
  "billsec",
  "disposition",
  "source_ip",
] as const;

export const genericCsvColumnMap: CdrColumnMap = {
  callId: "call_id",
  account: "account",
  from: "caller",
  to: "destination",
  start: "start",
  answer: "answer",
  end: "end",
  billsec: "billsec",
  disposition: "disposition",
  sourceIp: "source_ip",
  timeFormat: "iso",
  header: true,
};

export class GenericCsvWriter implements CdrWriter {
  readonly header = COLUMNS.join(",") + "\n";
  private readonly clock: WallClockText;

  constructor(options: CdrWriterOptions = {}) {
    this.clock = new WallClockText(options.timeZone ?? "UTC");
  }

  write(r: CallRecord): string {
    const c = this.clock;
    const answered = r.disposition === "ANSWERED" && r.answer !== undefined;
    return (
      quoteIfNeeded(r.callId) +
      "," +
      quoteIfNeeded(r.account) +
      "," +
      quoteIfNeeded(r.from ?? "") +
      "," +
      quoteIfNeeded(r.to) +
      "," +
      c.iso(r.start) +
      "," +
      (answered ? c.iso(r.answer as number) : "") +
      "," +
      c.iso(r.end) +
      "," +
      r.billsec +
      "," +
      quoteIfNeeded(r.disposition) +
      "," +
      quoteIfNeeded(r.sourceIp ?? "") +
      "\n"
    );
  }

  finish(): string {
    return "";
  }
}
