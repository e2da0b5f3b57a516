import { z } from "zod";
import type { WebhookDispatcher, WebhookEvent } from "../actions/webhook/webhook.js";
import type { AnyRoute } from "./route-table.js";

/**
 * `GET /v1/events`: server-sent events for a console or a NOC screen. Every alert, block, ban,
 * termination, attack and mitigation as it happens (the same events the webhooks get), plus a
 * `stats` event every few seconds with the live counters. A slow reader is cut off rather than
 * buffered without bound.
 */
const MAX_BUFFERED = 1 << 20;

export function eventRoutes(
  events: WebhookDispatcher,
  stats: () => Record<string, unknown>,
  everyMs = 5000,
): AnyRoute[] {
  return [
    {
      method: "GET",
      url: "/v1/events",
      summary:
        "Server-sent events: alerts, blocks, bans, attacks, mitigations as they happen, and live stats",
      tags: ["events"],
      role: "viewer",
      produces: ["text/event-stream"],
      query: z.object({}).strict(),
      handler: async (_input, req, reply) => {
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-store",
          connection: "keep-alive",
          "x-accel-buffering": "no",
        });
        let id = 0;
        const send = (event: string, data: unknown) => {
          if (res.writableLength > MAX_BUFFERED) {
            res.destroy();
            return;
          }
          res.write(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        };
        send("hello", { at: new Date().toISOString() });
        // A screen that just connected shows the counters now, not after the first interval.
        send("stats", { at: new Date().toISOString(), ...stats() });
        const off = events.subscribe((e: WebhookEvent) => send(e.event, e));
        const timer = setInterval(() => send("stats", { at: new Date().toISOString(), ...stats() }), everyMs);
        timer.unref();
        const close = () => {
          off();
          clearInterval(timer);
        };
        req.raw.on("close", close);
        res.on("close", close);
      },
    },
  ];
}
