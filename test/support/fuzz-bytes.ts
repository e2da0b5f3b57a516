/** Aids for fuzzing the flow decoders. */

/**
 * The same bytes behind a proxy that throws on any index outside [0, length): a decoder reading past
 * the end gets an exception (which it counts as "internal") instead of a silent undefined.
 */
export function strictBytes(bytes: Uint8Array): Uint8Array {
  const target = Uint8Array.from(bytes);
  return new Proxy(target, {
    get(t, key) {
      if (typeof key === "string" && /^-?\d+$/.test(key)) {
        const i = Number(key);
        if (i < 0 || i >= t.length) throw new RangeError(`read at ${i} past ${t.length} bytes`);
        return t[i];
      }
      const v = Reflect.get(t, key, t) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** Patches: set byte `at % length` to `value`, to mutate a valid packet. */
export function mutate(bytes: Uint8Array, patches: readonly (readonly [number, number])[]): Uint8Array {
  const out = Uint8Array.from(bytes);
  if (out.length === 0) return out;
  for (const [at, value] of patches) out[at % out.length] = value;
  return out;
}
