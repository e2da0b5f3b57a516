/**
 * CGRateS CDRs as JSON lines, the fields of its CDR struct as an export writes them: RFC 3339 times with
 * the zone's offset, Go's zero time for a call never answered, Usage in nanoseconds (a Go Duration), one
 * `*default` charging run per call, and the FreeSWITCH fields it was fed in ExtraFields.
 */
import { createHash } from "node:crypto";
import type { CallRecord } from "../../../../core/call-events.js";
import { hangupCause } from "./causes.js";
import { WallClockText } from "./text.js";
import type { CdrWriter, CdrWriterOptions } from "./types.js";

const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

export class CgratesJsonWriter implements CdrWriter {
  readonly header = "";
  private readonly clock: WallClockText;
  private readonly host: string;
  private order = 0;

  constructor(options: CdrWriterOptions = {}) {
    this.clock = new WallClockText(options.timeZone ?? "UTC");
    this.host = options.host ?? "192.0.2.100";
  }

  write(r: CallRecord): string {
    const answered = r.disposition === "ANSWERED" && r.answer !== undefined;
    const extra: Record<string, string> = { DisconnectCause: hangupCause(r.disposition) };
    if (r.from !== undefined) extra.Caller = r.from;
    if (r.sourceIp !== undefined) extra.SourceIP = r.sourceIp;
    const cdr = {
      // As CGRateS makes it: SHA-1 of the origin id and host.
      CGRID: createHash("sha1")
        .update(r.callId + this.host)
        .digest("hex"),
      RunID: "*default",
      OrderID: ++this.order,
      OriginHost: this.host,
      Source: "FS_JSON",
      OriginID: r.callId,
      ToR: "*voice",
      RequestType: "*postpaid",
      Tenant: "cgrates.org",
      Category: "call",
      Account: r.account,
      Subject: r.account,
      Destination: r.to,
      SetupTime: this.clock.iso(r.start),
      AnswerTime: answered ? this.clock.iso(r.answer as number) : GO_ZERO_TIME,
      Usage: answered ? r.billsec * 1e9 : 0,
      ExtraFields: extra,
      Partial: false,
      PreRated: false,
      CostSource: "",
      Cost: -1,
    };
    return JSON.stringify(cdr) + "\n";
  }

  finish(): string {
    return "";
  }
}
