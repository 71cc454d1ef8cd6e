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
} from '@fen/shared'
import type { BannerRow, CategoryRow } from '../repositories/catalogue'
import type { DeliveryRow } from '../repositories/deliveries'
import type { OrderItemRow, OrderRow } from '../repositories/orders'
import type { OutboxRow } from '../repositories/events'
import type { OutboxDeliveryRow } from '../repositories/outbox-deliveries'
import type { ProductRow } from '../repositories/products'
import type { RefundRow } from '../repositories/refunds'

/** Database rows → the API's shapes (packages/shared). One place, so no route hand-builds a DTO. */
export function orderView(o: OrderRow, items: OrderItemRow[], delivery?: DeliveryRow): Order {
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
    })),
    createdAt: o.createdAt.toISOString(),
    expiresAt: o.expiresAt.toISOString(),
    ...(o.paidAt ? { paidAt: o.paidAt.toISOString() } : {}),
    ...(o.closedAt ? { closedAt: o.closedAt.toISOString() } : {}),
    ...(delivery ? { delivery: deliveryView(delivery) } : {}),
    ...(o.completedAt ? { completedAt: o.completedAt.toISOString() } : {}),
  }
}

export function productView(p: ProductRow): Product {
  return {
    id: p.id,
    title: p.title,
    priceFen: p.priceFen,
    stock: p.stock,
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
    ...(d.trackingNo ? { trackingNo: d.trackingNo } : {}),
    itemDesc: d.itemDesc,
    ...(d.contactMasked ? { contactMasked: d.contactMasked } : {}),
    ...(d.uploadedAt ? { uploadedAt: d.uploadedAt.toISOString() } : {}),
    shippedAt: d.shippedAt.toISOString(),
  }
}

export function adminOrderView(
  o: OrderRow,
  items: OrderItemRow[],
  delivery?: DeliveryRow,
): AdminOrder {
  return {
    ...orderView(o, items, delivery),
    userId: o.userId,
    apiVersion: o.apiVersion as 'v3' | 'v2',
    ...(o.channel ? { channel: o.channel as PayChannel } : {}),
    ...(o.transactionId ? { transactionId: o.transactionId } : {}),
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
            sink: d.sink,
            attempts: d.attempts,
            status: d.status as 'pending' | 'delivered' | 'failed',
            ...(d.lastError ? { lastError: d.lastError } : {}),
            ...(d.status === 'pending' ? { nextAttemptAt: d.nextAttemptAt.toISOString() } : {}),
          })),
        }
      : {}),
  }
}
