/**
 * The program ExaBGP runs as its API process. ExaBGP talks to its API processes over their stdin and
 * stdout, so the process it runs must be a child of ExaBGP, while Mamori is ExaBGP's parent. The
 * relay joins the two: it connects to a Unix socket that Mamori listens on and copies bytes both
 * ways (socket -> stdout: commands to ExaBGP; stdin -> socket: ExaBGP's acknowledgements and
 * neighbor events).
 *
 * Why a Unix socket rather than the alternatives:
 *  - a FIFO has no way back (no acknowledgements), blocks or fails a writer with no reader, and a
 *    reader that sees EOF when the writer closes ends up exiting or spinning;
 *  - ExaBGP's own CLI pipes are shared by every tool on the machine and hold no per-client state;
 *  - making Mamori itself the API process would turn the lifetimes upside down (ExaBGP would own
 *    Mamori).
 * A socket connection is also a clean signal: every new connection is a fresh API channel (ExaBGP or
 * the relay restarted), on which Mamori replays everything in force. The socket lives in a directory
 * only Mamori's user can enter, so nothing else on the host can inject routes.
 *
 * The relay exits when its stdin closes (ExaBGP is gone), reconnects with backoff while Mamori is
 * away, and never leaves half a command on ExaBGP's input across a reconnection.
 *
 * It is kept as source text and written next to the generated configuration at start, so that it
 * runs with the same `node` whether Mamori runs from TypeScript sources or from its build.
 */
export const RELAY_FILE = "mamori-exabgp-relay.mjs";

export const RELAY_SOURCE = `// Written by Mamori at start: relays ExaBGP's API process stdio to Mamori's Unix socket.
import { connect } from "node:net";

const path = process.argv[2];
if (!path) {
  process.stderr.write("usage: node ${RELAY_FILE} SOCKET\\n");
  process.exit(2);
}
let socket;
let delay = 100;
let lineOpen = false;
let ended = false;

function open() {
  const s = connect(path);
  s.on("connect", () => {
    delay = 100;
    socket = s;
    // A command cut by a lost connection must not run into the next one.
    if (lineOpen) {
      process.stdout.write("\\n");
      lineOpen = false;
    }
  });
  s.on("data", (chunk) => {
    process.stdout.write(chunk);
    lineOpen = chunk[chunk.length - 1] !== 10;
  });
  s.on("error", () => {});
  s.on("close", () => {
    if (socket === s) socket = undefined;
    if (ended) return;
    setTimeout(open, delay);
    delay = Math.min(delay * 2, 5000);
  });
}

process.stdin.on("data", (chunk) => {
  if (socket) socket.write(chunk);
});
process.stdin.on("end", () => {
  ended = true;
  process.exit(0);
});
process.stdout.on("error", () => process.exit(0));
open();
`;
