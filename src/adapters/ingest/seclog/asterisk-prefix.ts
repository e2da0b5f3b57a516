/**
 * The prefix Asterisk writes in front of every log message, in all the shapes fail2ban's users have
 * met: `[2024-01-05 03:12:45] NOTICE[1234]: chan_sip.c:25980 handle_request_register: ...`,
 * `[Jan  5 03:12:45] NOTICE[1234] chan_sip.c: ...`, `[2024-01-05 03:12:45.123] NOTICE[1234][C-00000001]: ...`,
 * through syslog (`Jan  5 03:12:45 pbx asterisk[1234]: NOTICE[1234]: ...`), coloured or not, or no
 * prefix at all when a tool already stripped it.
 */
import type { SipService } from "../../../core/sip-events.js";
import { cleanLine, parseSyslogHeader } from "./log-prefix.js";

export type AsteriskLine = {
  /** Asterisk's own time stamp, else the syslog one; undefined when the line has neither. */
  readonly time?: string | undefined;
  readonly level?: string | undefined;
  /** The source file that logged (`chan_sip.c`, `res_pjsip/pjsip_distributor.c`). */
  readonly file?: string | undefined;
  readonly message: string;
};

const PREFIX =
  /^(?:\[([^\]]{8,40})\]\s+)?([A-Z]{3,10})\[\d+\](?:\[C-[0-9a-fA-F]+\])?:?\s+(?:([\w./-]+\.c)(?::\d+)?(?:\s+(?:in\s+)?\w+)?:\s+)?/;

export function splitAsteriskLine(line: string): AsteriskLine {
  const clean = cleanLine(line);
  const sys = parseSyslogHeader(clean);
  const rest = sys ? sys.rest : clean;
  const m = PREFIX.exec(rest);
  if (!m) return { time: sys?.time, message: rest.trim() };
  return { time: m[1] ?? sys?.time, level: m[2], file: m[3], message: rest.slice(m[0].length).trim() };
}

/** The Asterisk channel driver a source file belongs to; undefined when the file does not say. */
export function serviceOfFile(file: string | undefined): SipService | undefined {
  if (!file) return undefined;
  if (file.startsWith("res_pjsip") || file.includes("/pjsip")) return "asterisk-pjsip";
  if (file.startsWith("chan_sip")) return "asterisk-chan_sip";
  if (file.startsWith("chan_iax2")) return "asterisk-iax2";
  if (file.startsWith("manager")) return "asterisk-ami";
  return undefined;
}
