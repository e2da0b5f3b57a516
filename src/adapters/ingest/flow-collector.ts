/**
 * The flow guard's UDP collector: binds the NetFlow, IPFIX and sFlow ports and feeds each datagram
 * to the right decoder, with the sender's address as the exporter and the receive time as the
 * fallback clock. The NetFlow and IPFIX ports both accept versions 5, 9 and 10, told apart by the
 * version field, since routers are often pointed at one port for all of them.
 *
 * Decode statistics are kept per exporter (transport source address) in one table, `stats`. The
 * ports take UDP from anyone, so production configurations should name their exporters: datagrams
 * from other sources are then dropped before decoding and only counted.
 */
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { type CountersSink, DecodeStats, type FlowSink } from "../../core/flow-records.js";
import type { TemplateStoreOptions } from "./flow-templates/template-store.js";
import { IpfixDecoder } from "./ipfix/ipfix.js";
import { NetflowV5Decoder } from "./netflow/netflow-v5.js";
import { NetflowV9Decoder } from "./netflow/netflow-v9.js";
import { SflowDecoder } from "./sflow/sflow.js";

export const DEFAULT_FLOW_PORTS = { netflow: 2055, ipfix: 4739, sflow: 6343 } as const;

export type FlowCollectorOptions = {
  /** Address to bind; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** Ports; 0 picks a free one (tests), false leaves that protocol off. */
  netflowPort?: number | false;
  ipfixPort?: number | false;
  sflowPort?: number | false;
  onRecord: FlowSink;
  onCounters?: CountersSink;
  samplingOverrides?: ReadonlyMap<string, number>;
  /** When given, only datagrams from these source addresses are decoded. */
  exporters?: ReadonlySet<string>;
  templates?: TemplateStoreOptions;
  /** Kernel receive buffer per socket, bytes; bursts of export packets overflow the default. */
  receiveBufferBytes?: number;
  /** Socket errors after start (start errors reject instead). */
  onError?: (err: Error) => void;
  /** Clock for receive times; Date.now by default. */
  now?: () => number;
};

export type FlowCollectorPorts = { netflow?: number; ipfix?: number; sflow?: number };

export type FlowCollector = {
  readonly stats: DecodeStats;
  /** The ports actually bound. */
  readonly ports: FlowCollectorPorts;
  /** Datagrams dropped because their source is not among `exporters`. */
  refused(): number;
  readonly decoders: {
    readonly v5: NetflowV5Decoder;
    readonly v9: NetflowV9Decoder;
    readonly ipfix: IpfixDecoder;
    readonly sflow: SflowDecoder;
  };
  close(): Promise<void>;
};

async function bind(host: string, port: number, o: FlowCollectorOptions): Promise<Socket> {
  const sock = createSocket({ type: isIPv6(host) ? "udp6" : "udp4" });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    sock.once("error", onError);
    sock.bind(port, host, () => {
      sock.off("error", onError);
      resolve();
    });
  });
  sock.on("error", (err) => o.onError?.(err));
  if (o.receiveBufferBytes !== undefined) {
    try {
      sock.setRecvBufferSize(o.receiveBufferBytes);
    } catch (err) {
      o.onError?.(err as Error);
    }
  }
  return sock;
}

export async function startFlowCollector(o: FlowCollectorOptions): Promise<FlowCollector> {
  const host = o.host ?? "127.0.0.1";
  const now = o.now ?? Date.now;
  const stats = new DecodeStats();
  const common = {
    onRecord: o.onRecord,
    stats,
    ...(o.samplingOverrides !== undefined ? { samplingOverrides: o.samplingOverrides } : {}),
  };
  const v5 = new NetflowV5Decoder(common);
  const v9 = new NetflowV9Decoder({ ...common, ...o.templates });
  const ipfix = new IpfixDecoder({ ...common, ...o.templates });
  const sflow = new SflowDecoder({
    ...common,
    ...(o.onCounters !== undefined ? { onCounters: o.onCounters } : {}),
  });

  const allowed = o.exporters;
  let refused = 0;
  const byVersion = (msg: Buffer, from: string): void => {
    if (allowed !== undefined && !allowed.has(from)) {
      refused++;
      return;
    }
    const version = msg.length >= 2 ? (msg[0]! << 8) | msg[1]! : -1;
    if (version === 5) v5.decode(msg, from, now());
    else if (version === 10) ipfix.decode(msg, from, now());
    else v9.decode(msg, from, now()); // v9, or counted there as badVersion / truncated
  };

  const sockets: Socket[] = [];
  const ports: FlowCollectorPorts = {};
  const close = async (): Promise<void> => {
    await Promise.all(sockets.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  };
  try {
    const netflowPort = o.netflowPort ?? DEFAULT_FLOW_PORTS.netflow;
    const ipfixPort = o.ipfixPort ?? DEFAULT_FLOW_PORTS.ipfix;
    const sflowPort = o.sflowPort ?? DEFAULT_FLOW_PORTS.sflow;
    if (netflowPort !== false) {
      const s = await bind(host, netflowPort, o);
      s.on("message", (msg, rinfo) => byVersion(msg, rinfo.address));
      sockets.push(s);
      ports.netflow = s.address().port;
    }
    if (ipfixPort !== false) {
      const s = await bind(host, ipfixPort, o);
      s.on("message", (msg, rinfo) => byVersion(msg, rinfo.address));
      sockets.push(s);
      ports.ipfix = s.address().port;
    }
    if (sflowPort !== false) {
      const s = await bind(host, sflowPort, o);
      s.on("message", (msg, rinfo) => {
        if (allowed !== undefined && !allowed.has(rinfo.address)) refused++;
        else sflow.decode(msg, rinfo.address, now());
      });
      sockets.push(s);
      ports.sflow = s.address().port;
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { stats, ports, refused: () => refused, decoders: { v5, v9, ipfix, sflow }, close };
}
