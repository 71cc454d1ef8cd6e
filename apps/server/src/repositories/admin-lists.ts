import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm'
import type { AnyPgColumn } from 'drizzle-orm/pg-core'
import type { OrderStatus, RefundStatus } from '@fen/shared'
import type { Db } from '../db/client'
import { notifications, orders, outboxEvents, payments, refunds, users } from '../db/schema'
import type { OrderRow } from './orders'
import type { OutboxRow } from './events'
import type { RefundRow } from './refunds'

/** A list's sort key: the row's time and a tie-breaking key (see services/cursor.ts). */
export interface TimeKey {
  at: Date
  key: string
}

/**
 * The operators' lists, newest first, a page at a time (keyset: see services/cursor.ts). Each asks
 * for `limit + 1` rows so the caller knows whether another page follows.
 */

export interface OrderFilter {
  status?: OrderStatus | undefined
  /** Created at or after… */
  from?: Date | undefined
  /** …and before. */
  until?: Date | undefined
  orderNo?: string | undefined
  openidSuffix?: string | undefined
}

/** `(created_at, key) < (after.at, after.key)`: one row comparison, which the index serves. */
const before = (at: AnyPgColumn, key: AnyPgColumn, after: TimeKey | undefined) =>
  after ? sql`(${at}, ${key}) < (${after.at.toISOString()}::timestamptz, ${after.key})` : undefined

export function listOrdersPage(
  db: Db,
  f: OrderFilter,
  after: TimeKey | undefined,
  limit: number,
): Promise<OrderRow[]> {
  return db
    .select()
    .from(orders)
    .where(
      and(
        f.status ? eq(orders.status, f.status) : undefined,
        f.from ? gte(orders.createdAt, f.from) : undefined,
        f.until ? lt(orders.createdAt, f.until) : undefined,
        f.orderNo ? eq(orders.orderNo, f.orderNo) : undefined,
        f.openidSuffix
          ? inArray(
              orders.userId,
              db
                .select({ id: users.id })
                .from(users)
                // A suffix is a prefix of the reversed openid: the users_openid_reversed index.
                .where(sql`reverse(${users.openid}) like ${likePrefix(reverse(f.openidSuffix))}`),
            )
          : undefined,
        before(orders.createdAt, orders.orderNo, after),
      ),
    )
    .orderBy(desc(orders.createdAt), desc(orders.orderNo))
    .limit(limit + 1)
}

export function listRefundsPage(
  db: Db,
  status: RefundStatus | undefined,
  after: TimeKey | undefined,
  limit: number,
): Promise<RefundRow[]> {
  return db
    .select()
    .from(refunds)
    .where(
      and(
        status ? eq(refunds.status, status) : undefined,
        before(refunds.createdAt, refunds.outRefundNo, after),
      ),
    )
    .orderBy(desc(refunds.createdAt), desc(refunds.outRefundNo))
    .limit(limit + 1)
}

/** Events by id (ids only grow), optionally of one order. */
export function listEventsPage(
  db: Db,
  orderNo: string | undefined,
  afterId: number | undefined,
  limit: number,
): Promise<OutboxRow[]> {
  return db
    .select()
    .from(outboxEvents)
    .where(
      and(
        orderNo ? eq(outboxEvents.orderNo, orderNo) : undefined,
        afterId !== undefined ? lt(outboxEvents.id, afterId) : undefined,
      ),
    )
    .orderBy(desc(outboxEvents.id))
    .limit(limit + 1)
}

/** Orders created, money paid and money refunded (settled) in [from, until). */
export async function dayTotals(
  db: Db,
  from: Date,
  until: Date,
): Promise<{ orders: number; paidFen: number; refundedFen: number }> {
  const [[o], [p], [r]] = await Promise.all([
    db
      .select({ n: sql<number>`count(*)::int` })
      .from(orders)
      .where(and(gte(orders.createdAt, from), lt(orders.createdAt, until))),
    db
      .select({ fen: sql<number>`coalesce(sum(${payments.amountFen}), 0)::bigint` })
      .from(payments)
      .where(and(gte(payments.paidAt, from), lt(payments.paidAt, until))),
    db
      .select({ fen: sql<number>`coalesce(sum(${refunds.amountFen}), 0)::bigint` })
      .from(refunds)
      .where(
        and(
          eq(refunds.status, 'SUCCESS'),
          gte(refunds.settledAt, from),
          lt(refunds.settledAt, until),
        ),
      ),
  ])
  return { orders: o?.n ?? 0, paidFen: Number(p?.fen ?? 0), refundedFen: Number(r?.fen ?? 0) }
}

/** Notifications we refused for review (their `detail` says why). */
export async function countRejectedNotifications(db: Db): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(notifications)
    .where(eq(notifications.outcome, 'rejected'))
  return row?.n ?? 0
}

const reverse = (s: string) => [...s].reverse().join('')
/** A LIKE pattern matching strings that start with `s` (its `_`, `%` and `\` taken literally). */
const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
