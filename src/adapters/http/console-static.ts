import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/**
 * Serves the operator console's production build at /console/ from the service itself: no second
 * server to run. The console is static files that talk to the public API with the operator's key; the
 * files themselves hold no secret, so they are public. `/` leads to the console.
 */
export async function serveConsole(app: FastifyInstance, dir: string): Promise<void> {
  await app.register(fastifyStatic, {
    root: dir,
    prefix: "/console/",
    // Hashed asset names change with every build; only index.html must be fetched fresh.
    maxAge: "1y",
    immutable: true,
    setHeaders: (res, path) => {
      if (path.endsWith(".html")) res.setHeader("cache-control", "no-cache");
      res.setHeader("x-content-type-options", "nosniff");
      res.setHeader("referrer-policy", "no-referrer");
      res.setHeader(
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
      );
    },
  });
  app.get("/", (_req, reply) => reply.redirect("/console/", 302));
  app.get("/console", (_req, reply) => reply.redirect("/console/", 302));
}
