/**
 * A fixed-window counter per key (per instance, in memory): at most `limit` takes per `windowMs`.
 * Enough for a login endpoint; a fleet that needs a global limit puts it in front of the servers.
 */
export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>()

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when `key` may go ahead (and counts it). */
  take(key: string): boolean {
    const now = this.now()
    if (this.#windows.size > 10_000) this.#prune(now)
    const w = this.#windows.get(key)
    if (!w || now - w.start >= this.windowMs) {
      this.#windows.set(key, { start: now, count: 1 })
      return true
    }
    w.count += 1
    return w.count <= this.limit
  }

  #prune(now: number): void {
    for (const [k, w] of this.#windows) if (now - w.start >= this.windowMs) this.#windows.delete(k)
  }
}
