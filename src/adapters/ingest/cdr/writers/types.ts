import type { CallRecord } from "../../../../core/call-events.js";

/**
 * A CDR writer turns CallRecords into the text a switch writes. Most formats write one line per call;
 * Kamailio's acc log writes one line when the call is answered and another when it ends, so a writer may
 * hold lines back until the calls written after them make their place in the log certain.
 */
export interface CdrWriter {
  /** Text that opens a new file (a header line with its newline), or "". */
  readonly header: string;
  /** Whole lines, each ending in "\n", for this call and for any held-back lines now due; may be "". */
  write(record: CallRecord): string;
  /** Every line still held back, in time order. */
  finish(): string;
}

export type CdrWriterOptions = {
  /** Zone of the wall-clock times written (the switch's zone). Default UTC. */
  readonly timeZone?: string | undefined;
  /** Host name written where a format names the switch (Kamailio syslog, FreeSWITCH JSON, CGRateS). */
  readonly host?: string | undefined;
  /** Asterisk cdr_csv columns: 16 (plain), 18 (loguniqueid and loguserfield, default) or 21 (newcdrcolumns too). */
  readonly asteriskColumns?: 16 | 18 | 21 | undefined;
};

export type Disposition = CallRecord["disposition"];
