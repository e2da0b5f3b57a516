/**
 * Asterisk cdr_csv rows as Master.csv holds them: accountcode, src, dst, dcontext, clid, channel,
 * dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags, then
 * uniqueid and userfield (loguniqueid and loguserfield, on in most installs: 18 columns), then
 * peeraccount, linkedid and sequence with newcdrcolumns (21). Strings quoted with quotes doubled, numbers
 * bare, the answer time of an unanswered call an empty field; times in the switch's local zone.
 */
import type { CallRecord } from "../../../../core/call-events.js";
import { quoteAlways, secondsBetween, WallClockText } from "./text.js";
import type { CdrWriter, CdrWriterOptions } from "./types.js";

const hex8 = (n: number): string => n.toString(16).padStart(8, "0");

export class AsteriskCsvWriter implements CdrWriter {
  readonly header = "";
  private readonly clock: WallClockText;
  private readonly columns: 16 | 18 | 21;
  private channelSeq = 0;
  private sequence = 0;

  constructor(options: CdrWriterOptions = {}) {
    this.clock = new WallClockText(options.timeZone ?? "UTC");
    this.columns = options.asteriskColumns ?? 18;
  }

  write(r: CallRecord): string {
    const c = this.clock;
    const src = r.from ?? "";
    const ext = src === "" ? r.account : src;
    const answered = r.disposition === "ANSWERED" && r.answer !== undefined;
    const channel = `PJSIP/${ext}-${hex8(++this.channelSeq)}`;
    const dstchannel = r.disposition === "FAILED" ? "" : `PJSIP/trunk-${hex8(++this.channelSeq)}`;
    let row =
      quoteAlways(r.account) +
      "," +
      quoteAlways(src) +
      "," +
      quoteAlways(r.to) +
      ',"from-internal",' +
      quoteAlways(`"${ext}" <${ext}>`) +
      "," +
      quoteAlways(channel) +
      "," +
      quoteAlways(dstchannel) +
      ',"Dial",' +
      quoteAlways(`PJSIP/${r.to}@trunk,60`) +
      ',"' +
      c.stamp(r.start) +
      '",' +
      (answered ? '"' + c.stamp(r.answer as number) + '"' : "") +
      ',"' +
      c.stamp(r.end) +
      '",' +
      secondsBetween(r.start, r.end) +
      "," +
      r.billsec +
      ',"' +
      r.disposition +
      '","DOCUMENTATION"';
    if (this.columns >= 18) row += "," + quoteAlways(r.callId) + ',""';
    if (this.columns === 21) row += ',"",' + quoteAlways(r.callId) + "," + ++this.sequence;
    return row + "\n";
  }

  finish(): string {
    return "";
  }
}
