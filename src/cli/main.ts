#!/usr/bin/env node
import { Command } from "commander";
import { packageVersion } from "../config/paths.js";
import { registerAccounts } from "./accounts.js";
import { registerAuditPbx } from "./audit-pbx.js";
import { registerBans } from "./bans.js";
import { registerBlocks } from "./blocks.js";
import { registerFlows } from "./flows.js";
import { registerKeys } from "./keys.js";
import { registerNumber } from "./number.js";
import { registerReplay } from "./replay.js";
import { registerServe } from "./serve.js";
import { registerShield } from "./shield.js";
import { registerSimulate } from "./simulate.js";
import { registerWatch } from "./watch.js";

const program = new Command()
  .name("mamori")
  .description("Mamori: real-time defence against toll fraud and DDoS")
  .version(packageVersion())
  .showHelpAfterError();

registerServe(program);
registerShield(program);
registerAccounts(program);
registerAuditPbx(program);
registerBlocks(program);
registerBans(program);
registerKeys(program);
registerFlows(program);
registerNumber(program);
registerReplay(program);
registerSimulate(program);
registerWatch(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`mamori: ${(err as Error).message ?? String(err)}\n`);
  process.exitCode = 1;
});
