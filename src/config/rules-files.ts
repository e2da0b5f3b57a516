import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildRiskTable,
  buildTariffTable,
  type NumberingData,
  parseRiskFile,
  parseTariffFile,
} from "../calls/numbering.js";

export const RISK_FILE = "risk-destinations.yaml";
export const TARIFF_FILE = "tariffs.yaml";

/**
 * Reads the risk list and the tariff from a rules directory and builds the lookup tables. This is an
 * edge: a missing or malformed file throws an Error naming the file, the line and the problem, and the
 * service refuses to start rather than guard calls with half its data.
 */
export function loadNumberingData(rulesDir: string): NumberingData {
  const riskPath = join(rulesDir, RISK_FILE);
  const risk = parseRiskFile(readRulesFile(riskPath), riskPath);
  if (!risk.ok) throw new Error(risk.error.message);
  const tariffPath = join(rulesDir, TARIFF_FILE);
  const tariff = parseTariffFile(readRulesFile(tariffPath), tariffPath);
  if (!tariff.ok) throw new Error(tariff.error.message);
  return {
    risk: buildRiskTable(risk.value),
    tariffs: buildTariffTable(tariff.value.rates),
    currency: tariff.value.currency,
  };
}

function readRulesFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(`cannot read rules file ${path}: ${reason}`, { cause });
  }
}
