import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { deliveries } from '../db/schema'

export type DeliveryRow = typeof deliveries.$inferSelect
export type NewDelivery = typeof deliveries.$inferInsert

export async function insertDelivery(
  db: Db,
  d: typeof deliveries.$inferInsert,
): Promise<DeliveryRow> {
  const [row] = await db.insert(deliveries).values(d).returning()
  return row!
}

export async function findDelivery(db: Db, orderNo: string): Promise<DeliveryRow | undefined> {
  const [row] = await db.select().from(deliveries).where(eq(deliveries.orderNo, orderNo))
  return row
}

/** Deliveries of several orders, by order. */
export async function deliveriesOf(db: Db, orderNos: string[]): Promise<Map<string, DeliveryRow>> {
  const map = new Map<string, DeliveryRow>()
  if (orderNos.length === 0) return map
  const rows = await db.select().from(deliveries).where(inArray(deliveries.orderNo, orderNos))
  for (const r of rows) map.set(r.orderNo, r)
  return map
}

/** A report to WeChat still owed: to be reported, not accepted yet, not refused for good. */
const notUploaded = and(
  eq(deliveries.reportToWechat, true),
  isNull(deliveries.uploadedAt),
  isNull(deliveries.uploadGaveUpAt),
)

/**
 * Claims up to `limit` deliveries whose upload to WeChat is due, for one uploader, for `leaseMs`
 * (`FOR UPDATE SKIP LOCKED` and a lease, as claimExpiredOrders). The WeChat calls happen after
 * this short transaction.
 */
export async function claimDueUploads(
  db: Db,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<DeliveryRow[]> {
  return db.transaction(async (tx) => {
    const due = await tx
      .select({ orderNo: deliveries.orderNo })
      .from(deliveries)
      .where(
        and(
          notUploaded,
          lte(deliveries.nextUploadAt, now),
          or(isNull(deliveries.uploadLeaseUntil), lt(deliveries.uploadLeaseUntil, now)),
        ),
      )
      .orderBy(asc(deliveries.nextUploadAt))
      .limit(limit)
      .for('update', { skipLocked: true })
    if (due.length === 0) return []
    return tx
      .update(deliveries)
      .set({ uploadLeaseUntil: new Date(now.getTime() + leaseMs) })
      .where(
        inArray(
          deliveries.orderNo,
          due.map((d) => d.orderNo),
        ),
      )
      .returning()
  })
}

/**
 * Claims one order's pending upload (the ship request uploads at once): undefined when it is
 * uploaded already, given up, or held by another uploader.
 */
export async function claimUpload(
  db: Db,
  orderNo: string,
  now: Date,
  leaseMs: number,
): Promise<DeliveryRow | undefined> {
  const [row] = await db
    .update(deliveries)
    .set({ uploadLeaseUntil: new Date(now.getTime() + leaseMs) })
    .where(
      and(
        eq(deliveries.orderNo, orderNo),
        notUploaded,
        or(isNull(deliveries.uploadLeaseUntil), lt(deliveries.uploadLeaseUntil, now)),
      ),
    )
    .returning()
  return row
}

/**
 * The outcome of one upload try, written only while `lease` (the claim token) is still ours:
 * uploaded, failed for now (try again at `next`), or refused for good.
 */
export async function recordUpload(
  db: Db,
  orderNo: string,
  lease: Date,
  outcome:
    | { kind: 'uploaded'; at: Date }
    | { kind: 'retry'; error: string; next: Date }
    | { kind: 'gave_up'; error: string; at: Date },
): Promise<boolean> {
  const set =
    outcome.kind === 'uploaded'
      ? { uploadedAt: outcome.at }
      : outcome.kind === 'retry'
        ? { lastUploadError: outcome.error.slice(0, 500), nextUploadAt: outcome.next }
        : { lastUploadError: outcome.error.slice(0, 500), uploadGaveUpAt: outcome.at }
  const rows = await db
    .update(deliveries)
    .set({
      ...set,
      uploadAttempts: sql`${deliveries.uploadAttempts} + 1`,
      uploadLeaseUntil: null,
    })
    .where(and(eq(deliveries.orderNo, orderNo), eq(deliveries.uploadLeaseUntil, lease)))
    .returning({ orderNo: deliveries.orderNo })
  return rows.length === 1
}

/**
 * WeChat told us (a push) the order is shipped on its side: the report arrived, whatever our
 * last try saw (a timeout after WeChat applied it).
 */
export async function markUploadedByWechat(db: Db, orderNo: string, at: Date): Promise<boolean> {
  const rows = await db
    .update(deliveries)
    .set({ uploadedAt: at, uploadLeaseUntil: null })
    .where(and(eq(deliveries.orderNo, orderNo), isNull(deliveries.uploadedAt)))
    .returning({ orderNo: deliveries.orderNo })
  return rows.length === 1
}

/** Deliveries not yet accepted by WeChat, and those it refused for good (for the metrics). */
export async function uploadBacklog(db: Db): Promise<{ pending: number; gaveUp: number }> {
  const [row] = await db
    .select({
      pending: sql<number>`(count(*) filter (where ${notUploaded}))::int`,
      gaveUp: sql<number>`(count(*) filter (where ${deliveries.uploadGaveUpAt} is not null))::int`,
    })
    .from(deliveries)
  return { pending: row?.pending ?? 0, gaveUp: row?.gaveUp ?? 0 }
}
