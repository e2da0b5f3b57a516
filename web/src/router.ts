import { useEffect, useState } from "preact/hooks";

/**
 * Hash routes (`#/alerts/42`): the console is static files, so the service needs no fallback route,
 * and a link copied from one operator's screen opens the same view on another's.
 */
export type Route = { readonly page: string; readonly id: string | undefined };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  return {
    page: parts[0] ?? "overview",
    id: parts[1] !== undefined ? decodeURIComponent(parts[1]) : undefined,
  };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

export const href = (page: string, id?: string | number): string =>
  `#/${page}${id === undefined ? "" : `/${encodeURIComponent(String(id))}`}`;
