/** What the engine knows about a dialled number. Produced by numbering.ts, consumed by detectors. */
export type NumberType =
  | "FIXED_LINE"
  | "MOBILE"
  | "FIXED_LINE_OR_MOBILE"
  | "TOLL_FREE"
  | "PREMIUM_RATE"
  | "SHARED_COST"
  | "VOIP"
  | "PERSONAL_NUMBER"
  | "PAGER"
  | "UAN"
  | "VOICEMAIL"
  | "UNKNOWN";

export type RiskLevel = "high" | "elevated";

export type RiskEntry = {
  /** E.164 digits without '+', longest match wins: "232", "8816", "88213". */
  readonly prefix: string;
  readonly level: RiskLevel;
  readonly reason: string;
};

export type Rate = {
  readonly prefix: string;
  /** Price of one minute, in the tariff's currency. */
  readonly perMinute: number;
  /** Set-up charge per answered call (0 when the tariff has none). */
  readonly perCall: number;
  readonly description: string;
};

export type NumberInfo = {
  /** As dialled. */
  readonly input: string;
  /** Digits of the E.164 form without '+', e.g. "23276123456". */
  readonly e164: string;
  /** True when the call leaves the account's own country. */
  readonly international: boolean;
  /** ISO 3166 alpha-2 of the destination, or "001" style non-geographic region; undefined if unknown. */
  readonly country: string | undefined;
  readonly countryCallingCode: string;
  readonly type: NumberType;
  /** Whether the numbering library considers the number valid for its region. */
  readonly valid: boolean;
  readonly risk: RiskEntry | undefined;
  readonly rate: Rate | undefined;
};

export type NumberError = {
  readonly code: "EMPTY" | "NOT_A_NUMBER" | "TOO_SHORT" | "TOO_LONG" | "UNKNOWN_COUNTRY_CODE";
  readonly message: string;
};

/** The dialling context of an account: how its PBX users dial out. */
export type DialContext = {
  /** ISO 3166 alpha-2 of the account, e.g. "JP". */
  readonly country: string;
  /** Digit(s) a user dials to get an outside line, e.g. "0" on many Japanese business PBXs. */
  readonly outsideLinePrefix?: string | undefined;
};
