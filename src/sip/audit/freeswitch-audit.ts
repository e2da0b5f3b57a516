/**
 * Audit of a FreeSWITCH configuration directory: directory users, sofia profiles, the XML dialplan
 * and the event socket.
 *
 * A sofia profile challenges INVITEs only with `auth-calls` on, so callers reach a profile's context
 * (`public` unless set) without authenticating wherever it is off — the stock external profile, by
 * design. What matters is whether such a context can bridge calls abroad.
 */
import { bindReach, type ConfFinding, isMaintenanceName } from "./common.js";
import { internationalMatchRegex } from "./dial-patterns.js";
import { type FsNode, findAll, fsTrue, loadFreeswitchTree, paramsOf } from "./freeswitch-conf.js";
import { maskSecret, secretWeakness, weaknessSeverity } from "./secrets.js";
import {
  type AuditFinding,
  type AuditOptions,
  type AuditReport,
  type ConfigFiles,
  sortFindings,
} from "./types.js";

type Route = {
  context: string;
  extension: string;
  expression: string;
  sample: string;
  checked: boolean;
  node: FsNode;
};

const CHECK_APPS = new Set(["lua", "python", "javascript", "perl", "socket", "curl"]);
const DEFAULT_ESL_PASSWORD = "cluecon";

function settings(node: FsNode): Map<string, FsNode> {
  const out = new Map<string, FsNode>();
  for (const container of node.children.filter((c) =>
    ["settings", "params"].includes(c.name.toLowerCase()),
  )) {
    for (const p of paramsOf(container)) if (p.attrs.name) out.set(p.attrs.name.toLowerCase(), p);
  }
  return out;
}

/** Extensions that bridge and accept a foreign number. */
function internationalRoutes(contexts: readonly FsNode[], warnings: string[]): Route[] {
  const out: Route[] = [];
  for (const ctx of contexts) {
    for (const ext of findAll(ctx.children, "extension")) {
      const conditions = findAll(ext.children, "condition");
      const actions = [...findAll(ext.children, "action"), ...findAll(ext.children, "anti-action")];
      if (!actions.some((a) => (a.attrs.application ?? "").toLowerCase() === "bridge")) continue;
      for (const cond of conditions) {
        if ((cond.attrs.field ?? "") !== "destination_number" || cond.attrs.expression === undefined)
          continue;
        const sample = internationalMatchRegex(cond.attrs.expression);
        if (sample === null) {
          warnings.push(
            `${cond.file}:${cond.line}: expression ${cond.attrs.expression} is not readable as a regular expression`,
          );
          continue;
        }
        if (sample === undefined) continue;
        const checked =
          conditions.some((c) => c.attrs.field !== undefined && c.attrs.field !== "destination_number") ||
          actions.some((a) => CHECK_APPS.has((a.attrs.application ?? "").toLowerCase()));
        out.push({
          context: ctx.attrs.name ?? "",
          extension: ext.attrs.name ?? "",
          expression: cond.attrs.expression,
          sample,
          checked,
          node: cond,
        });
        break;
      }
    }
  }
  return out;
}

type User = {
  id: string;
  aliases: string[];
  params: Map<string, FsNode>;
  variables: Map<string, FsNode>;
  node: FsNode;
};

/** Users with the params and variables they inherit from their domain and groups. */
function directoryUsers(roots: readonly FsNode[]): User[] {
  const out: User[] = [];
  const walk = (nodes: readonly FsNode[], params: Map<string, FsNode>, variables: Map<string, FsNode>) => {
    let p = params;
    let v = variables;
    for (const n of nodes) {
      const name = n.name.toLowerCase();
      if (name === "params") {
        p = new Map(p);
        for (const x of paramsOf(n)) if (x.attrs.name) p.set(x.attrs.name.toLowerCase(), x);
      } else if (name === "variables") {
        v = new Map(v);
        for (const x of paramsOf(n, "variable")) if (x.attrs.name) v.set(x.attrs.name.toLowerCase(), x);
      }
    }
    for (const n of nodes) {
      const name = n.name.toLowerCase();
      if (name === "user" && n.attrs.id !== undefined) {
        const own = (tag: string, base: Map<string, FsNode>, child: string) => {
          const m = new Map(base);
          for (const c of n.children.filter((c) => c.name.toLowerCase() === tag)) {
            for (const x of paramsOf(c, child)) if (x.attrs.name) m.set(x.attrs.name.toLowerCase(), x);
          }
          return m;
        };
        const aliases = (n.attrs["number-alias"] ?? "")
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
        out.push({
          id: n.attrs.id,
          aliases,
          params: own("params", p, "param"),
          variables: own("variables", v, "variable"),
          node: n,
        });
      } else if (name !== "params" && name !== "variables") walk(n.children, p, v);
    }
  };
  walk(
    roots.filter((r) => r.file.startsWith("directory/")),
    new Map(),
    new Map(),
  );
  return out;
}

/** How a secret attribute reads in a message: the variable it came from, masked value, where set. */
function describeSecret(node: FsNode, vars: ReturnType<typeof loadFreeswitchTree>["vars"]): string {
  const raw = node.raw.value ?? "";
  const m = /^\$\$\{([^}]+)\}$/.exec(raw);
  const value = node.attrs.value ?? "";
  if (!m) return maskSecret(value);
  const v = vars.get(m[1]!);
  return `${raw} (${maskSecret(value)}${v ? `, set in ${v.file}:${v.line}` : ""})`;
}

export function auditFreeswitch(files: ConfigFiles, options: AuditOptions): AuditReport {
  const tree = loadFreeswitchTree(files);
  const warnings = [...tree.warnings];
  const findings: AuditFinding[] = [];
  const add = (f: ConfFinding) => findings.push(f);
  const contexts = findAll(tree.roots, "context").filter((c) => c.file.startsWith("dialplan/"));
  const routes = internationalRoutes(contexts, warnings);

  // Profiles: where unauthenticated callers land, and blind authentication.
  const unauth = new Map<string, string>();
  const profiles = findAll(tree.roots, "profile").filter(
    (p) => p.file.startsWith("sip_profiles/") || p.file.endsWith("sofia.conf.xml"),
  );
  for (const profile of profiles) {
    const s = settings(profile);
    const name = profile.attrs.name ?? "?";
    if (!fsTrue(s.get("auth-calls")?.attrs.value)) {
      const context = s.get("context")?.attrs.value ?? "public";
      if (!unauth.has(context)) unauth.set(context, `sofia profile "${name}" (auth-calls is off)`);
    }
    for (const [key, severity, what] of [
      ["accept-blind-auth", "critical", "accepts any password"],
      ["accept-blind-reg", "high", "accepts any registration"],
    ] as const) {
      const p = s.get(key);
      if (!p || !fsTrue(p.attrs.value)) continue;
      add({
        id: "guest-calls",
        severity,
        file: p.file,
        line: p.line,
        section: name,
        message: `Sofia profile "${name}" has ${key} on: it ${what}, so anyone can use it without knowing a password.`,
        fix: `Remove ${key} (or set it to false) and restart the profile.`,
      });
    }
  }

  for (const r of routes) {
    if (r.checked) continue;
    const via = unauth.get(r.context);
    add(
      via
        ? {
            id: "unauth-international",
            severity: "critical",
            file: r.node.file,
            line: r.node.line,
            section: r.context,
            message: `Callers who never authenticated reach context "${r.context}" (through ${via}), where extension "${r.extension}" (${r.expression}) bridges numbers abroad (${r.sample}) with no check.`,
            fix: "Never bridge to a gateway from a context that unauthenticated profiles use; move the route to a context only registered users have, and check each call (toll_allow condition, or Mamori's call guard).",
          }
        : {
            id: "international-unrestricted",
            severity: "high",
            file: r.node.file,
            line: r.node.line,
            section: r.context,
            message: `In context "${r.context}", extension "${r.extension}" (${r.expression}) bridges numbers abroad (${r.sample}) with no check: one stolen SIP password is enough for toll fraud.`,
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a FreeSWITCH channel variable, quoted for the reader.
            fix: 'Add a condition on ${toll_allow} (expression "international") so only users allowed to call abroad match, and check each call (for example with Mamori\'s call guard).',
          },
    );
  }

  // Users: weak passwords, maintenance accounts that can call abroad.
  const routeContexts = new Set(routes.map((r) => r.context));
  for (const u of directoryUsers(tree.roots)) {
    const password = u.params.get("password");
    if (password?.attrs.value !== undefined) {
      const w = secretWeakness(password.attrs.value, [u.id, ...u.aliases], options.weakPasswords);
      if (w) {
        add({
          id: "weak-secret",
          severity: w.severity,
          file: password.file,
          line: password.line,
          section: u.id,
          message: `User "${u.id}" password ${describeSecret(password, tree.vars)} ${w.reasons.join(", ")}.`,
          fix: "Give each user its own random password of at least 16 characters (not a shared $${default_password}).",
        });
      }
    }
    const context = u.variables.get("user_context")?.attrs.value ?? "default";
    if (isMaintenanceName(u.id) && routeContexts.has(context)) {
      add({
        id: "maintenance-account",
        severity: "high",
        file: u.node.file,
        line: u.node.line,
        section: u.id,
        message: `User "${u.id}" looks like a maintenance or test account and its context "${context}" can bridge calls abroad.`,
        fix: "Delete users that are not in use; give maintenance users a context with local extensions only and an auth-acl limited to the maintainer's address.",
      });
    }
  }

  auditEventSocket(tree.roots, tree.vars, options, add);
  return { findings: sortFindings(findings), warnings };
}

function auditEventSocket(
  roots: readonly FsNode[],
  vars: ReturnType<typeof loadFreeswitchTree>["vars"],
  options: AuditOptions,
  add: (f: ConfFinding) => void,
): void {
  const conf = findAll(roots, "configuration").find(
    (c) => (c.attrs.name ?? "").toLowerCase() === "event_socket.conf",
  );
  if (!conf) return;
  const s = settings(conf);
  const listen = s.get("listen-ip")?.attrs.value ?? "127.0.0.1";
  const password = s.get("password");
  const acl = s.get("apply-inbound-acl")?.attrs.value;
  const reach = bindReach(listen);
  const value = password?.attrs.value ?? "";
  const isDefault = value.toLowerCase() === DEFAULT_ESL_PASSWORD;
  const w = secretWeakness(value, [], options.weakPasswords);
  const weakReasons = [...(isDefault ? ["is FreeSWITCH's well-known default"] : []), ...(w?.reasons ?? [])];
  const line = password?.line ?? conf.line;
  const file = password?.file ?? conf.file;
  if (reach === "anywhere" && !acl) {
    add({
      id: "event-socket-exposed",
      severity: isDefault || w ? "critical" : "medium",
      file,
      line,
      section: "event_socket.conf",
      message: `The event socket listens on all addresses (listen-ip ${listen}) with no apply-inbound-acl${weakReasons.length > 0 ? `, and its password ${password ? describeSecret(password, vars) : "(none)"} ${weakReasons.join(", ")}` : ""}: whoever logs in controls the switch and can originate calls.`,
      fix: 'Set listen-ip to 127.0.0.1 (or ::1), add <param name="apply-inbound-acl" value="loopback.auto"/>, and set a random password of at least 16 characters.',
    });
    return;
  }
  if (isDefault || w) {
    add({
      id: "weak-secret",
      severity: isDefault
        ? weaknessSeverity({ severity: "critical", reasons: [] }, reach)
        : weaknessSeverity(w!, reach),
      file,
      line,
      section: "event_socket.conf",
      message: `The event socket password ${password ? describeSecret(password, vars) : "(none)"} ${weakReasons.join(", ")}${reach === "local" ? " (it listens on this host only)" : ""}.`,
      fix: "Set a random event socket password of at least 16 characters and update the clients that use it.",
    });
  }
}
