import { and, asc, eq, inArray, isNull, like, lt, lte, or } from 'drizzle-orm'
import type { Db } from '../db/client'
import { outboxDeliveries, outboxEvents } from '../db/schema'

export type OutboxDeliveryRow = typeof outboxDeliveries.$inferSelect
/** A claimed delivery with the event it carries. */
export type DueDelivery = OutboxDeliveryRow & {
  event: Pick<typeof outboxEvents.$inferSelect, 'id' | 'type' | 'orderNo' | 'payload' | 'createdAt'>
}

/** Adds a pending delivery of each event to each sink; rows that exist are left alone. */
export async function fanOutEvents(
  db: Db,
  eventIds: number[],
  sinks: string[],
  at: Date,
): Promise<void> {
  if (eventIds.length === 0 || sinks.length === 0) return
  await db
    .insert(outboxDeliveries)
    .values(
      eventIds.flatMap((eventId) =>
        sinks.map((sink) => ({ eventId, sink, queuedAt: at, nextAttemptAt: at })),
      ),
    )
    .onConflictDoNothing()
}

/** Claims pending deliveries that are due, for `leaseMs` (as claimDueEvents), with their events. */
export async function claimDueDeliveries(
  db: Db,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<DueDelivery[]> {
  return db.transaction(async (tx) => {
    const due = await tx
      .select({ eventId: outboxDeliveries.eventId, sink: outboxDeliveries.sink })
      .from(outboxDeliveries)
      .where(
        and(
          eq(outboxDeliveries.status, 'pending'),
          lte(outboxDeliveries.nextAttemptAt, now),
          or(isNull(outboxDeliveries.leaseUntil), lt(outboxDeliveries.leaseUntil, now)),
        ),
      )
      .orderBy(asc(outboxDeliveries.eventId))
      .limit(limit)
      .for('update', { skipLocked: true })
    if (due.length === 0) return []
    const ids = [...new Set(due.map((d) => d.eventId))]
    const events = new Map(
      (
        await tx
          .select({
            id: outboxEvents.id,
            type: outboxEvents.type,
            orderNo: outboxEvents.orderNo,
            payload: outboxEvents.payload,
            createdAt: outboxEvents.createdAt,
          })
          .from(outboxEvents)
          .where(inArray(outboxEvents.id, ids))
      ).map((e) => [e.id, e]),
    )
    // One UPDATE for the batch (the rows are locked above), not one per delivery.
    const claimed = await tx
      .update(outboxDeliveries)
      .set({ leaseUntil: new Date(now.getTime() + leaseMs) })
      .where(or(...due.map((d) => key(d.eventId, d.sink))))
      .returning()
    return claimed
      .sort((a, b) => a.eventId - b.eventId)
      .map((row) => ({ ...row, event: events.get(row.eventId)! }))
  })
}

const key = (eventId: number, sink: string) =>
  and(eq(outboxDeliveries.eventId, eventId), eq(outboxDeliveries.sink, sink))

/** Marks a delivery delivered, if we still hold its lease. */
export async function markSinkDelivered(db: Db, d: OutboxDeliveryRow, at: Date): Promise<void> {
  await db
    .update(outboxDeliveries)
    .set({ status: 'delivered', attempts: d.attempts + 1, deliveredAt: at, leaseUntil: null })
    .where(and(key(d.eventId, d.sink), eq(outboxDeliveries.leaseUntil, d.leaseUntil!)))
}

/** Schedules the next attempt (`next`), or gives up (`next` undefined), if we still hold the lease. */
export async function markSinkFailed(
  db: Db,
  d: OutboxDeliveryRow,
  failure: { next: Date | undefined; error: string },
): Promise<void> {
  await db
    .update(outboxDeliveries)
    .set({
      status: failure.next ? 'pending' : 'failed',
      attempts: d.attempts + 1,
      ...(failure.next ? { nextAttemptAt: failure.next } : {}),
      lastError: failure.error.slice(0, 500),
      leaseUntil: null,
    })
    .where(and(key(d.eventId, d.sink), eq(outboxDeliveries.leaseUntil, d.leaseUntil!)))
}

/** The deliveries of these events, by event id. */
export async function deliveriesOfEvents(
  db: Db,
  eventIds: number[],
): Promise<Map<number, OutboxDeliveryRow[]>> {
  const map = new Map<number, OutboxDeliveryRow[]>()
  if (eventIds.length === 0) return map
  const rows = await db
    .select()
    .from(outboxDeliveries)
    .where(inArray(outboxDeliveries.eventId, eventIds))
    .orderBy(asc(outboxDeliveries.sink))
  for (const r of rows) map.set(r.eventId, [...(map.get(r.eventId) ?? []), r])
  return map
}

/**
 * Queues an event's webhook deliveries again from `at` (attempts and the day start over), whatever
 * their state; `sinks` are today's webhook sinks, added if the event has no row for them yet.
 */
export async function requeueWebhooks(
  db: Db,
  eventId: number,
  sinks: string[],
  at: Date,
): Promise<void> {
  await db.transaction(async (tx) => {
    await fanOutEvents(tx, [eventId], sinks, at)
    await tx
      .update(outboxDeliveries)
      .set({
        status: 'pending',
        attempts: 0,
        queuedAt: at,
        nextAttemptAt: at,
        lastError: null,
        leaseUntil: null,
      })
      .where(and(eq(outboxDeliveries.eventId, eventId), like(outboxDeliveries.sink, 'webhook:%')))
  })
}
