/**
 * A decoded HEP packet carrying SIP, as a `sip.request` or `sip.response` event. Which requests and
 * answers add up to a brute-force attempt or a scan is the detectors' business, not this adapter's.
 */
import { makeAddress } from "../../../core/sip-address.js";
import type { RawOrigin, SipAddress, SipEvent, SipTransport } from "../../../core/sip-events.js";
import { compact } from "../seclog/types.js";
import { HEP_PROTOCOL, type HepPacket } from "./hep3.js";
import { parseSipMessage } from "./sip-message.js";
import { uriUser } from "./sip-uri.js";

export type HepEventResult =
  | { readonly type: "event"; readonly event: SipEvent }
  | { readonly type: "skip"; readonly reason: string }
  | { readonly type: "rejected"; readonly reason: string };

const TRANSPORTS: Readonly<Record<number, SipTransport>> = { 17: "udp", 6: "tcp", 132: "sctp" };

function endpoint(ip: HepPacket["srcIp"], port: number | undefined, transport: SipTransport | undefined) {
  return ip ? makeAddress(ip, port, transport) : undefined;
}

export function hepToSipEvent(packet: HepPacket, raw: RawOrigin): HepEventResult {
  if (packet.protocolType !== HEP_PROTOCOL.sip) {
    return { type: "skip", reason: `protocol type ${packet.protocolType ?? "missing"} is not SIP` };
  }
  if (packet.compressed) return { type: "rejected", reason: "compressed payloads are not supported" };
  if (!packet.payload) return { type: "rejected", reason: "no payload chunk" };
  if (packet.timeSec === undefined) return { type: "rejected", reason: "no timestamp chunk" };
  const transport = packet.ipProtocol === undefined ? undefined : TRANSPORTS[packet.ipProtocol];
  const source: SipAddress | undefined = endpoint(packet.srcIp, packet.srcPort, transport);
  if (!source) return { type: "rejected", reason: "no source address chunk" };
  const destination = endpoint(packet.dstIp, packet.dstPort, transport);

  const parsed = parseSipMessage(packet.payload);
  if (!parsed.ok) return { type: "rejected", reason: `SIP: ${parsed.error}` };
  const m = parsed.value;
  const base = {
    at: packet.timeSec * 1000 + Math.floor((packet.timeUsec ?? 0) / 1000),
    service: "hep" as const,
    source,
    destination,
    userAgent: m.userAgent,
    callId: m.callId,
    fromUser: m.from?.user,
    fromTag: m.from?.tag,
    toUser: m.to?.user,
    cseq: m.cseq?.seq,
    captureId: packet.captureId,
    raw,
  };
  if (m.type === "request") {
    return {
      type: "event",
      event: compact({
        type: "sip.request",
        ...base,
        account: m.authUser ?? m.from?.user,
        method: m.method,
        requestUri: m.requestUri,
        requestUser: uriUser(m.requestUri),
        hasAuthorization: m.hasAuthorization,
        authUser: m.authUser,
        contact: m.contact,
        expires: m.expires,
      }),
    };
  }
  return {
    type: "event",
    event: compact({
      type: "sip.response",
      ...base,
      account: m.from?.user,
      status: m.status,
      reasonPhrase: m.reason,
      method: m.cseq?.method,
      server: m.server,
    }),
  };
}
