import {
  EVENT_PAYLOADS,
  canShip,
  reportsShipping,
  type CompletionSource,
  type EventPayload,
  type OutboxEventType,
  type PayChannel,
} from '@fen/shared'
import type { Db } from '../db/client'
import { AppError } from '../errors'
import { findDelivery, insertDelivery, type NewDelivery } from '../repositories/deliveries'
import { enqueueEvent } from '../repositories/events'
import {
  itemsOf,
  lockOrder,
  markClosed,
  markCompleted,
  markPaid,
  markPaidAfterClose,
  markShipped,
  recomputeRefundState,
  type OrderRow,
} from '../repositories/orders'
import { releaseStock } from '../repositories/products'
import { refundsOf, type RefundRow } from '../repositories/refunds'
import { orderFacts } from './facts'

/**
 * The one place that performs the order's transitions (issue #24). Each function runs inside the
 * caller's transaction and writes the order's new state together with its outbox event, so a
 * change and its announcement commit or roll back together; services decide when, repositories
 * store. The statuses each may start from are the shared table's (`ORDER_TRANSITIONS` in
 * packages/shared/src/lifecycle.ts), and every event is checked against the shared contract
 * (`EVENT_PAYLOADS`) before it is written. The one-statement path for a first payment
 * notification (repositories/notified-payments.ts) writes its `order.paid` in SQL, from a column
 * list typed by the same contract as `orderPaidPayload`.
 */

/**
 * Writes an outbox event once its payload passes the contract; a payload that does not throws, and
 * the caller's transaction — the change the event announces — rolls back with it.
 */
export async function emit<T extends OutboxEventType>(
  tx: Db,
  type: T,
  payload: EventPayload<T>,
  e: { orderNo: string; dedupeKey: string; at: Date },
): Promise<void> {
  const checked = EVENT_PAYLOADS[type].parse(payload) as object
  await enqueueEvent(tx, { type, payload: checked, ...e })
}

/** `order.paid`'s payload, from the paid order's row. */
export function orderPaidPayload(
  o: Pick<OrderRow, 'orderNo' | 'userId' | 'totalFen' | 'transactionId'>,
): EventPayload<'order.paid'> {
  return {
    orderNo: o.orderNo,
    userId: o.userId,
    totalFen: o.totalFen,
    transactionId: o.transactionId!,
  }
}

/** PENDING → PAID with its `order.paid`. Undefined when the order was not PENDING. */
export async function pay(
  tx: Db,
  orderNo: string,
  payment: { transactionId: string; paidAt: Date },
  at: Date,
): Promise<OrderRow | undefined> {
  const paid = await markPaid(tx, orderNo, payment)
  if (!paid) return undefined
  await emit(tx, 'order.paid', orderPaidPayload(paid), { orderNo, dedupeKey: orderNo, at })
  return paid
}

/**
 * A payment that landed after the order closed: CLOSED → REFUNDING, the payment recorded on the
 * order, no `order.paid` (nothing is fulfilled; the caller writes the automatic full refund).
 */
export async function payAfterClose(
  tx: Db,
  orderNo: string,
  payment: { transactionId: string; paidAt: Date },
): Promise<OrderRow | undefined> {
  return markPaidAfterClose(tx, orderNo, payment)
}

/**
 * PENDING → CLOSED (with `unprepaidOnly`, only while no prepay is recorded), its stock back and
 * `order.closed`. Undefined when the order did not qualify.
 */
export async function close(
  tx: Db,
  orderNo: string,
  reason: string,
  at: Date,
  opts: { unprepaidOnly?: boolean } = {},
): Promise<OrderRow | undefined> {
  const closed = await markClosed(tx, orderNo, reason, at, opts.unprepaidOnly ?? false)
  if (!closed) return undefined
  await releaseStock(tx, (await itemsOf(tx, [orderNo])).get(orderNo) ?? [])
  await emit(
    tx,
    'order.closed',
    { orderNo, userId: closed.userId, reason },
    { orderNo, dedupeKey: orderNo, at },
  )
  return closed
}

/**
 * Ships the order: its delivery recorded, PAID → SHIPPED (a partly refunded order keeps its refund
 * status: the delivery is recorded beside it), and `order.shipped`. Takes the order's row lock; an
 * order the rules say may not ship (unpaid, shipped already, refunded in full or being so, paid
 * after it closed) → ORDER_NOT_SHIPPABLE. `delivery` gets the order row to fill in what it needs
 * (the contact, the goods).
 */
export async function ship(
  tx: Db,
  orderNo: string,
  delivery: (order: OrderRow) => Promise<Omit<NewDelivery, 'orderNo'>>,
  at: Date,
): Promise<OrderRow> {
  const order = await lockOrder(tx, orderNo)
  if (!order) throw new AppError('ORDER_NOT_FOUND', '订单不存在')
  const facts = orderFacts(order, {
    delivery: await findDelivery(tx, orderNo),
    refunds: await refundsOf(tx, orderNo),
  })
  if (!canShip(facts)) {
    throw new AppError(
      'ORDER_NOT_SHIPPABLE',
      facts.status === 'PENDING' || facts.status === 'CLOSED'
        ? '订单未支付，不能发货'
        : facts.shipped
          ? '订单已发货'
          : '订单已全额退款或正在全额退款，不能发货',
    )
  }
  const d = await insertDelivery(tx, {
    orderNo,
    ...(await delivery(order)),
    reportToWechat: reportsShipping(order.channel as PayChannel | null),
  })
  // The row lock makes this CAS certain; kept a CAS so no path ever ships against the table.
  const shipped = await markShipped(tx, orderNo)
  if (!shipped) throw new AppError('ORDER_NOT_SHIPPABLE', '订单状态已变化，不能发货')
  await emit(
    tx,
    'order.shipped',
    {
      orderNo,
      userId: order.userId,
      logisticsType: d.logisticsType as EventPayload<'order.shipped'>['logisticsType'],
      ...(d.logisticsType === 'express' && d.expressCompany && d.trackingNo
        ? { expressCompany: d.expressCompany, trackingNo: d.trackingNo }
        : {}),
    },
    { orderNo, dedupeKey: orderNo, at },
  )
  return shipped
}

/**
 * Receipt confirmed, once: `completedAt` recorded, SHIPPED → COMPLETED (a refund status is kept),
 * and `order.completed`. Undefined when nothing changed (completed already, or never shipped).
 */
export async function complete(
  tx: Db,
  orderNo: string,
  completedAt: Date,
  source: CompletionSource,
  at: Date,
): Promise<OrderRow | undefined> {
  const done = await markCompleted(tx, orderNo, completedAt)
  if (!done) return undefined
  await emit(
    tx,
    'order.completed',
    { orderNo, userId: done.userId, completedAt: completedAt.toISOString(), source },
    { orderNo, dedupeKey: orderNo, at },
  )
  return done
}

/**
 * After a refund was written or changed status: the order's refunded amount and status follow its
 * refunds (see recomputeRefundState). The caller holds the order's row lock.
 */
export async function settleRefunds(tx: Db, orderNo: string): Promise<void> {
  await recomputeRefundState(tx, orderNo)
}

/**
 * A refund of the order's money reached SUCCESS: `order.refunded`, one per refund. (A second
 * payment's refund gives back that payment, not the order's money: no event.)
 */
export async function refundSucceeded(tx: Db, refund: RefundRow, at: Date): Promise<void> {
  if (refund.paymentTransactionId) return
  await emit(
    tx,
    'order.refunded',
    {
      orderNo: refund.orderNo,
      outRefundNo: refund.outRefundNo,
      amountFen: refund.amountFen,
      automatic: refund.automatic,
    },
    { orderNo: refund.orderNo, dedupeKey: refund.outRefundNo, at },
  )
}
