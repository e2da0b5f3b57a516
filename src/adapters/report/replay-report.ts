import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { HourBucket, ReplayAlert, ReplayStats } from "../../calls/replay.js";
import type { CdrStats } from "../ingest/cdr/index.js";

/**
 * The replay report: one self-contained HTML page (no network, no server) with the summary, every alert
 * and what it would have saved, and per-account charts of calls and estimated spend over time. Charts
 * are drawn by uPlot, embedded in the page, from the data embedded beside it.
 */
export type ReportInput = {
  readonly title: string;
  readonly files: readonly string[];
  readonly currency: string;
  readonly replay: ReplayStats;
  readonly cdr: CdrStats;
  readonly alerts: readonly ReplayAlert[];
  readonly series: ReadonlyMap<string, ReadonlyMap<number, HourBucket>>;
  /** How many accounts get a chart (those with alerts first, then by spend). */
  readonly maxCharts?: number | undefined;
};

const esc = (s: unknown): string =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

const money = (n: number, currency: string): string => `${Math.round(n).toLocaleString("en-US")} ${currency}`;

function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  return {
    js: readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8"),
    css: readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8"),
  };
}

export function renderReplayReport(r: ReportInput): string {
  const { js, css } = uplotAssets();
  const byAccount = new Map<string, { alerts: number; saved: number; cost: number }>();
  for (const [account, hours] of r.series) {
    let cost = 0;
    for (const b of hours.values()) cost += b.cost;
    byAccount.set(account, { alerts: 0, saved: 0, cost });
  }
  for (const a of r.alerts) {
    const x = byAccount.get(a.account) ?? { alerts: 0, saved: 0, cost: 0 };
    x.alerts++;
    x.saved += a.saved;
    byAccount.set(a.account, x);
  }
  const charted = [...byAccount.entries()]
    .sort((a, b) => b[1].alerts - a[1].alerts || b[1].saved - a[1].saved || b[1].cost - a[1].cost)
    .slice(0, r.maxCharts ?? 30)
    .map(([account]) => account);
  const chartData = charted.map((account) => {
    const hours = [...(r.series.get(account) ?? new Map<number, HourBucket>()).entries()].sort(
      (a, b) => a[0] - b[0],
    );
    return {
      account,
      t: hours.map(([h]) => h / 1000),
      calls: hours.map(([, b]) => b.calls),
      denied: hours.map(([, b]) => b.denied),
      cost: hours.map(([, b]) => Math.round(b.cost)),
      saved: hours.map(([, b]) => Math.round(b.saved)),
      alerts: r.alerts.filter((a) => a.account === account).map((a) => ({ t: a.at / 1000, rule: a.rule })),
    };
  });
  const data = JSON.stringify({ currency: r.currency, charts: chartData }).replace(/</g, "\\u003c");
  const s = r.replay;
  const rejected = Object.entries(r.cdr.rejectedByReason)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `<li>${esc(reason)}: ${n}</li>`)
    .join("");
  const alertRows = [...r.alerts]
    .sort((a, b) => a.at - b.at)
    .map(
      (a) =>
        `<tr class="${esc(a.severity)}"><td>${esc(new Date(a.at).toISOString())}</td><td>${esc(a.account)}</td><td>${esc(
          a.rule,
        )}</td><td>${esc(a.severity)}</td><td>${esc(a.decision)}</td><td>${esc(a.message)}</td><td class="num">${esc(
          money(a.saved, r.currency),
        )}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(r.title)}</title>
<style>${css}
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#111;background:#fff}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.num{text-align:right;white-space:nowrap}tr.critical td:nth-child(4){color:#a40000;font-weight:600}
.summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:.75rem}
.summary div{border:1px solid #ccc;border-radius:.4rem;padding:.6rem}.summary b{display:block;font-size:1.3rem}
.chart{margin:1rem 0 2rem}
</style></head><body>
<h1>${esc(r.title)}</h1>
<p>Files: ${r.files.map(esc).join(", ")}. Event time ${s.firstAt === undefined ? "-" : esc(new Date(s.firstAt).toISOString())} to ${
    s.lastAt === undefined ? "-" : esc(new Date(s.lastAt).toISOString())
  }. Costs are estimates from the tariff table.</p>
<section class="summary" aria-label="Summary">
<div>Calls replayed<b>${s.records.toLocaleString("en-US")}</b></div>
<div>Would have been denied<b>${s.denied.toLocaleString("en-US")}</b></div>
<div>Would have been ended early<b>${s.terminated.toLocaleString("en-US")}</b></div>
<div>Alerts<b>${r.alerts.length.toLocaleString("en-US")}</b></div>
<div>Estimated spend allowed<b>${esc(money(s.cost, r.currency))}</b></div>
<div>Estimated spend saved<b>${esc(money(s.saved, r.currency))}</b></div>
</section>
<h2>Input</h2>
<p>${r.cdr.lines.toLocaleString("en-US")} lines read, ${r.cdr.records.toLocaleString("en-US")} records used, ${r.cdr.rejected.toLocaleString(
    "en-US",
  )} rejected${s.late ? `, ${s.late} replayed late (out of order beyond the horizon)` : ""}.</p>
${rejected ? `<ul>${rejected}</ul>` : ""}
<h2>Alerts</h2>
<table><thead><tr><th scope="col">Event time (UTC)</th><th scope="col">Account</th><th scope="col">Rule</th><th scope="col">Severity</th><th scope="col">Decision</th><th scope="col">What</th><th scope="col">Would have saved</th></tr></thead>
<tbody>
${alertRows || '<tr><td colspan="7">No alerts.</td></tr>'}
</tbody></table>
<h2>Accounts</h2>
<p>Calls, denials and estimated spend per hour for the accounts with alerts first (at most ${r.maxCharts ?? 30}).</p>
<div id="charts"></div>
<script type="application/json" id="data">${data}</script>
<script>${js}</script>
<script>
(function () {
  var d = JSON.parse(document.getElementById("data").textContent);
  var root = document.getElementById("charts");
  var width = Math.max(320, Math.min(1100, root.clientWidth || 900));
  d.charts.forEach(function (c) {
    var h = document.createElement("h3");
    h.textContent = c.account + (c.alerts.length ? " (" + c.alerts.length + " alerts: " + Array.from(new Set(c.alerts.map(function (a) { return a.rule; }))).join(", ") + ")" : "");
    var div = document.createElement("div");
    div.className = "chart";
    div.setAttribute("role", "img");
    div.setAttribute("aria-label", "Calls and estimated spend per hour for " + c.account);
    root.appendChild(h);
    root.appendChild(div);
    new uPlot({
      width: width, height: 220,
      scales: { x: { time: true }, n: { auto: true }, m: { auto: true } },
      axes: [{}, { scale: "n", label: "calls/h" }, { scale: "m", side: 1, label: d.currency + "/h", grid: { show: false } }],
      series: [
        {},
        { label: "calls", scale: "n", stroke: "#1f5fa8", width: 1.5 },
        { label: "denied", scale: "n", stroke: "#a40000", width: 1.5 },
        { label: "spend " + d.currency, scale: "m", stroke: "#8a6d00", width: 1.5 },
        { label: "saved " + d.currency, scale: "m", stroke: "#2d7d2d", width: 1.5, dash: [6, 4] }
      ]
    }, [c.t, c.calls, c.denied, c.cost, c.saved], div);
  });
})();
</script>
</body></html>
`;
}
