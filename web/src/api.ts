import { SseParser } from "./sse.ts";

/** The public API, as the console uses it: every call carries the operator's key. */
export type Role = "viewer" | "switch" | "operator" | "admin";
export type Me = { id: string; name: string; role: Role };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string | undefined,
  ) {
    super(message);
  }
}

const KEY_STORE = "mamori.key";

export class Api {
  constructor(readonly key: string) {}

  static remembered(): Api | undefined {
    const k = sessionStorage.getItem(KEY_STORE);
    return k ? new Api(k) : undefined;
  }

  remember(): void {
    sessionStorage.setItem(KEY_STORE, this.key);
  }

  static forget(): void {
    sessionStorage.removeItem(KEY_STORE);
  }

  async request<T>(method: string, path: string, body?: unknown, type = "application/json"): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.key}`,
      accept: "application/json",
    };
    let payload: BodyInit | undefined;
    if (body !== undefined) {
      headers["content-type"] = type;
      payload = type === "application/json" ? JSON.stringify(body) : (body as BodyInit);
    }
    const res = await fetch(path, { method, headers, body: payload ?? null });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new ApiError(
        res.status,
        "MAMORI_BAD_ANSWER",
        `the service answered ${res.status} without JSON`,
        undefined,
      );
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string; hint?: string } }).error ?? {};
      throw new ApiError(res.status, e.code ?? "HTTP_" + res.status, e.message ?? res.statusText, e.hint);
    }
    return json as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /**
   * Follows GET /v1/events until `signal` aborts, reconnecting after a drop. `onState` tells whether
   * the stream is up, so that the screen can say when what it shows may be stale.
   */
  async follow(
    onEvent: (event: string, data: unknown) => void,
    onState: (live: boolean) => void,
    signal: AbortSignal,
  ): Promise<void> {
    let delay = 1000;
    while (!signal.aborted) {
      try {
        const res = await fetch("/v1/events", {
          headers: { authorization: `Bearer ${this.key}`, accept: "text/event-stream" },
          signal,
        });
        if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
        onState(true);
        delay = 1000;
        const parser = new SseParser();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const m of parser.push(value)) {
            try {
              onEvent(m.event, JSON.parse(m.data));
            } catch {
              // A malformed event is skipped; the next one still counts.
            }
          }
        }
      } catch {
        if (signal.aborted) return;
      }
      onState(false);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  }
}
