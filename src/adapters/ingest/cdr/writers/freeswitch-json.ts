/**
 * FreeSWITCH mod_json_cdr documents, one per line (as collected from the per-call files or the posts):
 * channel variables under `variables`, URL-encoded as the module's encode-values does by default, times
 * as `*_stamp` (local), `*_epoch` (seconds) and `*_uepoch` (microseconds) with 0 for "never", and a
 * callflow with the caller profile and its times.
 */
import type { CallRecord } from "../../../../core/call-events.js";
import { hangupCause } from "./causes.js";
import { secondsBetween, WallClockText } from "./text.js";
import type { CdrWriter, CdrWriterOptions } from "./types.js";

const CORE_UUID = "6f1c2b9a-3d4e-4f50-8a6b-7c8d9e0f1a2b";

const enc = encodeURIComponent;

export class FreeswitchJsonWriter implements CdrWriter {
  readonly header = "";
  private readonly clock: WallClockText;
  private readonly host: string;

  constructor(options: CdrWriterOptions = {}) {
    this.clock = new WallClockText(options.timeZone ?? "UTC");
    this.host = options.host ?? "fs1";
  }

  write(r: CallRecord): string {
    const c = this.clock;
    const answered = r.disposition === "ANSWERED" && r.answer !== undefined;
    const answerMs = answered ? (r.answer as number) : 0;
    const sec = (ms: number): string => String(Math.floor(ms / 1000));
    const usec = (ms: number): string => String(Math.floor(ms) * 1000);
    const caller = r.from ?? "";
    const variables: Record<string, string> = {
      direction: "inbound",
      uuid: enc(r.callId),
      caller_id_name: enc(caller),
      caller_id_number: enc(caller),
      destination_number: enc(r.to),
      accountcode: enc(r.account),
      start_stamp: enc(c.stamp(r.start)),
      answer_stamp: answered ? enc(c.stamp(answerMs)) : "",
      end_stamp: enc(c.stamp(r.end)),
      start_epoch: sec(r.start),
      start_uepoch: usec(r.start),
      answer_epoch: answered ? sec(answerMs) : "0",
      answer_uepoch: answered ? usec(answerMs) : "0",
      end_epoch: sec(r.end),
      end_uepoch: usec(r.end),
      duration: String(secondsBetween(r.start, r.end)),
      billsec: String(r.billsec),
      hangup_cause: hangupCause(r.disposition),
    };
    if (r.sourceIp !== undefined) variables.sip_network_ip = enc(r.sourceIp);
    const doc = {
      "core-uuid": CORE_UUID,
      switchname: this.host,
      channel_data: { state: "CS_REPORTING", direction: "inbound" },
      variables,
      callflow: [
        {
          dialplan: "XML",
          profile_index: "1",
          caller_profile: {
            caller_id_number: caller,
            network_addr: r.sourceIp ?? "",
            destination_number: r.to,
            uuid: r.callId,
          },
          times: {
            created_time: usec(r.start),
            answered_time: answered ? usec(answerMs) : "0",
            hangup_time: usec(r.end),
          },
        },
      ],
    };
    return JSON.stringify(doc) + "\n";
  }

  finish(): string {
    return "";
  }
}
