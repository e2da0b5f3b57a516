import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import { z } from "zod";
import type { Metrics } from "../../app/metrics.js";
import { type ErrorCode, errorCatalogue, MamoriError } from "../../core/errors.js";
import { allows, type KeyRing } from "./auth.js";
import { type AnyRoute, openApiDocument, registerRoutes } from "./route-table.js";

/**
 * The HTTP edge: Fastify with the route table, one error shape for every refusal, and the public
 * system routes (health, metrics, OpenAPI). Everything a client sends is parsed by zod here and never
 * reaches the engine unless it is valid.
 */
export type HttpOptions = {
  readonly routes: readonly AnyRoute[];
  readonly keys: KeyRing;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly bodyLimit: number;
  readonly version: string;
  readonly health: () => { status: "ok" | "degraded"; checks: Record<string, unknown> };
};

function errorBody(code: ErrorCode, message: string, details?: readonly { path: string; message: string }[]) {
  return { error: { code, message, hint: errorCatalogue[code].hint, ...(details ? { details } : {}) } };
}

export function buildHttp(opts: HttpOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.log as unknown as FastifyBaseLogger,
    // One log line per request would cost more than the decision; errors are logged by the handler,
    // with the request id. For the same reason requests share the server's logger instead of a child
    // logger each (a child costs an object graph per request for a binding nothing logs).
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger) => logger,
    bodyLimit: opts.bodyLimit,
    // Switches keep connections open; a long keep-alive avoids a TCP handshake per call.
    keepAliveTimeout: 65_000,
    requestTimeout: 30_000,
    return503OnClosing: true,
    // Event streams never end by themselves; a stop must not wait for them.
    forceCloseConnections: true,
  });

  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  // Files (CDR uploads for a replay) arrive as they are; the route decides what they may be.
  app.addContentTypeParser(
    ["application/octet-stream", "text/csv", "text/plain"],
    { parseAs: "buffer" },
    (_req, body, done) => done(null, body),
  );

  app.setErrorHandler((err, req, reply) => {
    let code: ErrorCode;
    let message: string;
    let details: readonly { path: string; message: string }[] | undefined;
    const e = err as Error & { code?: string; statusCode?: number };
    if (err instanceof MamoriError) {
      code = err.code;
      message = err.message;
      details = err.details;
    } else if (
      e.code === "FST_ERR_CTP_INVALID_JSON_BODY" ||
      e.code === "FST_ERR_CTP_EMPTY_JSON_BODY" ||
      err instanceof SyntaxError
    ) {
      code = "MAMORI_BAD_JSON";
      message = `the body is not valid JSON: ${e.message}`;
    } else if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      code = "MAMORI_BODY_TOO_LARGE";
      message = `the body is larger than ${req.routeOptions.bodyLimit ?? opts.bodyLimit} bytes`;
    } else if (e.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      code = "MAMORI_UNSUPPORTED_MEDIA";
      message = `unsupported Content-Type ${req.headers["content-type"] ?? "(none)"}`;
    } else if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
      code = "MAMORI_BAD_REQUEST";
      message = e.message;
    } else {
      code = "MAMORI_INTERNAL";
      message = "internal error";
      req.log.error({ err, reqId: req.id }, "unhandled error");
    }
    opts.metrics.rejected.inc({ code });
    reply
      .code(errorCatalogue[code].status)
      .type("application/json")
      .send(errorBody(code, message, details));
  });

  app.setNotFoundHandler((req, reply) => {
    opts.metrics.rejected.inc({ code: "MAMORI_ROUTE_NOT_FOUND" });
    reply
      .code(404)
      .send(errorBody("MAMORI_ROUTE_NOT_FOUND", `no route ${req.method} ${req.url.split("?")[0]}`));
  });

  const system: AnyRoute[] = [
    {
      method: "GET",
      url: "/health",
      summary: "Liveness and store state: status ok, or degraded while the store refuses writes",
      tags: ["system"],
      role: "public",
      handler: async () => opts.health(),
    },
    {
      method: "GET",
      url: "/metrics",
      summary: "Prometheus metrics",
      tags: ["system"],
      role: "public",
      produces: ["text/plain"],
      handler: async (_i, _req, reply) =>
        reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics()),
    },
    {
      method: "GET",
      url: "/openapi.json",
      summary: "This document",
      tags: ["system"],
      role: "public",
      query: z.object({}).passthrough(),
      handler: async () => openApiDocument([...system, ...opts.routes], opts.version),
    },
  ];

  registerRoutes(
    app,
    [...system, ...opts.routes],
    (req) => {
      const apiKey = req.headers["x-api-key"];
      return opts.keys.identify(req.headers.authorization, typeof apiKey === "string" ? apiKey : undefined);
    },
    (key, need) => {
      if (!allows(key.role, need))
        throw new MamoriError(
          "MAMORI_FORBIDDEN",
          `this route needs the ${need} role; key ${key.id} has ${key.role}`,
        );
    },
  );
  return app;
}
