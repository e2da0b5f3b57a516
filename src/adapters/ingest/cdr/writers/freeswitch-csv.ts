/**
 * FreeSWITCH mod_cdr_csv rows of the `example` template (the shipped default-template): every value in
 * quotes and, as FreeSWITCH does, not escaped; `*_stamp` times in the switch's local zone, an empty
 * answer_stamp for a call nobody answered. The column order is the reader's FREESWITCH_EXAMPLE_COLUMNS.
 */
import type { CallRecord } from "../../../../core/call-events.js";
import { hangupCause } from "./causes.js";
import { secondsBetween, WallClockText } from "./text.js";
import type { CdrWriter, CdrWriterOptions } from "./types.js";

export class FreeswitchCsvWriter implements CdrWriter {
  readonly header = "";
  private readonly clock: WallClockText;
  private seq = 0;

  constructor(options: CdrWriterOptions = {}) {
    this.clock = new WallClockText(options.timeZone ?? "UTC");
  }

  write(r: CallRecord): string {
    const c = this.clock;
    const caller = r.from ?? "";
    const answered = r.disposition === "ANSWERED" && r.answer !== undefined;
    const bleg = answered ? `${r.callId}-b${++this.seq}` : "";
    const fields = [
      caller,
      caller,
      r.to,
      "default",
      c.stamp(r.start),
      answered ? c.stamp(r.answer as number) : "",
      c.stamp(r.end),
      String(secondsBetween(r.start, r.end)),
      String(r.billsec),
      hangupCause(r.disposition),
      r.callId,
      bleg,
      r.account,
      "PCMU",
      answered ? "PCMU" : "",
    ];
    return '"' + fields.join('","') + '"\n';
  }

  finish(): string {
    return "";
  }
}
