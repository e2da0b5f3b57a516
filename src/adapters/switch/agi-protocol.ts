/**
 * The AGI wire protocol as Asterisk speaks it over FastAGI (TCP): the channel's environment as
 * `agi_name: value` lines ending with an empty line, then commands from us, each answered by one line
 * `200 result=N [(data)]` (or 5xx). Written from Asterisk's AGI documentation; pure string handling.
 */
export type AgiEnvironment = Readonly<Record<string, string>>;

export type AgiReply =
  | { readonly type: "ok"; readonly result: string; readonly data: string | undefined }
  | { readonly type: "error"; readonly code: number; readonly message: string }
  | { readonly type: "hangup" };

/** Reads one environment line; undefined for the empty line that ends the block. */
export function parseEnvLine(line: string): [string, string] | undefined {
  if (line === "") return undefined;
  const i = line.indexOf(":");
  if (i <= 0) return ["", line];
  return [line.slice(0, i).trim(), line.slice(i + 1).trim()];
}

/** Parses Asterisk's answer to a command. `HANGUP` arrives on its own when the caller hangs up. */
export function parseReply(line: string): AgiReply {
  if (line === "HANGUP") return { type: "hangup" };
  const m = /^(\d{3})\s+(.*)$/.exec(line);
  if (!m) return { type: "error", code: 0, message: `unreadable reply: ${line.slice(0, 100)}` };
  const code = Number(m[1]);
  const rest = m[2] ?? "";
  if (code !== 200) return { type: "error", code, message: rest };
  const r = /^result=(-?\w*)(?:\s+\((.*)\))?/.exec(rest);
  return { type: "ok", result: r?.[1] ?? "", data: r?.[2] };
}

/** A quoted AGI argument: quotes and backslashes escaped, line breaks removed (they end commands). */
export function quote(value: string): string {
  return `"${value
    .replace(/[\r\n]+/g, " ")
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')}"`;
}

export const setVariable = (name: string, value: string): string => `SET VARIABLE ${name} ${quote(value)}\n`;

/** The script name and query of `agi_request` (`agi://host:4573/authorize?account=acme`). */
export function requestTarget(env: AgiEnvironment): { script: string; query: URLSearchParams } {
  const req = env.agi_request ?? "";
  const m = /^agi:\/\/[^/]*\/([^?]*)(?:\?(.*))?$/.exec(req);
  const script = (env.agi_network_script ?? m?.[1] ?? "").split("?")[0] ?? "";
  return { script: script.replace(/^\/+/, ""), query: new URLSearchParams(m?.[2] ?? "") };
}

/** The arguments given to AGI() after the URL: agi_arg_1 … agi_arg_N. */
export function agiArgs(env: AgiEnvironment): string[] {
  const out: string[] = [];
  for (let i = 1; i < 64; i++) {
    const v = env[`agi_arg_${i}`];
    if (v === undefined) break;
    out.push(v);
  }
  return out;
}

/** Asterisk writes "unknown" for an empty caller ID or DNID. */
export const known = (v: string | undefined): string | undefined =>
  v === undefined || v === "" || v === "unknown" ? undefined : v;
