/**
 * Kamailio acc log lines as syslog keeps them. acc accounts SIP transactions, not calls: an answered call
 * is an INVITE `transaction answered` line when the 200 OK passes (the answer) and a BYE line when it
 * ends; an unanswered one is a `call missed` line when its final failure reply passes (its end). The
 * attributes after the core ones are the usual log_extra set (src_user, src_ip, dst_ouser …), which the
 * reader's defaults read back.
 *
 * Lines must come in time order, as syslog writes them, so each call's lines wait in a heap until no call
 * written later can have an earlier line: calls are expected in start order, and every line of a call is
 * at or after its start.
 */
import type { CallRecord } from "../../../../core/call-events.js";
import { MinHeap } from "../../../../core/heap.js";
import { sipFailure } from "./causes.js";
import { WallClockText } from "./text.js";
import type { CdrWriter, CdrWriterOptions } from "./types.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export class KamailioAccWriter implements CdrWriter {
  readonly header = "";
  private readonly clock: WallClockText;
  private readonly host: string;
  private readonly pending = new MinHeap<string>();
  private seq = 0;

  constructor(options: CdrWriterOptions = {}) {
    this.clock = new WallClockText(options.timeZone ?? "UTC");
    this.host = options.host ?? "sbc1";
  }

  write(r: CallRecord): string {
    const n = ++this.seq;
    const fromTag = (n * 2654435761) >>> 0;
    const tags = `from_tag=${fromTag.toString(16)};to_tag=as${n.toString(16)}`;
    const extra =
      `src_user=${r.account};src_domain=pbx.example.jp;src_ip=${r.sourceIp ?? ""}` +
      `;dst_ouser=${r.to};dst_user=${r.to};dst_domain=carrier.example.net`;
    if (r.disposition === "ANSWERED" && r.answer !== undefined) {
      this.hold(
        r.answer,
        false,
        "transaction answered",
        `method=INVITE;${tags};call_id=${r.callId};code=200;reason=OK;${extra}`,
      );
      this.hold(
        r.end,
        true,
        "transaction answered",
        `method=BYE;${tags};call_id=${r.callId};code=200;reason=OK;${extra}`,
      );
    } else {
      const f = sipFailure(r.disposition);
      this.hold(
        r.end,
        false,
        "call missed",
        `method=INVITE;${tags};call_id=${r.callId};code=${f.code};reason=${f.reason};${extra}`,
      );
    }
    return this.release(2 * Math.floor(r.start / 1000) + 1);
  }

  finish(): string {
    return this.release(Number.POSITIVE_INFINITY);
  }

  /** Keys are whole seconds doubled, plus one for a BYE, so that a call's BYE never precedes its INVITE. */
  private hold(at: number, bye: boolean, kind: string, attributes: string): void {
    const sec = Math.floor(at / 1000);
    const stamp = this.clock.stamp(at);
    const month = MONTHS[Number(stamp.slice(5, 7)) - 1] ?? "Jan";
    const day = stamp.charCodeAt(8) === 48 ? " " + stamp.slice(9, 10) : stamp.slice(8, 10);
    const pid = 4240 + (this.seq % 8);
    const line =
      `${month} ${day} ${stamp.slice(11)} ${this.host} /usr/sbin/kamailio[${pid}]: NOTICE: acc [acc.c:290]: ` +
      `acc_log_request(): ACC: ${kind}: timestamp=${sec};${attributes}\n`;
    this.pending.push(2 * sec + (bye ? 1 : 0), line);
  }

  private release(upto: number): string {
    let out = "";
    for (let k = this.pending.peekKey(); k !== undefined && k <= upto; k = this.pending.peekKey()) {
      out += this.pending.pop() as string;
    }
    return out;
  }
}
