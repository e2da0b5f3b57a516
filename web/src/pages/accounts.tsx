import { useMemo, useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { Chart } from "../chart.tsx";
import { num, when, yen } from "../format.ts";
import { useT } from "../i18n.ts";
import { href } from "../router.ts";
import { useLiveEvents, useSession } from "../session.ts";
import { Badge, ErrorBox, LiftButton, Loading, useAction, useLoad } from "../ui.tsx";
import type { AlertRow } from "./alerts.tsx";

type Policy = Record<string, unknown> & {
  id: string;
  name?: string;
  country?: string;
  international?: { mode?: string; allow?: string[] } | string;
  caps?: Record<string, number>;
};

export function AccountsPage(props: { id: string | undefined }) {
  return props.id ? <AccountDetail id={props.id} /> : <AccountList />;
}

const intlOf = (p: Policy): string => {
  const i = p.international;
  if (i === undefined) return "—";
  if (typeof i === "string") return i;
  return i.allow?.length ? `${i.mode ?? ""} ${i.allow.join(", ")}` : (i.mode ?? JSON.stringify(i));
};

function AccountList() {
  const { t } = useT();
  const { api } = useSession();
  const [q, setQ] = useState("");
  const list = useLoad(async () => (await api.get<{ accounts: Policy[] }>("/v1/accounts")).accounts, [api]);
  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return (list.data ?? []).filter(
      (p) =>
        !needle ||
        p.id.toLowerCase().includes(needle) ||
        String(p.name ?? "")
          .toLowerCase()
          .includes(needle),
    );
  }, [list.data, q]);
  return (
    <>
      <h1>{t("nav.accounts")}</h1>
      <form
        aria-label={t("accounts.search")}
        onSubmit={(e) => {
          e.preventDefault();
          const exact = shown[0];
          if (exact) location.hash = href("accounts", exact.id);
          else if (q.trim()) location.hash = href("accounts", q.trim());
        }}
      >
        <label>
          {t("accounts.search")}
          <input type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        </label>
      </form>
      <ErrorBox error={list.error} onRetry={list.reload} />
      <Loading when={!list.data && !list.error} />
      {list.data?.length === 0 ? <p>{t("accounts.none")}</p> : null}
      {shown.length ? (
        <div class="table-wrap">
          <table data-testid="accounts">
            <thead>
              <tr>
                <th scope="col">{t("account")}</th>
                <th scope="col">{t("accounts.country")}</th>
                <th scope="col">{t("accounts.international")}</th>
                <th scope="col">{t("accounts.caps")}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((p) => (
                <tr key={p.id}>
                  <td>
                    <a href={href("accounts", p.id)}>{p.id}</a>{" "}
                    {p.name ? <span class="help">{p.name}</span> : null}
                  </td>
                  <td>{p.country ?? "—"}</td>
                  <td>{intlOf(p)}</td>
                  <td>
                    {Object.entries(p.caps ?? {})
                      .map(([k, v]) => `${k} ${v}`)
                      .join(", ")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}

type Usage = {
  usage: {
    live: number;
    spendLastHour: number;
    spendToday: number;
    spendThisMonth: number;
    caps: Record<string, number>;
  };
  bucketSeconds: number;
  since: string;
  history: {
    at: string;
    country: string;
    international: boolean;
    allowed: number;
    denied: number;
    cost: number;
  }[];
};

const PALETTE = ["#c62828", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f"];

function AccountDetail(props: { id: string }) {
  const { t, lang } = useT();
  const { api, canAct, isAdmin } = useSession();
  const id = encodeURIComponent(props.id);
  const account = useLoad(
    () =>
      api
        .get<{ policy: Policy; liveCalls: number; blocks: Record<string, string>[] }>(`/v1/accounts/${id}`)
        .catch((e: unknown) => {
          if (e instanceof ApiError && e.status === 404) return undefined;
          throw e;
        }),
    [api, id],
  );
  const usage = useLoad(() => api.get<Usage>(`/v1/accounts/${id}/usage?hours=24`), [api, id]);
  const alerts = useLoad(
    async () => (await api.get<{ alerts: AlertRow[] }>(`/v1/alerts?account=${id}&limit=20`)).alerts,
    [api, id],
  );
  const blocks = useLoad(
    async () =>
      (
        await api.get<{ blocks: (Record<string, string> & { active: boolean })[] }>(
          `/v1/blocks?account=${id}&limit=20`,
        )
      ).blocks,
    [api, id],
  );
  const reloadAll = () => {
    account.reload();
    usage.reload();
    alerts.reload();
    blocks.reload();
  };
  useLiveEvents((e) => {
    if (e.data.account === props.id) reloadAll();
  });

  const chart = useMemo(() => {
    const rows = usage.data?.history ?? [];
    // Every bucket of the window, empty ones too, so that the time axis shows the whole day.
    const times: number[] = [];
    if (usage.data) {
      const step = usage.data.bucketSeconds * 1000;
      for (let x = Date.parse(usage.data.since); x <= Date.now() && times.length < 1000; x += step)
        times.push(x);
    }
    const totals = new Map<string, number>();
    for (const r of rows) totals.set(r.country, (totals.get(r.country) ?? 0) + r.allowed + r.denied);
    const countries = [...totals.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, PALETTE.length)
      .map(([c]) => c);
    const lines = countries.map((c, i) => ({
      label: c,
      color: PALETTE[i] ?? "#888",
      values: times.map((tm) =>
        rows
          .filter((r) => r.country === c && Date.parse(r.at) === tm)
          .reduce((a, r) => a + r.allowed + r.denied, 0),
      ),
    }));
    return { times, lines };
  }, [usage.data]);

  const activeBlock = blocks.data?.find((b) => b.active);
  const u = usage.data?.usage;
  return (
    <>
      <p>
        <a href={href("accounts")}>← {t("accounts.back")}</a>
      </p>
      <h1>
        {t("account")} {props.id} {activeBlock ? <Badge tone="bad">{t("accounts.blocked")}</Badge> : null}
      </h1>
      <ErrorBox error={account.error ?? usage.error} onRetry={reloadAll} />
      {u ? (
        <section aria-labelledby="usage-title">
          <h2 id="usage-title">{t("accounts.usage")}</h2>
          <div class="meters">
            <Meter label={t("accounts.hour")} value={u.spendLastHour} cap={u.caps.spendPerHour} />
            <Meter label={t("accounts.day")} value={u.spendToday} cap={u.caps.spendPerDay} />
            <Meter label={t("accounts.month")} value={u.spendThisMonth} cap={u.caps.spendPerMonth} />
            <div class="meter">
              <div class="label">{t("accounts.live")}</div>
              <div class="value">
                {num(lang, u.live)} /{" "}
                {u.caps.concurrentCalls ? num(lang, u.caps.concurrentCalls) : t("accounts.noCap")}
              </div>
            </div>
          </div>
        </section>
      ) : null}
      <Chart title={t("accounts.byCountry")} at={chart.times} lines={chart.lines} bars />

      {canAct ? <BlockForm account={props.id} onDone={reloadAll} /> : null}

      <section aria-labelledby="ablocks-title">
        <h2 id="ablocks-title">{t("accounts.blocks")}</h2>
        <Loading when={!blocks.data && !blocks.error} />
        {blocks.data?.length === 0 ? <p>{t("none")}</p> : null}
        <ul class="plain">
          {blocks.data?.map((b) => (
            <li key={b.id}>
              {b.active ? <Badge tone="bad">{t("active")}</Badge> : <Badge tone="ok">{t("ended")}</Badge>}{" "}
              <strong>{b.rule}</strong>: {b.reason} · {t("since")} {when(lang, b.createdAt)} · {t("until")}{" "}
              {b.until ? when(lang, b.until) : t("untilLifted")}
              {b.liftReason ? ` · ${t("lift.done")}: ${b.liftReason}` : ""}{" "}
              {b.active && canAct ? (
                <LiftButton
                  label={`${props.id} (${b.id})`}
                  onLift={(reason) =>
                    api.request("DELETE", `/v1/blocks/${encodeURIComponent(b.id ?? "")}`, { reason })
                  }
                  onDone={reloadAll}
                />
              ) : null}
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="aalerts-title">
        <h2 id="aalerts-title">{t("accounts.alerts")}</h2>
        {alerts.data?.length === 0 ? <p>{t("none")}</p> : null}
        <ul class="plain">
          {alerts.data?.map((a) => (
            <li key={a.id}>
              <Badge tone={a.severity === "critical" ? "bad" : "warn"}>{a.severity}</Badge>{" "}
              <a href={href("alerts", a.id)}>
                {when(lang, a.at)} · {a.rule}
              </a>{" "}
              {a.message}
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="policy-title">
        <h2 id="policy-title">{t("accounts.policy")}</h2>
        {account.data === undefined && !account.error ? <p>{t("accounts.none")}</p> : null}
        {isAdmin ? (
          <PolicyEditor id={props.id} policy={account.data?.policy} onDone={reloadAll} />
        ) : account.data ? (
          <pre class="policy">{JSON.stringify(account.data.policy, null, 2)}</pre>
        ) : null}
      </section>
    </>
  );
}

function Meter(props: { label: string; value: number; cap: number | undefined }) {
  const { t, lang } = useT();
  const share = props.cap ? Math.min(1, props.value / props.cap) : 0;
  return (
    <div class="meter">
      <div class="label">{props.label}</div>
      <div class="value">
        {yen(lang, props.value)} / {props.cap ? yen(lang, props.cap) : t("accounts.noCap")}
      </div>
      {props.cap ? (
        <meter min={0} max={1} low={0.6} high={0.85} optimum={0} value={share} aria-label={props.label}>
          {Math.round(share * 100)}%
        </meter>
      ) : null}
    </div>
  );
}

function BlockForm(props: { account: string; onDone: () => void }) {
  const { t } = useT();
  const { api } = useSession();
  const [reason, setReason] = useState("");
  const [minutes, setMinutes] = useState("");
  const action = useAction();
  const submit = (e: Event) =>
    action.run(e, async () => {
      const m = Number.parseInt(minutes, 10);
      await api.request("POST", "/v1/blocks", {
        account: props.account,
        reason: reason.trim(),
        ...(Number.isFinite(m) && m > 0 ? { minutes: m } : {}),
      });
      setReason("");
      setMinutes("");
      props.onDone();
    });
  return (
    <form class="inline" onSubmit={submit} aria-labelledby="block-title">
      <h2 id="block-title">{t("accounts.block")}</h2>
      <label>
        {t("reason")}
        <input
          required
          minLength={3}
          maxLength={500}
          value={reason}
          onInput={(e) => setReason((e.target as HTMLInputElement).value)}
        />
      </label>
      <label>
        {t("accounts.blockMinutes")}
        <input
          type="number"
          min={1}
          inputMode="numeric"
          value={minutes}
          onInput={(e) => setMinutes((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit" class="danger" disabled={action.busy || reason.trim().length < 3}>
        {t("accounts.block")}
      </button>
      <ErrorBox error={action.error} />
    </form>
  );
}

function PolicyEditor(props: { id: string; policy: Policy | undefined; onDone: () => void }) {
  const { t } = useT();
  const { api } = useSession();
  const [text, setText] = useState<string | undefined>(undefined);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const value = text ?? JSON.stringify(props.policy ?? { id: props.id }, null, 2);
  const save = (e: Event) =>
    action.run(e, async () => {
      setSaved(false);
      await api.request("PUT", `/v1/accounts/${encodeURIComponent(props.id)}`, JSON.parse(value) as unknown);
      setText(undefined);
      setSaved(true);
      props.onDone();
    });
  return (
    <form onSubmit={save}>
      <label for="policy-json">{t("accounts.edit")}</label>
      <textarea
        id="policy-json"
        rows={14}
        spellcheck={false}
        value={value}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
      />
      <ErrorBox error={action.error} />
      {saved ? <p role="status">{t("accounts.saved")}</p> : null}
      <button type="submit" class="primary">
        {t("save")}
      </button>
    </form>
  );
}
