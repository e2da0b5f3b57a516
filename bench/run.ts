import { benchAuthorize } from "./calls-authorize.js";
import { benchHttp } from "./calls-http.js";
import { benchCdrThroughput } from "./cdr-throughput.js";
import { benchDetection } from "./detection.js";
import { benchFlowDecode } from "./flow-decode.js";
import { benchFlowDetectLatency } from "./flow-detect-latency.js";
import { benchPostDialDelay } from "./kamailio-pdd.js";
import { benchNumbering } from "./numbering.js";
import { benchShield } from "./shield.js";

/**
 * Runs the benchmarks named on the command line (all when none) and prints their tables, ready for
 * bench/README.md. Usage: npm run bench -- [authorize] [http] [numbering] [pdd] [flows] [shield] …
 */
const benches: Record<string, () => Promise<string>> = {
  authorize: benchAuthorize,
  http: benchHttp,
  numbering: benchNumbering,
  pdd: benchPostDialDelay,
  detection: benchDetection,
  "cdr-throughput": benchCdrThroughput,
  flows: benchFlowDecode,
  "flow-latency": benchFlowDetectLatency,
  shield: benchShield,
};

const wanted = process.argv.slice(2);
for (const name of wanted.length ? wanted : Object.keys(benches)) {
  const b = benches[name];
  if (!b) {
    process.stderr.write(`unknown benchmark ${name}; known: ${Object.keys(benches).join(", ")}\n`);
    process.exit(2);
  }
  process.stdout.write((await b()) + "\n\n");
}
