import { sql } from 'drizzle-orm'
import { bigint, check, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core'
import { ts } from './columns'
import { outboxEvents } from './events'

/**
 * Each outbox event's delivery to each of the shop's own systems (a sink: `webhook:<url>` or
 * `nats`), apart from the in-process handler. Rows are written by the outbox job when it claims
 * the event (never in the transaction that wrote the event: the hot path does not know the sinks),
 * and retried with backoff for a day from `queuedAt`, then `failed`.
 */
export const outboxDeliveries = pgTable(
  'outbox_deliveries',
  {
    eventId: bigint('event_id', { mode: 'number' })
      .notNull()
      .references(() => outboxEvents.id),
    sink: text('sink').notNull(),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** When the current run of attempts began (fan-out, or a redeliver): the day counts from it. */
    queuedAt: ts('queued_at').notNull(),
    nextAttemptAt: ts('next_attempt_at').notNull(),
    leaseUntil: ts('lease_until'),
    lastError: text('last_error'),
    deliveredAt: ts('delivered_at'),
  },
  (t) => [
    primaryKey({ columns: [t.eventId, t.sink] }),
    check('outbox_delivery_status', sql`${t.status} in ('pending','delivered','failed')`),
    index('outbox_deliveries_due').on(t.status, t.nextAttemptAt),
  ],
)
