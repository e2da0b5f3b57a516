import { createContext } from "preact";
import { useContext, useEffect, useRef } from "preact/hooks";
import type { Api, Me } from "./api.ts";

/** What every page of a signed-in console shares: the API, who is signed in, the live event stream. */
export type LiveEvent = {
  readonly kind: string;
  readonly data: Record<string, unknown>;
  readonly receivedAt: number;
};
type Listener = (e: LiveEvent) => void;

export class EventBus {
  private readonly listeners = new Set<Listener>();
  on(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(e: LiveEvent): void {
    for (const l of this.listeners) l(e);
  }
}

export type Session = {
  readonly api: Api;
  readonly me: Me;
  readonly bus: EventBus;
  /** May this key block, lift and ban (operator or admin)? */
  readonly canAct: boolean;
  readonly isAdmin: boolean;
};

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in console");
  return s;
}

/** Calls `handler` for every live event of the given kinds (all when none). */
export function useLiveEvents(handler: Listener, kinds?: readonly string[]): void {
  const { bus } = useSession();
  const h = useRef(handler);
  h.current = handler;
  const key = kinds?.join(",") ?? "";
  useEffect(
    () =>
      bus.on((e) => {
        if (!kinds || kinds.includes(e.kind)) h.current(e);
      }),
    [bus, key],
  );
}
