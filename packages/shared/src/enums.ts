/**
 * An order's life: PENDING until WeChat confirms payment (PAID) or it is cancelled or expires
 * (CLOSED). A paid order is shipped (SHIPPED, by the operator or automatically for virtual goods)
 * and completed once WeChat reports the shopper confirmed receipt (COMPLETED).
 * Refunds move a paid, shipped or completed order through REFUNDING to PARTIALLY_REFUNDED or
 * REFUNDED (after-sales); the delivery and `completedAt` stay on the order. A refunded or
 * refunding order is never shipped. A payment that lands after CLOSED is refunded automatically
 * (CLOSED → REFUNDING → REFUNDED). See docs/api.md, "Order statuses".
 */
export const ORDER_STATUSES = [
  'PENDING',
  'PAID',
  'CLOSED',
  'REFUNDING',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
  'SHIPPED',
  'COMPLETED',
] as const
export type OrderStatus = (typeof ORDER_STATUSES)[number]

/** 中文 labels for each status, as the mini-program shows them. */
export const ORDER_STATUS_LABELS: Record<OrderStatus, string> = {
  PENDING: '待支付',
  PAID: '已支付',
  CLOSED: '已关闭',
  REFUNDING: '退款中',
  PARTIALLY_REFUNDED: '部分退款',
  REFUNDED: '已退款',
  SHIPPED: '已发货',
  COMPLETED: '已完成',
}

/** How a shopper pays: JSAPI inside WeChat (`wx.requestPayment`), Native QR on the web. */
export const PAY_CHANNELS = ['jsapi', 'native'] as const
export type PayChannel = (typeof PAY_CHANNELS)[number]

/** Events the outbox delivers to the shop's fulfilment hook, at least once each. */
export const OUTBOX_EVENT_TYPES = [
  'order.paid',
  'order.closed',
  'order.refunded',
  'order.shipped',
  'order.completed',
] as const
export type OutboxEventType = (typeof OUTBOX_EVENT_TYPES)[number]

/** A refund's life, as WeChat reports it, plus SUBMITTING (not yet accepted by WeChat). */
export const REFUND_STATUSES = [
  'SUBMITTING',
  'PROCESSING',
  'SUCCESS',
  'ABNORMAL',
  'CLOSED',
  'FAILED',
] as const
export type RefundStatus = (typeof REFUND_STATUSES)[number]

/**
 * How the goods reach the shopper (WeChat's `logistics_type` 1–4): express with a carrier and
 * tracking number, same-city delivery, virtual goods, or picked up by the shopper.
 */
export const LOGISTICS_TYPES = ['express', 'same_city', 'virtual', 'pickup'] as const
export type LogisticsTypeName = (typeof LOGISTICS_TYPES)[number]
