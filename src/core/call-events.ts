/**
 * Call events: what a switch (live) or a CDR (replay) tells the call guard.
 * Times are epoch milliseconds of the event itself, never of the clock that read it.
 */
export type CallAttempt = {
  readonly type: "call.attempt";
  readonly at: number;
  readonly callId: string;
  readonly account: string;
  /** The number as dialled, before any normalisation. */
  readonly to: string;
  readonly from?: string | undefined;
  readonly sourceIp?: string | undefined;
};

export type CallAnswer = {
  readonly type: "call.answer";
  readonly at: number;
  readonly callId: string;
};

export type CallHangup = {
  readonly type: "call.hangup";
  readonly at: number;
  readonly callId: string;
  /** Billed seconds when the switch knows them; otherwise derived from answer and hang-up times. */
  readonly billsec?: number | undefined;
  readonly cause?: string | undefined;
};

export type CallEvent = CallAttempt | CallAnswer | CallHangup;

/**
 * One finished call as a CDR records it. Ingest adapters produce these; replay expands each into
 * attempt, answer and hang-up events in event time.
 */
export type CallRecord = {
  readonly callId: string;
  readonly account: string;
  readonly from?: string | undefined;
  readonly to: string;
  /** Epoch ms when the call was attempted. */
  readonly start: number;
  /** Epoch ms when it was answered; absent for unanswered calls. */
  readonly answer?: number | undefined;
  /** Epoch ms when it ended. */
  readonly end: number;
  readonly billsec: number;
  readonly disposition: "ANSWERED" | "NO ANSWER" | "BUSY" | "FAILED" | "CONGESTION" | "UNKNOWN";
  readonly sourceIp?: string | undefined;
};

/** Where a record came from, so that a rejected one can be reported precisely. */
export type SourcePosition = { readonly source: string; readonly line: number };

/** A record the ingest edge could not use, counted and reported, never fatal. */
export type Rejected = SourcePosition & { readonly reason: string; readonly raw?: string | undefined };
