import { BucketWindow } from "../../core/windows.js";

/**
 * Small pieces the detectors share. Every detector keeps its state in maps keyed by address or account,
 * bounded in size (the oldest entry goes first) and pruned by `tick`, so memory stays flat under a
 * botnet of any size.
 */

// Ten buckets: a window is counted to within a tenth of its length, in 80 bytes per subject.
const BUCKETS = 10;

/** A sliding count over `windowMs` of event time. */
export function slidingCount(windowMs: number): BucketWindow {
  return new BucketWindow(Math.max(1, Math.ceil(windowMs / BUCKETS)), BUCKETS);
}

/** The whole-window sum of a sliding count. */
export function countIn(w: BucketWindow, at: number): number {
  return w.sum(at, w.size);
}

/**
 * Adds an entry; when the map is full, drops the oldest-inserted sixteenth first. Dropping in batches
 * matters: a Map skips its deleted slots when iterated from the front, so evicting one entry per insert
 * would cost more and more until the table is rebuilt.
 */
export function putBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (map.size >= max && !map.has(key)) {
    let drop = Math.max(1, max >> 4);
    for (const k of map.keys()) {
      map.delete(k);
      if (--drop === 0) break;
    }
  }
  map.set(key, value);
}

/** Deletes the entries for which `stale` is true. */
export function pruneMap<K, V>(map: Map<K, V>, stale: (v: V) => boolean): void {
  for (const [k, v] of map) if (stale(v)) map.delete(k);
}

/** Appends to a short list of examples for evidence, keeping it short and without repeats. */
export function addSample(list: string[], value: string, max = 10): void {
  if (list.length < max && !list.includes(value)) list.push(value);
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
