import { useState } from "preact/hooks";
import { evidenceRows, when } from "../format.ts";
import { useT } from "../i18n.ts";
import { href } from "../router.ts";
import { useLiveEvents, useSession } from "../session.ts";
import { Badge, ErrorBox, LiftButton, Loading, useLoad } from "../ui.tsx";

type Row = Record<string, unknown> & { id: string; active: boolean };
const str = (v: unknown) => (v === null || v === undefined ? "" : String(v));

/** Everything Mamori holds in force (blocks, bans, mitigations), why and until when, and the audit trail. */
export function RestrictionsPage() {
  const { t } = useT();
  const { api } = useSession();
  const [ended, setEnded] = useState(false);
  const active = ended ? "" : "&active=true";
  const data = useLoad(async () => {
    const [blocks, bans, mitigations, audit] = await Promise.all([
      api.get<{ blocks: Row[] }>(`/v1/blocks?limit=200${active}`),
      api.get<{ bans: Row[] }>(`/v1/bans?limit=200${active}`),
      api
        .get<{ mitigations: Row[] }>(`/v1/mitigations?limit=200${active}`)
        .catch(() => ({ mitigations: [] })),
      api.get<{ entries: Row[] }>("/v1/audit?limit=50"),
    ]);
    return {
      blocks: blocks.blocks,
      bans: bans.bans,
      mitigations: mitigations.mitigations,
      audit: audit.entries,
    };
  }, [api, active]);
  useLiveEvents(() => data.reload(), ["block", "block.lift", "ban", "ban.lift", "mitigation", "attack"]);

  return (
    <>
      <h1>{t("nav.restrictions")}</h1>
      <label class="check">
        <input
          type="checkbox"
          checked={ended}
          onChange={(e) => setEnded((e.target as HTMLInputElement).checked)}
        />{" "}
        {t("r.showEnded")}
      </label>
      <ErrorBox error={data.error} onRetry={data.reload} />
      <Loading when={!data.data && !data.error} />
      {data.data ? (
        <>
          <Section title={t("r.blocks")} testId="blocks">
            <Table
              rows={data.data.blocks}
              columns={[
                [t("account"), (b) => <a href={href("accounts", str(b.account))}>{str(b.account)}</a>],
                [t("rule"), (b) => str(b.rule)],
                [t("reason"), (b) => str(b.reason)],
                [t("since"), (b) => <When iso={b.createdAt} />],
                [t("until"), (b) => (b.until ? <When iso={b.until} /> : t("untilLifted"))],
                [t("by"), (b) => str(b.createdBy)],
              ]}
              lift={(b, reason) =>
                api.request("DELETE", `/v1/blocks/${encodeURIComponent(b.id)}`, { reason })
              }
              label={(b) => `${str(b.account)} (${b.id})`}
              onDone={data.reload}
            />
          </Section>
          <Section title={t("r.bans")} testId="bans">
            <Table
              rows={data.data.bans}
              columns={[
                [t("address"), (b) => <code>{str(b.address)}</code>],
                ["guard", (b) => str(b.guard)],
                [t("rule"), (b) => str(b.rule)],
                [t("reason"), (b) => str(b.reason)],
                [t("since"), (b) => <When iso={b.createdAt} />],
                [t("until"), (b) => (b.until ? <When iso={b.until} /> : t("untilLifted"))],
              ]}
              lift={(b, reason) => api.request("DELETE", `/v1/bans/${encodeURIComponent(b.id)}`, { reason })}
              label={(b) => str(b.address)}
              onDone={data.reload}
            />
          </Section>
          <Section title={t("r.mitigations")} testId="mitigations">
            <Table
              rows={data.data.mitigations}
              columns={[
                [t("r.type"), (m) => str(m.type)],
                [t("r.victim"), (m) => <code>{str(m.victim ?? m.prefix ?? m.attackId)}</code>],
                [t("since"), (m) => <When iso={m.createdAt} />],
                [t("until"), (m) => <When iso={m.expiresAt} />],
                [
                  "",
                  (m) =>
                    evidenceRows(m.route ?? m.rule ?? {})
                      .map(([k, v]) => `${k}=${v}`)
                      .join(" "),
                ],
              ]}
              lift={(m, reason) =>
                api.request("DELETE", `/v1/mitigations/${encodeURIComponent(m.id)}`, { reason })
              }
              label={(m) => str(m.id)}
              onDone={data.reload}
            />
          </Section>
          <Section title={t("r.audit")} testId="audit">
            <Table
              rows={data.data.audit}
              columns={[
                [t("time"), (e) => <When iso={e.at} />],
                [t("r.actor"), (e) => str(e.actor)],
                [t("r.action"), (e) => str(e.action)],
                [t("r.subject"), (e) => str(e.subject)],
                [
                  "",
                  (e) =>
                    evidenceRows(e.detail)
                      .map(([k, v]) => `${k}=${v}`)
                      .join(" "),
                ],
              ]}
            />
          </Section>
        </>
      ) : null}
    </>
  );
}

function When(props: { iso: unknown }) {
  const { lang } = useT();
  return <time dateTime={str(props.iso)}>{when(lang, str(props.iso) || null)}</time>;
}

function Section(props: { title: string; testId: string; children: preact.ComponentChildren }) {
  const id = `${props.testId}-title`;
  return (
    <section aria-labelledby={id} data-testid={props.testId}>
      <h2 id={id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

function Table(props: {
  rows: Row[];
  columns: [string, (r: Row) => preact.ComponentChildren][];
  lift?: (r: Row, reason: string) => Promise<unknown>;
  label?: (r: Row) => string;
  onDone?: () => void;
}) {
  const { t } = useT();
  const { canAct } = useSession();
  if (props.rows.length === 0) return <p>{t("none")}</p>;
  const hasActive = props.rows.some((r) => r.active !== undefined);
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            {props.columns.map(([h], i) => (
              <th scope="col" key={i}>
                {h}
              </th>
            ))}
            {hasActive ? <th scope="col">{t("status")}</th> : null}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={r.id}>
              {props.columns.map(([, cell], i) => (
                <td key={i}>{cell(r)}</td>
              ))}
              {hasActive ? (
                <td>
                  {r.active ? <Badge tone="bad">{t("active")}</Badge> : <Badge tone="ok">{t("ended")}</Badge>}{" "}
                  {r.active && props.lift && canAct ? (
                    <LiftButton
                      label={props.label?.(r) ?? r.id}
                      onLift={(reason) => props.lift?.(r, reason) ?? Promise.resolve()}
                      onDone={() => props.onDone?.()}
                    />
                  ) : r.active && props.lift ? (
                    <button type="button" disabled title={t("viewer.readonly")}>
                      {t("lift")}
                    </button>
                  ) : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
