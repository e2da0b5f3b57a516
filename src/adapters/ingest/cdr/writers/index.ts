/** CDR writers: CallRecords out as the text each switch writes, one format per file here. */
import type { CdrFormat } from "../types.js";
import { AsteriskCsvWriter } from "./asterisk-csv.js";
import { CgratesJsonWriter } from "./cgrates-json.js";
import { FreeswitchCsvWriter } from "./freeswitch-csv.js";
import { FreeswitchJsonWriter } from "./freeswitch-json.js";
import { GenericCsvWriter } from "./generic-csv.js";
import { KamailioAccWriter } from "./kamailio-acc.js";
import type { CdrWriter, CdrWriterOptions } from "./types.js";

export { AsteriskCsvWriter } from "./asterisk-csv.js";
export { CgratesJsonWriter } from "./cgrates-json.js";
export { FreeswitchCsvWriter } from "./freeswitch-csv.js";
export { FreeswitchJsonWriter } from "./freeswitch-json.js";
export { GenericCsvWriter, genericCsvColumnMap } from "./generic-csv.js";
export { KamailioAccWriter } from "./kamailio-acc.js";
export { WallClockText } from "./text.js";
export type { CdrWriter, CdrWriterOptions } from "./types.js";

/** A writer of one format; the readers of the same name read what it writes. */
export function createCdrWriter(format: CdrFormat, options: CdrWriterOptions = {}): CdrWriter {
  switch (format) {
    case "asterisk-csv":
      return new AsteriskCsvWriter(options);
    case "freeswitch-csv":
      return new FreeswitchCsvWriter(options);
    case "freeswitch-json":
      return new FreeswitchJsonWriter(options);
    case "kamailio-acc":
      return new KamailioAccWriter(options);
    case "cgrates-json":
      return new CgratesJsonWriter(options);
    case "csv":
      return new GenericCsvWriter(options);
  }
}
