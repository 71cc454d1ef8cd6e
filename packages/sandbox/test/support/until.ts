/** Waiting on conditions, shared by the sandbox's tests (never a timed assertion). */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Polls `get` until `ok` holds and returns that value. The deadline only ends a wait that will
 * never succeed; it is generous, for a busy 2-core machine.
 */
export async function until<T>(
  get: () => T | Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await get()
    if (ok(v)) return v
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(v)}`)
    }
    await sleep(5)
  }
}
