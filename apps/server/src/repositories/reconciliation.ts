import type { Discrepancy, ReconciliationResult } from '@fen/shared'
import { and, asc, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import {
  billFiles,
  orders,
  payments,
  reconciliationDiscrepancies,
  reconciliations,
  refunds,
} from '../db/schema'

/** A bill file as kept: `trade_all` or `fund_flow_basic`, its checked SHA1 and its CSV text. */
export interface KeptBillFile {
  kind: 'trade_all' | 'fund_flow_basic'
  sha1: string
  content: string
}

/** A stored result: everything but `not_run`. */
export type StoredReconciliation = ReconciliationResult & { ranAt: string }

/** Payments WeChat reported successful within [from, to) (its `success_time`). */
export function paymentsPaidBetween(db: Db, from: Date, to: Date) {
  return db
    .select({
      transactionId: payments.transactionId,
      orderNo: payments.orderNo,
      amountFen: payments.amountFen,
    })
    .from(payments)
    .where(and(gte(payments.paidAt, from), lt(payments.paidAt, to)))
}

/** Refunds that succeeded within [from, to) (WeChat's `success_time`). */
export function refundsSucceededBetween(db: Db, from: Date, to: Date) {
  return db
    .select({
      outRefundNo: refunds.outRefundNo,
      orderNo: refunds.orderNo,
      amountFen: refunds.amountFen,
      status: refunds.status,
    })
    .from(refunds)
    .where(
      and(eq(refunds.status, 'SUCCESS'), gte(refunds.settledAt, from), lt(refunds.settledAt, to)),
    )
}

export function paymentsByTransactionId(db: Db, ids: string[]) {
  if (ids.length === 0) return Promise.resolve([])
  return db
    .select({
      transactionId: payments.transactionId,
      orderNo: payments.orderNo,
      amountFen: payments.amountFen,
    })
    .from(payments)
    .where(inArray(payments.transactionId, ids))
}

export function refundsByOutRefundNo(db: Db, nos: string[]) {
  if (nos.length === 0) return Promise.resolve([])
  return db
    .select({
      outRefundNo: refunds.outRefundNo,
      orderNo: refunds.orderNo,
      amountFen: refunds.amountFen,
      status: refunds.status,
    })
    .from(refunds)
    .where(inArray(refunds.outRefundNo, nos))
}

export function ordersByNo(db: Db, nos: string[]) {
  if (nos.length === 0) return Promise.resolve([])
  return db
    .select({ orderNo: orders.orderNo, status: orders.status, totalFen: orders.totalFen })
    .from(orders)
    .where(inArray(orders.orderNo, nos))
}

/**
 * Stores a day's result, its discrepancies and its bill files in one transaction, replacing
 * whatever an earlier run of that day stored (the cascade removes its discrepancies and files):
 * a reader sees the old result or the new one, never a mix.
 */
export async function saveReconciliation(
  db: Db,
  result: StoredReconciliation,
  files: KeptBillFile[],
): Promise<void> {
  const ranAt = new Date(result.ranAt)
  await db.transaction(async (tx) => {
    await tx.delete(reconciliations).where(eq(reconciliations.billDate, result.date))
    await tx.insert(reconciliations).values({
      billDate: result.date,
      status: result.status,
      ranAt,
      oursCount: result.counts.ours,
      theirsCount: result.counts.theirs,
      matchedCount: result.counts.matched,
    })
    if (result.discrepancies.length > 0) {
      await tx.insert(reconciliationDiscrepancies).values(
        result.discrepancies.map((d) => ({
          billDate: result.date,
          kind: d.kind,
          outTradeNo: d.outTradeNo ?? null,
          outRefundNo: d.outRefundNo ?? null,
          transactionId: d.transactionId ?? null,
          oursFen: d.oursFen ?? null,
          theirsFen: d.theirsFen ?? null,
          detail: d.detail,
          rawLine: d.rawLine ?? null,
        })),
      )
    }
    if (files.length > 0) {
      await tx
        .insert(billFiles)
        .values(files.map((f) => ({ billDate: result.date, ...f, downloadedAt: ranAt })))
    }
  })
}

/** A day's stored result, or undefined when it never ran. */
export async function findReconciliation(
  db: Db,
  date: string,
): Promise<StoredReconciliation | undefined> {
  const [row] = await db.select().from(reconciliations).where(eq(reconciliations.billDate, date))
  return row ? withDiscrepancies(db, row) : undefined
}

/**
 * The latest reconciled day's result (the newest `bill_date` that ran), or null when none ran:
 * what the admin summary shows.
 */
export async function latestReconciliation(db: Db): Promise<StoredReconciliation | null> {
  const [row] = await db
    .select()
    .from(reconciliations)
    .orderBy(desc(reconciliations.billDate))
    .limit(1)
  return row ? withDiscrepancies(db, row) : null
}

/** The discrepancies of the latest reconciled day, by kind (the metric's source). */
export async function latestDiscrepancyCounts(db: Db): Promise<{ kind: string; count: number }[]> {
  const latest = db
    .select({ billDate: reconciliations.billDate })
    .from(reconciliations)
    .orderBy(desc(reconciliations.billDate))
    .limit(1)
  return db
    .select({ kind: reconciliationDiscrepancies.kind, count: sql<number>`count(*)::int` })
    .from(reconciliationDiscrepancies)
    .where(eq(reconciliationDiscrepancies.billDate, sql`(${latest})`))
    .groupBy(reconciliationDiscrepancies.kind)
}

async function withDiscrepancies(
  db: Db,
  row: typeof reconciliations.$inferSelect,
): Promise<StoredReconciliation> {
  const found = await db
    .select()
    .from(reconciliationDiscrepancies)
    .where(eq(reconciliationDiscrepancies.billDate, row.billDate))
    .orderBy(asc(reconciliationDiscrepancies.id))
  const discrepancies: Discrepancy[] = found.map((d) => ({
    kind: d.kind as Discrepancy['kind'],
    ...(d.outTradeNo !== null ? { outTradeNo: d.outTradeNo } : {}),
    ...(d.outRefundNo !== null ? { outRefundNo: d.outRefundNo } : {}),
    ...(d.transactionId !== null ? { transactionId: d.transactionId } : {}),
    ...(d.oursFen !== null ? { oursFen: d.oursFen } : {}),
    ...(d.theirsFen !== null ? { theirsFen: d.theirsFen } : {}),
    detail: d.detail,
    ...(d.rawLine !== null ? { rawLine: d.rawLine } : {}),
  }))
  return {
    date: row.billDate,
    status: row.status as StoredReconciliation['status'],
    ranAt: row.ranAt.toISOString(),
    counts: {
      ours: row.oursCount,
      theirs: row.theirsCount,
      matched: row.matchedCount,
      discrepancies: discrepancies.length,
    },
    discrepancies,
  }
}
