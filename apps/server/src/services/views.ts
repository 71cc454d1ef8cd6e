import type {
  AdminOrder,
  Banner,
  Category,
  Delivery,
  Order,
  OutboxEvent,
  PayChannel,
  Product,
  Refund,
  RefundRequestView,
  TimelineEntry,
} from '@fen/shared'
import { fulfilmentStage, operatorActions, refundableFen, shopperActions } from '@fen/shared'
import { orderFacts, type OrderHistory } from '../domain/facts'
import type { BannerRow, CategoryRow } from '../repositories/catalogue'
import type { DeliveryRow } from '../repositories/deliveries'
import type { OrderItemRow, OrderRow } from '../repositories/orders'
import type { OutboxRow } from '../repositories/events'
import type { OutboxDeliveryRow } from '../repositories/outbox-deliveries'
import type { ProductRow } from '../repositories/products'
import type { RefundRequestRow } from '../repositories/refund-requests'
import type { RefundRow } from '../repositories/refunds'
import { redactSink, redactUrlsIn } from '../urls'

/** Database rows → the API's shapes (packages/shared). One place, so no route hand-builds a DTO. */
export function orderView(o: OrderRow, items: OrderItemRow[], history: OrderHistory = {}): Order {
  const { delivery } = history
  const facts = orderFacts(o, history)
  return {
    orderNo: o.orderNo,
    status: o.status as Order['status'],
    totalFen: o.totalFen,
    refundedFen: o.refundedFen,
    items: items.map((i) => ({
      productId: i.productId,
      title: i.title,
      quantity: i.quantity,
      unitPriceFen: i.unitPriceFen,
      ...(i.imageUrl ? { imageUrl: i.imageUrl } : {}),
      ...(i.spec ? { spec: i.spec } : {}),
      ...(i.specLabel ? { specLabel: i.specLabel } : {}),
    })),
    createdAt: o.createdAt.toISOString(),
    expiresAt: o.expiresAt.toISOString(),
    ...(o.paidAt ? { paidAt: o.paidAt.toISOString() } : {}),
    ...(o.closedAt ? { closedAt: o.closedAt.toISOString() } : {}),
    ...(delivery ? { delivery: deliveryView(delivery) } : {}),
    ...(o.completedAt ? { completedAt: o.completedAt.toISOString() } : {}),
    ...(o.address ? { address: o.address } : {}),
    deliveryMethod: o.deliveryMethod as Order['deliveryMethod'],
    ...(o.remark ? { remark: o.remark } : {}),
    timeline: timeline(o, history),
    ...(history.refundRequests?.length
      ? { refundRequests: history.refundRequests.map(refundRequestView) }
      : {}),
    ...(o.channel ? { channel: o.channel as PayChannel } : {}),
    actions: shopperActions(facts),
    refundableFen: refundableFen(facts.totalFen, facts.refunds),
    fulfilment: fulfilmentStage(facts),
  }
}

/**
 * The order's steps, in the order they happened: created, paid, shipped, received (WeChat reported
 * receipt confirmed), each refund request the shopper made, each refund that went through (a second payment's refund is not one of the
 * order's), closed — a payment after close shows closed, then paid. Each `at` is the time as
 * recorded; the order of the steps also knows what must come after what, because WeChat's times
 * (payment, refund) have whole seconds and can read a little earlier than our own (created,
 * shipped) that preceded them.
 */
function timeline(
  o: OrderRow,
  { delivery, refunds = [], refundRequests = [] }: OrderHistory,
): TimelineEntry[] {
  const steps: { kind: TimelineEntry['kind']; at: Date; sortAt: number }[] = []
  const add = (kind: TimelineEntry['kind'], at: Date | null | undefined, after: number) => {
    if (!at) return undefined
    const sortAt = Math.max(at.getTime(), after)
    steps.push({ kind, at, sortAt })
    return sortAt
  }
  const created = add('created', o.createdAt, 0)!
  add('closed', o.closedAt, created)
  const paid = add('paid', o.paidAt, created) ?? created
  const shipped = add('shipped', delivery?.shippedAt, paid) ?? paid
  add('received', o.completedAt, shipped)
  for (const r of [...refundRequests].reverse()) add('refund_requested', r.createdAt, paid)
  for (const r of refunds) {
    if (r.status === 'SUCCESS' && !r.paymentTransactionId) {
      // After its own creation (ours), so after the shopper's request that led to it.
      add('refunded', r.settledAt, Math.max(shipped, r.createdAt.getTime()))
    }
  }
  // Ties (equal times) keep the order added: created, closed, paid, shipped, received, requested,
  // refunded.
  return steps
    .sort((a, b) => a.sortAt - b.sortAt)
    .map((s) => ({ kind: s.kind, at: s.at.toISOString() }))
}

/** A product as the shop shows it; `purchaseLimit` is services/orders.ts's purchaseLimit(). */
export function productView(p: ProductRow, purchaseLimit: number): Product {
  return {
    id: p.id,
    title: p.title,
    priceFen: p.priceFen,
    stock: p.stock,
    purchaseLimit,
    ...(p.imageUrl ? { imageUrl: p.imageUrl } : {}),
    images: p.images,
    ...(p.category ? { category: p.category } : {}),
    description: p.description,
    ...(p.specs?.length ? { specs: p.specs } : {}),
    ...(p.isVirtual ? { virtual: true as const } : {}),
  }
}

export function categoryView(c: CategoryRow): Category {
  return { id: c.id, name: c.name }
}

export function bannerView(b: BannerRow): Banner {
  return {
    id: b.id,
    title: b.title,
    imageUrl: b.imageUrl,
    ...(b.productId !== null ? { productId: b.productId } : {}),
  }
}

export function deliveryView(d: DeliveryRow): Delivery {
  return {
    logisticsType: d.logisticsType as Delivery['logisticsType'],
    ...(d.expressCompany ? { expressCompany: d.expressCompany } : {}),
    ...(d.expressCompanyName ? { expressCompanyName: d.expressCompanyName } : {}),
    ...(d.trackingNo ? { trackingNo: d.trackingNo } : {}),
    itemDesc: d.itemDesc,
    ...(d.contactMasked ? { contactMasked: d.contactMasked } : {}),
    ...(d.uploadedAt ? { uploadedAt: d.uploadedAt.toISOString() } : {}),
    wechatReport: !d.reportToWechat
      ? 'not_required'
      : d.uploadedAt
        ? 'uploaded'
        : d.uploadGaveUpAt
          ? 'refused'
          : 'pending',
    shippedAt: d.shippedAt.toISOString(),
  }
}

export function adminOrderView(
  o: OrderRow,
  items: OrderItemRow[],
  history: OrderHistory = {},
): AdminOrder {
  return {
    ...orderView(o, items, history),
    userId: o.userId,
    actions: operatorActions(orderFacts(o, history)),
    apiVersion: o.apiVersion as 'v3' | 'v2',
    ...(o.transactionId ? { transactionId: o.transactionId } : {}),
  }
}

export function refundRequestView(r: RefundRequestRow): RefundRequestView {
  return {
    id: r.id,
    orderNo: r.orderNo,
    amountFen: r.amountFen,
    reason: r.reason,
    status: r.status as RefundRequestView['status'],
    ...(r.rejectReason ? { rejectReason: r.rejectReason } : {}),
    ...(r.refundNo ? { refundNo: r.refundNo } : {}),
    ...(r.automatic ? { automatic: true as const } : {}),
    createdAt: r.createdAt.toISOString(),
    ...(r.decidedAt ? { decidedAt: r.decidedAt.toISOString() } : {}),
  }
}

export function refundView(r: RefundRow): Refund {
  return {
    outRefundNo: r.outRefundNo,
    amountFen: r.amountFen,
    reason: r.reason,
    status: r.status as Refund['status'],
    automatic: r.automatic,
    ...(r.paymentTransactionId ? { paymentTransactionId: r.paymentTransactionId } : {}),
    createdAt: r.createdAt.toISOString(),
    ...(r.refundId ? { refundId: r.refundId } : {}),
    ...(r.settledAt ? { settledAt: r.settledAt.toISOString() } : {}),
  }
}

export function eventView(e: OutboxRow, deliveries: OutboxDeliveryRow[] = []): OutboxEvent {
  return {
    id: e.id,
    type: e.type as OutboxEvent['type'],
    orderNo: e.orderNo,
    createdAt: e.createdAt.toISOString(),
    deliveredAt: e.deliveredAt ? e.deliveredAt.toISOString() : null,
    ...(deliveries.length
      ? {
          deliveries: deliveries.map((d) => ({
            sink: redactSink(d.sink),
            attempts: d.attempts,
            status: d.status as 'pending' | 'delivered' | 'failed',
            // Rows written before errors were redacted may still quote a URL.
            ...(d.lastError ? { lastError: redactUrlsIn(d.lastError) } : {}),
            ...(d.status === 'pending' ? { nextAttemptAt: d.nextAttemptAt.toISOString() } : {}),
          })),
        }
      : {}),
  }
}
