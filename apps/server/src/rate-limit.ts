/**
 * A fixed-window counter per key (per instance, in memory): at most `limit` takes per `windowMs`,
 * each key's window starting at its first take. Enough for a login endpoint; a fleet that needs a
 * global limit puts it in front of the servers.
 *
 * Constant cost per take, bounded memory: the Map is kept in the order windows started (a key
 * whose window restarts is moved to the end), so expired keys are always at the front and are
 * dropped from there as we go — no scan of the whole table. At `maxKeys`, the oldest window is
 * dropped early: an attacker with that many addresses could spread over them anyway.
 */
export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>()

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  /** How many keys the limiter holds now. */
  get size(): number {
    return this.#windows.size
  }

  /** True when `key` may go ahead (and counts it). */
  take(key: string): boolean {
    const now = this.now()
    this.#dropExpired(now)
    const w = this.#windows.get(key)
    if (w && now - w.start < this.windowMs) {
      w.count += 1
      return w.count <= this.limit
    }
    if (w) this.#windows.delete(key)
    else if (this.#windows.size >= this.maxKeys) this.#dropOldest()
    this.#windows.set(key, { start: now, count: 1 })
    return true
  }

  /** Expired windows are at the front; stop at the first live one (a few per take, amortised). */
  #dropExpired(now: number): void {
    for (const [k, w] of this.#windows) {
      if (now - w.start < this.windowMs) return
      this.#windows.delete(k)
    }
  }

  #dropOldest(): void {
    const first = this.#windows.keys().next()
    if (!first.done) this.#windows.delete(first.value)
  }
}
