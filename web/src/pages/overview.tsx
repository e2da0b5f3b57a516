import { useEffect, useMemo, useState } from "preact/hooks";
import { Chart } from "../chart.tsx";
import { evidenceRows, num, when, yen } from "../format.ts";
import { type Key, useT } from "../i18n.ts";
import { href } from "../router.ts";
import { type LiveEvent, useLiveEvents, useSession } from "../session.ts";
import { Badge, ErrorBox, Loading, useLoad } from "../ui.tsx";

type History = { stepSeconds: number; at: number[]; series: Record<string, number[]> };
type Stats = {
  liveCalls?: number;
  calls?: { authorized: number; denied: number };
  pbx?: { authFailures?: number; bans?: number };
  storeDegraded?: boolean;
  shield?: { mode: string; inflight: number; limit: number; bans: number } | undefined;
  flows?: { records: number } | undefined;
};
type HostRates = { pps: number; bps: number };
type TopHost = { address: string; group: string; inbound: HostRates; outbound: HostRates };
type Incident = {
  key: string;
  kind: string;
  title: string;
  detail: string;
  since: string | null;
  link: string;
};

const FEED = 30;

export function OverviewPage() {
  const { t, lang } = useT();
  const { api } = useSession();
  const [stats, setStats] = useState<Stats | undefined>(undefined);
  const [feed, setFeed] = useState<LiveEvent[]>([]);
  const history = useLoad(() => api.get<History>("/v1/stats/history?minutes=60"), [api]);
  const incidents = useLoad(async () => {
    const [blocks, bans, attacks, alerts] = await Promise.all([
      api.get<{ blocks: Record<string, string>[] }>("/v1/blocks?active=true&limit=50"),
      api.get<{ bans: Record<string, string>[] }>("/v1/bans?active=true&limit=50"),
      api
        .get<{ attacks: Record<string, string>[] }>("/v1/attacks?active=true&limit=20")
        .catch(() => ({ attacks: [] })),
      api.get<{ alerts: Record<string, string>[] }>(
        `/v1/alerts?severity=critical&limit=10&since=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`,
      ),
    ]);
    const out: Incident[] = [];
    for (const a of attacks.attacks)
      out.push({
        key: `attack-${a.id}`,
        kind: "attack",
        title: `${a.victim}: ${a.kind}`,
        detail: "",
        since: a.startedAt ?? null,
        link: href("restrictions"),
      });
    for (const a of alerts.alerts)
      out.push({
        key: `alert-${a.id}`,
        kind: "alert",
        title: `${a.account ?? a.address ?? ""} · ${a.rule}`,
        detail: a.message ?? "",
        since: a.at ?? null,
        link: href("alerts", a.id),
      });
    for (const b of blocks.blocks)
      out.push({
        key: `block-${b.id}`,
        kind: "block",
        title: `${b.account} · ${b.rule ?? ""}`,
        detail: b.reason ?? "",
        since: b.createdAt ?? null,
        link: href("accounts", b.account),
      });
    for (const b of bans.bans)
      out.push({
        key: `ban-${b.id}`,
        kind: "ban",
        title: `${b.address} · ${b.rule ?? ""}`,
        detail: b.reason ?? "",
        since: b.createdAt ?? null,
        link: href("restrictions"),
      });
    return out;
  }, [api]);

  const flowsOn = stats?.flows !== undefined;
  const top = useLoad(
    () => (flowsOn ? api.get<{ hosts: TopHost[] }>("/v1/flows/top?limit=5") : Promise.resolve(undefined)),
    [api, flowsOn, stats],
  );

  useLiveEvents((e) => {
    if (e.kind === "stats") {
      setStats(e.data as Stats);
      return;
    }
    if (e.kind === "hello") return;
    setFeed((f) => [e, ...f].slice(0, FEED));
    incidents.reload();
    history.reload();
  });

  // Charts move every minute even when nothing happens.
  useEffect(() => {
    const timer = setInterval(history.reload, 15_000);
    return () => clearInterval(timer);
  }, [history.reload]);

  const h = history.data;
  const at = h?.at ?? [];
  const s = (name: string) => h?.series[name] ?? at.map(() => 0);
  const sum = (name: string) => s(name).reduce((a, b) => a + b, 0);
  const charts = useMemo(
    () => ({
      calls: [
        { label: t("chart.allowed"), values: s("calls.allowed"), color: "#2e7d32" },
        { label: t("chart.denied"), values: s("calls.denied"), color: "#c62828" },
      ],
      spend: [{ label: t("chart.spendSeries"), values: s("calls.internationalSpend"), color: "#ef6c00" }],
      auth: [{ label: t("chart.authSeries"), values: s("pbx.authFailures"), color: "#6a1b9a" }],
      flows: [{ label: t("chart.flowsSeries"), values: s("flows.inboundPps"), color: "#1565c0" }],
      shield: [
        { label: t("chart.admitted"), values: s("shield.admitted"), color: "#2e7d32" },
        { label: t("chart.shed"), values: s("shield.shed"), color: "#c62828" },
      ],
    }),
    [h, t],
  );

  return (
    <>
      <h1>{t("nav.overview")}</h1>
      <section aria-labelledby="incidents-title" class="incidents">
        <h2 id="incidents-title">{t("overview.incidents")}</h2>
        <ErrorBox error={incidents.error} onRetry={incidents.reload} />
        <Loading when={!incidents.data && !incidents.error} />
        {incidents.data && incidents.data.length === 0 ? (
          <p class="calm">{t("overview.noIncidents")}</p>
        ) : null}
        <ul class="cards" data-testid="incidents">
          {incidents.data?.map((i) => (
            <li key={i.key} class={`card ${i.kind}`}>
              <Badge tone={i.kind === "alert" || i.kind === "attack" ? "bad" : "warn"}>
                {t(`kind.${i.kind}` as Key)}
              </Badge>{" "}
              <a href={i.link}>{i.title}</a>
              {i.detail ? <div class="detail">{i.detail}</div> : null}
              <div class="since">
                {t("since")} {when(lang, i.since)}
              </div>
            </li>
          ))}
        </ul>
      </section>

      <section aria-label={t("nav.overview")} class="counters">
        <Counter label={t("overview.liveCalls")} value={num(lang, stats?.liveCalls)} />
        <Counter
          label={`${t("overview.allowed")} (${t("overview.lastHour")})`}
          value={num(lang, sum("calls.allowed"))}
        />
        <Counter
          label={`${t("overview.denied")} (${t("overview.lastHour")})`}
          value={num(lang, sum("calls.denied"))}
          tone={sum("calls.denied") > 0 ? "bad" : undefined}
        />
        <Counter
          label={`${t("overview.spend")} (${t("overview.lastHour")})`}
          value={yen(lang, sum("calls.internationalSpend"))}
        />
        <Counter
          label={`${t("overview.authFailures")} (${t("overview.lastHour")})`}
          value={num(lang, sum("pbx.authFailures"))}
        />
        <Counter
          label={t("overview.store")}
          value={
            stats === undefined
              ? "—"
              : stats.storeDegraded
                ? t("overview.storeDegraded")
                : t("overview.storeOk")
          }
          tone={stats?.storeDegraded ? "bad" : undefined}
        />
      </section>

      <ErrorBox error={history.error} onRetry={history.reload} />
      <section class="charts">
        <Chart title={t("chart.calls")} at={at} lines={charts.calls} bars />
        <Chart title={t("chart.spend")} at={at} lines={charts.spend} format={(n) => yen(lang, n)} bars />
        <Chart title={t("chart.auth")} at={at} lines={charts.auth} bars />
        {h?.series["flows.inboundPps"] ? (
          <Chart title={t("chart.flows")} at={at} lines={charts.flows} />
        ) : null}
        {h?.series["shield.admitted"] ? (
          <Chart title={t("chart.shield")} at={at} lines={charts.shield} />
        ) : null}
      </section>

      {top.data?.hosts.length ? (
        <section aria-labelledby="hosts-title">
          <h2 id="hosts-title">{t("overview.hosts")}</h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("r.victim")}</th>
                  <th scope="col">{t("overview.group")}</th>
                  <th scope="col">{t("overview.inPps")}</th>
                  <th scope="col">{t("overview.inBps")}</th>
                  <th scope="col">{t("overview.outPps")}</th>
                </tr>
              </thead>
              <tbody>
                {top.data.hosts.map((h) => (
                  <tr key={h.address}>
                    <td>
                      <code>{h.address}</code>
                    </td>
                    <td>{h.group}</td>
                    <td>{num(lang, h.inbound.pps)}</td>
                    <td>{num(lang, h.inbound.bps)}</td>
                    <td>{num(lang, h.outbound.pps)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}

      <section aria-labelledby="feed-title">
        <h2 id="feed-title">{t("overview.feed")}</h2>
        {feed.length === 0 ? <p>{t("overview.feedEmpty")}</p> : null}
        <ol class="feed" aria-live="polite" data-testid="feed">
          {feed.map((e, i) => (
            <li key={`${e.receivedAt}-${i}`}>
              <Badge
                tone={
                  e.kind === "alert" || e.kind === "attack" || e.kind === "ban" || e.kind === "block"
                    ? "bad"
                    : "info"
                }
              >
                {t(`kind.${e.kind}` as Key) ?? e.kind}
              </Badge>{" "}
              <FeedLine e={e} />
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}

function FeedLine(props: { e: LiveEvent }) {
  const { lang } = useT();
  const d = props.e.data;
  const who = String(d.account ?? d.address ?? d.victim ?? "");
  const what = String(d.rule ?? d.kind ?? d.type ?? "");
  const msg = String(d.message ?? d.reason ?? "");
  const link = props.e.kind === "alert" ? href("alerts") : undefined;
  return (
    <span>
      <time dateTime={String(d.at ?? "")}>
        {when(lang, String(d.at ?? new Date(props.e.receivedAt).toISOString()))}
      </time>{" "}
      {link ? <a href={link}>{`${who} · ${what}`}</a> : <strong>{`${who} · ${what}`}</strong>} {msg}
      {props.e.kind === "attack" ? (
        <span class="detail">
          {" "}
          {evidenceRows(d.peak)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")}
        </span>
      ) : null}
    </span>
  );
}

function Counter(props: { label: string; value: string; tone?: "bad" | undefined }) {
  return (
    <div class={`counter ${props.tone ?? ""}`}>
      <div class="label">{props.label}</div>
      <div class="value">{props.value}</div>
    </div>
  );
}
