import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api.ts";
import { useT } from "./i18n.ts";

/** Loads `fetcher` now and whenever `deps` change; `reload` fetches again without flashing the old data away. */
export function useLoad<T>(fetcher: () => Promise<T>, deps: readonly unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const seq = useRef(0);
  const reload = useCallback(() => {
    const n = ++seq.current;
    fetcher().then(
      (d) => {
        if (n !== seq.current) return;
        setData(d);
        setError(undefined);
      },
      (e: unknown) => {
        if (n === seq.current) setError(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }, deps);
  useEffect(reload, [reload]);
  return { data, error, reload };
}

/**
 * A form's submit: runs `fn` once at a time, keeps its error for an ErrorBox, and stops the browser's
 * own submission.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>(undefined);
  const run = async (e: Event | undefined, fn: () => Promise<void>): Promise<void> => {
    e?.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

export function ErrorBox(props: { error: Error | undefined; onRetry?: () => void }) {
  const { t } = useT();
  if (!props.error) return null;
  const hint = props.error instanceof ApiError ? props.error.hint : undefined;
  return (
    <div class="error" role="alert">
      <strong>{t("error")}:</strong> {props.error.message}
      {hint ? <div class="hint">{hint}</div> : null}
      {props.onRetry ? (
        <button type="button" onClick={props.onRetry}>
          {t("retry")}
        </button>
      ) : null}
    </div>
  );
}

export function Loading(props: { when: boolean }) {
  const { t } = useT();
  return props.when ? <p aria-busy="true">{t("loading")}</p> : null;
}

export function Badge(props: { tone: "bad" | "warn" | "ok" | "info"; children: ComponentChildren }) {
  return <span class={`badge ${props.tone}`}>{props.children}</span>;
}

/**
 * Asks for a reason and lifts a block, ban or mitigation. Only shown to keys that may act; the API
 * refuses the others anyway.
 */
export function LiftButton(props: {
  label: string;
  onLift: (reason: string) => Promise<unknown>;
  onDone: () => void;
}) {
  const { t } = useT();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const action = useAction();
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  const submit = (e: Event) =>
    action.run(e, async () => {
      await props.onLift(reason.trim());
      setOpen(false);
      setReason("");
      props.onDone();
    });
  return (
    <>
      <button
        type="button"
        class="danger"
        onClick={() => setOpen(true)}
        aria-label={`${t("lift")}: ${props.label}`}
      >
        {t("lift")}
      </button>
      <dialog ref={dialog} onClose={() => setOpen(false)} aria-labelledby="lift-title">
        <form onSubmit={submit}>
          <h2 id="lift-title">
            {t("lift")}: {props.label}
          </h2>
          <label>
            {t("reason")}
            <input
              name="reason"
              required
              minLength={3}
              maxLength={500}
              value={reason}
              onInput={(e) => setReason((e.target as HTMLInputElement).value)}
              aria-describedby="lift-help"
            />
          </label>
          <p id="lift-help" class="help">
            {t("reason.help")}
          </p>
          <ErrorBox error={action.error} />
          <div class="actions">
            <button type="button" onClick={() => setOpen(false)}>
              {t("cancel")}
            </button>
            <button type="submit" class="danger" disabled={action.busy || reason.trim().length < 3}>
              {t("lift.confirm")}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

export function KeyValues(props: { rows: readonly [string, ComponentChildren][] }) {
  return (
    <dl class="kv">
      {props.rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
