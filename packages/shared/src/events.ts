import { z } from 'zod'
import { LOGISTICS_TYPES, type OutboxEventType } from './enums'
import { fen, isoTime } from './fields'

/**
 * The outbox events as a contract (issue #24): what each event's payload holds, checked by the
 * server when it writes an event (so no event leaves with a shape the docs do not promise) and
 * typed for the shop's own systems that receive them — the in-process handler, webhooks and NATS
 * (`FenEvent`: the body of a webhook delivery, the data of a NATS message). docs/api.md's table of
 * events is checked against these by a test.
 */

const orderNo = z.string().min(1).max(32)
const userId = z.number().int().positive()

/** The order moved PENDING → PAID (not for a payment after close, which is refunded). */
export const OrderPaidPayload = z
  .object({ orderNo, userId, totalFen: fen, transactionId: z.string().min(1) })
  .strict()

/** The order moved PENDING → CLOSED: cancelled, expired, or closed at WeChat. */
export const OrderClosedPayload = z.object({ orderNo, userId, reason: z.string() }).strict()

/** A refund reached SUCCESS (one event per refund: several for partial refunds). */
export const OrderRefundedPayload = z
  .object({ orderNo, outRefundNo: z.string().min(1), amountFen: fen, automatic: z.boolean() })
  .strict()

/** A delivery was recorded: shipped by the operator, ready for pickup, or sent electronically. */
export const OrderShippedPayload = z
  .object({
    orderNo,
    userId,
    logisticsType: z.enum(LOGISTICS_TYPES),
    expressCompany: z.string().optional(),
    trackingNo: z.string().optional(),
  })
  .strict()

/**
 * How receipt was confirmed: WeChat's settlement push (`push`); the shopper in WeChat's sheet,
 * checked with `get_order` (`confirm_receipt`); the shopper's 确认收货 in the shop, for payments
 * WeChat's shipping management does not cover (`shop_confirm`); or the shop's own rule,
 * `ORDER_AUTO_RECEIVE_DAYS` after shipping (`auto_receive`).
 */
export const COMPLETION_SOURCES = [
  'push',
  'confirm_receipt',
  'shop_confirm',
  'auto_receive',
] as const
export type CompletionSource = (typeof COMPLETION_SOURCES)[number]

/** Receipt was confirmed: the order is COMPLETED (or keeps its refund status, with the time). */
export const OrderCompletedPayload = z
  .object({ orderNo, userId, completedAt: isoTime, source: z.enum(COMPLETION_SOURCES) })
  .strict()

/** Each event type's payload. */
export const EVENT_PAYLOADS = {
  'order.paid': OrderPaidPayload,
  'order.closed': OrderClosedPayload,
  'order.refunded': OrderRefundedPayload,
  'order.shipped': OrderShippedPayload,
  'order.completed': OrderCompletedPayload,
} as const satisfies Record<OutboxEventType, z.ZodType>

export type EventPayload<T extends OutboxEventType> = z.infer<(typeof EVENT_PAYLOADS)[T]>

/** An event as the server writes it: its type and the payload of that type. */
export type OutboxEventInput = {
  [T in OutboxEventType]: { type: T; payload: EventPayload<T> }
}[OutboxEventType]

/** The envelope every delivery carries: the outbox row's id, type, order and time. */
const envelope = <T extends OutboxEventType>(type: T) =>
  z.object({
    id: z.number().int().positive(),
    type: z.literal(type),
    orderNo,
    createdAt: isoTime,
    payload: EVENT_PAYLOADS[type],
  })

/**
 * What a webhook receives as its body and a NATS subscriber as its message data. Parse with
 * `FenEvent.parse(JSON.parse(body))` after checking the webhook's signature; switch on `type`.
 */
export const FenEvent = z.discriminatedUnion('type', [
  envelope('order.paid'),
  envelope('order.closed'),
  envelope('order.refunded'),
  envelope('order.shipped'),
  envelope('order.completed'),
])
export type FenEvent = z.infer<typeof FenEvent>
