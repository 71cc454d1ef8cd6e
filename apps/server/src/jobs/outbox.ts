import type { OutboxEventType } from '@fen/shared'
import { claimDueEvents, markEventDelivered, markEventFailed } from '../repositories/events'
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
const BATCH = 50
/** Retry delays after a failed delivery: 5 s, 30 s, 2 min, 10 min, then every 30 min. */
const BACKOFF_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000]

/**
 * One dispatcher run: claims due events (`FOR UPDATE SKIP LOCKED` + a lease, so instances never
 * deliver one event at the same time), hands each to the handler, marks it delivered or schedules
 * a retry.
 */
export async function dispatchOnce(
  ctx: ServiceContext,
  handler: OutboxHandler,
): Promise<{ delivered: number; failed: number }> {
  const now = ctx.clock()
  const due = await claimDueEvents(ctx.db, now, LEASE_MS, BATCH)
  let delivered = 0
  let failed = 0
  for (const e of due) {
    const attempt = e.attempts + 1
    try {
      await handler({
        id: e.id,
        type: e.type as OutboxEventType,
        orderNo: e.orderNo,
        payload: e.payload,
        attempt,
      })
      await markEventDelivered(ctx.db, e.id, ctx.clock())
      delivered++
      ctx.metrics.outboxDeliveries.inc({ type: e.type, result: 'delivered' })
    } catch (err) {
      const delay = BACKOFF_MS[Math.min(attempt - 1, BACKOFF_MS.length - 1)]!
      await markEventFailed(
        ctx.db,
        e.id,
        attempt,
        new Date(ctx.clock().getTime() + delay),
        (err as Error).message ?? String(err),
      )
      failed++
      ctx.metrics.outboxDeliveries.inc({ type: e.type, result: 'failed' })
      ctx.logger.warn(
        { eventId: e.id, type: e.type, attempt },
        'outbox delivery failed; will retry',
      )
    }
  }
  ctx.metrics.outboxRuns.inc({ result: failed ? 'partial' : 'ok' })
  return { delivered, failed }
}
