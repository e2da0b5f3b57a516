import { KamailioError } from "./errors.js";

/**
 * A small JSON-RPC 2.0 client for Kamailio's jsonrpcs module over HTTP (xhttp), the way the shipped
 * configurations expose it: `POST http://127.0.0.1:5071/RPC` on a loopback-only listener. The PBX
 * guard bans through it (htable.*) and the call guard ends live calls through it (dlg.end_dlg).
 *
 * Every call has a time-out, and every failure becomes a KamailioError whose message names the URL,
 * the method and what to check, because the person reading it is usually setting Kamailio up.
 */
export type RpcParam = string | number | boolean;

export type KamailioRpcOptions = {
  /** The RPC endpoint, e.g. `http://127.0.0.1:5071/RPC`. */
  readonly url: string;
  /** Longest a call may take, connection included; default 2 s. */
  readonly timeoutMs?: number | undefined;
  /** Replaces the global fetch, for tests. */
  readonly fetch?: typeof fetch | undefined;
};

/** What the enforcers need of a client, so that tests can hand them a fake. */
export type RpcCaller = {
  call(method: string, params?: readonly RpcParam[]): Promise<unknown>;
};

const METHOD = /^[A-Za-z0-9_.]{1,64}$/;
// Kamailio answers briefly; a longer body is not an answer from it.
const MAX_BODY = 16 * 1024 * 1024;

export class KamailioRpc implements RpcCaller {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private nextId = 1;

  constructor(opts: KamailioRpcOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch {
      throw new RangeError(`"${opts.url}" is not a URL; Kamailio's RPC is like http://127.0.0.1:5071/RPC`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new RangeError(`Kamailio's RPC is reached over http or https, not ${parsed.protocol}`);
    }
    const timeoutMs = opts.timeoutMs ?? 2000;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      throw new RangeError(`the RPC time-out is a positive number of milliseconds, not ${timeoutMs}`);
    }
    this.url = parsed.href;
    this.timeoutMs = timeoutMs;
    this.fetch = opts.fetch ?? fetch;
  }

  /** Calls one method and returns its `result`; throws KamailioError on anything else. */
  async call(method: string, params: readonly RpcParam[] = []): Promise<unknown> {
    if (!METHOD.test(method)) throw new RangeError(`"${method}" is not a Kamailio RPC method name`);
    const id = this.nextId++;
    const where = `Kamailio RPC ${method} at ${this.url}`;
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", method, params, id }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (e) {
      throw this.transportError(e, method, where);
    }
    if (text.length > MAX_BODY) {
      throw new KamailioError("bad-output", `${where}: an answer of ${text.length} characters`, { method });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const body = isObject(json) ? json : undefined;
    // jsonrpcs reports a failed method in the body; the HTTP status then says little.
    if (body && isObject(body.error)) {
      const rpcCode = typeof body.error.code === "number" ? body.error.code : undefined;
      const message = typeof body.error.message === "string" ? body.error.message : "no message";
      throw new KamailioError("rpc", `${where} failed: ${rpcCode ?? "?"} ${message}`, {
        method,
        ...(rpcCode === undefined ? {} : { rpcCode }),
      });
    }
    if (response.status !== 200) throw httpError(response.status, text, method, where);
    if (!body || !("result" in body)) {
      throw new KamailioError(
        "bad-output",
        `${where}: not a JSON-RPC answer (${JSON.stringify(text.slice(0, 120))})`,
        { method },
      );
    }
    return body.result;
  }

  private transportError(e: unknown, method: string, where: string): KamailioError {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err?.name === "TimeoutError" || err?.name === "AbortError") {
      return new KamailioError("timeout", `${where}: no answer within ${this.timeoutMs} ms`, {
        method,
        cause: e,
      });
    }
    const detail = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
    return new KamailioError(
      "unreachable",
      `${where}: cannot connect (${detail}); is Kamailio running with xhttp and jsonrpcs ` +
        "on that address (listen=tcp:ADDR:PORT, see deploy/kamailio)?",
      { method, cause: e },
    );
  }
}

function httpError(status: number, text: string, method: string, where: string): KamailioError {
  const hint =
    status === 403
      ? "the configuration serves RPC only on its RPC listener and only to 127.0.0.0/8"
      : status === 404
        ? "the path is wrong: the shipped configurations answer POST /RPC"
        : `it said ${JSON.stringify(text.slice(0, 120))}`;
  return new KamailioError("http", `${where}: HTTP ${status}: ${hint}`, { method });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
