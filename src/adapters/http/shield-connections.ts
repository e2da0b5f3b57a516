import type { Server } from "node:http";
import type { Socket } from "node:net";
import { type CidrSet, formatIp, parseIp } from "../../core/cidr.js";

/**
 * The gateway's door: every connection is looked at as it opens, before a byte is read. A banned
 * address is closed at once; so is one over its cap of open connections (slowloris needs many). A
 * trusted proxy carries many clients and gets its own, larger cap: capping it like one client is the
 * classic way to take a site down oneself.
 */
export type ConnectionGuardOptions = {
  readonly proxies: CidrSet;
  readonly perAddress: number;
  readonly perProxy: number;
  readonly isBanned: (address: string) => boolean;
  readonly onRefuse: (reason: "banned" | "per-address-cap" | "unreadable") => void;
};

/** Installs the guard; returns the number of connections open now. */
export function guardConnections(server: Server, o: ConnectionGuardOptions): () => number {
  const open = new Map<string, number>();
  let total = 0;
  server.on("connection", (socket: Socket) => {
    const p = parseIp(socket.remoteAddress ?? "");
    if (!p.ok) {
      o.onRefuse("unreadable");
      socket.destroy();
      return;
    }
    const addr = formatIp(p.value);
    if (o.isBanned(addr)) {
      o.onRefuse("banned");
      socket.destroy();
      return;
    }
    const cap = o.proxies.has(p.value) ? o.perProxy : o.perAddress;
    const n = open.get(addr) ?? 0;
    if (n >= cap) {
      o.onRefuse("per-address-cap");
      socket.destroy();
      return;
    }
    open.set(addr, n + 1);
    total++;
    socket.once("close", () => {
      total--;
      const m = (open.get(addr) ?? 1) - 1;
      if (m <= 0) open.delete(addr);
      else open.set(addr, m);
    });
  });
  return () => total;
}
