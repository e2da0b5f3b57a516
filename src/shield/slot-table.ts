/**
 * A bounded map from string keys to slot numbers, for per-address and per-client state kept in typed
 * arrays. Past `capacity` keys, a new key takes the slot of one not used since the clock hand last
 * passed it (the clock algorithm, close to least-recently-used at O(1) amortised and no per-access
 * reordering), so a botnet of millions of addresses costs fixed memory.
 */
export class SlotTable {
  readonly capacity: number;
  private readonly index = new Map<string, number>();
  private readonly keys: (string | undefined)[];
  private readonly referenced: Uint8Array;
  private hand = 0;
  private used = 0;

  constructor(capacity: number) {
    if (!(capacity >= 1) || !Number.isInteger(capacity))
      throw new RangeError("capacity must be a positive integer");
    this.capacity = capacity;
    this.keys = new Array<string | undefined>(capacity).fill(undefined);
    this.referenced = new Uint8Array(capacity);
  }

  get size(): number {
    return this.index.size;
  }

  /** The key's slot, or -1 when it is not held. */
  find(key: string): number {
    const s = this.index.get(key);
    if (s === undefined) return -1;
    this.referenced[s] = 1;
    return s;
  }

  /**
   * The key's slot, taking one (and forgetting its previous key) when the key is new. `isNew` tells the
   * caller to reset the slot's state.
   */
  claim(key: string): { slot: number; isNew: boolean } {
    const s = this.index.get(key);
    if (s !== undefined) {
      this.referenced[s] = 1;
      return { slot: s, isNew: false };
    }
    let slot: number;
    if (this.used < this.capacity) slot = this.used++;
    else {
      // Every slot is in use: the first one the hand finds unreferenced goes; a full sweep clears all
      // bits, so this ends within two turns.
      while (this.referenced[this.hand] === 1) {
        this.referenced[this.hand] = 0;
        this.hand = (this.hand + 1) % this.capacity;
      }
      slot = this.hand;
      this.hand = (this.hand + 1) % this.capacity;
      const old = this.keys[slot];
      if (old !== undefined) this.index.delete(old);
    }
    this.keys[slot] = key;
    this.referenced[slot] = 1;
    this.index.set(key, slot);
    return { slot, isNew: true };
  }

  keyAt(slot: number): string | undefined {
    return this.keys[slot];
  }
}
