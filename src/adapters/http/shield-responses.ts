import type { ServerResponse } from "node:http";
import { type ErrorCode, errorCatalogue } from "../../core/errors.js";
import { challengePage } from "../../shield/challenge.js";
import type { ShieldSettings } from "../../shield/settings.js";

/**
 * The answers the shield gives itself, in the service's error shape `{error: {code, message, hint}}`.
 * The codes are the shield's own (MAMORI_SHIELD_*) next to the catalogue's generic ones.
 */
const shieldCodes = [
  "MAMORI_BAD_REQUEST",
  "MAMORI_BODY_TOO_LARGE",
  "MAMORI_SHIELD_OVERLOADED",
  "MAMORI_SHIELD_RATE_LIMITED",
  "MAMORI_SHIELD_BANNED",
  "MAMORI_SHIELD_CHALLENGE",
  "MAMORI_SHIELD_UPSTREAM",
] as const satisfies readonly ErrorCode[];

/** The hints come from the one error catalogue (src/core/errors.ts). */
export const SHIELD_ERRORS = Object.fromEntries(shieldCodes.map((c) => [c, errorCatalogue[c].hint])) as {
  readonly [K in (typeof shieldCodes)[number]]: string;
};
export type ShieldErrorCode = keyof typeof SHIELD_ERRORS;

export function refuse(
  res: ServerResponse,
  status: number,
  code: ShieldErrorCode,
  message: string,
  opts: { retryAfterS?: number; close?: boolean; extra?: Record<string, unknown> } = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify({ error: { code, message, hint: SHIELD_ERRORS[code] }, ...opts.extra });
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  };
  if (opts.retryAfterS !== undefined) headers["retry-after"] = opts.retryAfterS;
  if (opts.close) headers.connection = "close";
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * A challenge: the page for a browser asking for HTML (it solves, sets the pass cookie and reloads),
 * JSON with the nonce for everything else (API clients solve it and send `x-mamori-pass`).
 */
export function sendChallenge(
  res: ServerResponse,
  settings: ShieldSettings,
  nonce: string,
  bits: number,
  html: boolean,
  reload: boolean,
): void {
  if (res.headersSent || res.destroyed) return;
  const common = { "cache-control": "no-store", "x-mamori-challenge": `${nonce}; bits=${bits}` };
  if (!html) {
    refuse(res, 403, "MAMORI_SHIELD_CHALLENGE", "the service is under attack: solve the challenge first", {
      extra: { challenge: { nonce, bits, header: "x-mamori-pass", cookie: settings.cookies.pass } },
    });
    return;
  }
  const page = challengePage({
    nonce,
    bits,
    cookie: settings.cookies.pass,
    maxAgeS: settings.challenge.passMinutes * 60,
    secure: settings.cookies.secure,
    reload,
  });
  res.writeHead(403, {
    ...common,
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(page),
  });
  res.end(page);
}
