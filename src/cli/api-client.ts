/**
 * The CLI talks to a running service through its public API, so a block lifted from the terminal is
 * lifted in the running guard too, with the same checks and the same audit entry as the console.
 */
export type ApiTarget = { url: string; key: string | undefined };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const e = (body as { error?: { code?: string; message?: string; hint?: string } })?.error;
    super(e ? `${e.code}: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}` : `HTTP ${status}`);
    this.name = "ApiError";
  }
}

export function apiTarget(opts: { url?: string | undefined; key?: string | undefined }): ApiTarget {
  return {
    url: (opts.url ?? process.env.MAMORI_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, ""),
    key: opts.key ?? process.env.MAMORI_KEY,
  };
}

export async function api(t: ApiTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (t.key) headers.authorization = `Bearer ${t.key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(t.url + path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (e) {
    throw new Error(
      `cannot reach Mamori at ${t.url} (${(e as Error).message}); is \`mamori serve\` running? Set --url or MAMORI_URL`,
    );
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // plain text answers stay text
  }
  if (!res.ok) throw new ApiError(res.status, parsed);
  return parsed;
}
