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
