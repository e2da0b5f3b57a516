/**
 * Writes a small MaxMind DB (MMDB, format 2.0) for tests: an IPv4 tree with 24-bit records mapping
 * prefixes to {country: {iso_code}}. Real GeoIP databases cannot be shipped; this one is read by the
 * same maxmind reader the service uses. Written from the published MMDB format specification.
 */
type Value = string | number | bigint | Value[] | { [k: string]: Value };

function control(type: number, size: number): Buffer {
  if (size >= 29) throw new Error("test MMDB writer supports short values only");
  return type <= 7 ? Buffer.from([(type << 5) | size]) : Buffer.from([size, type - 7]);
}

function uint(type: number, n: number | bigint): Buffer {
  const bytes: number[] = [];
  let v = BigInt(n);
  while (v > 0n) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return Buffer.concat([control(type, bytes.length), Buffer.from(bytes)]);
}

function encode(v: Value): Buffer {
  if (typeof v === "string") {
    const b = Buffer.from(v, "utf8");
    return Buffer.concat([control(2, b.length), b]);
  }
  if (typeof v === "bigint") return uint(9, v);
  if (typeof v === "number") return uint(v > 0xffff ? 6 : 5, v);
  if (Array.isArray(v)) return Buffer.concat([control(11, v.length), ...v.map(encode)]);
  const entries = Object.entries(v);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, x]) => [encode(k), encode(x)])]);
}

type Rec = { node: number } | { data: number } | undefined;

export function buildMmdb(entries: readonly { cidr: string; country: string }[]): Buffer {
  const data: Buffer[] = [];
  const offsets = new Map<string, number>();
  let dataLen = 0;
  for (const e of entries) {
    if (offsets.has(e.country)) continue;
    const b = encode({ country: { iso_code: e.country } });
    offsets.set(e.country, dataLen);
    data.push(b);
    dataLen += b.length;
  }
  const nodes: [Rec, Rec][] = [[undefined, undefined]];
  for (const e of entries) {
    const [ip, bitsText] = e.cidr.split("/");
    const bits = Number(bitsText);
    const net = (ip ?? "").split(".").reduce((a, o) => (a << 8) | Number(o), 0) >>> 0;
    let at = 0;
    for (let d = 0; d < bits; d++) {
      const bit = (net >>> (31 - d)) & 1;
      const node = nodes[at] as [Rec, Rec];
      if (d === bits - 1) {
        node[bit] = { data: offsets.get(e.country) as number };
        break;
      }
      const next = node[bit];
      if (next && "node" in next) at = next.node;
      else {
        nodes.push([undefined, undefined]);
        node[bit] = { node: nodes.length - 1 };
        at = nodes.length - 1;
      }
    }
  }
  const count = nodes.length;
  const value = (r: Rec): number => (r === undefined ? count : "node" in r ? r.node : count + 16 + r.data);
  const tree = Buffer.alloc(count * 6);
  nodes.forEach(([l, r], i) => {
    tree.writeUIntBE(value(l), i * 6, 3);
    tree.writeUIntBE(value(r), i * 6 + 3, 3);
  });
  const metadata = encode({
    node_count: count,
    record_size: 24,
    ip_version: 4,
    database_type: "Mamori-Test-Country",
    languages: ["en"],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: 1_700_000_000n,
    description: { en: "test database" },
  });
  return Buffer.concat([
    tree,
    Buffer.alloc(16),
    ...data,
    Buffer.from([0xab, 0xcd, 0xef]),
    Buffer.from("MaxMind.com"),
    metadata,
  ]);
}
