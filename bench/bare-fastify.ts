import Fastify from "fastify";

/**
 * The anchor for the HTTP benchmark: a bare Fastify route on the same machine that parses the same JSON
 * body and answers a constant decision. Mamori's ratio against it is what the service itself costs.
 */
const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
app.post("/v1/calls/authorize", async () => ({ decision: "allow", reasons: [] }));
const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`listening ${address}\n`);
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
