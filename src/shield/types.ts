import type { ClientIdentity } from "./client-identity.js";
import type { RouteInfo } from "./routes.js";

/**
 * The billing shield's vocabulary: request classes, route criticality, what the engine decides for a
 * request, and what it reports (mode changes, bans, alerts) for the composition root to store and act on.
 */

/**
 * Request classes, highest priority first. The order is the shed order read backwards: `suspicious`
 * goes first, `transaction` last.
 */
export const CLIENT_CLASSES = ["transaction", "customer", "anonymous", "suspicious"] as const;
export type ClientClass = (typeof CLIENT_CLASSES)[number];

/** Index of each class in CLIENT_CLASSES, for typed-array state kept per class. */
export const CLASS_INDEX: Readonly<Record<ClientClass, number>> = {
  transaction: 0,
  customer: 1,
  anonymous: 2,
  suspicious: 3,
};

/**
 * How much a route matters to the business. `critical` routes (payment completion) are the only ones a
 * transaction token lifts to the `transaction` class; `background` routes (exports, avatars, reports)
 * are admitted one class lower than their client, so they give way first under pressure.
 */
export const CRITICALITIES = ["critical", "normal", "background"] as const;
export type Criticality = (typeof CRITICALITIES)[number];

export const SHIELD_MODES = ["normal", "attack"] as const;
export type ShieldMode = (typeof SHIELD_MODES)[number];

/** What the composition root enforces through the nftables ban action (and stores in the audit log). */
export type BanRequest = {
  readonly address: string;
  /** Event time (epoch ms) of the decision. */
  readonly at: number;
  readonly rule: string;
  readonly reason: string;
  readonly durationMs: number;
};

export type ModeChange = {
  readonly at: number;
  readonly from: ShieldMode;
  readonly to: ShieldMode;
  readonly reason: string;
  /** The traffic figures that decided it: the current second against the learned baseline. */
  readonly evidence: Readonly<Record<string, number>>;
};

export type ShieldAlert = {
  readonly at: number;
  readonly rule: string;
  readonly severity: "warning" | "critical";
  readonly subject: string;
  readonly message: string;
  readonly evidence: Readonly<Record<string, unknown>>;
};

export type ShieldEvent =
  | { readonly type: "mode-change"; readonly change: ModeChange }
  | { readonly type: "ban"; readonly ban: BanRequest }
  | { readonly type: "alert"; readonly alert: ShieldAlert };

/** Why a request was not forwarded; also the metric label. */
export const SHED_REASONS = [
  "capacity",
  "queue-full",
  "queue-timeout",
  "client-rate",
  "address-rate",
  "prefix-rate",
  "banned",
] as const;
export type ShedReason = (typeof SHED_REASONS)[number];

/** The engine's answer for one request. */
export type Admission =
  /** Forward now; `ticket` must be passed back to `complete` (or `abandon`) exactly once. */
  | { readonly type: "forward"; readonly cls: ClientClass; readonly ticket: number }
  /** Wait: the ticket is started by a later `complete`/`tick`, or shed when its deadline passes. */
  | { readonly type: "queue"; readonly cls: ClientClass; readonly ticket: number; readonly deadline: number }
  /** Answer with a challenge (page or JSON) instead of forwarding. */
  | { readonly type: "challenge"; readonly cls: ClientClass; readonly nonce: string; readonly bits: number }
  | {
      readonly type: "shed";
      readonly cls: ClientClass;
      readonly status: 403 | 429 | 503;
      readonly reason: ShedReason;
      readonly retryAfterS: number;
    };

/** What the gateway tells the engine about a request. */
export type RequestFacts = {
  /** The socket's peer address. */
  readonly peer: string;
  /** The configured forwarding header (X-Forwarded-For or Forwarded) as received, if any. */
  readonly forwarded: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly customerToken: string | undefined;
  readonly transactionToken: string | undefined;
  readonly pass: string | undefined;
};

export type RequestContext = {
  readonly client: ClientIdentity;
  readonly prefix: string;
  readonly peerTrusted: boolean;
  readonly route: RouteInfo;
  readonly customerId: string | undefined;
  /** When the client's customer session ends (0 without one). */
  readonly sessionEnds: number;
};

export type Decision =
  | (Admission & { readonly ctx: RequestContext })
  | { readonly type: "invalid"; readonly message: string };

/** `overload`: 502, 503, 504 or a time-out, which tells the limiter the backend is past its capacity. */
export type Outcome = "ok" | "overload" | "error";

/** A queued request, started or expired. */
export type Started = { readonly ticket: number; readonly cls: ClientClass };
export type Drained = { readonly started: Started[]; readonly expired: Started[] };

export type AnswerHeaders = { readonly setCookie: string[]; readonly transactionToken: string | undefined };
