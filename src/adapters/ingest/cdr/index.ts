/** CDR ingest: files and streams of call detail records in, CallRecords and rejections out. */
export { type CdrColumnMap, cdrColumnMapSchema, cdrTimeFormats } from "./column-map.js";
export {
  type CdrReaderOptions,
  cdrReaderOptionsSchema,
  type ResolvedCdrOptions,
  resolveCdrOptions,
} from "./options.js";
export {
  type CdrInput,
  type CdrReader,
  type CdrStats,
  countCdrItem,
  countCdrNotice,
  createCdrLineParser,
  createCdrReader,
  createCdrStats,
  openCdrFile,
  readCdrBatches,
  readCdrFile,
  readCdrFileBatches,
  readCdrStream,
} from "./reader.js";
export { type CdrFormat, type CdrItem, type CdrLineParser, type CdrNotice, cdrFormats } from "./types.js";
