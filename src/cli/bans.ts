import type { Command } from "commander";
import { registerRestrictions } from "./restrictions.js";

/** `mamori bans …`: banned source addresses, through the running service (operator key). */
export function registerBans(program: Command): void {
  registerRestrictions(program, {
    name: "bans",
    description: "list, place and lift bans of source addresses",
    one: "ban",
    subject: "address",
    subjectHelp: "only this address",
    createHelp: "ban an address",
    columns: ["id", "address", "guard", "rule", "offence", "createdAt", "until", "active", "reason"],
  });
}
