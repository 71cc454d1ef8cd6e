import { and, asc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm'
import { OPEN_REFUND_STATUSES } from '@fen/shared'
import type { Db } from '../db/client'
import { refunds } from '../db/schema'

export type RefundRow = typeof refunds.$inferSelect

export async function insertRefund(db: Db, r: typeof refunds.$inferInsert): Promise<RefundRow> {
  const [row] = await db.insert(refunds).values(r).returning()
  return row!
}

export async function findRefund(db: Db, outRefundNo: string): Promise<RefundRow | undefined> {
  const [row] = await db.select().from(refunds).where(eq(refunds.outRefundNo, outRefundNo))
  return row
}

export async function lockRefund(db: Db, outRefundNo: string): Promise<RefundRow | undefined> {
  const [row] = await db
    .select()
    .from(refunds)
    .where(eq(refunds.outRefundNo, outRefundNo))
    .for('update')
  return row
}

/** The refund of a second payment, by the transaction it gives back. */
export async function findSecondPaymentRefund(
  db: Db,
  transactionId: string,
): Promise<RefundRow | undefined> {
  const [row] = await db
    .select()
    .from(refunds)
    .where(eq(refunds.paymentTransactionId, transactionId))
  return row
}

export function refundsOf(db: Db, orderNo: string): Promise<RefundRow[]> {
  return db
    .select()
    .from(refunds)
    .where(eq(refunds.orderNo, orderNo))
    .orderBy(asc(refunds.createdAt))
}

/** The refunds of several orders, oldest first, grouped by order. */
export async function refundsOfOrders(
  db: Db,
  orderNos: string[],
): Promise<Map<string, RefundRow[]>> {
  const map = new Map<string, RefundRow[]>()
  if (orderNos.length === 0) return map
  const rows = await db
    .select()
    .from(refunds)
    .where(inArray(refunds.orderNo, orderNos))
    .orderBy(asc(refunds.createdAt))
  for (const r of rows) map.set(r.orderNo, [...(map.get(r.orderNo) ?? []), r])
  return map
}

/**
 * Moves a refund to `status` when it is in one of `from` (by default, any open status); returns the
 * updated row, or undefined when it had already moved on (final statuses never change).
 */
export async function updateRefundStatus(
  db: Db,
  outRefundNo: string,
  u: { status: string; refundId?: string; settledAt?: Date | null; lastError?: string | null },
  from: readonly string[] = OPEN_REFUND_STATUSES,
): Promise<RefundRow | undefined> {
  const [row] = await db
    .update(refunds)
    .set({
      status: u.status,
      ...(u.refundId ? { refundId: u.refundId } : {}),
      ...(u.settledAt !== undefined ? { settledAt: u.settledAt } : {}),
      ...(u.lastError !== undefined ? { lastError: u.lastError } : {}),
      leaseUntil: null,
    })
    .where(and(eq(refunds.outRefundNo, outRefundNo), inArray(refunds.status, [...from])))
    .returning()
  return row
}

/** Leaves a refund alone until `until` (an ABNORMAL refund waits for a person, not for us). */
export async function deferRefund(db: Db, outRefundNo: string, until: Date): Promise<void> {
  await db.update(refunds).set({ leaseUntil: until }).where(eq(refunds.outRefundNo, outRefundNo))
}

export async function noteRefundError(db: Db, outRefundNo: string, error: string): Promise<void> {
  await db
    .update(refunds)
    .set({ lastError: error.slice(0, 500) })
    .where(eq(refunds.outRefundNo, outRefundNo))
}

/**
 * Claims refunds that need WeChat, created more than `settleAfterMs` ago (younger ones are still
 * in the hands of the request that created them): SUBMITTING ones (the call failed or its answer
 * was lost) and PROCESSING/ABNORMAL ones (no notification yet: query).
 */
export async function claimUnsettledRefunds(
  db: Db,
  now: Date,
  settleAfterMs: number,
  leaseMs: number,
  limit: number,
): Promise<RefundRow[]> {
  return db.transaction(async (tx) => {
    const due = await tx
      .select({ no: refunds.outRefundNo })
      .from(refunds)
      .where(
        and(
          inArray(refunds.status, [...OPEN_REFUND_STATUSES]),
          lt(refunds.createdAt, new Date(now.getTime() - settleAfterMs)),
          or(isNull(refunds.leaseUntil), lt(refunds.leaseUntil, now)),
        ),
      )
      .orderBy(refunds.createdAt)
      .limit(limit)
      .for('update', { skipLocked: true })
    if (due.length === 0) return []
    return tx
      .update(refunds)
      .set({ leaseUntil: new Date(now.getTime() + leaseMs) })
      .where(
        inArray(
          refunds.outRefundNo,
          due.map((d) => d.no),
        ),
      )
      .returning()
  })
}

export async function countRefundsByStatus(db: Db): Promise<{ status: string; count: number }[]> {
  return db
    .select({ status: refunds.status, count: sql<number>`count(*)::int` })
    .from(refunds)
    .groupBy(refunds.status)
}
