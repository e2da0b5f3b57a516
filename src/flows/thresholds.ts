import type { Exceeded } from "./attack.js";
import { KEY_OF_METRIC, Metric, PER_DIRECTION, thresholdVector, toOperatorUnit } from "./metrics.js";
import type { Profiles } from "./profile.js";
import type { FlowGuardSettings, MitigationKind } from "./settings.js";

/**
 * Host groups compiled for the tick: fixed thresholds as per-second vectors, and the learned
 * threshold rule: threshold = min(fixed, max(floor, factor × baseline)) for packets, bytes and flows
 * per second inbound, where the baseline is the host's profile for this hour (or its moving average
 * until the profile has learned the hour). Fixed thresholds are the ceiling any traffic is judged
 * against; the learned ones catch a flood that is small for the network but huge for its host.
 */
export type CompiledGroup = {
  readonly name: string;
  readonly inbound: Float64Array;
  readonly outbound: Float64Array | undefined;
  readonly prefix: Float64Array | undefined;
  readonly learned: boolean;
  readonly mitigation: MitigationKind;
};

export function compileGroups(s: FlowGuardSettings): { groups: CompiledGroup[]; fallback: CompiledGroup } {
  const compile = (name: string, g: FlowGuardSettings["defaultGroup"]): CompiledGroup => ({
    name,
    inbound: thresholdVector(g.thresholds),
    outbound: g.outboundThresholds ? thresholdVector(g.outboundThresholds) : undefined,
    prefix: g.prefixThresholds ? thresholdVector(g.prefixThresholds) : undefined,
    learned: g.learned && s.baselines.enabled,
    mitigation: g.mitigation,
  });
  return {
    groups: s.hostGroups.map((g) => compile(g.name, g)),
    fallback: compile("default", s.defaultGroup),
  };
}

export type LearnedRule = {
  readonly profiles: Profiles;
  /** Floors for packets, bytes and flows per second. */
  readonly floor: readonly [number, number, number];
  readonly profileFactor: number;
  readonly emaFactor: number;
};

export function learnedRule(s: FlowGuardSettings, profiles: Profiles): LearnedRule {
  const f = s.baselines.floor;
  return {
    profiles,
    floor: [f.pps, (f.mbps * 1e6) / 8, f.flowsPerSecond],
    profileFactor: s.baselines.profile.factor,
    emaFactor: s.baselines.ema.factor,
  };
}

/**
 * The metrics of one direction (values at `base` in `r`) that are over threshold, or undefined when
 * none is; `learned` (with the host's row and the hour of the week) adds the learned thresholds.
 * Allocates only when something is over, which is rare.
 */
export function overThreshold(
  r: Float64Array,
  base: number,
  fixed: Float64Array,
  learned: LearnedRule | undefined,
  row: number,
  hourOfWeek: number,
): Exceeded[] | undefined {
  let out: Exceeded[] | undefined;
  for (let m = 0; m < PER_DIRECTION; m++) {
    const v = r[base + m] as number;
    let th = fixed[m] as number;
    let source: Exceeded["source"] = "fixed";
    if (learned && m <= Metric.flows) {
      const k = m; // packets, bytes, flows: the profile's metrics 0, 1, 2
      const b = learned.profiles.baseline(row, k, hourOfWeek);
      if (!Number.isNaN(b)) {
        const from = learned.profiles.source;
        const t = Math.max(
          learned.floor[k] as number,
          (from === "ema" ? learned.emaFactor : learned.profileFactor) * b,
        );
        if (t < th) {
          th = t;
          source = from;
        }
      }
    }
    if (v > th) {
      out ??= [];
      out.push({
        metric: KEY_OF_METRIC[m] ?? "pps",
        rate: round(toOperatorUnit(m, v)),
        threshold: round(toOperatorUnit(m, th)),
        source,
      });
    }
  }
  return out;
}

function round(n: number): number {
  return n < 100 ? Math.round(n * 100) / 100 : Math.round(n);
}
