import type { Remedy, Severity } from "../core/findings.js";
import type { PbxRuleId } from "./settings.js";

/** The PBX guard's rules: what each asks for when it fires, and the attack it is tuned for. */
export type PbxRuleInfo = { readonly severity: Severity; readonly remedy: Remedy; readonly note: string };

export const pbxRuleCatalogue: { readonly [K in PbxRuleId]: PbxRuleInfo } = {
  "password-guessing": {
    severity: "critical",
    remedy: "ban",
    note: "Many failed logins from one address in minutes: a brute-force tool such as svcrack.",
  },
  "account-guessing": {
    severity: "critical",
    remedy: "ban",
    note: "Failed logins against one extension over hours, from one slow address or many addresses (a botnet spreading guesses to stay under per-address limits).",
  },
  "extension-enumeration": {
    severity: "warning",
    remedy: "ban",
    note: "Many different user names refused for one address: an extension scan (svwar) before guessing passwords.",
  },
  "scanner-user-agent": {
    severity: "warning",
    remedy: "ban",
    note: "The User-Agent of a known SIP scanner; no telephone sends it.",
  },
  "register-flood": {
    severity: "warning",
    remedy: "ban",
    note: "REGISTER requests faster than any set of phones behind one address sends them.",
  },
  "invite-flood": {
    severity: "warning",
    remedy: "ban",
    note: "INVITE requests faster than any office places calls: call-attempt floods and fast toll-fraud probing.",
  },
  "call-probing": {
    severity: "warning",
    remedy: "ban",
    note: "Repeated calls refused for no matching extension: probing the dialplan for a route abroad.",
  },
  "server-rate-limited": {
    severity: "warning",
    remedy: "ban",
    note: "The SIP server's own flood limiter blocked the address again and again; the kernel drops it cheaper.",
  },
  "new-network": {
    severity: "warning",
    remedy: "alert",
    note: "A login to an account from a network never seen for it: a stolen password used from elsewhere, or a phone that moved.",
  },
  "new-country": {
    severity: "warning",
    remedy: "alert",
    note: "A login to an account from a country never seen for it.",
  },
  "suspicious-login": {
    severity: "critical",
    remedy: "alert",
    note: "A successful login right after a run of failures: a password that was just guessed.",
  },
  "pbx-compromise": {
    severity: "critical",
    remedy: "block",
    note: "A suspicious login or a login from a new place, then an international call from that account: the toll-fraud chain. Blocks the account's international calling.",
  },
};
