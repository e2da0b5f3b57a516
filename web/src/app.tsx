import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Api, ApiError, type Me } from "./api.ts";
import { dictionaries, initialLang, type Key, type Lang, LangContext, saveLang, useT } from "./i18n.ts";
import { AccountsPage } from "./pages/accounts.tsx";
import { AlertsPage } from "./pages/alerts.tsx";
import { OverviewPage } from "./pages/overview.tsx";
import { ReplayPage } from "./pages/replay.tsx";
import { RestrictionsPage } from "./pages/restrictions.tsx";
import { SignIn } from "./pages/signin.tsx";
import { href, useRoute } from "./router.ts";
import { EventBus, type Session, SessionContext, useSession } from "./session.ts";

/** The console's shell: language, sign-in, navigation, and the one live event stream for all pages. */
export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const lc = useMemo(() => {
    const d = dictionaries[lang];
    return { lang, t: (k: Key) => d[k] };
  }, [lang]);
  useEffect(() => saveLang(lang), [lang]);
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [restoring, setRestoring] = useState(true);

  const start = async (api: Api): Promise<void> => {
    const me = await api.get<Me>("/v1/me");
    api.remember();
    setSession({
      api,
      me,
      bus: new EventBus(),
      canAct: me.role === "operator" || me.role === "admin",
      isAdmin: me.role === "admin",
    });
  };

  useEffect(() => {
    const api = Api.remembered();
    if (!api) {
      setRestoring(false);
      return;
    }
    start(api)
      .catch(() => Api.forget())
      .finally(() => setRestoring(false));
  }, []);

  const signOut = () => {
    Api.forget();
    setSession(undefined);
  };
  const toggleLang = () => setLang(lang === "ja" ? "en" : "ja");

  return (
    <LangContext.Provider value={lc}>
      {session ? (
        <SessionContext.Provider value={session}>
          <SignedIn onSignOut={signOut} onLang={toggleLang} />
        </SessionContext.Provider>
      ) : restoring ? null : (
        <SignIn
          onLang={toggleLang}
          onKey={async (key) => {
            try {
              await start(new Api(key));
            } catch (e) {
              if (e instanceof ApiError) throw e;
              throw e instanceof Error ? e : new Error(String(e));
            }
          }}
        />
      )}
    </LangContext.Provider>
  );
}

const pages = [
  ["overview", "nav.overview"],
  ["accounts", "nav.accounts"],
  ["alerts", "nav.alerts"],
  ["restrictions", "nav.restrictions"],
  ["replay", "nav.replay"],
] as const;

function SignedIn(props: { onSignOut: () => void; onLang: () => void }) {
  const { t } = useT();
  const route = useRoute();
  const s = useSession();
  const [live, setLive] = useState(false);
  const navigated = useRef(false);

  useEffect(() => {
    const ctl = new AbortController();
    void s.api.follow(
      (kind, data) => s.bus.emit({ kind, data: data as Record<string, unknown>, receivedAt: Date.now() }),
      setLive,
      ctl.signal,
    );
    return () => ctl.abort();
  }, [s]);

  useEffect(() => {
    const name = pages.find(([p]) => p === route.page)?.[1] ?? "nav.overview";
    document.title = `${t(name)} · Mamori`;
    // After a navigation, a screen reader starts at the new page's content; on the first load the
    // focus stays at the top, where the skip button is.
    if (navigated.current) document.getElementById("main")?.focus({ preventScroll: true });
    navigated.current = true;
  }, [route.page, t]);

  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById("main")?.focus()}>
        {t("skip")}
      </button>
      <header class="top">
        <div class="brand">
          <strong>{t("appName")}</strong>
          <span class="tagline">{t("tagline")}</span>
        </div>
        <nav aria-label={t("nav.main")}>
          <ul>
            {pages.map(([p, label]) => (
              <li key={p}>
                <a href={href(p)} aria-current={route.page === p ? "page" : undefined}>
                  {t(label)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span class={`live ${live ? "on" : "off"}`} role="status">
            {live ? t("live.on") : t("live.off")}
          </span>
          <span>
            {t("signin.as")} <strong>{s.me.name}</strong> ({t(`role.${s.me.role}` as Key)})
          </span>
          <button type="button" onClick={props.onLang} aria-label={t("lang.label")}>
            {t("lang")}
          </button>
          <button type="button" onClick={props.onSignOut}>
            {t("signin.out")}
          </button>
        </div>
      </header>
      {!s.canAct ? (
        <p class="notice" role="note">
          {t("viewer.readonly")}
        </p>
      ) : null}
      <main id="main" tabIndex={-1}>
        {route.page === "accounts" ? (
          <AccountsPage id={route.id} />
        ) : route.page === "alerts" ? (
          <AlertsPage id={route.id} />
        ) : route.page === "restrictions" ? (
          <RestrictionsPage />
        ) : route.page === "replay" ? (
          <ReplayPage />
        ) : (
          <OverviewPage />
        )}
      </main>
    </>
  );
}
