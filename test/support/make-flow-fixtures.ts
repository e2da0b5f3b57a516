/**
 * Regenerates the real-exporter fixtures in test/fixtures/flows/: writes a small pcap of known traffic,
 * lets softflowd read it and export NetFlow v5, v9 and IPFIX to a loopback UDP socket, and saves every
 * datagram it receives as one binary file. Run by hand (softflowd must be installed):
 *
 *   npx tsx test/support/make-flow-fixtures.ts --write
 *
 * Not a test: the fixtures are committed so that tests do not need softflowd. Without --write it does
 * nothing, because test runners that load every file under test/ may import it.
 */
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ETH_IPV4,
  ETH_IPV6,
  ethernet,
  icmpMessage,
  ipv4Packet as ipv4,
  ipv6Packet as ipv6,
  sflowCounterSample,
  sflowDatagram,
  sflowExtendedSwitch,
  sflowFlowSample,
  sflowGenericCounters,
  sflowItem,
  sflowRawHeader,
  tcpSegment as tcp,
  udpDatagram as udp,
} from "./flow-packets.js";
import { fixture } from "./paths.js";

/** The traffic: TCP handshakes and data, a DNS-like UDP flood, ICMP echo, IPv6 TCP and UDP. */
function packets(): Buffer[] {
  const out: Buffer[] = [];
  const SYN = 0x02;
  const ACK = 0x10;
  const PSH = 0x08;
  const FIN = 0x01;
  for (let c = 0; c < 3; c++) {
    const client = `198.51.100.${10 + c}`;
    const sport = 40000 + c;
    out.push(ethernet(ETH_IPV4, ipv4(client, "203.0.113.5", 6, tcp(sport, 443, SYN))));
    out.push(ethernet(ETH_IPV4, ipv4("203.0.113.5", client, 6, tcp(443, sport, SYN | ACK))));
    out.push(ethernet(ETH_IPV4, ipv4(client, "203.0.113.5", 6, tcp(sport, 443, ACK | PSH, 200))));
    out.push(ethernet(ETH_IPV4, ipv4("203.0.113.5", client, 6, tcp(443, sport, ACK | PSH, 1200))));
    out.push(ethernet(ETH_IPV4, ipv4(client, "203.0.113.5", 6, tcp(sport, 443, FIN | ACK))));
    out.push(ethernet(ETH_IPV4, ipv4("203.0.113.5", client, 6, tcp(443, sport, FIN | ACK))));
  }
  for (let i = 0; i < 20; i++) {
    out.push(ethernet(ETH_IPV4, ipv4(`192.0.2.${1 + (i % 5)}`, "203.0.113.9", 17, udp(53, 33000 + i, 400))));
  }
  for (let i = 0; i < 4; i++)
    out.push(ethernet(ETH_IPV4, ipv4("198.51.100.77", "203.0.113.5", 1, icmpMessage(8, 0))));
  // A UDP datagram in two fragments, and SIP over UDP on VLAN 42.
  const big = udp(5060, 5060, 1600);
  out.push(
    ethernet(ETH_IPV4, ipv4("192.0.2.99", "203.0.113.7", 17, big.subarray(0, 1480), { flags: 1, id: 7 })),
  );
  out.push(
    ethernet(ETH_IPV4, ipv4("192.0.2.99", "203.0.113.7", 17, big.subarray(1480), { offset: 185, id: 7 })),
  );
  for (let i = 0; i < 3; i++) {
    out.push(ethernet(ETH_IPV4, ipv4("192.0.2.44", "203.0.113.8", 17, udp(5062, 5060, 300)), [42]));
  }
  out.push(ethernet(ETH_IPV6, ipv6("2001:db8::10", "2001:db8:1::5", 6, tcp(50000, 5060, SYN))));
  out.push(ethernet(ETH_IPV6, ipv6("2001:db8:1::5", "2001:db8::10", 6, tcp(5060, 50000, SYN | ACK))));
  for (let i = 0; i < 3; i++) {
    out.push(ethernet(ETH_IPV6, ipv6("2001:db8::20", "2001:db8:1::5", 17, udp(5060, 5060, 600))));
  }
  return out;
}

function pcap(frames: Buffer[], startSec: number): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const parts: Buffer[] = [head];
  frames.forEach((f, i) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(startSec + Math.floor(i / 10), 0);
    rec.writeUInt32LE((i % 10) * 100_000, 4);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, f);
  });
  return Buffer.concat(parts);
}

/** Runs an exporter pointed at a fresh loopback socket and returns every datagram it sent. */
async function capture(dir: string, exporter: (port: number) => [string, string[]]): Promise<Buffer[]> {
  const sock = createSocket("udp4");
  const got: Buffer[] = [];
  sock.on("message", (m) => got.push(m));
  await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
  const [command, args] = exporter(sock.address().port);
  const child = spawn(command, args, { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      child.kill();
      resolve();
    }, 15_000);
    child.on("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  await new Promise((r) => setTimeout(r, 300));
  sock.close();
  return got;
}

function softflowd(pcapFile: string, version: string, extra: string[]): (port: number) => [string, string[]] {
  // Relative pid and control-socket names: this softflowd hangs at end of file with some absolute ones.
  return (port) => [
    "softflowd",
    [
      "-d",
      "-r",
      pcapFile,
      "-n",
      `127.0.0.1:${port}`,
      "-v",
      version,
      "-p",
      "sfd.pid",
      "-c",
      "sfd.ctl",
      ...extra,
    ],
  ];
}

/** pmacct's pmacctd with the sfprobe plugin: a real sFlow v5 agent reading the same pcap. */
function pmacctd(dir: string, pcapFile: string, rate: number): (port: number) => [string, string[]] {
  return (port) => {
    const conf = [
      "daemonize: false",
      `pcap_savefile: ${pcapFile}`,
      "plugins: sfprobe",
      `sfprobe_receiver: 127.0.0.1:${port}`,
      "sfprobe_agentip: 192.0.2.250",
      `sampling_rate: ${rate}`,
    ];
    writeFileSync(join(dir, "pmacctd.conf"), conf.join("\n") + "\n");
    return ["pmacctd", ["-f", "pmacctd.conf"]];
  };
}

/**
 * No Debian package sends sFlow counter samples from a pcap, so this one is built by hand: an IPv6
 * agent, an expanded flow sample (IPv6 TCP behind VLAN 7, rate 512) with an extended switch record,
 * a generic-interface counter sample and an expanded one, and a vendor sample to be skipped.
 */
function handmadeSflow(): Buffer {
  const frame = ethernet(ETH_IPV6, ipv6("2001:db8:5::1", "2001:db8:6::2", 6, tcp(51000, 5061, 0x02)), [7]);
  return sflowDatagram({ agent: "2001:db8::fe", subAgent: 3, sequence: 1200, uptime: 86_400_000 }, [
    sflowFlowSample(
      {
        sequence: 77,
        sourceId: 4,
        rate: 512,
        pool: 51_200,
        input: 4,
        output: 9,
        records: [sflowRawHeader(frame), sflowExtendedSwitch(7, 7)],
      },
      true,
    ),
    sflowCounterSample({
      sequence: 10,
      sourceId: 4,
      records: [
        sflowGenericCounters({
          ifIndex: 4,
          ifSpeed: 10e9,
          inOctets: 123_456_789_012,
          outOctets: 98_765_432_109,
          inUcastPkts: 1_000_000,
          outUcastPkts: 900_000,
        }),
      ],
    }),
    sflowCounterSample(
      {
        sequence: 11,
        sourceId: 9,
        records: [sflowGenericCounters({ ifIndex: 9, inOctets: 5_000, outOctets: 6_000, inErrors: 2 })],
      },
      true,
    ),
    sflowItem(1, Buffer.from("vendor sample, skipped"), 4413),
  ]);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "flowfix-"));
  try {
    const pcapFile = fixture("flows", "traffic.pcap");
    writeFileSync(pcapFile, pcap(packets(), 1_700_000_000));
    const runs: [string, (port: number) => [string, string[]]][] = [
      ["softflowd-netflow-v5", softflowd(pcapFile, "5", [])],
      ["softflowd-netflow-v9", softflowd(pcapFile, "9", ["-6"])],
      ["softflowd-netflow-v9-sampled", softflowd(pcapFile, "9", ["-6", "-s", "2"])],
      ["softflowd-ipfix", softflowd(pcapFile, "10", ["-6"])],
      ["pmacctd-sflow", pmacctd(dir, pcapFile, 1)],
    ];
    for (const [name, exporter] of runs) {
      const got = await capture(dir, exporter);
      for (const [i, m] of got.entries()) writeFileSync(fixture("flows", `${name}-${i}.bin`), m);
      console.log(`${name}: ${got.length} datagrams`);
    }
    writeFileSync(fixture("flows", "handmade-sflow-counters.bin"), handmadeSflow());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes("--write")) await main();
