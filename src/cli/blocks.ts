import type { Command } from "commander";
import { registerRestrictions } from "./restrictions.js";

/** `mamori blocks …`: blocks of international calling, through the running service (operator key). */
export function registerBlocks(program: Command): void {
  registerRestrictions(program, {
    name: "blocks",
    description: "list, place and lift blocks of international calling",
    one: "block",
    subject: "account",
    subjectHelp: "only this account",
    createHelp: "block an account's international calling",
    columns: ["id", "account", "rule", "createdAt", "until", "active", "reason"],
  });
}
