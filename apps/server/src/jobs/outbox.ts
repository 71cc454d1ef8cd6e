import type { OutboxEventType } from '@fen/shared'
import {
  claimDueEvents,
  markEventDelivered,
  markEventFailed,
  renewEventLease,
} from '../repositories/events'
import type { ServiceContext } from '../services/context'

/** An event as the shop's handler receives it. Delivered at least once: handlers must be idempotent by `id`. */
export interface OutboxDelivery {
  id: number
  type: OutboxEventType
  orderNo: string
  payload: unknown
  attempt: number
}

/** The shop's fulfilment hook (wired in main.ts). Throwing means "try again later". */
export type OutboxHandler = (event: OutboxDelivery) => Promise<void>

const LEASE_MS = 60_000
/** A delivery gets this long: well inside its lease, so no other dispatcher takes it meanwhile. */
const HANDLER_TIMEOUT_MS = 30_000
const BATCH = 50
/** Retry delays after a failed delivery: 5 s, 30 s, 2 min, 10 min, then every 30 min. */
const BACKOFF_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000]

/**
 * One dispatcher run: claims due events (`FOR UPDATE SKIP LOCKED` + a lease, so instances never
 * deliver one event at the same time), and for each, takes its lease afresh, hands it to the
 * handler (failing it after HANDLER_TIMEOUT_MS), and marks it delivered or schedules a retry — only
 * while it still holds the lease.
 */
export async function dispatchOnce(
  ctx: ServiceContext,
  handler: OutboxHandler,
  options: { handlerTimeoutMs?: number } = {},
): Promise<{ delivered: number; failed: number }> {
  const timeoutMs = options.handlerTimeoutMs ?? HANDLER_TIMEOUT_MS
  const due = await claimDueEvents(ctx.db, ctx.clock(), LEASE_MS, BATCH)
  let delivered = 0
  let failed = 0
  for (const e of due) {
    const lease = new Date(ctx.clock().getTime() + LEASE_MS)
    if (!(await renewEventLease(ctx.db, e.id, e.leaseUntil!, lease))) continue
    const attempt = e.attempts + 1
    try {
      await withTimeout(
        handler({
          id: e.id,
          type: e.type as OutboxEventType,
          orderNo: e.orderNo,
          payload: e.payload,
          attempt,
        }),
        timeoutMs,
      )
      await markEventDelivered(ctx.db, e.id, ctx.clock(), lease)
      delivered++
      ctx.metrics.outboxDeliveries.inc({ type: e.type, result: 'delivered' })
    } catch (err) {
      const delay = BACKOFF_MS[Math.min(attempt - 1, BACKOFF_MS.length - 1)]!
      const error = err instanceof Error ? err.message : String(err)
      await markEventFailed(ctx.db, e.id, lease, {
        attempts: attempt,
        next: new Date(ctx.clock().getTime() + delay),
        error,
      })
      failed++
      ctx.metrics.outboxDeliveries.inc({ type: e.type, result: 'failed' })
      ctx.logger.warn(
        { eventId: e.id, type: e.type, attempt, error },
        'outbox delivery failed; will retry',
      )
    }
  }
  ctx.metrics.outboxRuns.inc({ result: failed ? 'partial' : 'ok' })
  return { delivered, failed }
}

/** Rejects when `promise` takes longer than `ms` (the work itself cannot be cancelled). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`handler took longer than ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
