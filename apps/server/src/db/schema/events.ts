import { sql } from 'drizzle-orm'
import {
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core'
import { ts } from './columns'

/**
 * Every notification WeChat sent us, by WeChat's id: a retry of one we applied finds its row and is
 * answered at once, without touching the order.
 */
export const notifications = pgTable('notifications', {
  id: text('id').primaryKey(),
  eventType: text('event_type').notNull(),
  orderNo: text('order_no'),
  /** applied, duplicate, or rejected (with detail: amount or appid mismatch, unknown order) */
  outcome: text('outcome').notNull(),
  detail: text('detail'),
  receivedAt: ts('received_at').notNull().defaultNow(),
})

/**
 * The outbox: events written in the same transaction as the state change they announce, then
 * delivered at least once to the shop's handler. One row per (type, dedupe key) — the order for
 * `order.paid`, `order.closed`, `order.shipped` and `order.completed`, the refund for
 * `order.refunded` — so fulfilment never runs
 * twice for one payment.
 */
export const outboxEvents = pgTable(
  'outbox_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    type: text('type').notNull(),
    orderNo: text('order_no').notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    deliveredAt: ts('delivered_at'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
    leaseUntil: ts('lease_until'),
    lastError: text('last_error'),
  },
  (t) => [
    check(
      'outbox_type',
      sql`${t.type} in ('order.paid','order.closed','order.refunded','order.shipped','order.completed')`,
    ),
    uniqueIndex('outbox_type_dedupe').on(t.type, t.dedupeKey),
    // The dispatcher's claim walks undelivered events in id order; delivered ones leave the index.
    index('outbox_undelivered')
      .on(t.id)
      .where(sql`${t.deliveredAt} is null`),
    index('outbox_order').on(t.orderNo),
  ],
)
