/**
 * Reader options: one schema for every format (the config file validates it later), defaults applied
 * once when a reader is created, so that parsers read plain fields.
 */
import { z } from "zod";
import { type CdrColumnMap, cdrColumnMapSchema, timeZoneSchema } from "./column-map.js";
import { type AccountFrom, accountFromValues, type CdrFormat, type CdrNotice } from "./types.js";

const attributeList = z.array(z.string().min(1)).min(1);

export const cdrReaderOptionsSchema = z.strictObject({
  /** Zone of wall-clock times in the files (Asterisk, FreeSWITCH CSV, Kamailio tables). Default UTC. */
  timeZone: timeZoneSchema.optional(),
  /** Default accountcode-or-caller: the account code, or the caller when the account code is empty. */
  accountFrom: z.enum(accountFromValues).optional(),
  /** Keep the offending line (up to 1000 characters) in rejections. Default true. */
  keepRaw: z.boolean().optional(),
  /** Text encoding of files (a WHATWG label: utf-8, shift_jis, latin1 …). Default utf-8. */
  encoding: z
    .string()
    .refine(
      (label) => {
        try {
          new TextDecoder(label);
          return true;
        } catch {
          return false;
        }
      },
      { message: "not an encoding this runtime can decode" },
    )
    .optional(),
  /** A longer line is rejected and skipped. Default 1 MiB of characters. */
  maxLineLength: z.int().min(256).optional(),
  /** A larger JSON document is rejected and skipped. Default 4 MiB of characters. */
  maxDocumentChars: z.int().min(1024).optional(),
  asterisk: z
    .strictObject({
      /** Which optional column a 17- or 20-column Master.csv holds. Default uniqueid. */
      singleExtraColumn: z.enum(["uniqueid", "userfield"]).optional(),
      /** A cdr_custom layout: the mapping line from cdr_custom.conf, or the column names in order. */
      custom: z.union([z.string().min(1), z.array(z.string()).min(1)]).optional(),
    })
    .optional(),
  freeswitch: z
    .strictObject({
      /** The mod_cdr_csv template the file was written with. Default: the shipped `example` template. */
      template: z.string().min(1).optional(),
    })
    .optional(),
  kamailio: z
    .strictObject({
      /** acc extra attributes (log_extra / db_extra names) to read each field from, first non-empty wins. */
      account: attributeList.optional(),
      to: attributeList.optional(),
      from: attributeList.optional(),
      sourceIp: attributeList.optional(),
      /** An answered INVITE without a BYE for this long (event time) is given up on. Default 24 h. */
      horizonSeconds: z.number().positive().optional(),
      /** At most this many answered calls wait for their BYE; the oldest is given up on. Default 100 000. */
      maxOpenCalls: z.int().positive().optional(),
      /** A call given up on becomes a record without duration (emit, default) or a rejection (reject). */
      unpaired: z.enum(["emit", "reject"]).optional(),
    })
    .optional(),
  cgrates: z
    .strictObject({
      /** CDRs of these RunIDs are read; others are skipped. Default ["*default"]. */
      runIds: z.array(z.string()).min(1).optional(),
      /** Account as `Tenant:Account` instead of `Account`. Default false. */
      tenantInAccount: z.boolean().optional(),
      /** Unit of a Usage written as a bare number. Default ns (as Go marshals a Duration). */
      bareUsage: z.enum(["ns", "s"]).optional(),
    })
    .optional(),
  /** Required by the `csv` format. */
  columnMap: cdrColumnMapSchema.optional(),
});

export type CdrReaderOptions = z.input<typeof cdrReaderOptionsSchema> & {
  /** Told about notices (see CdrNotice); they are also counted in CdrStats by the file readers. */
  readonly onNotice?: ((notice: CdrNotice) => void) | undefined;
};

export type ResolvedCdrOptions = {
  readonly timeZone: string;
  readonly accountFrom: AccountFrom;
  readonly keepRaw: boolean;
  readonly encoding: string;
  readonly maxLineLength: number;
  readonly maxDocumentChars: number;
  readonly asterisk: {
    readonly singleExtraColumn: "uniqueid" | "userfield";
    readonly custom: string | readonly string[] | undefined;
  };
  readonly freeswitch: { readonly template: string | undefined };
  readonly kamailio: {
    readonly account: readonly string[];
    readonly to: readonly string[];
    readonly from: readonly string[];
    readonly sourceIp: readonly string[];
    readonly horizonMs: number;
    readonly maxOpenCalls: number;
    readonly unpaired: "emit" | "reject";
  };
  readonly cgrates: {
    readonly runIds: readonly string[];
    readonly tenantInAccount: boolean;
    readonly bareUsage: "ns" | "s";
  };
  readonly columnMap: CdrColumnMap | undefined;
  readonly onNotice: ((notice: CdrNotice) => void) | undefined;
};

/** Validates options and fills in defaults. Throws (at the edge, once per reader) with every problem named. */
export function resolveCdrOptions(format: CdrFormat, options: CdrReaderOptions = {}): ResolvedCdrOptions {
  const { onNotice, ...rest } = options;
  const parsed = cdrReaderOptionsSchema.safeParse(rest);
  if (!parsed.success) throw new Error(`invalid CDR reader options:\n${z.prettifyError(parsed.error)}`);
  const o = parsed.data;
  if (format === "csv" && !o.columnMap) {
    throw new Error("the csv CDR format needs a columnMap (which column holds account, to, start …)");
  }
  return {
    timeZone: o.timeZone ?? "UTC",
    accountFrom: o.accountFrom ?? "accountcode-or-caller",
    keepRaw: o.keepRaw ?? true,
    encoding: o.encoding ?? "utf-8",
    maxLineLength: o.maxLineLength ?? 1 << 20,
    maxDocumentChars: o.maxDocumentChars ?? 4 << 20,
    asterisk: {
      singleExtraColumn: o.asterisk?.singleExtraColumn ?? "uniqueid",
      custom: o.asterisk?.custom,
    },
    freeswitch: { template: o.freeswitch?.template },
    kamailio: {
      account: o.kamailio?.account ?? ["src_user"],
      to: o.kamailio?.to ?? ["dst_ouser", "dst_user", "ruri_user"],
      from: o.kamailio?.from ?? ["src_user"],
      sourceIp: o.kamailio?.sourceIp ?? ["src_ip"],
      horizonMs: (o.kamailio?.horizonSeconds ?? 86_400) * 1000,
      maxOpenCalls: o.kamailio?.maxOpenCalls ?? 100_000,
      unpaired: o.kamailio?.unpaired ?? "emit",
    },
    cgrates: {
      runIds: o.cgrates?.runIds ?? ["*default"],
      tenantInAccount: o.cgrates?.tenantInAccount ?? false,
      bareUsage: o.cgrates?.bareUsage ?? "ns",
    },
    columnMap: o.columnMap,
    onNotice,
  };
}
