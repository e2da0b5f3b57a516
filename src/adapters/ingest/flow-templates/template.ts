/**
 * Compiled NetFlow v9 / IPFIX templates.
 *
 * A template is turned once, when it arrives, into flat typed arrays: for each field the length and
 * an action code saying what to do with it (most fields: nothing). Fixed-length templates also get the
 * offsets of only the fields that matter, so decoding a record is a short loop over a handful of
 * (offset, length, action) triples with no lookups. The two protocols number the elements we use
 * identically (RFC 3954 field types 1..79 became the first IPFIX information elements), which is
 * why one compiler serves both; they differ in scope fields of options templates and in
 * variable-length and enterprise fields, which only IPFIX has.
 */

/** What a field feeds. Numbers index a switch in the record decoder. */
export const Act = {
  none: 0,
  src4: 1,
  dst4: 2,
  src6: 3,
  dst6: 4,
  protocol: 5,
  srcPort: 6,
  dstPort: 7,
  tcpFlags: 8,
  bytes: 9,
  packets: 10,
  inIf: 11,
  outIf: 12,
  startUptime: 13,
  endUptime: 14,
  startSec: 15,
  endSec: 16,
  startMs: 17,
  endMs: 18,
  fragFlags: 19,
  fragOffset: 20,
  samplerId: 21,
  samplingInterval: 22,
  pktInterval: 23,
  pktSpace: 24,
  systemInit: 25,
  vlan: 26,
  icmpTypeCode: 27,
  sampleSize: 28,
  samplePopulation: 29,
} as const;

/** Information element (and v9 field type) numbers used here. */
export const IE = {
  octetDeltaCount: 1,
  packetDeltaCount: 2,
  protocolIdentifier: 4,
  tcpControlBits: 6,
  sourceTransportPort: 7,
  sourceIPv4Address: 8,
  ingressInterface: 10,
  destinationTransportPort: 11,
  destinationIPv4Address: 12,
  egressInterface: 14,
  flowEndSysUpTime: 21,
  flowStartSysUpTime: 22,
  sourceIPv6Address: 27,
  destinationIPv6Address: 28,
  icmpTypeCodeIPv4: 32,
  samplingInterval: 34,
  samplingAlgorithm: 35,
  samplerId: 48,
  samplerMode: 49,
  samplerRandomInterval: 50,
  vlanId: 58,
  octetTotalCount: 85,
  packetTotalCount: 86,
  fragmentOffset: 88,
  icmpTypeCodeIPv6: 139,
  flowStartSeconds: 150,
  flowEndSeconds: 151,
  flowStartMilliseconds: 152,
  flowEndMilliseconds: 153,
  systemInitTimeMilliseconds: 160,
  fragmentFlags: 197,
  selectorId: 302,
  samplingPacketInterval: 305,
  samplingPacketSpace: 306,
  samplingSize: 309,
  samplingPopulation: 310,
} as const;

/** IPFIX: this field length means "variable, length prefix in the record". */
export const VARIABLE_LENGTH = 65535;

const ACTIONS = new Map<number, number>([
  [IE.octetDeltaCount, Act.bytes],
  [IE.packetDeltaCount, Act.packets],
  [IE.protocolIdentifier, Act.protocol],
  [IE.tcpControlBits, Act.tcpFlags],
  [IE.sourceTransportPort, Act.srcPort],
  [IE.sourceIPv4Address, Act.src4],
  [IE.ingressInterface, Act.inIf],
  [IE.destinationTransportPort, Act.dstPort],
  [IE.destinationIPv4Address, Act.dst4],
  [IE.egressInterface, Act.outIf],
  [IE.flowEndSysUpTime, Act.endUptime],
  [IE.flowStartSysUpTime, Act.startUptime],
  [IE.sourceIPv6Address, Act.src6],
  [IE.destinationIPv6Address, Act.dst6],
  [IE.icmpTypeCodeIPv4, Act.icmpTypeCode],
  [IE.icmpTypeCodeIPv6, Act.icmpTypeCode],
  [IE.samplingInterval, Act.samplingInterval],
  [IE.samplerRandomInterval, Act.samplingInterval],
  [IE.samplerId, Act.samplerId],
  [IE.selectorId, Act.samplerId],
  [IE.vlanId, Act.vlan],
  [IE.fragmentOffset, Act.fragOffset],
  [IE.flowStartSeconds, Act.startSec],
  [IE.flowEndSeconds, Act.endSec],
  [IE.flowStartMilliseconds, Act.startMs],
  [IE.flowEndMilliseconds, Act.endMs],
  [IE.systemInitTimeMilliseconds, Act.systemInit],
  [IE.fragmentFlags, Act.fragFlags],
  [IE.samplingPacketInterval, Act.pktInterval],
  [IE.samplingPacketSpace, Act.pktSpace],
  [IE.samplingSize, Act.sampleSize],
  [IE.samplingPopulation, Act.samplePopulation],
]);

export type Template = {
  readonly id: number;
  readonly options: boolean;
  /** Record length when every field is fixed, else -1. */
  readonly fixedLength: number;
  /** Shortest possible record (variable fields count their 1-byte prefix): the padding threshold. */
  readonly minLength: number;
  /** All fields, in order: length (VARIABLE_LENGTH for variable) and action. */
  readonly lens: Uint16Array;
  readonly acts: Uint8Array;
  /** Fixed-length templates: offset, length and action of the fields that have one. */
  readonly actOffs: Uint16Array;
  readonly actLens: Uint16Array;
  readonly actCodes: Uint8Array;
  /** The template's own bytes, to recognise an unchanged refresh without recompiling. */
  readonly raw: Uint8Array;
  /** Receive time (epoch ms) of the last definition or refresh. */
  refreshedAt: number;
};

/** Field lists while a template record is parsed; reused, so parsing allocates only the result. */
export class FieldList {
  ids: number[] = [];
  lens: number[] = [];
  enterprise: boolean[] = [];
  scopeCount = 0;

  reset(): void {
    this.ids.length = 0;
    this.lens.length = 0;
    this.enterprise.length = 0;
    this.scopeCount = 0;
  }

  add(id: number, len: number, enterprise: boolean): void {
    this.ids.push(id);
    this.lens.push(len);
    this.enterprise.push(enterprise);
  }
}

/** Largest record that fits a set: 65535 minus message and set headers. */
const MAX_RECORD = 65535 - 16 - 4;

function actionFor(
  id: number,
  len: number,
  enterprise: boolean,
  scope: boolean,
  dialect: "v9" | "ipfix",
  hasDelta: boolean,
): number {
  // NetFlow v9 scope fields use their own type numbers (1 system, 2 interface...), not elements.
  if (enterprise || (scope && dialect === "v9")) return Act.none;
  if (!hasDelta && id === IE.octetTotalCount) return Act.bytes;
  if (!hasDelta && id === IE.packetTotalCount) return Act.packets;
  const act = ACTIONS.get(id) ?? Act.none;
  // Addresses of the wrong size are not addresses we can use.
  if ((act === Act.src4 || act === Act.dst4) && len !== 4) return Act.none;
  if ((act === Act.src6 || act === Act.dst6) && len !== 16) return Act.none;
  if (len === VARIABLE_LENGTH && act !== Act.none) return Act.none;
  return act;
}

/**
 * Compiles a parsed template; undefined when it cannot describe a usable record (no fields, a
 * zero-length record that would never advance, or one longer than any message).
 */
export function compileTemplate(
  id: number,
  options: boolean,
  dialect: "v9" | "ipfix",
  f: FieldList,
  raw: Uint8Array,
  now: number,
): Template | undefined {
  const n = f.ids.length;
  if (n === 0) return undefined;
  const hasDelta = f.ids.some(
    (x, i) => !f.enterprise[i] && (x === IE.octetDeltaCount || x === IE.packetDeltaCount),
  );
  const lens = new Uint16Array(n);
  const acts = new Uint8Array(n);
  let fixed = 0;
  let min = 0;
  let variable = false;
  let withAct = 0;
  for (let i = 0; i < n; i++) {
    const len = f.lens[i]!;
    const act = actionFor(f.ids[i]!, len, f.enterprise[i]!, i < f.scopeCount, dialect, hasDelta);
    lens[i] = len;
    acts[i] = act;
    if (act !== Act.none) withAct++;
    if (dialect === "ipfix" && len === VARIABLE_LENGTH) {
      variable = true;
      min += 1;
    } else {
      fixed += len;
      min += len;
    }
  }
  if (min === 0 || min > MAX_RECORD) return undefined;
  const actOffs = new Uint16Array(variable ? 0 : withAct);
  const actLens = new Uint16Array(variable ? 0 : withAct);
  const actCodes = new Uint8Array(variable ? 0 : withAct);
  if (!variable) {
    let off = 0;
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (acts[i] !== Act.none) {
        actOffs[k] = off;
        actLens[k] = lens[i]!;
        actCodes[k] = acts[i]!;
        k++;
      }
      off += lens[i]!;
    }
  }
  return {
    id,
    options,
    fixedLength: variable ? -1 : fixed,
    minLength: min,
    lens,
    acts,
    actOffs,
    actLens,
    actCodes,
    raw: raw.slice(),
    refreshedAt: now,
  };
}

export function sameBytes(a: Uint8Array, b: Uint8Array, bOff: number, bLen: number): boolean {
  if (a.length !== bLen) return false;
  for (let i = 0; i < bLen; i++) if (a[i] !== b[bOff + i]) return false;
  return true;
}
