import { useMemo, useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { Chart } from "../chart.tsx";
import { num, when, yen } from "../format.ts";
import { useT } from "../i18n.ts";
import { useSession } from "../session.ts";
import { Badge, ErrorBox, KeyValues, useAction, useLoad } from "../ui.tsx";

const FORMATS = [
  "asterisk-csv",
  "freeswitch-csv",
  "freeswitch-json",
  "kamailio-acc",
  "cgrates-json",
  "csv",
] as const;

type ReplayAnswer = {
  file: string;
  seconds: number;
  rows: { read: number; used: number; rejected: number };
  rejections: string[];
  calls: { allowed: number; denied: number; terminated: number; estimatedSpend: number; saved: number };
  byRule: { rule: string; alerts: number; critical: number; accounts: number; saved: number }[];
  alertCount: number;
  alerts: {
    at: string;
    rule: string;
    severity: string;
    account: string;
    decision: string;
    message: string;
    saved: number;
  }[];
  accounts: {
    account: string;
    calls: number;
    denied: number;
    cost: number;
    saved: number;
    alerts: number;
    hourly?: { at: string; calls: number; denied: number; cost: number }[];
  }[];
  reportHtml: string;
};

/** The same replay as `mamori replay --report`, from an uploaded file or one in server.replayDir. */
export function ReplayPage() {
  const { t } = useT();
  const { api, canAct } = useSession();
  const [file, setFile] = useState<File | undefined>(undefined);
  const [serverFile, setServerFile] = useState("");
  const [format, setFormat] = useState<string>("asterisk-csv");
  const [timeZone, setTimeZone] = useState("");
  const action = useAction();
  const [answer, setAnswer] = useState<ReplayAnswer | undefined>(undefined);
  const files = useLoad(
    () =>
      canAct
        ? api.get<{ files: { name: string; bytes: number }[] }>("/v1/replay/files").catch((e: unknown) => {
            if (e instanceof ApiError && e.status === 404) return undefined;
            throw e;
          })
        : Promise.resolve(undefined),
    [api, canAct],
  );

  const run = (e: Event) =>
    action.run(e, async () => {
      if (serverFile) {
        setAnswer(
          await api.request<ReplayAnswer>("POST", "/v1/replay/file", {
            file: serverFile,
            format,
            ...(timeZone.trim() ? { timeZone: timeZone.trim() } : {}),
          }),
        );
      } else if (file) {
        const q = new URLSearchParams({ format, name: file.name });
        if (timeZone.trim()) q.set("timeZone", timeZone.trim());
        setAnswer(
          await api.request<ReplayAnswer>("POST", `/v1/replay?${q}`, file, "application/octet-stream"),
        );
      }
    });
  return (
    <>
      <h1>{t("replay.title")}</h1>
      <p>{t("replay.help")}</p>
      {!canAct ? <p class="notice">{t("viewer.readonly")}</p> : null}
      <form class="stack" onSubmit={run} aria-labelledby="replay-form-title">
        <h2 id="replay-form-title" class="sr-only">
          {t("replay.title")}
        </h2>
        <label>
          {t("replay.file")}
          <input
            type="file"
            name="cdr"
            disabled={!canAct}
            onChange={(e) => {
              setFile((e.target as HTMLInputElement).files?.[0]);
              setServerFile("");
            }}
          />
        </label>
        {files.data ? (
          <label>
            {t("replay.server")}
            <select value={serverFile} onChange={(e) => setServerFile((e.target as HTMLSelectElement).value)}>
              <option value="">—</option>
              {files.data.files.map((f) => (
                <option key={f.name} value={f.name}>
                  {f.name} ({Math.ceil(f.bytes / 1024)} KiB)
                </option>
              ))}
            </select>
          </label>
        ) : canAct && files.data === undefined && !files.error ? (
          <p class="help">{t("replay.noServer")}</p>
        ) : null}
        <label>
          {t("replay.format")}
          <select value={format} onChange={(e) => setFormat((e.target as HTMLSelectElement).value)}>
            {FORMATS.map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("replay.timeZone")}
          <input
            value={timeZone}
            placeholder="Asia/Tokyo"
            onInput={(e) => setTimeZone((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="primary" disabled={!canAct || action.busy || (!file && !serverFile)}>
          {action.busy ? t("replay.running") : t("replay.run")}
        </button>
      </form>
      <ErrorBox error={action.error} />
      {answer ? <ReplayReport a={answer} /> : null}
    </>
  );
}

function ReplayReport(props: { a: ReplayAnswer }) {
  const { t, lang } = useT();
  const a = props.a;
  const download = useMemo(() => URL.createObjectURL(new Blob([a.reportHtml], { type: "text/html" })), [a]);
  return (
    <section aria-labelledby="replay-summary" data-testid="replay-report">
      <h2 id="replay-summary">
        {t("replay.summary")}: {a.file}
      </h2>
      <KeyValues
        rows={[
          [
            t("replay.rows"),
            `${num(lang, a.rows.read)} / ${num(lang, a.rows.used)} / ${num(lang, a.rows.rejected)}`,
          ],
          [
            t("replay.calls"),
            `${num(lang, a.calls.allowed)} / ${num(lang, a.calls.denied)} / ${num(lang, a.calls.terminated)}`,
          ],
          [t("replay.spend"), yen(lang, a.calls.estimatedSpend)],
          [t("replay.saved"), <strong key="s">{yen(lang, a.calls.saved)}</strong>],
          [t("replay.alerts"), num(lang, a.alertCount)],
        ]}
      />
      <p>
        <a href={download} download={`mamori-replay-${a.file.replace(/[^\w.-]/g, "_")}.html`}>
          {t("replay.download")}
        </a>
      </p>
      {a.rejections.length ? (
        <details>
          <summary>{t("replay.rejections")}</summary>
          <ul>
            {a.rejections.map((r) => (
              <li key={r}>
                <code>{r}</code>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <h3>{t("replay.byRule")}</h3>
      <div class="table-wrap">
        <table data-testid="replay-rules">
          <thead>
            <tr>
              <th scope="col">{t("rule")}</th>
              <th scope="col">{t("replay.alerts")}</th>
              <th scope="col">{t("replay.critical")}</th>
              <th scope="col">{t("replay.accountsCount")}</th>
              <th scope="col">{t("replay.saved")}</th>
            </tr>
          </thead>
          <tbody>
            {a.byRule.map((r) => (
              <tr key={r.rule}>
                <td>{r.rule}</td>
                <td>{num(lang, r.alerts)}</td>
                <td>{num(lang, r.critical)}</td>
                <td>{num(lang, r.accounts)}</td>
                <td>{yen(lang, r.saved)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>{t("replay.accounts")}</h3>
      <div class="charts">
        {a.accounts
          .filter((x) => x.hourly)
          .slice(0, 6)
          .map((x) => (
            <Chart
              key={x.account}
              title={`${x.account}: ${num(lang, x.calls)} ${t("replay.calls.short")}, ${yen(lang, x.cost)}`}
              at={(x.hourly ?? []).map((h) => Date.parse(h.at))}
              lines={[
                {
                  label: t("chart.allowed"),
                  values: (x.hourly ?? []).map((h) => h.calls - h.denied),
                  color: "#2e7d32",
                },
                { label: t("chart.denied"), values: (x.hourly ?? []).map((h) => h.denied), color: "#c62828" },
              ]}
              bars
            />
          ))}
      </div>
      <h3>{t("replay.alerts")}</h3>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t("time")}</th>
              <th scope="col">{t("severity")}</th>
              <th scope="col">{t("rule")}</th>
              <th scope="col">{t("account")}</th>
              <th scope="col">{t("decision")}</th>
              <th scope="col">{t("replay.saved")}</th>
              <th scope="col">{t("message")}</th>
            </tr>
          </thead>
          <tbody>
            {a.alerts.slice(0, 200).map((x, i) => (
              <tr key={i}>
                <td>{when(lang, x.at)}</td>
                <td>
                  <Badge tone={x.severity === "critical" ? "bad" : "warn"}>{x.severity}</Badge>
                </td>
                <td>{x.rule}</td>
                <td>{x.account}</td>
                <td>{x.decision}</td>
                <td>{yen(lang, x.saved)}</td>
                <td>{x.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
