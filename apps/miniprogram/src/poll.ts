import type { Order } from '@fen/shared'

/** How long to keep asking before saying "still confirming" (the shopper can refresh by hand). */
export const POLL_TIMEOUT_MS = 120_000
export const POLL_INTERVAL_MS = 2_000

export type PollEnd =
  { status: 'final'; order: Order } | { status: 'timeout' | 'stopped'; order: Order | undefined }

/**
 * Asks for the order until it is no longer PENDING (PAID, CLOSED, …), `timeoutMs` passes or
 * `stopped()` says the page is gone (checked after each load and after each sleep, so a page that
 * closes mid-sleep costs no further request).
 * `sleep` and `now` are injected so tests run it without timers.
 */
export async function pollOrder(
  load: () => Promise<Order>,
  options: {
    intervalMs?: number
    timeoutMs?: number
    sleep?: (ms: number) => Promise<void>
    now?: () => number
    onUpdate?: (o: Order) => void
    stopped?: () => boolean
  } = {},
): Promise<PollEnd> {
  const interval = options.intervalMs ?? POLL_INTERVAL_MS
  const timeout = options.timeoutMs ?? POLL_TIMEOUT_MS
  const sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)))
  const now = options.now ?? Date.now
  const start = now()
  let last: Order | undefined
  for (;;) {
    try {
      last = await load()
      options.onUpdate?.(last)
      if (last.status !== 'PENDING') return { status: 'final', order: last }
    } catch {
      // a failed poll is not an answer: keep asking until the timeout
    }
    if (options.stopped?.()) return { status: 'stopped', order: last }
    if (now() - start >= timeout) return { status: 'timeout', order: last }
    await sleep(interval)
    if (options.stopped?.()) return { status: 'stopped', order: last }
  }
}
