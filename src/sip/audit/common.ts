/**
 * Small judgements shared by the Asterisk and FreeSWITCH audits: how far a bind address reaches,
 * whether an address list lets everyone in, and which account names are maintenance accounts.
 */
import type { AuditFinding } from "./types.js";

export type ConfFinding = AuditFinding;

/** disabled: service off; local: this host only; network: one interface; anywhere: every address. */
export type Reach = "disabled" | "local" | "network" | "anywhere";

const ANY = /^(\*|0\.0\.0\.0|::|::0|0:0:0:0:0:0:0:0|)$/;

/** How far a service bound to `address` (`0.0.0.0`, `[::]`, `127.0.0.1:5038`) can be reached. */
export function bindReach(address: string): Reach {
  let a = address.trim().toLowerCase();
  if (a.startsWith("[")) a = a.slice(1, a.indexOf("]") === -1 ? undefined : a.indexOf("]"));
  else if (/^[\d.]+:\d+$/.test(a)) a = a.slice(0, a.indexOf(":"));
  if (ANY.test(a)) return "anywhere";
  if (a === "localhost" || a.startsWith("127.") || a === "::1") return "local";
  return "network";
}

const ALL_NETS = /^(0\.0\.0\.0\/(0|0\.0\.0\.0)|::\/0|0\.0\.0\.0)$/;

/**
 * Whether an Asterisk permit/deny list lets any address in. Rules apply in order with "allow" as the
 * default, so a permit without a deny-everything before it restricts nothing; a named `acl=` is taken
 * as restricting, since acl.conf is checked separately.
 */
export function openToAnywhere(
  permits: readonly string[],
  denies: readonly string[],
  namedAcls: readonly string[],
): boolean {
  if (namedAcls.length > 0) return false;
  const denyAll = denies.some((d) => ALL_NETS.test(d.trim()));
  if (!denyAll) return true;
  return permits.some((p) => ALL_NETS.test(p.trim()));
}

const MAINTENANCE =
  /^(admin|administrator|adm|maint|maintenance|support|test|tester|testing|remote|service|tech|demo|root|sysadmin|installer)[-_.]?\d*$/i;

/** Names that installers and vendors leave behind for remote maintenance or testing. */
export function isMaintenanceName(name: string): boolean {
  return MAINTENANCE.test(name.trim());
}
