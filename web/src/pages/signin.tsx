import { useState } from "preact/hooks";
import { useT } from "../i18n.ts";
import { ErrorBox, useAction } from "../ui.tsx";

export function SignIn(props: { onKey: (key: string) => Promise<void>; onLang: () => void }) {
  const { t } = useT();
  const [key, setKey] = useState("");
  const action = useAction();
  const submit = (e: Event) =>
    action.run(e, async () => {
      try {
        await props.onKey(key.trim());
      } catch (err) {
        throw new Error(`${t("signin.failed")}: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  return (
    <main id="main" class="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">
          {t("appName")} · {t("signin.title")}
        </h1>
        <p class="tagline">{t("tagline")}</p>
        <label for="key">{t("signin.key")}</label>
        <input
          id="key"
          name="key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          aria-describedby="key-help"
        />
        <p id="key-help" class="help">
          {t("signin.keyHelp")}
        </p>
        <ErrorBox error={action.error} />
        <div class="actions">
          <button type="button" onClick={props.onLang}>
            {t("lang")}
          </button>
          <button type="submit" class="primary" disabled={action.busy || key.trim() === ""}>
            {t("signin.submit")}
          </button>
        </div>
      </form>
    </main>
  );
}
