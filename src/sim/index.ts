/** The fraud simulator: labelled calls of a simulated carrier's customers (pure, deterministic). */
export { type CallDraft, type DayInfo, makeDays } from "./days.js";
export { type BusinessCountry, type DialStyle, dialStyles, type FraudRange, fraudRanges } from "./numbers.js";
export { type AccountKind, accountKinds, type SimAccount } from "./population.js";
export { mixSeed, Prng } from "./prng.js";
export { type ScenarioName, scenarioNames } from "./scenarios.js";
export {
  byScenario,
  type DetectionScore,
  DetectionScorer,
  type FalseAlarms,
  type IncidentScore,
} from "./score.js";
export {
  everyScenarioOnce,
  type Incident,
  parseScenarioList,
  type ScenarioCount,
  type Simulation,
  type SimulationOptions,
  simulate,
} from "./simulate.js";
