import type { OutboxEventType } from '@fen/shared'
import {
  claimDueEvents,
  markEventsDelivered,
  markEventFailed,
  renewEventLease,
  type ClaimedEvent,
} from '../repositories/events'
import type { ServiceContext } from '../services/context'
import { deliverToSinksOnce, fanOut } from './sinks'

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
/** What a lease must have left beyond the handler's timeout to cover marking the event. */
const LEASE_MARGIN_MS = 10_000
const BATCH = 50
/** Orders whose events are delivered at the same time (one order's events stay in order). */
const CONCURRENCY = 8
/** A run claims batch after batch while events are due, for at most this long (real time). */
const RUN_BUDGET_MS = 5_000
/** Retry delays after a failed delivery: 5 s, 30 s, 2 min, 10 min, then every 30 min. */
const BACKOFF_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000]

/**
 * One dispatcher run: claims due events in batches (`FOR UPDATE SKIP LOCKED` + a lease, so
 * instances never deliver one event at the same time) until none are due or RUN_BUDGET_MS has
 * passed. Each batch is delivered CONCURRENCY orders at a time, each order's events in id order.
 * For each event: take its lease afresh if the batch's has too little left, hand it to the handler
 * (failing it after HANDLER_TIMEOUT_MS), and schedule a retry if it failed. The batch's delivered
 * events are marked together when the batch is done (one UPDATE, not one per event) — each only
 * while we still hold its lease. A crash before that mark delivers them again: delivery is at
 * least once either way, and handlers are idempotent by `id`. (One batch per run, one event at a
 * time, delivered ~19 events/s: a burst of payments left an hour of fulfilment backlog.)
 */
export async function dispatchOnce(
  ctx: ServiceContext,
  handler: OutboxHandler,
  options: { handlerTimeoutMs?: number } = {},
): Promise<{ delivered: number; failed: number }> {
  const timeoutMs = options.handlerTimeoutMs ?? HANDLER_TIMEOUT_MS
  const started = performance.now()
  let delivered = 0
  let failed = 0
  /** This batch's events the handler took, to mark delivered when the batch is done. */
  let done: { id: number; lease: Date; type: string }[] = []
  const deliver = async (e: ClaimedEvent) => {
    const now = ctx.clock().getTime()
    let lease = e.leaseUntil
    // The batch's lease still covers this delivery (its handler is failed after timeoutMs): no
    // write needed — nobody else can claim the event before it expires. Only a delivery that
    // starts late in a slow batch takes its lease afresh (one UPDATE fewer per event otherwise).
    if (lease.getTime() - now < timeoutMs + LEASE_MARGIN_MS) {
      const renewed = new Date(now + LEASE_MS)
      if (!(await renewEventLease(ctx.db, e.id, lease, renewed))) return
      lease = renewed
    }
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
      done.push({ id: e.id, lease, type: e.type })
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
  for (;;) {
    const due = await claimDueEvents(ctx.db, ctx.clock(), LEASE_MS, BATCH)
    // Webhooks and NATS get their own delivery rows, one insert per batch (see jobs/sinks.ts).
    await fanOut(
      ctx,
      due.map((e) => e.id),
    )
    const byOrder = new Map<string, ClaimedEvent[]>()
    for (const e of due) {
      const events = byOrder.get(e.orderNo)
      if (events) events.push(e)
      else byOrder.set(e.orderNo, [e])
    }
    await eachWithConcurrency([...byOrder.values()], CONCURRENCY, async (events) => {
      for (const e of events) await deliver(e)
    })
    await markEventsDelivered(ctx.db, done, ctx.clock())
    for (const e of done) ctx.metrics.outboxDeliveries.inc({ type: e.type, result: 'delivered' })
    delivered += done.length
    done = []
    if (due.length < BATCH || performance.now() - started > RUN_BUDGET_MS) break
  }
  const sinks = await deliverToSinksOnce(ctx)
  ctx.metrics.outboxRuns.inc({ result: failed || sinks.failed ? 'partial' : 'ok' })
  // Counts of the in-process handler only (sink deliveries are in GET /api/admin/events).
  return { delivered, failed }
}

/** Runs `work` over `items`, at most `limit` at a time. */
export async function eachWithConcurrency<T>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/** Rejects when `promise` takes longer than `ms` (the work itself cannot be cancelled). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`handler took longer than ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
