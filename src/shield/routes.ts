import type { RouteSetting } from "./settings.js";
import type { Criticality } from "./types.js";

/** What the route table says about a request. */
export type RouteInfo = {
  readonly criticality: Criticality;
  readonly transaction: "none" | "begin" | "step";
  readonly challenge: boolean;
};

type Compiled = {
  readonly method: string;
  readonly segments: readonly string[];
  /** The pattern ends in `**`: any number of further segments, none included. */
  readonly rest: boolean;
  readonly info: RouteInfo;
};

/**
 * Method + path pattern → criticality, first match wins. Paths are compared segment by segment with
 * empty segments dropped (`//payments/` is `/payments`), as most backends route them, so a doubled
 * slash does not move a request into another class.
 */
export class RouteTable {
  private readonly routes: readonly Compiled[];
  private readonly fallback: RouteInfo;

  constructor(routes: readonly RouteSetting[], defaultCriticality: Criticality) {
    this.routes = routes.map((r) => {
      const segments = split(r.path);
      const rest = segments[segments.length - 1] === "**";
      return {
        method: r.method,
        segments: rest ? segments.slice(0, -1) : segments,
        rest,
        info: { criticality: r.criticality, transaction: r.transaction, challenge: r.challenge },
      };
    });
    this.fallback = { criticality: defaultCriticality, transaction: "none", challenge: true };
  }

  match(method: string, path: string): RouteInfo {
    const q = path.indexOf("?");
    const segs = split(q === -1 ? path : path.slice(0, q));
    for (const r of this.routes) {
      if (r.method !== "*" && r.method !== method) continue;
      if (segs.length < r.segments.length || (!r.rest && segs.length !== r.segments.length)) continue;
      let hit = true;
      for (let i = 0; i < r.segments.length; i++) {
        const p = r.segments[i];
        if (p !== "*" && p !== segs[i]) {
          hit = false;
          break;
        }
      }
      if (hit) return r.info;
    }
    return this.fallback;
  }
}

function split(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}
