/**
 * The outbox's delivery (the dispatcher main.ts runs as the `outbox` job): claims due events and
 * hands them to the shop's in-process handler, with leases and backoff, and delivers them to the
 * configured sinks (webhooks, NATS; sent by events/sinks.ts), each with its own delivery rows.
 */
import type { OutboxEventType } from '@fen/shared'
import {
  claimDueEvents,
  markEventsDelivered,
  markEventFailed,
  renewEventLease,
  type ClaimedEvent,
} from '../repositories/events'
import {
  claimDueDeliveries,
  fanOutEvents,
  markSinkDelivered,
  markSinkFailed,
  type DueDelivery,
} from '../repositories/outbox-deliveries'
import { eachWithConcurrency } from '../concurrency'
import { redactSink, redactUrlsIn } from '../urls'
import type { ServiceContext } from './context'

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
    // Webhooks and NATS get their own delivery rows, one insert per batch (see fanOut below).
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

/** Rejects when `promise` takes longer than `ms` (the work itself cannot be cancelled). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`handler took longer than ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

// The sinks (webhooks, NATS): each event gets a delivery row per sink, delivered on its own.
const SINK_LEASE_MS = 60_000
const SINK_BATCH = 100
const SINK_CONCURRENCY = 8
/** Retry delays after a failed delivery to a sink, in seconds; the last repeats. */
export const SINK_BACKOFF_S = [10, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800]
/** A delivery is given up (`failed`) when its next attempt would be this long after it was queued. */
export const SINK_GIVE_UP_MS = 24 * 3600 * 1000

/** Adds each claimed event's deliveries to every sink (dispatchOnce calls it per batch). */
async function fanOut(ctx: ServiceContext, eventIds: number[]): Promise<void> {
  if (ctx.sinks) await fanOutEvents(ctx.db, eventIds, ctx.sinks.names, ctx.clock())
}

/**
 * One run over the sinks: claims due deliveries in batches and sends them, SINK_CONCURRENCY at a
 * time; a failure is retried on SINK_BACKOFF_S until a day after it was queued, then `failed` with
 * an ALERT line. (Each event reaches a sink at least once: receivers deduplicate by Fen-Event-Id.)
 */
async function deliverToSinksOnce(
  ctx: ServiceContext,
): Promise<{ delivered: number; failed: number }> {
  const sinks = ctx.sinks
  let delivered = 0
  let failed = 0
  if (!sinks) return { delivered, failed }
  const send = async (d: DueDelivery) => {
    const e = d.event
    try {
      await sinks.send(
        d.sink,
        {
          id: e.id,
          type: e.type,
          orderNo: e.orderNo,
          createdAt: e.createdAt.toISOString(),
          payload: e.payload,
        },
        ctx.clock(),
      )
      await markSinkDelivered(ctx.db, d, ctx.clock())
      delivered++
    } catch (err) {
      failed++
      // Stored and logged: a URL the error quotes loses its credentials and query string.
      const error = redactUrlsIn(err instanceof Error ? err.message : String(err))
      const delayS = SINK_BACKOFF_S[Math.min(d.attempts, SINK_BACKOFF_S.length - 1)]!
      const next = new Date(ctx.clock().getTime() + delayS * 1000)
      const giveUp = next.getTime() - d.queuedAt.getTime() > SINK_GIVE_UP_MS
      await markSinkFailed(ctx.db, d, { next: giveUp ? undefined : next, error })
      const log = { eventId: e.id, sink: redactSink(d.sink), attempt: d.attempts + 1, error }
      if (giveUp)
        ctx.logger.error(log, 'ALERT: event delivery to a sink failed for a day; given up')
      else ctx.logger.warn(log, 'event delivery to a sink failed; will retry')
    }
  }
  for (;;) {
    const due = await claimDueDeliveries(ctx.db, ctx.clock(), SINK_LEASE_MS, SINK_BATCH)
    await eachWithConcurrency(due, SINK_CONCURRENCY, send)
    if (due.length < SINK_BATCH) break
  }
  return { delivered, failed }
}
