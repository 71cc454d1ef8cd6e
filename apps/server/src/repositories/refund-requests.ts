import { and, desc, eq, gte, inArray, sql } from 'drizzle-orm'
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

/** A page of requests, newest first, after the cursor's (created_at, id); `limit + 1` rows. */
export function listRefundRequests(
  db: Db,
  status: RefundRequestStatus | undefined,
  after: { at: Date; id: number } | undefined,
  limit: number,
): Promise<RefundRequestRow[]> {
  return db
    .select()
    .from(refundRequests)
    .where(
      and(
        status ? eq(refundRequests.status, status) : undefined,
        after
          ? sql`(${refundRequests.createdAt}, ${refundRequests.id}) < (${after.at.toISOString()}::timestamptz, ${after.id})`
          : undefined,
      ),
    )
    .orderBy(desc(refundRequests.createdAt), desc(refundRequests.id))
    .limit(limit + 1)
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

/**
 * The shopper's requests approved automatically since `since`: how many, and their fen (the
 * budget of services/refund-requests.ts). Read through refund_requests_user_automatic.
 */
export async function automaticApprovalsSince(
  db: Db,
  userId: number,
  since: Date,
): Promise<{ count: number; fen: number }> {
  const [row] = await db
    .select({
      count: sql<number>`count(*)::int`,
      // bigint: many approvals' sum may pass int4; one request never does.
      fen: sql<string>`coalesce(sum(${refundRequests.amountFen}), 0)::bigint`,
    })
    .from(refundRequests)
    .where(
      and(
        eq(refundRequests.userId, userId),
        eq(refundRequests.automatic, true),
        eq(refundRequests.status, 'approved'),
        gte(refundRequests.decidedAt, since),
      ),
    )
  return { count: row!.count, fen: Number(row!.fen) }
}
