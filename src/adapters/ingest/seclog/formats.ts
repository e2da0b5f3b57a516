/**
 * The security-log formats by name, and `auto`, which picks a parser per line for mixed input such as
 * a syslog file that several PBX programs write to.
 */
import { parseAsteriskMessages } from "./asterisk-messages.js";
import { parseAsteriskSecurity } from "./asterisk-security.js";
import { parseFreeswitch } from "./freeswitch.js";
import { parseKamailio } from "./kamailio.js";
import { type ParseContext, type SeclogParser, type SipLineResult, SKIP } from "./types.js";

export const SECLOG_FORMATS = {
  "asterisk-security": parseAsteriskSecurity,
  "asterisk-messages": parseAsteriskMessages,
  kamailio: parseKamailio,
  freeswitch: parseFreeswitch,
} as const satisfies Record<string, SeclogParser>;

export type SeclogFormat = keyof typeof SECLOG_FORMATS | "auto";

export function isSeclogFormat(name: string): name is SeclogFormat {
  return name === "auto" || Object.hasOwn(SECLOG_FORMATS, name);
}

/** Chooses by markers that only one program writes; lines with none of them are skipped. */
export function parseAnySeclog(line: string, ctx: ParseContext): SipLineResult {
  if (line.includes('SecurityEvent="')) return parseAsteriskSecurity(line, ctx);
  if (line.includes("sofia") || line.includes("Can't find user") || line.includes("Rejected by")) {
    return parseFreeswitch(line, ctx);
  }
  if (
    /\b(?:NOTICE|WARNING|SECURITY|ERROR)\[\d+\]/.test(line) ||
    line.includes(" rejected because extension")
  ) {
    return parseAsteriskMessages(line, ctx);
  }
  if (
    line.includes("mamori event=") ||
    line.includes("PIKE") ||
    line.includes("pike") ||
    /\bauth/i.test(line)
  ) {
    return parseKamailio(line, ctx);
  }
  return SKIP;
}

export function seclogParser(format: SeclogFormat): SeclogParser {
  return format === "auto" ? parseAnySeclog : SECLOG_FORMATS[format];
}
