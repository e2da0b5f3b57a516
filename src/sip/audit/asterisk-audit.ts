/**
 * Audit of an Asterisk configuration directory: pjsip.conf, sip.conf, extensions.conf, manager.conf,
 * http.conf, ari.conf (and modules.conf to know whether chan_sip is loaded).
 *
 * Defaults matter as much as settings: chan_sip takes guest calls unless `allowguest=no`, an AMI user
 * without permit/deny accepts logins from anywhere, and manager.conf binds to 0.0.0.0 unless told.
 */
import {
  allEntries,
  type ConfSection,
  isFalse,
  isTrue,
  lastEntry,
  type ParsedConf,
  parseAsteriskConf,
} from "./asterisk-conf.js";
import { type Dialplan, internationalRoutes, reachable, readDialplan } from "./asterisk-dialplan.js";
import { bindReach, type ConfFinding, isMaintenanceName, openToAnywhere, type Reach } from "./common.js";
import { maskSecret, secretWeakness, weaknessSeverity } from "./secrets.js";
import {
  type AuditFinding,
  type AuditOptions,
  type AuditReport,
  type ConfigFiles,
  sortFindings,
} from "./types.js";

const typeOf = (s: ConfSection) => lastEntry(s, "type")?.value.toLowerCase();
const split = (v: string | undefined) =>
  (v ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");

type Guest = { readonly context: string; readonly via: string };

/** Everything that can dial out internationally from the contexts an account may use. */
function canDialAbroad(dialplan: Dialplan, context: string): string | undefined {
  const reach = reachable(dialplan, [context]);
  return internationalRoutes(dialplan).find((r) => reach.has(r.context))?.pattern;
}

const AMI_BROAD = /\b(all|system|command|originate|config)\b/i;

export function auditAsterisk(files: ConfigFiles, options: AuditOptions): AuditReport {
  const findings: AuditFinding[] = [];
  const warnings: string[] = [];
  const add = (f: ConfFinding) => findings.push(f);
  const parse = (name: string): ParsedConf | undefined => {
    if (!files.has(name)) return undefined;
    const p = parseAsteriskConf(name, files);
    warnings.push(...p.warnings);
    return p;
  };
  const live = (p: ParsedConf | undefined) => (p ? p.sections.filter((s) => !s.isTemplate) : []);
  const weak = (secret: string, names: readonly string[]) =>
    secretWeakness(secret, names, options.weakPasswords);

  const modules = parse("modules.conf");
  const chanSipOff = live(modules).some((s) =>
    allEntries(s, "noload").some((e) => /^chan_sip(\.so)?$/i.test(e.value)),
  );
  const dialplan = readDialplan(parse("extensions.conf"));
  const guests: Guest[] = [];
  const sipAccounts: { name: string; context: string; file: string; line: number; section: string }[] = [];

  // PJSIP
  const pjsip = live(parse("pjsip.conf"));
  const endpoints = pjsip.filter((s) => typeOf(s) === "endpoint");
  for (const ep of endpoints) {
    const context = lastEntry(ep, "context")?.value ?? "default";
    sipAccounts.push({ name: ep.name, context, file: ep.file, line: ep.line, section: ep.name });
    if (ep.name.toLowerCase() === "anonymous") {
      guests.push({ context, via: 'the "anonymous" endpoint in pjsip.conf' });
      add({
        id: "guest-calls",
        severity: "medium",
        file: ep.file,
        line: ep.line,
        section: ep.name,
        message: `PJSIP endpoint "anonymous" accepts calls from anyone without authentication into context "${context}".`,
        fix: "Remove the [anonymous] endpoint unless calls from unknown callers are required; if they are, give it a context that can only reach local extensions.",
      });
    }
  }
  for (const auth of pjsip.filter((s) => typeOf(s) === "auth")) {
    const authType = lastEntry(auth, "auth_type")?.value.toLowerCase() ?? "userpass";
    const password = lastEntry(auth, "password");
    if (authType !== "userpass" && authType !== "digest") continue;
    if (!password) continue;
    const users = endpoints.filter((ep) => split(lastEntry(ep, "auth")?.value).includes(auth.name));
    const outboundOnly =
      users.length === 0 &&
      pjsip.some((s) => split(lastEntry(s, "outbound_auth")?.value).includes(auth.name));
    if (outboundOnly) continue;
    const username = lastEntry(auth, "username")?.value;
    const w = weak(password.value, [auth.name, ...(username ? [username] : []), ...users.map((u) => u.name)]);
    if (!w) continue;
    add({
      id: "weak-secret",
      severity: w.severity,
      file: password.file,
      line: password.line,
      section: auth.name,
      message: `PJSIP auth "${auth.name}" password ${maskSecret(password.value)} ${w.reasons.join(", ")}.`,
      fix: "Set a random password of at least 16 characters (for example `openssl rand -base64 18`) and update the phone.",
    });
  }

  // chan_sip
  const sipParsed = parse("sip.conf");
  if (sipParsed && chanSipOff)
    warnings.push("sip.conf: chan_sip is not loaded (modules.conf), so sip.conf was not audited");
  const sip = chanSipOff ? [] : live(sipParsed);
  if (sipParsed && !chanSipOff) {
    const general = sip.find((s) => s.name.toLowerCase() === "general");
    const allowguest = general ? lastEntry(general, "allowguest") : undefined;
    if (!isFalse(allowguest?.value)) {
      const context = (general && lastEntry(general, "context")?.value) || "default";
      guests.push({ context, via: `allowguest in sip.conf${allowguest ? "" : " (on by default)"}` });
      add({
        id: "guest-calls",
        severity: "medium",
        file: allowguest?.file ?? general?.file ?? "sip.conf",
        line: allowguest?.line ?? general?.line ?? 1,
        section: "general",
        message: `chan_sip accepts calls from unauthenticated callers (allowguest ${allowguest ? "= " + allowguest.value : "is on by default"}) into context "${context}".`,
        fix: "Set allowguest=no in [general] of sip.conf (and alwaysauthreject=yes), or move to PJSIP.",
      });
    }
    for (const peer of sip) {
      const lower = peer.name.toLowerCase();
      if (lower === "general" || lower === "authentication") continue;
      const context =
        lastEntry(peer, "context")?.value ?? ((general && lastEntry(general, "context")?.value) || "default");
      sipAccounts.push({ name: peer.name, context, file: peer.file, line: peer.line, section: peer.name });
      const secret = lastEntry(peer, "secret");
      if (!secret) continue;
      const names = [
        peer.name,
        lastEntry(peer, "defaultuser")?.value,
        lastEntry(peer, "username")?.value,
      ].filter((x): x is string => x !== undefined);
      const w = weak(secret.value, names);
      if (!w) continue;
      add({
        id: "weak-secret",
        severity: w.severity,
        file: secret.file,
        line: secret.line,
        section: peer.name,
        message: `chan_sip peer "${peer.name}" secret ${maskSecret(secret.value)} ${w.reasons.join(", ")}.`,
        fix: "Set a random secret of at least 16 characters and update the device.",
      });
    }
  }

  // Routes abroad, and who reaches them without authenticating.
  const unauth = new Map<string, string>();
  for (const g of guests)
    for (const c of reachable(dialplan, [g.context])) if (!unauth.has(c)) unauth.set(c, g.via);
  for (const route of internationalRoutes(dialplan)) {
    if (route.checked) continue;
    const via = unauth.get(route.context);
    add(
      via
        ? {
            id: "unauth-international",
            severity: "critical",
            file: route.entry.file,
            line: route.entry.line,
            section: route.context,
            message: `Callers who never authenticated reach context "${route.context}" (through ${via}), where ${route.pattern} dials numbers abroad (${route.sample}) with no check.`,
            fix: "Stop unauthenticated calls from reaching this context (see the guest-calls finding), and check every international call before Dial, for example with Mamori's call guard: same => n,AGI(agi://127.0.0.1:4573/authorize).",
          }
        : {
            id: "international-unrestricted",
            severity: "high",
            file: route.entry.file,
            line: route.entry.line,
            section: route.context,
            message: `In context "${route.context}", ${route.pattern} dials numbers abroad (${route.sample}) with no check: one stolen SIP password is enough for toll fraud.`,
            fix: "Allow international calls only to the accounts that need them, narrow the pattern, and check each call before Dial (for example same => n,AGI(agi://127.0.0.1:4573/authorize) to Mamori's call guard).",
          },
    );
  }

  // SIP accounts with maintenance-like names that can dial abroad.
  for (const a of sipAccounts) {
    if (!isMaintenanceName(a.name)) continue;
    const pattern = canDialAbroad(dialplan, a.context);
    if (!pattern) continue;
    add({
      id: "maintenance-account",
      severity: "high",
      file: a.file,
      line: a.line,
      section: a.section,
      message: `SIP account "${a.name}" looks like a maintenance or test account and its context "${a.context}" can dial abroad (${pattern}).`,
      fix: "Delete accounts that are not in use; give maintenance accounts a context with local extensions only, and restrict them to the maintainer's address (ACL or identify).",
    });
  }

  auditManager(parse("manager.conf"), options, add);
  auditAri(parse("http.conf"), parse("ari.conf"), options, add);
  return { findings: sortFindings(findings), warnings };
}

function auditManager(
  parsed: ParsedConf | undefined,
  options: AuditOptions,
  add: (f: ConfFinding) => void,
): void {
  if (!parsed) return;
  const sections = parsed.sections.filter((s) => !s.isTemplate);
  const general = sections.find((s) => s.name.toLowerCase() === "general");
  const enabled = general ? isTrue(lastEntry(general, "enabled")?.value) : false;
  const bind = general ? lastEntry(general, "bindaddr")?.value : undefined;
  const reach: Reach = enabled ? bindReach(bind ?? "0.0.0.0") : "disabled";
  for (const user of sections) {
    if (user === general) continue;
    const secret = lastEntry(user, "secret");
    const perms = [...allEntries(user, "read"), ...allEntries(user, "write")].map((e) => e.value).join(",");
    if (isMaintenanceName(user.name) && AMI_BROAD.test(perms)) {
      add({
        id: "maintenance-account",
        severity: "high",
        file: user.file,
        line: user.line,
        section: user.name,
        message: `AMI user "${user.name}" looks like a maintenance account and has broad rights (${perms.replace(/\s+/g, "")}): it can originate calls or run commands.`,
        fix: "Delete it if unused; otherwise rename it, limit read/write to the classes it needs, and permit only the maintainer's address.",
      });
    }
    if (!secret) continue;
    const w = secretWeakness(secret.value, [user.name], options.weakPasswords);
    const values = (key: string) => allEntries(user, key).map((e) => e.value);
    const open = openToAnywhere(values("permit"), values("deny"), values("acl"));
    if (reach === "anywhere" && open) {
      add({
        id: "ami-exposed",
        severity: w ? "critical" : "medium",
        file: user.file,
        line: user.line,
        section: user.name,
        message: `AMI user "${user.name}" can log in from any address (manager.conf binds ${bind ?? "0.0.0.0 by default"}, no permit/deny)${w ? ` and its secret ${maskSecret(secret.value)} ${w.reasons.join(", ")}` : ""}.`,
        fix: `Set bindaddr=127.0.0.1 in [general] (or the management network's address), add deny=0.0.0.0/0.0.0.0 and permit=<your address>/32 to [${user.name}]${w ? ", and set a random secret of at least 16 characters" : ""}.`,
      });
      continue;
    }
    if (!w) continue;
    add({
      id: "weak-secret",
      severity: weaknessSeverity(w, reach),
      file: secret.file,
      line: secret.line,
      section: user.name,
      message: `AMI user "${user.name}" secret ${maskSecret(secret.value)} ${w.reasons.join(", ")}${reach === "local" ? " (AMI listens on this host only)" : reach === "disabled" ? " (AMI is disabled)" : ""}.`,
      fix: "Set a random secret of at least 16 characters.",
    });
  }
}

function auditAri(
  http: ParsedConf | undefined,
  ari: ParsedConf | undefined,
  options: AuditOptions,
  add: (f: ConfFinding) => void,
): void {
  if (!ari) return;
  const httpGeneral = http?.sections.find((s) => s.name.toLowerCase() === "general");
  const httpOn = httpGeneral ? isTrue(lastEntry(httpGeneral, "enabled")?.value) : false;
  const bind = httpGeneral ? lastEntry(httpGeneral, "bindaddr")?.value : undefined;
  const ariGeneral = ari.sections.find((s) => s.name.toLowerCase() === "general");
  const ariOn = !isFalse(ariGeneral ? lastEntry(ariGeneral, "enabled")?.value : undefined);
  // Without bindaddr Asterisk's HTTP server does not listen.
  const reach: Reach = httpOn && ariOn && bind !== undefined ? bindReach(bind) : "disabled";
  for (const user of ari.sections.filter((s) => !s.isTemplate && typeOf(s) === "user")) {
    if (isMaintenanceName(user.name)) {
      add({
        id: "maintenance-account",
        severity: "high",
        file: user.file,
        line: user.line,
        section: user.name,
        message: `ARI user "${user.name}" looks like a maintenance account; ARI users control every channel, including originating calls.`,
        fix: "Delete it if unused; otherwise give it a name and random password of its own and keep ARI on loopback or behind a firewall.",
      });
    }
    const password = lastEntry(user, "password");
    if (!password || lastEntry(user, "password_format")?.value.toLowerCase() === "crypt") continue;
    const w = secretWeakness(password.value, [user.name], options.weakPasswords);
    if (reach === "anywhere") {
      add({
        id: "ari-exposed",
        severity: w ? "critical" : "medium",
        file: user.file,
        line: user.line,
        section: user.name,
        message: `ARI user "${user.name}" can log in from any address (http.conf bindaddr=${bind})${w ? ` and its password ${maskSecret(password.value)} ${w.reasons.join(", ")}` : ""}.`,
        fix: `Set bindaddr=127.0.0.1 in http.conf (put a proxy with TLS and an allow-list in front if remote access is needed)${w ? " and set a random password of at least 16 characters (password_format=crypt)" : ""}.`,
      });
      continue;
    }
    if (!w) continue;
    add({
      id: "weak-secret",
      severity: weaknessSeverity(w, reach),
      file: password.file,
      line: password.line,
      section: user.name,
      message: `ARI user "${user.name}" password ${maskSecret(password.value)} ${w.reasons.join(", ")}.`,
      fix: "Set a random password of at least 16 characters and store it with password_format=crypt.",
    });
  }
}
