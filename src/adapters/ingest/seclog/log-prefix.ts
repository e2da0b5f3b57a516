/**
 * What sits in front of a PBX's own message: terminal colour codes (Asterisk colours its log file when
 * the console is coloured), and a syslog or journald header when the PBX logs through syslog.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes start with ESC; removing them is the point.
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/** Removes ANSI escape sequences and a trailing carriage return. */
export function cleanLine(line: string): string {
  let s = line.indexOf("\u001b") === -1 ? line : line.replace(ANSI, "");
  if (s.endsWith("\r")) s = s.slice(0, -1);
  return s;
}

export type SyslogHeader = {
  readonly time: string;
  readonly host: string;
  readonly program: string;
  readonly rest: string;
};

// RFC 3164 (`Jan  5 03:12:45 host prog[pid]: `) and the ISO form rsyslog writes with high-precision
// time stamps (`2024-01-05T03:12:45.123456+09:00 host prog[pid]: `), with an optional <PRI>.
const SYSLOG =
  /^(?:<\d{1,3}>\d?\s*)?([A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}(?:\.\d+)?|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\s+(\S+)\s+([^\s:[]+)(?:\[\d+\])?:\s+/;

/** The syslog header of a line, or undefined when the line has none. */
export function parseSyslogHeader(line: string): SyslogHeader | undefined {
  const m = SYSLOG.exec(line);
  if (!m) return undefined;
  return { time: m[1]!, host: m[2]!, program: m[3]!, rest: line.slice(m[0].length) };
}
