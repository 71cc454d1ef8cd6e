import { and, desc, eq, inArray } from 'drizzle-orm'
import type { RefundRequestStatus } from '@fen/shared'
import type { Db } from '../db/client'
import { refundRequests } from '../db/schema'

export type RefundRequestRow = typeof refundRequests.$inferSelect

export async function insertRefundRequest(
  db: Db,
  r: typeof refundRequests.$inferInsert,
): Promise<RefundRequestRow> {
  const [row] = await db.insert(refundRequests).values(r).returning()
  return row!
}

export async function findRefundRequest(db: Db, id: number): Promise<RefundRequestRow | undefined> {
  const [row] = await db.select().from(refundRequests).where(eq(refundRequests.id, id))
  return row
}

/** The order's requests, newest first. */
export function refundRequestsOf(db: Db, orderNo: string): Promise<RefundRequestRow[]> {
  return db
    .select()
    .from(refundRequests)
    .where(eq(refundRequests.orderNo, orderNo))
    .orderBy(desc(refundRequests.createdAt), desc(refundRequests.id))
}

/** The requests of several orders, newest first, grouped by order. */
export async function refundRequestsOfOrders(
  db: Db,
  orderNos: string[],
): Promise<Map<string, RefundRequestRow[]>> {
  const map = new Map<string, RefundRequestRow[]>()
  if (orderNos.length === 0) return map
  const rows = await db
    .select()
    .from(refundRequests)
    .where(inArray(refundRequests.orderNo, orderNos))
    .orderBy(desc(refundRequests.createdAt), desc(refundRequests.id))
  for (const r of rows) map.set(r.orderNo, [...(map.get(r.orderNo) ?? []), r])
  return map
}

export function listRefundRequests(
  db: Db,
  status: RefundRequestStatus | undefined,
  limit: number,
): Promise<RefundRequestRow[]> {
  return db
    .select()
    .from(refundRequests)
    .where(status ? eq(refundRequests.status, status) : undefined)
    .orderBy(desc(refundRequests.createdAt), desc(refundRequests.id))
    .limit(limit)
}

/** pending → approved with its refund, once. Undefined when it was not pending. */
export async function markApproved(
  db: Db,
  id: number,
  d: { refundNo: string; automatic: boolean; at: Date },
): Promise<RefundRequestRow | undefined> {
  const [row] = await db
    .update(refundRequests)
    .set({ status: 'approved', refundNo: d.refundNo, automatic: d.automatic, decidedAt: d.at })
    .where(and(eq(refundRequests.id, id), eq(refundRequests.status, 'pending')))
    .returning()
  return row
}

/** pending → rejected, once. Undefined when it was not pending. */
export async function markRejected(
  db: Db,
  id: number,
  d: { reason: string; at: Date },
): Promise<RefundRequestRow | undefined> {
  const [row] = await db
    .update(refundRequests)
    .set({ status: 'rejected', rejectReason: d.reason, decidedAt: d.at })
    .where(and(eq(refundRequests.id, id), eq(refundRequests.status, 'pending')))
    .returning()
  return row
}
