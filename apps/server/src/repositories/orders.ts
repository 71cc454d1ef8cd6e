import { and, asc, desc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm'
import { OPEN_REFUND_STATUSES, ORDER_TRANSITIONS } from '@fen/shared'
import type { Db } from '../db/client'
import { prepared, preparedQuery } from '../db/prepared'
import { fromRow } from '../db/rows'
import { deliveries, orderItems, orders, payments } from '../db/schema'

export type OrderRow = typeof orders.$inferSelect
export type OrderItemRow = typeof orderItems.$inferSelect
export type PaymentRow = typeof payments.$inferSelect

/**
 * Inserts an order and its lines in one statement; returns the rows as stored (defaults filled in).
 * Raw SQL, not drizzle's insert builder: building the orders insert (every column, each value's
 * type looked up anew) and the lines' was the largest item in a CPU profile of creating orders.
 */
export async function insertOrder(
  db: Db,
  order: NewOrder,
  items: NewOrderItem[],
): Promise<{ order: OrderRow; items: OrderItemRow[] }> {
  const [row] = await preparedQuery<{ order: unknown; items: unknown[] }>(
    db,
    `insert_order_${items.length}`,
    insertOrderText(items.length),
    [
      order.orderNo,
      order.userId,
      order.status,
      order.totalFen,
      order.apiVersion,
      order.createdAt,
      order.expiresAt,
      order.idempotencyKey,
      order.requestHash,
      order.address ? JSON.stringify(order.address) : null,
      order.deliveryMethod,
      order.remark,
      order.virtualGoods,
      ...items.flatMap((i) => [
        i.productId,
        i.title,
        i.unitPriceFen,
        i.quantity,
        i.imageUrl ?? null,
        i.spec ? JSON.stringify(i.spec) : null,
        i.specLabel ?? '',
      ]),
    ],
  )
  return {
    order: fromRow(orders, row!.order),
    items: row!.items.map((i) => fromRow(orderItems, i)),
  }
}

/** insertOrder's statements by number of lines, built once each. */
const insertOrderTexts = new Map<number, string>()

/** insertOrder's statement for `lines` lines: $1–$13 the order, then 7 parameters a line. */
function insertOrderText(lines: number): string {
  const built = insertOrderTexts.get(lines)
  if (built) return built
  const values = Array.from({ length: lines }, (_, l) => {
    const p = (k: number) => `$${14 + l * 7 + k}`
    return `(${p(0)}::int, ${p(1)}::text, ${p(2)}::int, ${p(3)}::int, ${p(4)}::text, ${p(5)}::jsonb, ${p(6)}::text)`
  })
  const text = `
    with o as (
      insert into orders (order_no, user_id, status, total_fen, api_version, created_at, expires_at,
                          idempotency_key, request_hash, address, delivery_method, remark,
                          virtual_goods)
      values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13)
      returning *
    ), i as (
      insert into order_items (order_no, product_id, title, unit_price_fen, quantity, image_url,
                               spec, spec_label)
      select o.order_no, l.* from o,
        (values ${values.join(', ')}) as l(product_id, title, unit_price_fen, quantity, image_url,
                                            spec, spec_label)
      returning *
    )
    select (select row_to_json(o) from o) as "order",
           (select json_agg(i order by i.id) from i) as items`
  insertOrderTexts.set(lines, text)
  return text
}

/** What creating an order writes (the rest are the columns' defaults). */
export type NewOrder = Required<
  Pick<
    typeof orders.$inferInsert,
    | 'orderNo'
    | 'userId'
    | 'status'
    | 'totalFen'
    | 'apiVersion'
    | 'createdAt'
    | 'expiresAt'
    | 'idempotencyKey'
    | 'requestHash'
    | 'address'
    | 'deliveryMethod'
    | 'remark'
    | 'virtualGoods'
  >
>
export type NewOrderItem = Omit<typeof orderItems.$inferInsert, 'id'>

export async function findOrder(db: Db, orderNo: string): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(orders).where(eq(orders.orderNo, orderNo))
  return row
}

/** The order row, locked until the transaction ends (`SELECT … FOR UPDATE`). */
export async function lockOrder(db: Db, orderNo: string): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(orders).where(eq(orders.orderNo, orderNo)).for('update')
  return row
}

/** A user's order; another user's order is simply not found. */
export async function findUserOrder(
  db: Db,
  userId: number,
  orderNo: string,
): Promise<OrderRow | undefined> {
  const [row] = await prepared(db, 'find_user_order', (d) =>
    d
      .select()
      .from(orders)
      .where(
        and(
          eq(orders.orderNo, sql.placeholder('orderNo')),
          eq(orders.userId, sql.placeholder('userId')),
        ),
      ),
  ).execute({ orderNo, userId })
  return row
}

export async function findByIdempotencyKey(
  db: Db,
  userId: number,
  key: string,
): Promise<OrderRow | undefined> {
  const [row] = await prepared(db, 'find_by_idempotency_key', (d) =>
    d
      .select()
      .from(orders)
      .where(
        and(
          eq(orders.userId, sql.placeholder('userId')),
          eq(orders.idempotencyKey, sql.placeholder('key')),
        ),
      ),
  ).execute({ userId, key })
  return row
}

export function listUserOrders(db: Db, userId: number, limit = 50): Promise<OrderRow[]> {
  return db
    .select()
    .from(orders)
    .where(eq(orders.userId, userId))
    .orderBy(desc(orders.createdAt))
    .limit(limit)
}

/** Lines of several orders, grouped by order. */
export async function itemsOf(db: Db, orderNos: string[]): Promise<Map<string, OrderItemRow[]>> {
  const map = new Map<string, OrderItemRow[]>()
  if (orderNos.length === 0) return map
  const rows = await db
    .select()
    .from(orderItems)
    .where(inArray(orderItems.orderNo, orderNos))
    .orderBy(asc(orderItems.id))
  for (const r of rows) map.set(r.orderNo, [...(map.get(r.orderNo) ?? []), r])
  return map
}

/** One order's lines, in order (a pay reads them for the description). */
export function itemsOfOrder(db: Db, orderNo: string): Promise<OrderItemRow[]> {
  return prepared(db, 'items_of_order', (d) =>
    d
      .select()
      .from(orderItems)
      .where(eq(orderItems.orderNo, sql.placeholder('orderNo')))
      .orderBy(asc(orderItems.id)),
  ).execute({ orderNo })
}

/** PENDING → PAID, once. Undefined when the order was not PENDING. */
export async function markPaid(
  db: Db,
  orderNo: string,
  p: { transactionId: string; paidAt: Date },
): Promise<OrderRow | undefined> {
  const [row] = await db
    .update(orders)
    .set({ status: 'PAID', transactionId: p.transactionId, paidAt: p.paidAt })
    .where(and(eq(orders.orderNo, orderNo), inArray(orders.status, ORDER_TRANSITIONS.pay.from)))
    .returning()
  return row
}

/** A payment that arrived after the order closed: CLOSED → REFUNDING, recording the payment. */
export async function markPaidAfterClose(
  db: Db,
  orderNo: string,
  p: { transactionId: string; paidAt: Date },
): Promise<OrderRow | undefined> {
  const [row] = await db
    .update(orders)
    .set({ status: 'REFUNDING', transactionId: p.transactionId, paidAt: p.paidAt })
    .where(
      and(
        eq(orders.orderNo, orderNo),
        inArray(orders.status, ORDER_TRANSITIONS.payAfterClose.from),
        isNull(orders.transactionId),
      ),
    )
    .returning()
  return row
}

/**
 * PENDING → CLOSED, once; with `unprepaidOnly`, only while no prepay is recorded. Undefined when
 * the order did not qualify.
 */
export async function markClosed(
  db: Db,
  orderNo: string,
  reason: string,
  at: Date,
  unprepaidOnly = false,
): Promise<OrderRow | undefined> {
  const [row] = await db
    .update(orders)
    .set({ status: 'CLOSED', closedAt: at, closeReason: reason, leaseUntil: null })
    .where(
      and(
        eq(orders.orderNo, orderNo),
        inArray(orders.status, ORDER_TRANSITIONS.close.from),
        unprepaidOnly ? isNull(orders.channel) : undefined,
      ),
    )
    .returning()
  return row
}

/**
 * Records a prepay on a PENDING order whose channel is unset or the same. Undefined when the order
 * moved on meanwhile (paid, closed) or was prepaid through the other channel.
 */
export async function recordPrepay(
  db: Db,
  orderNo: string,
  p: { channel: string; prepayId?: string; codeUrl?: string; prepayExpiresAt: Date },
): Promise<OrderRow | undefined> {
  const [row] = await prepared(db, 'record_prepay', (d) =>
    d
      .update(orders)
      .set({
        channel: sql`${sql.placeholder('channel')}`,
        prepayExpiresAt: sql`${sql.placeholder('prepayExpiresAt')}`,
        // A JSAPI prepay leaves the code_url as it was, a Native one the prepay_id.
        prepayId: sql`coalesce(${sql.placeholder('prepayId')}, ${orders.prepayId})`,
        codeUrl: sql`coalesce(${sql.placeholder('codeUrl')}, ${orders.codeUrl})`,
      })
      .where(
        and(
          eq(orders.orderNo, sql.placeholder('orderNo')),
          eq(orders.status, 'PENDING'),
          or(isNull(orders.channel), eq(orders.channel, sql.placeholder('channel'))),
        ),
      )
      .returning(),
  ).execute({
    orderNo,
    channel: p.channel,
    prepayExpiresAt: p.prepayExpiresAt,
    prepayId: p.prepayId ?? null,
    codeUrl: p.codeUrl ?? null,
  })
  return row
}

export async function touchSynced(db: Db, orderNo: string, at: Date): Promise<void> {
  await db.update(orders).set({ lastSyncedAt: at }).where(eq(orders.orderNo, orderNo))
}

/**
 * Claims up to `limit` expired PENDING orders for one sweeper, for `leaseMs`: other instances skip
 * rows locked by this claim (`FOR UPDATE SKIP LOCKED`) and rows still under someone's lease. The
 * WeChat calls happen after the claim's short transaction, never inside it.
 */
export async function claimExpiredOrders(
  db: Db,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<OrderRow[]> {
  return db.transaction(async (tx) => {
    const due = await tx
      .select({ orderNo: orders.orderNo })
      .from(orders)
      .where(
        and(
          eq(orders.status, 'PENDING'),
          lt(orders.expiresAt, now),
          or(isNull(orders.leaseUntil), lt(orders.leaseUntil, now)),
        ),
      )
      .orderBy(orders.expiresAt)
      .limit(limit)
      .for('update', { skipLocked: true })
    if (due.length === 0) return []
    return tx
      .update(orders)
      .set({ leaseUntil: new Date(now.getTime() + leaseMs) })
      .where(
        inArray(
          orders.orderNo,
          due.map((d) => d.orderNo),
        ),
      )
      .returning()
  })
}

/**
 * Sets `refunded_fen` and the status of a paid order from its refunds: any refund still open →
 * REFUNDING; all of it refunded → REFUNDED; some → PARTIALLY_REFUNDED; none → where fulfilment
 * stands (COMPLETED once receipt was confirmed, SHIPPED once a delivery is recorded, else PAID) —
 * except an order paid after it closed (`closed_at` set), which was never fulfilled and owes the
 * shopper all of their money: it stays REFUNDING until fully refunded. So an after-sales refund of
 * a shipped or completed order shows as REFUNDING / PARTIALLY_REFUNDED / REFUNDED, and a refund
 * that failed puts it back to SHIPPED or COMPLETED. The refund of a second payment
 * (`payment_transaction_id` set) is not the order's and is left out. Callers hold the order's row lock.
 */
export async function recomputeRefundState(db: Db, orderNo: string): Promise<void> {
  await db.execute(sql`
    update orders o set
      refunded_fen = s.done,
      status = case
                when s.open > 0 then 'REFUNDING'
        when s.done >= o.total_fen then 'REFUNDED'
        when o.closed_at is not null then 'REFUNDING'
        when s.done > 0 then 'PARTIALLY_REFUNDED'
        when o.completed_at is not null then 'COMPLETED'
        when exists (select 1 from deliveries d where d.order_no = o.order_no) then 'SHIPPED'
        else 'PAID' end
    from (
      select
        coalesce(sum(amount_fen) filter (where status = 'SUCCESS'), 0) as done,
        coalesce(sum(amount_fen) filter (where status in ${OPEN_REFUND_STATUSES}), 0) as open
      -- A second payment's refund gives back that payment, not the order's money.
      from refunds where order_no = ${orderNo} and payment_transaction_id is null
    ) s
    where o.order_no = ${orderNo}
      and o.status in ${ORDER_TRANSITIONS.settleRefunds.from}`)
}

/**
 * Shipped: PAID → SHIPPED; a partly refunded order (REFUNDING, PARTIALLY_REFUNDED) keeps its
 * status, the delivery recorded beside it. Undefined when the status allows no shipping.
 */
export async function markShipped(db: Db, orderNo: string): Promise<OrderRow | undefined> {
  const [row] = await db
    .update(orders)
    .set({
      status: sql`case when ${orders.status} = 'PAID' then 'SHIPPED' else ${orders.status} end`,
    })
    .where(and(eq(orders.orderNo, orderNo), inArray(orders.status, ORDER_TRANSITIONS.ship.from)))
    .returning()
  return row
}

/**
 * Receipt confirmed, once: `completed_at` set where it is unset, and SHIPPED → COMPLETED. An order
 * refunded meanwhile (REFUNDING, PARTIALLY_REFUNDED, REFUNDED after shipping) keeps its refund
 * status but records the time, so a failed refund later puts it back to COMPLETED. Undefined when
 * nothing changed (completed already, or never shipped).
 */
export async function markCompleted(
  db: Db,
  orderNo: string,
  at: Date,
): Promise<OrderRow | undefined> {
  const [row] = await db
    .update(orders)
    .set({
      completedAt: at,
      status: sql`case when ${orders.status} = 'SHIPPED' then 'COMPLETED' else ${orders.status} end`,
    })
    .where(
      and(
        eq(orders.orderNo, orderNo),
        isNull(orders.completedAt),
        inArray(orders.status, ORDER_TRANSITIONS.complete.from),
        sql`exists (select 1 from deliveries d where d.order_no = ${orders.orderNo})`,
      ),
    )
    .returning()
  return row
}

/**
 * Shipped orders whose receipt is the shop's (their delivery is not reported to WeChat), shipped
 * before `before` and not received yet: the ones the shop's rule now counts as received. Read
 * through the status index: unreceived shipped orders are few, whatever the history.
 */
export async function overdueShopReceipts(db: Db, before: Date, limit: number): Promise<string[]> {
  const rows = await db
    .select({ orderNo: orders.orderNo })
    .from(orders)
    .innerJoin(deliveries, eq(deliveries.orderNo, orders.orderNo))
    .where(
      and(
        inArray(orders.status, ORDER_TRANSITIONS.complete.from),
        isNull(orders.completedAt),
        eq(deliveries.reportToWechat, false),
        lt(deliveries.shippedAt, before),
      ),
    )
    .orderBy(deliveries.shippedAt)
    .limit(limit)
  return rows.map((r) => r.orderNo)
}

/**
 * PAID orders of virtual goods only that are not shipped yet (the shipping job ships them), oldest
 * payment first: orders created with every line virtual (`virtual_goods`), read through the
 * partial index orders_paid_virtual, which holds nothing else — never a scan of every PAID order.
 */
export async function paidVirtualOrders(db: Db, limit: number): Promise<string[]> {
  const rows = await db
    .select({ orderNo: orders.orderNo })
    .from(orders)
    .where(
      and(
        eq(orders.status, 'PAID'),
        eq(orders.virtualGoods, true),
        sql`not exists (select 1 from deliveries d where d.order_no = ${orders.orderNo})`,
      ),
    )
    .orderBy(orders.paidAt)
    .limit(limit)
  return rows.map((r) => r.orderNo)
}

/** Records a payment WeChat reported; a second report of the same transaction is a no-op. */
export async function recordPayment(db: Db, p: typeof payments.$inferInsert): Promise<void> {
  await db.insert(payments).values(p).onConflictDoNothing({ target: payments.transactionId })
}

/** The payment recorded under a WeChat transaction id, whichever order it paid. */
export async function findPayment(db: Db, transactionId: string): Promise<PaymentRow | undefined> {
  const [row] = await db.select().from(payments).where(eq(payments.transactionId, transactionId))
  return row
}

export function paymentsOf(db: Db, orderNo: string): Promise<PaymentRow[]> {
  return db.select().from(payments).where(eq(payments.orderNo, orderNo)).orderBy(payments.createdAt)
}

/** Orders counted by status (for the metrics). */
export async function countByStatus(db: Db): Promise<{ status: string; count: number }[]> {
  const rows = await db
    .select({ status: orders.status, count: sql<number>`count(*)::int` })
    .from(orders)
    .groupBy(orders.status)
  return rows
}

/**
 * What the user's PENDING (open, unpaid) orders hold: how many there are, and — for `productIds`
 * (none: not read) — the units of each of those products on their lines, summed over specs.
 * One statement either way, read after lockUser: a subquery of the locking statement itself would
 * count in that statement's snapshot, taken before it waited for the lock, and miss the order a
 * concurrent create just committed.
 */
export async function openOrdersOf(
  db: Db,
  userId: number,
  productIds: number[],
): Promise<{ count: number; units: Map<number, number> }> {
  if (productIds.length === 0) {
    const [row] = await preparedQuery<{ n: number }>(
      db,
      'count_open_orders',
      "select count(*)::int as n from orders where user_id = $1 and status = 'PENDING'",
      [userId],
    )
    return { count: row?.n ?? 0, units: new Map() }
  }
  const [row] = await preparedQuery<{ n: number; held: Record<string, number> }>(
    db,
    'open_orders_and_units',
    `select (select count(*)::int from orders where user_id = $1 and status = 'PENDING') as n,
            coalesce((select jsonb_object_agg(s.product_id, s.units) from (
              select i.product_id, sum(i.quantity)::int as units
                from orders o join order_items i on i.order_no = o.order_no
               where o.user_id = $1 and o.status = 'PENDING' and i.product_id = any($2::int[])
               group by i.product_id) s), '{}'::jsonb) as held`,
    [userId, productIds],
  )
  const units = new Map(Object.entries(row?.held ?? {}).map(([id, n]) => [Number(id), n]))
  return { count: row?.n ?? 0, units }
}
