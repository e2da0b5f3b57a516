/**
 * SIPp for end-to-end tests and benchmarks: callers (UAC) that place one call per row of an injection
 * file, at a bounded rate and within a bounded time, and far ends (UAS) standing in for a trunk. Each run
 * leaves its message log, statistics and output under the caller's directory, for a person to read
 * after a failure; the message log is also what the tests read, since it says per call what happened.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fixture } from "./paths.js";
import { freePort, type PeerProcess, startProcess, udpPortInUse } from "./peers.js";

/** One call: the account (sent in X-Mamori-Account), the number dialled, the caller's own number. */
export type Call = readonly [account: string, dialled: string, caller: string];

/** A scenario file in test/fixtures/sipp/. */
export const scenario = (name: string): string => fixture("sipp", name);

/** Writes an injection file for the uac*.xml scenarios, calls in the order given. */
export function writeInjection(file: string, rows: readonly Call[]): string {
  writeFileSync(file, `SEQUENTIAL\n${rows.map((row) => row.join(";")).join("\n")}\n`);
  return file;
}

export interface SippRun {
  process: PeerProcess;
  /** -trace_msg: every message sent and received, with its time. */
  messages: string;
  /** -trace_stat: the statistics CSV, dumped at exit. */
  stats: string;
}

export interface SippStats {
  successful: number;
  failed: number;
  /** Calls that failed on a message the scenario did not expect (e.g. a 403 where a 200 was due). */
  unexpected: number;
}

export interface SippResult extends SippStats {
  /** SIPp's exit code: 0 when every call succeeded, 1 when some failed, others for errors. */
  code: number | null;
  messages: string;
}

export interface UacOptions {
  /** Calls started per second (-r); default 10. */
  rate?: number;
  /** Calls at once at most (-l); default 5. */
  limit?: number;
  /** SIPp gives up, failing, after this many seconds (-timeout); default 20. */
  timeoutS?: number;
  /** More SIPp arguments. */
  extra?: readonly string[];
}

/**
 * Starts SIPp runs whose files are named after a counter and a label in one directory. The directory
 * is asked for at the first run, so that a skipped test creates none.
 */
export class Sipp {
  private counter = 0;

  constructor(private readonly dir: () => string) {}

  async start(scenarioFile: string, args: readonly string[], calls: number, label: string): Promise<SippRun> {
    const n = ++this.counter;
    const base = join(this.dir(), `sipp-${n}-${label}`);
    const messages = `${base}.msg`;
    const stats = `${base}-stats.csv`;
    const all = [
      "-sf",
      scenarioFile,
      "-i",
      "127.0.0.1",
      "-mp",
      String(await freePort(4)), // SIPp binds the media port and the one two above it
      "-m",
      String(calls),
      "-nostdin",
      "-trace_msg",
      "-message_file",
      messages,
      "-trace_stat",
      "-stf",
      stats,
      "-trace_err",
      "-error_file",
      `${base}-errors.log`,
      ...args,
    ];
    const peer = await startProcess("sipp", all, { name: `sipp-${n}-${label}`, logDir: this.dir() });
    return { process: peer, messages, stats };
  }

  /** The trunk: a SIPp UAS on a port of its own, ready once it has bound it. */
  async startUas(scenarioName: string, port: number, calls: number, label: string, timeoutS = 40) {
    const run = await this.start(
      scenario(scenarioName),
      ["-p", String(port), "-timeout", `${timeoutS}s`],
      calls,
      label,
    );
    const deadline = Date.now() + 5000;
    while (!(await udpPortInUse(port)) && Date.now() < deadline) await sleep(25);
    return run;
  }

  /** Callers: one call per row, towards 127.0.0.1:targetPort. */
  async startUac(
    scenarioName: string,
    targetPort: number,
    rows: readonly Call[],
    label: string,
    options: UacOptions = {},
  ): Promise<SippRun> {
    const csv = writeInjection(join(this.dir(), `calls-${this.counter + 1}-${label}.csv`), rows);
    const args = ["-inf", csv, "-p", String(await freePort())];
    args.push("-r", String(options.rate ?? 10), "-l", String(options.limit ?? 5));
    args.push("-timeout", `${options.timeoutS ?? 20}s`, "-timeout_error", ...(options.extra ?? []));
    args.push(`127.0.0.1:${targetPort}`);
    return this.start(scenario(scenarioName), args, rows.length, label);
  }

  /** Places the calls and waits for SIPp to finish them. */
  async uac(
    scenarioName: string,
    targetPort: number,
    rows: readonly Call[],
    label: string,
    options: UacOptions = {},
  ): Promise<SippResult> {
    const run = await this.startUac(scenarioName, targetPort, rows, label, options);
    return finish(run, ((options.timeoutS ?? 20) + 10) * 1000);
  }
}

/** Waits for a run to end by itself (bounded), then reads what it recorded. */
export async function finish(run: SippRun, timeoutMs = 30_000): Promise<SippResult> {
  const status = await run.process.waitForExit(timeoutMs);
  return { code: status.code, ...readStats(run.stats), messages: readIfExists(run.messages) };
}

/**
 * Ends a UAS that still waits for calls that should never come: SIGUSR1 is SIPp's soft exit, which
 * finishes the calls in progress and writes the statistics; the process group is killed if it lingers.
 */
export async function stopUas(run: SippRun, timeoutMs = 3000): Promise<SippResult> {
  try {
    process.kill(run.process.pid, "SIGUSR1");
  } catch {
    // Already gone.
  }
  const status = await Promise.race([run.process.exited, sleep(timeoutMs).then(() => undefined)]);
  const final = status ?? (await run.process.stop());
  return { code: final.code, ...readStats(run.stats), messages: readIfExists(run.messages) };
}

export function readIfExists(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

/** The cumulative counters of the last row of a -trace_stat file (NaN when there is none). */
export function readStats(file: string): SippStats {
  const lines = readIfExists(file).trim().split("\n");
  const header = lines[0]?.split(";") ?? [];
  const last = lines.length > 1 ? (lines[lines.length - 1]?.split(";") ?? []) : [];
  const column = (name: string) => Number(last[header.indexOf(name)] ?? Number.NaN);
  return {
    successful: column("SuccessfulCall(C)"),
    failed: column("FailedCall(C)"),
    unexpected: column("FailedUnexpectedMessage(C)"),
  };
}

// ---------------------------------------------------------------- the message log

export interface SipMessage {
  /** When SIPp sent or received it, in ms since the epoch with µs resolution (the log's local time). */
  at: number;
  direction: "sent" | "received";
  text: string;
}

const ENTRY = /^-{10,} (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})\.(\d{6})[ \t]*$/m;

/** SIP messages in a SIPp message log (-trace_msg), sent and received, in the order logged. */
export function parseMessageLog(log: string): SipMessage[] {
  const out: SipMessage[] = [];
  const parts = log.split(new RegExp(ENTRY.source, "m"));
  // split() with capture groups: [before, date, time, micros, body, date, time, micros, body, ...]
  for (let i = 1; i + 3 < parts.length; i += 4) {
    const [date, time, micros, body] = [parts[i], parts[i + 1], parts[i + 2], parts[i + 3] ?? ""];
    const head = /^\s*\S+ message (sent|received)[^\n]*\n/.exec(body);
    if (!head || !date || !time || !micros) continue;
    const text = body.slice(head[0].length).trim();
    if (!/^(?:[A-Z]+ sip:|SIP\/2\.0 )/.test(text)) continue;
    const at = new Date(`${date}T${time}`).getTime() + Number(micros) / 1000;
    out.push({ at, direction: head[1] === "sent" ? "sent" : "received", text });
  }
  return out;
}

/** The texts of the SIP messages in a message log. */
export function sipMessages(log: string): string[] {
  return parseMessageLog(log).map((m) => m.text);
}

export const messagesStarting = (log: string, start: string): string[] =>
  sipMessages(log).filter((m) => m.startsWith(start));

/** A header's value (the first one), or undefined. */
export function header(message: string, name: string): string | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped}:[ \\t]*(.*?)\\s*$`, "im").exec(message)?.[1];
}

/** The user part of a request's Request-URI (`INVITE sip:+23276…@host SIP/2.0` → `+23276…`). */
export function requestUser(message: string): string | undefined {
  return /^[A-Z]+ sips?:([^@;>\s]+)@/.exec(message)?.[1];
}

/** The user part of the To header: the number dialled, also in responses. */
export function toUser(message: string): string | undefined {
  return /sips?:([^@;>\s]+)@/.exec(header(message, "To") ?? "")?.[1];
}

/** SIPp's call number from its default Call-ID (`<call number>-<pid>@<address>`). */
export function callNumber(callId: string): number {
  return Number(/^(\d+)-/.exec(callId)?.[1] ?? Number.NaN);
}

/** Requests of one method that a UAS received (retransmissions counted once). */
export function requestsReceived(log: string, method: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const m of parseMessageLog(log)) {
    if (m.direction !== "received" || !m.text.startsWith(`${method} `)) continue;
    const key = `${header(m.text, "Call-ID")} ${header(m.text, "CSeq")}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(m.text);
  }
  return out;
}

export interface CallOutcome {
  callId: string;
  /** SIPp's call number: the order in which the caller placed the calls. */
  number: number;
  dialled: string | undefined;
  /** The final answer to the INVITE (200, 403, 503 ...), undefined when none came. */
  status: number | undefined;
  /** The final answer itself. */
  response: string | undefined;
  /** From the first INVITE sent to the final answer, in ms (µs resolution): the post-dial delay. */
  postDialMs: number | undefined;
}

/** Per call of a UAC's message log: how the INVITE was answered, and how long it took. */
export function callOutcomes(log: string): CallOutcome[] {
  const calls = new Map<string, CallOutcome & { sentAt: number | undefined }>();
  for (const m of parseMessageLog(log)) {
    const callId = header(m.text, "Call-ID");
    if (!callId || !/^\d+\s+INVITE$/i.test(header(m.text, "CSeq") ?? "")) continue;
    let call = calls.get(callId);
    if (!call) {
      call = {
        callId,
        number: callNumber(callId),
        dialled: undefined,
        status: undefined,
        response: undefined,
        postDialMs: undefined,
        sentAt: undefined,
      };
      calls.set(callId, call);
    }
    if (m.direction === "sent" && m.text.startsWith("INVITE ")) {
      call.sentAt ??= m.at;
      call.dialled ??= requestUser(m.text);
      continue;
    }
    const status = Number(/^SIP\/2\.0 (\d{3})/.exec(m.text)?.[1] ?? 0);
    if (m.direction === "received" && status >= 200 && call.status === undefined) {
      call.status = status;
      call.response = m.text;
      if (call.sentAt !== undefined) call.postDialMs = m.at - call.sentAt;
    }
  }
  return [...calls.values()].map(({ sentAt: _, ...call }) => call).sort((a, b) => a.number - b.number);
}
