import { z } from 'zod'
import {
  LOGISTICS_TYPES,
  ORDER_STATUSES,
  OUTBOX_EVENT_TYPES,
  PAY_CHANNELS,
  REFUND_STATUSES,
} from './enums'
import { BeijingDate } from './reconciliation'
import { FULFILMENT_STAGES, OPERATOR_ACTIONS, SHOPPER_ACTIONS } from './lifecycle'
import { fen, isoTime, ProductId, text } from './fields'

import { Address, DeliveryMethod, LineSpec, Remark, TimelineEntry } from './checkout'
import { RefundRequestView } from './refund-requests'

export { ProductId } from './fields'
export * from './catalogue'
export * from './checkout'
export * from './refund-requests'

/**
 * The request and response bodies of the Fen API. The server parses every request with these and
 * builds every response to match them; the mini-program's request layer is typed by them.
 * Times are ISO 8601 strings in UTC; money is integer fen.
 */

/** An order number is WeChat's `out_trade_no`: 6–32 of `[0-9A-Za-z_-|*]`. */
export const OrderNo = z.string().regex(/^[0-9A-Za-z_\-|*]{6,32}$/, '订单号格式不正确')

// ---- auth ----------------------------------------------------------------------------------

export const LoginRequest = z.object({ code: text(128) })
export const LoginResponse = z.object({
  token: z.string(),
  expiresAt: isoTime,
  user: z.object({ id: z.number().int().positive() }),
})

// ---- catalogue: see ./catalogue.ts ---------------------------------------------------------

// ---- orders --------------------------------------------------------------------------------

/**
 * At most 99 of a product and 20 lines per order. One product may be on several lines only with
 * different specs (a hot and an iced latte). `deliveryMethod` defaults to pickup; express needs
 * the address.
 */
export const CreateOrderRequest = z
  .object({
    items: z
      .array(
        z.object({
          productId: ProductId,
          quantity: z.number().int().min(1).max(99),
          spec: LineSpec.optional(),
        }),
      )
      .min(1)
      .max(20)
      .refine((items) => new Set(items.map(lineKey)).size === items.length, {
        message: '同一商品同一规格请合并为一行',
      }),
    address: Address.optional(),
    deliveryMethod: DeliveryMethod.optional(),
    remark: Remark,
  })
  .refine((r) => r.deliveryMethod !== 'express' || r.address, {
    message: '快递配送需要填写收货地址',
    path: ['address'],
  })

/** A line's product and spec as one string: two lines with the same key are one line. */
function lineKey(line: { productId: number; spec?: Record<string, string> | undefined }): string {
  const spec = Object.entries(line.spec ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return JSON.stringify([line.productId, spec])
}

export const OrderItem = z.object({
  productId: ProductId,
  title: z.string(),
  quantity: z.number().int().positive(),
  unitPriceFen: fen,
  /** The product's picture when the order was made. */
  imageUrl: z.string().optional(),
  /** The spec of this line, every one of the product's specs chosen (defaults filled in). */
  spec: z.record(z.string(), z.string()).optional(),
  /** The spec as the shop shows it, in the product's order of specs (`冰/大杯`); see `specLabel`. */
  specLabel: z.string().optional(),
})

/**
 * How an order was shipped. `contactMasked` is the shopper's phone with all but the last 4 digits
 * masked (express only, when the order has an address). `uploadedAt` is when WeChat accepted the
 * shipping report (absent while it is still being reported; the server retries until it is).
 */
export const Delivery = z.object({
  logisticsType: z.enum(LOGISTICS_TYPES),
  expressCompany: z.string().optional(),
  /** The carrier's name as WeChat's list gives it (顺丰速运), for `expressCompany`. */
  expressCompanyName: z.string().optional(),
  trackingNo: z.string().optional(),
  itemDesc: z.string(),
  contactMasked: z.string().optional(),
  uploadedAt: isoTime.optional(),
  /**
   * The report to WeChat's shipping management: `pending` (being reported; retried until
   * accepted), `uploaded`, `refused` (for good: a person must look), or `not_required` — WeChat
   * covers mini-program (JSAPI) payments only, so a Native payment's delivery is never reported.
   */
  wechatReport: z.enum(['pending', 'uploaded', 'refused', 'not_required']),
  shippedAt: isoTime,
})

export const Order = z.object({
  orderNo: OrderNo,
  status: z.enum(ORDER_STATUSES),
  totalFen: fen,
  refundedFen: fen,
  items: z.array(OrderItem),
  createdAt: isoTime,
  expiresAt: isoTime,
  paidAt: isoTime.optional(),
  closedAt: isoTime.optional(),
  delivery: Delivery.optional(),
  /** When WeChat reported the shopper (or WeChat itself) confirmed receipt. */
  completedAt: isoTime.optional(),
  address: Address.optional(),
  deliveryMethod: DeliveryMethod,
  remark: z.string().optional(),
  /** What happened to the order, oldest first (built from its times, delivery and refunds). */
  timeline: z.array(TimelineEntry),
  /** The shopper's refund requests, newest first; absent when there are none. */
  refundRequests: z.array(RefundRequestView).optional(),
  /** How it was paid (or is being paid); absent before a prepay. */
  channel: z.enum(PAY_CHANNELS).optional(),
  /**
   * What the shopper may do now (packages/shared/src/lifecycle.ts decides; the shop shows exactly
   * these): `pay`, `cancel`, `confirm_receipt`, `request_refund`.
   */
  actions: z.array(z.enum(SHOPPER_ACTIONS)),
  /** What is left to refund: the total less refunds that went through or are under way. */
  refundableFen: fen,
  /** Where the goods stand, apart from the money: unpaid, to_ship, shipped, received, none. */
  fulfilment: z.enum(FULFILMENT_STAGES),
})
export const OrderList = z.array(Order)

// ---- paying --------------------------------------------------------------------------------

export const PayRequest = z.object({ channel: z.enum(PAY_CHANNELS) })

/** What `wx.requestPayment` takes (APIv3: signType RSA; APIv2: MD5 or HMAC-SHA256). */
export const RequestPaymentParams = z.object({
  appId: z.string(),
  timeStamp: z.string(),
  nonceStr: z.string(),
  package: z.string(),
  signType: z.enum(['RSA', 'MD5', 'HMAC-SHA256']),
  paySign: z.string(),
})

export const PayResponse = z.discriminatedUnion('channel', [
  z.object({ channel: z.literal('jsapi'), params: RequestPaymentParams }),
  z.object({ channel: z.literal('native'), codeUrl: z.string(), expiresAt: isoTime }),
])

// ---- admin ---------------------------------------------------------------------------------

/**
 * Every admin list is a page: `limit` (1–200, default 50) rows, newest first, and `nextCursor` to
 * pass back as `cursor` for the next page (null on the last). A cursor is opaque: it names the last
 * row seen, so rows inserted meanwhile never shift the pages (see apps/server/src/services/cursor.ts).
 */
export const AdminPageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(200).optional(),
})

export const AdminOrdersQuery = AdminPageQuery.extend({
  status: z.enum(ORDER_STATUSES).optional(),
  /** Created on or after this Beijing day… */
  from: BeijingDate.optional(),
  /** …and on or before this one. */
  to: BeijingDate.optional(),
  /** The whole order number. */
  orderNo: OrderNo.optional(),
  /** The last characters of the shopper's openid, as customer service reads them out. */
  openidSuffix: z
    .string()
    .regex(/^[0-9A-Za-z_-]{1,64}$/, 'openid 尾号只能包含字母、数字、下划线和连字符')
    .optional(),
})
export const AdminEventsQuery = AdminPageQuery.extend({ orderNo: OrderNo.optional() })
export const AdminRefundsQuery = AdminPageQuery.extend({
  status: z.enum(REFUND_STATUSES).optional(),
})

export const AdminRefundRequest = z.object({
  amountFen: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  /** Shown to the shopper by WeChat (up to 80 characters). */
  reason: text(80),
})

/**
 * `POST /api/admin/orders/:orderNo/ship`. Express needs the carrier (`expressCompany`: a
 * `delivery_id` of WeChat's get_delivery_list, e.g. `SF`, `YTO`) and the tracking number.
 * `itemDesc` defaults to the order's goods.
 */
export const ShipOrderRequest = z
  .object({
    logisticsType: z.enum(LOGISTICS_TYPES),
    expressCompany: z
      .string()
      .regex(/^[0-9A-Za-z_-]{1,128}$/, '快递公司请填写微信的 delivery_id（如 SF、YTO）')
      .optional(),
    trackingNo: z
      .string()
      .regex(/^[0-9A-Za-z-]{1,128}$/, '运单号只能包含字母、数字和连字符')
      .optional(),
    itemDesc: text(120).optional(),
  })
  .refine((r) => r.logisticsType !== 'express' || (r.expressCompany && r.trackingNo), {
    message: '快递发货需要填写快递公司和运单号',
    path: ['trackingNo'],
  })

/** A carrier of WeChat's `get_delivery_list`: `deliveryId` is what `expressCompany` takes. */
export const DeliveryCompany = z.object({ deliveryId: z.string(), name: z.string() })
/** `GET /api/admin/delivery-companies`: the carriers an operator picks from when shipping. */
export const DeliveryCompanyList = z.object({ items: z.array(DeliveryCompany) })

export const Payment = z.object({
  transactionId: z.string(),
  amountFen: fen,
  paidAt: isoTime,
  /** How we learned of it: WeChat's notification, or our own query. */
  source: z.enum(['notify', 'query']),
})

export const Refund = z.object({
  outRefundNo: z.string(),
  amountFen: fen,
  reason: z.string(),
  status: z.enum(REFUND_STATUSES),
  refundId: z.string().optional(),
  /** True for a refund the server made by itself: a payment after close, or a second payment. */
  automatic: z.boolean(),
  /**
   * The refund of a second payment (another transaction on an order already paid): the transaction
   * it gives back. Not part of the order's refunded amount.
   */
  paymentTransactionId: z.string().optional(),
  createdAt: isoTime,
  settledAt: isoTime.optional(),
})

export const NotificationRecord = z.object({
  id: z.string(),
  eventType: z.string(),
  /** applied, ignored (not a payment), or rejected (see `detail`); repeats are not stored again */
  outcome: z.string(),
  detail: z.string().optional(),
  receivedAt: isoTime,
})

export const OutboxEvent = z.object({
  id: z.number().int(),
  type: z.enum(OUTBOX_EVENT_TYPES),
  orderNo: OrderNo,
  createdAt: isoTime,
  deliveredAt: isoTime.nullable(),
  /**
   * Its deliveries to webhooks (`webhook:<url>`, the URL without credentials or query string: `?…`)
   * and NATS (`nats`), when any is configured.
   */
  deliveries: z
    .array(
      z.object({
        sink: z.string(),
        attempts: z.number().int(),
        status: z.enum(['pending', 'delivered', 'failed']),
        lastError: z.string().optional(),
        nextAttemptAt: isoTime.optional(),
      }),
    )
    .optional(),
})

export const AdminOrder = Order.extend({
  userId: z.number().int(),
  /** What an operator may do now: `ship`, `refund` (the console shows exactly these). */
  actions: z.array(z.enum(OPERATOR_ACTIONS)),
  transactionId: z.string().optional(),
  apiVersion: z.enum(['v3', 'v2']),
})
/** A page of an admin list. */
const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() })

export const AdminOrderPage = page(AdminOrder)
export const OutboxEventPage = page(OutboxEvent)
export const AdminRefund = Refund.extend({ orderNo: OrderNo })
export const AdminRefundPage = page(AdminRefund)

/** `GET /api/admin/summary`: the dashboard. "Today" is the Beijing day. */
export const AdminSummary = z.object({
  today: z.object({
    /** Orders created today. */
    orders: z.number().int(),
    /** Payments received today. */
    paidFen: fen,
    /** Refunds that reached the shopper today. */
    refundedFen: fen,
  }),
  byStatus: z.record(z.enum(ORDER_STATUSES), z.number().int()),
  /** Outbox events not yet delivered to the shop's handler. */
  outboxBacklog: z.number().int(),
  /** WeChat Pay notifications we refused (amount/appid mismatch, unknown order): for review. */
  notificationFailures: z.number().int(),
  /** Notifications that failed signature verification since this server instance started. */
  signatureFailures: z.number().int(),
  /**
   * The latest reconciled day's result (a ReconciliationResult, as `GET
   * /api/admin/reconciliation` answers it), or null before the first run.
   */
  reconciliation: z.unknown().nullable(),
})

export const AdminOrderDetail = AdminOrder.extend({
  payments: z.array(Payment),
  refunds: z.array(Refund),
  notifications: z.array(NotificationRecord),
  events: z.array(OutboxEvent),
})

/** An outbox event's id in a path (`/api/admin/events/:id/redeliver`). */
export const EventId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER)

/**
 * What the mini-program passes to `wx.openBusinessView` for 确认收货 (weappOrderConfirm): the
 * merchant and our order number, from `GET /api/orders/:orderNo/confirm-receipt`.
 */
export const ReceiptConfirmation = z.object({
  businessType: z.literal('weappOrderConfirm'),
  extraData: z.object({ merchant_id: z.string(), merchant_trade_no: z.string() }),
})
