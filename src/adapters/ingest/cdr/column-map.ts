/**
 * The column map of the generic `csv` format: which column holds which CallRecord field, and how times
 * are written. Validated here so that the config file can reuse the same schema.
 */
import { z } from "zod";
import { isValidTimeZone } from "../../../core/local-time.js";

export const timeZoneSchema = z
  .string()
  .refine(isValidTimeZone, { message: "not a known IANA time zone name (for example Asia/Tokyo or UTC)" });

/** A column by its header name, or by its 0-based position. */
const columnRef = z.union([z.string().min(1), z.int().min(0).max(10_000)]);

export const cdrTimeFormats = ["iso", "epoch", "epoch-ms", "local"] as const;

const refKeys = [
  "callId",
  "account",
  "to",
  "from",
  "start",
  "answer",
  "end",
  "duration",
  "billsec",
  "disposition",
  "sourceIp",
] as const;
export type CdrColumnKey = (typeof refKeys)[number];

export const cdrColumnMapSchema = z
  .strictObject({
    callId: columnRef.optional(),
    account: columnRef,
    to: columnRef,
    from: columnRef.optional(),
    start: columnRef,
    answer: columnRef.optional(),
    end: columnRef.optional(),
    /** Seconds from start to end. */
    duration: columnRef.optional(),
    /** Seconds from answer to end. */
    billsec: columnRef.optional(),
    /** ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION; SIP codes and FreeSWITCH hangup causes also work. */
    disposition: columnRef.optional(),
    sourceIp: columnRef.optional(),
    /** iso: ISO 8601; epoch: seconds; epoch-ms: milliseconds; local: `YYYY-MM-DD HH:MM:SS` in timeZone. */
    timeFormat: z.enum(cdrTimeFormats),
    /** Zone of local times and of ISO times without an offset; the reader's timeZone when absent. */
    timeZone: timeZoneSchema.optional(),
    header: z.boolean(),
    delimiter: z
      .string()
      .length(1)
      .refine((d) => d !== '"' && d !== "\n" && d !== "\r" && d !== " ", {
        message: "a delimiter cannot be a quote, a space or a line break",
      })
      .optional(),
  })
  .superRefine((map, ctx) => {
    if (!map.header) {
      for (const key of refKeys) {
        if (typeof map[key] === "string") {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: "columns are named only when header is true; give a 0-based column index",
          });
        }
      }
    }
    if (map.end === undefined && map.duration === undefined && map.billsec === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["end"],
        message: "the end of a call needs a column: give end, duration or billsec",
      });
    }
  });

export type CdrColumnMap = z.infer<typeof cdrColumnMapSchema>;
export const cdrColumnKeys: readonly CdrColumnKey[] = refKeys;
