import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "pino";
import type { CallService } from "../../app/call-service.js";
import { CidrSet } from "../../core/cidr.js";
import {
  type AgiEnvironment,
  agiArgs,
  known,
  parseEnvLine,
  parseReply,
  requestTarget,
  setVariable,
} from "./agi-protocol.js";

/**
 * FastAGI for Asterisk: `AGI(agi://mamori:4573/authorize)` asks the call guard and sets channel
 * variables the dialplan acts on:
 *
 *   MAMORI_DECISION  allow | deny | error (Mamori could not decide: the dialplan chooses fail-open or closed)
 *   MAMORI_RULE      the rule that denied (empty when allowed)
 *   MAMORI_REASON    "<rule>: <message>" for the log or a SIP header
 *
 * `answer` and `hangup` scripts report the call's life (from a Dial U() subroutine and the h extension)
 * so that calls in progress and live duration are counted. AGI carries no credentials, so the server
 * accepts connections only from the networks configured (loopback by default).
 */
export type FastAgiOptions = {
  readonly host: string;
  readonly port: number;
  readonly allowed: readonly string[];
  readonly calls: CallService;
  readonly log: Logger;
  readonly now?: () => number;
  /** Longest an AGI session may last before it is cut (a stuck PBX connection must not pile up). */
  readonly sessionTimeoutMs?: number;
};

export type FastAgiServer = {
  readonly address: { address: string; port: number };
  readonly stats: { sessions: number; refused: number; errors: number; hangups: number };
  close(): Promise<void>;
};

const MAX_LINE = 8192;
const MAX_ENV_LINES = 200;

export async function startFastAgi(o: FastAgiOptions): Promise<FastAgiServer> {
  const allowed = CidrSet.parse(o.allowed.length ? [...o.allowed] : ["127.0.0.0/8", "::1/128"]);
  if (!allowed.ok) throw new Error(`fastagi.allowed: ${allowed.error}`);
  const stats = { sessions: 0, refused: 0, errors: 0, hangups: 0 };
  const now = o.now ?? Date.now;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    const peer = (socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    if (!allowed.value.has(peer)) {
      stats.refused++;
      o.log.warn({ peer }, "FastAGI connection from a network not allowed; closed");
      socket.destroy();
      return;
    }
    stats.sessions++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.setTimeout(o.sessionTimeoutMs ?? 30_000, () => socket.destroy());
    void session(socket, o, now, stats).catch((err) => {
      stats.errors++;
      o.log.error({ err, peer }, "FastAGI session failed");
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const a = server.address();
  const address =
    typeof a === "object" && a ? { address: a.address, port: a.port } : { address: o.host, port: o.port };
  o.log.info(address, "FastAGI listening");
  return {
    address,
    stats,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Reads lines from a socket, one at a time, with a cap on line length. */
class LineReader {
  private buf = "";
  private readonly lines: string[] = [];
  private waiting: ((l: string | undefined) => void) | undefined;
  private ended = false;

  constructor(socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buf += chunk;
      for (let nl = this.buf.indexOf("\n"); nl !== -1; nl = this.buf.indexOf("\n")) {
        this.push(this.buf.slice(0, nl).replace(/\r$/, ""));
        this.buf = this.buf.slice(nl + 1);
      }
      if (this.buf.length > MAX_LINE) socket.destroy(new Error("AGI line too long"));
    });
    const end = () => {
      this.ended = true;
      this.waiting?.(undefined);
      this.waiting = undefined;
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  private push(line: string): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(line);
    } else this.lines.push(line);
  }

  next(): Promise<string | undefined> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((r) => {
      this.waiting = r;
    });
  }
}

async function session(
  socket: Socket,
  o: FastAgiOptions,
  now: () => number,
  stats: FastAgiServer["stats"],
): Promise<void> {
  const reader = new LineReader(socket);
  const env: Record<string, string> = {};
  for (let i = 0; i < MAX_ENV_LINES; i++) {
    const line = await reader.next();
    if (line === undefined) return;
    const kv = parseEnvLine(line);
    if (!kv) break;
    if (kv[0]) env[kv[0]] = kv[1];
  }
  let hungUp = false;
  /** Sends one command and waits for its answer; a HANGUP notice is noted and the real answer read. */
  const command = async (text: string): Promise<boolean> => {
    if (socket.destroyed) return false;
    socket.write(text);
    for (;;) {
      const line = await reader.next();
      if (line === undefined) return false;
      const r = parseReply(line);
      if (r.type === "hangup") {
        hungUp = true;
        stats.hangups++;
        continue;
      }
      return r.type === "ok";
    }
  };
  const { script, query } = requestTarget(env);
  const args = agiArgs(env);
  const callId = known(env.agi_uniqueid) ?? known(env.agi_channel) ?? "";
  try {
    if (script === "authorize") await authorize(env, args, query, callId, command, o, now);
    else if (script === "answer") await o.calls.answer(callId, now());
    else if (script === "hangup") {
      const billsec = Number(args[0] ?? query.get("billsec") ?? "");
      await o.calls.hangup(
        callId,
        now(),
        Number.isFinite(billsec) && args[0] !== undefined ? billsec : undefined,
      );
    } else {
      await command(setVariable("MAMORI_DECISION", "error"));
      await command(
        setVariable("MAMORI_REASON", `unknown FastAGI script "${script}"; use authorize, answer or hangup`),
      );
    }
  } finally {
    if (!hungUp && !socket.destroyed) socket.end();
  }
}

async function authorize(
  env: AgiEnvironment,
  args: string[],
  query: URLSearchParams,
  callId: string,
  command: (t: string) => Promise<boolean>,
  o: FastAgiOptions,
  now: () => number,
): Promise<void> {
  // AGI(agi://mamori/authorize,<account>,<number>) or ?account=…&to=…, else the channel's own fields.
  const account = args[0] || query.get("account") || known(env.agi_accountcode) || known(env.agi_callerid);
  const to = args[1] || query.get("to") || known(env.agi_extension) || known(env.agi_dnid);
  if (!account || !to || !callId) {
    await command(setVariable("MAMORI_DECISION", "error"));
    await command(
      setVariable(
        "MAMORI_REASON",
        "missing account or number: pass them as AGI arguments or set the account code",
      ),
    );
    return;
  }
  try {
    const { verdict: v } = await o.calls.authorize({
      type: "call.attempt",
      at: now(),
      callId,
      account,
      to,
      from: known(env.agi_callerid),
    });
    const r = v.reasons[0];
    await command(setVariable("MAMORI_DECISION", v.decision));
    await command(setVariable("MAMORI_RULE", r?.rule ?? ""));
    await command(setVariable("MAMORI_REASON", r ? `${r.rule}: ${r.message}` : ""));
  } catch (err) {
    o.log.error({ err, callId }, "authorize failed in FastAGI");
    await command(setVariable("MAMORI_DECISION", "error"));
    await command(setVariable("MAMORI_REASON", "Mamori could not decide"));
  }
}
