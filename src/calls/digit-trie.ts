/**
 * Longest-prefix match over digit strings, shared by the risk list and the tariff table.
 *
 * Why a digit trie in one flat Int32Array rather than a Map keyed by prefix: a Map lookup needs a
 * substring for every probed length (up to 15 per number), while the trie walks the number once, reads
 * one array slot per digit and allocates nothing. Tables hold hundreds of prefixes, so the whole trie
 * (10 slots per node) stays a few kilobytes and sits in cache on the authorize hot path.
 */
export type DigitTrie<T> = {
  /** children[node * 10 + digit] is the child node, or 0 for none (the root is never a child). */
  readonly children: Int32Array;
  /** The value stored at each node, undefined where no prefix ends. */
  readonly values: readonly (T | undefined)[];
};

/**
 * Builds a trie from (prefix, value) pairs; a later pair with the same prefix replaces the earlier.
 * Throws on a prefix that is not all digits: callers parse their files first, so this is a bug.
 */
export function buildDigitTrie<T>(items: readonly T[], prefixOf: (item: T) => string): DigitTrie<T> {
  let capacity = 1;
  for (const item of items) capacity += prefixOf(item).length;
  const children = new Int32Array(capacity * 10);
  const values: (T | undefined)[] = new Array<T | undefined>(capacity).fill(undefined);
  let used = 1;
  for (const item of items) {
    const prefix = prefixOf(item);
    let node = 0;
    for (let i = 0; i < prefix.length; i++) {
      const digit = prefix.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9)
        throw new RangeError(`prefix "${prefix}" has a character that is not a digit`);
      const slot = node * 10 + digit;
      let child = children[slot] ?? 0;
      if (child === 0) {
        child = used++;
        children[slot] = child;
      }
      node = child;
    }
    values[node] = item;
  }
  return { children, values };
}

/** The value of the longest prefix of `digits` in the trie; stops at the first non-digit. */
export function longestPrefixMatch<T>(trie: DigitTrie<T>, digits: string): T | undefined {
  const { children, values } = trie;
  let best = values[0];
  let node = 0;
  for (let i = 0; i < digits.length; i++) {
    const digit = digits.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) break;
    node = children[node * 10 + digit] ?? 0;
    if (node === 0) break;
    const value = values[node];
    if (value !== undefined) best = value;
  }
  return best;
}

/**
 * A memo from digit strings of up to 15 digits (with a small integer tag) to numbers, for hot paths
 * that meet mostly new numbers. Direct-mapped: a new entry overwrites whatever shared its slot, so
 * there is no eviction bookkeeping. Keys are the digits' value (exact in a double up to 15 digits)
 * plus their count, so "03" and "3" differ. Everything lives in typed arrays: unlike a Map keyed by
 * strings it keeps no key alive, so a stream of new numbers leaves nothing for the collector to copy.
 */
export class DigitMemo {
  private readonly keys: Float64Array;
  /** tag * 16 + digit count; 0 marks an empty slot. */
  private readonly tags: Int32Array;
  private readonly values: Float64Array;
  private readonly mask: number;
  // The key of the last get(), so that store() need not read the digits again.
  private slot = -1;
  private key = 0;
  private tag = 0;

  /** size: number of slots, a power of two. */
  constructor(size: number) {
    this.keys = new Float64Array(size);
    this.tags = new Int32Array(size);
    this.values = new Float64Array(size);
    this.mask = size - 1;
  }

  /** The value stored for the digits under the tag, NaN if none (or if they are not 1-15 digits). */
  get(digits: string, tag: number): number {
    const length = digits.length;
    this.slot = -1;
    if (length === 0 || length > 15) return Number.NaN;
    let key = 0;
    let hash = tag | 0;
    for (let i = 0; i < length; i++) {
      const digit = digits.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return Number.NaN;
      key = key * 10 + digit;
      hash = Math.imul(hash ^ digit, 0x01000193);
    }
    const slot = (hash ^ (hash >>> 15)) & this.mask;
    this.slot = slot;
    this.key = key;
    this.tag = tag * 16 + length;
    return this.keys[slot] === key && this.tags[slot] === this.tag
      ? (this.values[slot] ?? Number.NaN)
      : Number.NaN;
  }

  /** Stores the value under the digits and tag of the last get() (nothing if they could not be a key). */
  store(value: number): void {
    const slot = this.slot;
    if (slot < 0) return;
    this.keys[slot] = this.key;
    this.tags[slot] = this.tag;
    this.values[slot] = value;
  }
}
