import { useState } from "preact/hooks";
import { evidenceRows, num, when, yen } from "../format.ts";
import { useT } from "../i18n.ts";
import { href } from "../router.ts";
import { useLiveEvents, useSession } from "../session.ts";
import { Badge, ErrorBox, KeyValues, Loading, useLoad } from "../ui.tsx";

export type AlertRow = {
  id: number;
  at: string;
  guard: string;
  rule: string;
  severity: "warning" | "critical";
  account?: string;
  address?: string;
  callId?: string;
  decision: string;
  message: string;
  evidence: Record<string, unknown>;
};

export function AlertsPage(props: { id: string | undefined }) {
  return props.id ? <AlertDetail id={props.id} /> : <AlertList />;
}

const PAGE = 50;

function AlertList() {
  const { t, lang } = useT();
  const { api } = useSession();
  const [guard, setGuard] = useState("");
  const [severity, setSeverity] = useState("");
  const [account, setAccount] = useState("");
  const [pages, setPages] = useState(1);
  const list = useLoad(async () => {
    const q = new URLSearchParams({ limit: String(PAGE * pages) });
    if (guard) q.set("guard", guard);
    if (severity) q.set("severity", severity);
    if (account.trim()) q.set("account", account.trim());
    return (await api.get<{ alerts: AlertRow[] }>(`/v1/alerts?${q}`)).alerts;
  }, [api, guard, severity, account, pages]);
  useLiveEvents(() => list.reload(), ["alert"]);

  return (
    <>
      <h1>{t("nav.alerts")}</h1>
      <form class="filters" aria-label={t("alerts.filter")} onSubmit={(e) => e.preventDefault()}>
        <label>
          {t("alerts.guard")}
          <select value={guard} onChange={(e) => setGuard((e.target as HTMLSelectElement).value)}>
            <option value="">{t("alerts.all")}</option>
            <option value="calls">calls</option>
            <option value="pbx">pbx</option>
            <option value="flows">flows</option>
            <option value="shield">shield</option>
          </select>
        </label>
        <label>
          {t("severity")}
          <select value={severity} onChange={(e) => setSeverity((e.target as HTMLSelectElement).value)}>
            <option value="">{t("alerts.all")}</option>
            <option value="critical">critical</option>
            <option value="warning">warning</option>
          </select>
        </label>
        <label>
          {t("account")}
          <input value={account} onChange={(e) => setAccount((e.target as HTMLInputElement).value)} />
        </label>
      </form>
      <ErrorBox error={list.error} onRetry={list.reload} />
      <Loading when={!list.data && !list.error} />
      {list.data?.length === 0 ? <p>{t("alerts.none")}</p> : null}
      {list.data && list.data.length > 0 ? (
        <div class="table-wrap">
          <table data-testid="alerts">
            <thead>
              <tr>
                <th scope="col">{t("time")}</th>
                <th scope="col">{t("severity")}</th>
                <th scope="col">{t("rule")}</th>
                <th scope="col">
                  {t("account")} / {t("address")}
                </th>
                <th scope="col">{t("decision")}</th>
                <th scope="col">{t("message")}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((a) => (
                <tr key={a.id}>
                  <td>
                    <a href={href("alerts", a.id)}>{when(lang, a.at)}</a>
                  </td>
                  <td>
                    <Badge tone={a.severity === "critical" ? "bad" : "warn"}>{a.severity}</Badge>
                  </td>
                  <td>
                    <a href={href("alerts", a.id)}>{a.rule}</a>
                  </td>
                  <td>{a.account ?? a.address ?? ""}</td>
                  <td>{a.decision}</td>
                  <td>{a.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {list.data && list.data.length >= PAGE * pages ? (
        <button type="button" onClick={() => setPages(pages + 1)}>
          {t("alerts.more")}
        </button>
      ) : null}
    </>
  );
}

type Decision = {
  callId: string;
  at: string;
  dialled: string;
  e164: string | null;
  country: string | null;
  decision: string;
  reasons: { rule: string; message: string }[];
  estimatedCost: number;
  billsec: number | null;
};

function AlertDetail(props: { id: string }) {
  const { t, lang } = useT();
  const { api } = useSession();
  const one = useLoad(
    () =>
      api.get<{ alert: AlertRow; rule: { id: string; note: string | null } }>(
        `/v1/alerts/${encodeURIComponent(props.id)}`,
      ),
    [api, props.id],
  );
  const a = one.data?.alert;
  const calls = useLoad(async () => {
    if (a?.guard !== "calls" || !a.account) return undefined;
    const at = Date.parse(a.at);
    const q = new URLSearchParams({
      account: a.account,
      since: new Date(at - 30 * 60_000).toISOString(),
      limit: "200",
    });
    const rows = (await api.get<{ decisions: Decision[] }>(`/v1/decisions?${q}`)).decisions;
    return rows.filter((r) => Date.parse(r.at) <= at + 5 * 60_000).slice(0, 50);
  }, [api, a?.id]);

  return (
    <>
      <p>
        <a href={href("alerts")}>← {t("alert.back")}</a>
      </p>
      <ErrorBox error={one.error} onRetry={one.reload} />
      <Loading when={!one.data && !one.error} />
      {a ? (
        <article aria-labelledby="alert-title">
          <h1 id="alert-title">
            {t("alert.title")} #{a.id}: {a.rule}{" "}
            <Badge tone={a.severity === "critical" ? "bad" : "warn"}>{a.severity}</Badge>
          </h1>
          <p class="lead">{a.message}</p>
          <KeyValues
            rows={[
              [t("time"), when(lang, a.at)],
              [t("alert.guard"), a.guard],
              [t("account"), a.account ? <a href={href("accounts", a.account)}>{a.account}</a> : "—"],
              [t("address"), a.address ?? "—"],
              [t("alert.taken"), <strong key="d">{a.decision}</strong>],
              [t("alert.call"), a.callId ?? "—"],
            ]}
          />
          <section aria-labelledby="note-title">
            <h2 id="note-title">{t("alert.note")}</h2>
            <p>{one.data?.rule.note ?? a.message}</p>
          </section>
          <section aria-labelledby="evidence-title">
            <h2 id="evidence-title">{t("alert.evidence")}</h2>
            <div class="table-wrap">
              <table data-testid="evidence">
                <tbody>
                  {evidenceRows(a.evidence).map(([k, v]) => (
                    <tr key={k}>
                      <th scope="row">{k}</th>
                      <td>
                        <code>{v}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          {calls.data ? (
            <section aria-labelledby="calls-title">
              <h2 id="calls-title">{t("alert.calls")}</h2>
              <div class="table-wrap">
                <table data-testid="alert-calls">
                  <thead>
                    <tr>
                      <th scope="col">{t("time")}</th>
                      <th scope="col">{t("alert.dialled")}</th>
                      <th scope="col">{t("accounts.country")}</th>
                      <th scope="col">{t("decision")}</th>
                      <th scope="col">{t("alert.cost")}</th>
                      <th scope="col">{t("rule")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {calls.data.map((c) => (
                      <tr key={c.callId} class={c.callId === a.callId ? "hit" : undefined}>
                        <td>{when(lang, c.at)}</td>
                        <td>{c.e164 ?? c.dialled}</td>
                        <td>{c.country ?? "—"}</td>
                        <td>{c.decision}</td>
                        <td>{yen(lang, c.estimatedCost)}</td>
                        <td>{c.reasons.map((r) => r.rule).join(", ")}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <p class="help">
                {num(lang, calls.data.length)} {t("alert.shown")}
              </p>
            </section>
          ) : null}
        </article>
      ) : null}
    </>
  );
}
