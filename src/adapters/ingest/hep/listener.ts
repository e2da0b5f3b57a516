/**
 * The HEP UDP listener: packets in, SIP events out. Whatever arrives, it keeps running: a packet that
 * does not decode, a payload that is not SIP, or a handler that throws is counted (per sending address
 * for malformed packets) and the next packet is read.
 *
 * HEP over UDP has no authentication beyond an optional shared key, and events from it can lead to
 * bans, so the listener binds to loopback unless told otherwise; a capture agent on another host needs
 * `host` set and should send `authKey`.
 */
import { timingSafeEqual } from "node:crypto";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type { SipEvent } from "../../../core/sip-events.js";
import { hepToSipEvent } from "./hep-events.js";
import { decodeHep3 } from "./hep3.js";

export const DEFAULT_HEP_PORT = 9060;

export type HepRejection = { readonly from: string; readonly reason: string };

export type HepListenerOptions = {
  /** Address to bind; default 127.0.0.1. An IPv6 address binds an IPv6 socket. */
  readonly host?: string;
  /** UDP port; default 9060, 0 for any free port. */
  readonly port?: number;
  /** When set, packets without this authentication key (HEP chunk 14) are rejected. */
  readonly authKey?: string;
  readonly onEvent: (event: SipEvent) => void;
  readonly onRejected?: (rejection: HepRejection) => void;
  /** How many sending addresses to keep malformed-packet counts for (oldest dropped first). */
  readonly maxTrackedSources?: number;
};

export type HepListenerStats = {
  readonly packets: number;
  readonly events: number;
  /** Valid HEP that carries something other than SIP. */
  readonly skipped: number;
  readonly malformed: number;
  readonly handlerErrors: number;
  readonly socketErrors: number;
  /** Malformed packets per sending address. */
  readonly malformedBySource: ReadonlyMap<string, number>;
};

export type HepListener = {
  address(): { readonly address: string; readonly port: number };
  stats(): HepListenerStats;
  close(): Promise<void>;
};

export async function startHepListener(options: HepListenerOptions): Promise<HepListener> {
  const host = options.host ?? "127.0.0.1";
  const maxTracked = options.maxTrackedSources ?? 10_000;
  const key = options.authKey === undefined ? undefined : Buffer.from(options.authKey);
  const bySource = new Map<string, number>();
  const counts = { packets: 0, events: 0, skipped: 0, malformed: 0, handlerErrors: 0, socketErrors: 0 };
  const socket: Socket = createSocket({ type: host.includes(":") ? "udp6" : "udp4" });

  const reject = (from: string, reason: string) => {
    counts.malformed++;
    const n = bySource.get(from);
    if (n === undefined) {
      if (bySource.size >= maxTracked) bySource.delete(bySource.keys().next().value!);
      bySource.set(from, 1);
    } else bySource.set(from, n + 1);
    try {
      options.onRejected?.({ from, reason });
    } catch {
      counts.handlerErrors++;
    }
  };

  const keyMatches = (given: string | undefined): boolean => {
    if (!key) return true;
    if (given === undefined) return false;
    const g = Buffer.from(given);
    return g.length === key.length && timingSafeEqual(g, key);
  };

  const onMessage = (msg: Buffer, rinfo: RemoteInfo) => {
    const packetNo = ++counts.packets;
    try {
      const decoded = decodeHep3(msg);
      if (!decoded.ok) return reject(rinfo.address, decoded.error);
      if (!keyMatches(decoded.value.authKey))
        return reject(rinfo.address, "authentication key missing or wrong");
      const result = hepToSipEvent(decoded.value, { source: `hep:${rinfo.address}`, line: packetNo });
      if (result.type === "skip") {
        counts.skipped++;
        return;
      }
      if (result.type === "rejected") return reject(rinfo.address, result.reason);
      counts.events++;
      try {
        options.onEvent(result.event);
      } catch {
        counts.handlerErrors++;
      }
    } catch (e) {
      // A decoder bug must not take the listener down; it shows up as a malformed packet.
      reject(rinfo.address, `internal error: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  await new Promise<void>((resolve, reject) => {
    const onStartError = (e: Error) => reject(e);
    socket.once("error", onStartError);
    socket.bind(options.port ?? DEFAULT_HEP_PORT, host, () => {
      socket.off("error", onStartError);
      resolve();
    });
  });
  socket.on("error", () => {
    counts.socketErrors++;
  });
  socket.on("message", onMessage);

  let closing: Promise<void> | undefined;
  return {
    address() {
      const a = socket.address();
      return { address: a.address, port: a.port };
    },
    stats() {
      return { ...counts, malformedBySource: new Map(bySource) };
    },
    close() {
      closing ??= new Promise<void>((resolve) => socket.close(() => resolve()));
      return closing;
    },
  };
}
