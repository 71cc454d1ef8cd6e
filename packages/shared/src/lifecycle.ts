import type { DeliveryMethod } from './checkout'
import type { OrderStatus, PayChannel, RefundStatus } from './enums'

/**
 * The order's life in one place (issue #24): which status may follow which, and the pure rules
 * that say what may be done with an order now — pay, cancel, ship, confirm receipt, refund, ask
 * for a refund — and how much is refundable. The server decides with these (its domain module
 * performs the transitions) and sends the outcome in its views (`actions`, `refundableFen`,
 * `fulfilment`), so the console and the shop show what the server will accept without deciding
 * anything themselves. After Vendure's order-state.ts: the states and transitions as data, one
 * machine performing them.
 */

/** Statuses of an order whose money came in (and may since have gone back, in part or whole). */
export const MONEY_IN_STATUSES = [
  'PAID',
  'SHIPPED',
  'COMPLETED',
  'REFUNDING',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
] as const satisfies readonly OrderStatus[]

/**
 * A refund still under way: written and not yet accepted by WeChat (SUBMITTING), accepted
 * (PROCESSING), or stuck (ABNORMAL, until someone handles it in 商户平台). Its money counts as
 * gone from what is refundable.
 */
export const OPEN_REFUND_STATUSES = [
  'SUBMITTING',
  'PROCESSING',
  'ABNORMAL',
] as const satisfies readonly RefundStatus[]

/** Refunds that hold money of the order: succeeded, or still open. FAILED and CLOSED hold none. */
export const REFUND_HOLDING_STATUSES = [
  'SUCCESS',
  ...OPEN_REFUND_STATUSES,
] as const satisfies readonly RefundStatus[]

/**
 * Every status change an order may make, and no other (a status kept is no change). The test
 * harness installs a database trigger built from this table, so every suite — API, reliability,
 * hostile — fails on a status change the table does not allow, wherever it was made.
 *
 * - PENDING → PAID when WeChat confirms payment; → CLOSED when cancelled, expired or closed at WeChat.
 * - PAID → SHIPPED when a delivery is recorded; any of PAID, SHIPPED, COMPLETED → REFUNDING when a
 *   refund is written, and back when it fails; REFUNDING → PARTIALLY_REFUNDED or REFUNDED when it
 *   succeeds. Shipping or completing a partly refunded order keeps its refund status (the delivery
 *   and `completedAt` are recorded beside it).
 * - SHIPPED → COMPLETED when receipt is confirmed.
 * - CLOSED → REFUNDING when a payment lands after the close (refunded in full, never fulfilled).
 */
export const ORDER_STATUS_FLOW: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING: ['PAID', 'CLOSED'],
  PAID: ['SHIPPED', 'REFUNDING'],
  SHIPPED: ['COMPLETED', 'REFUNDING'],
  COMPLETED: ['REFUNDING'],
  REFUNDING: ['PAID', 'SHIPPED', 'COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED'],
  PARTIALLY_REFUNDED: ['REFUNDING'],
  REFUNDED: [],
  CLOSED: ['REFUNDING'],
}

/** Whether `to` may follow `from` (a status kept counts as allowed). */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return from === to || ORDER_STATUS_FLOW[from].includes(to)
}

/**
 * The named transitions the server performs, with the statuses each may start from — the server's
 * compare-and-set statements take their `from` lists from here — and the outbox event it writes.
 * `settleRefunds` is the recompute after a refund is written or changes status.
 */
export const ORDER_TRANSITIONS = {
  pay: { from: ['PENDING'], event: 'order.paid' },
  close: { from: ['PENDING'], event: 'order.closed' },
  payAfterClose: { from: ['CLOSED'] },
  ship: { from: ['PAID', 'REFUNDING', 'PARTIALLY_REFUNDED'], event: 'order.shipped' },
  complete: {
    from: ['SHIPPED', 'REFUNDING', 'PARTIALLY_REFUNDED', 'REFUNDED'],
    event: 'order.completed',
  },
  settleRefunds: { from: MONEY_IN_STATUSES, event: 'order.refunded' },
} as const satisfies Record<string, { from: readonly OrderStatus[]; event?: string }>
export type OrderTransition = keyof typeof ORDER_TRANSITIONS

/** A refund as the rules need it. A second payment's refund (`paymentTransactionId`) is not the order's money. */
export interface RefundFacts {
  amountFen: number
  status: RefundStatus
  paymentTransactionId?: string | null | undefined
}

/** What decides what may happen to an order next: the server builds these from its rows. */
export interface OrderFacts {
  status: OrderStatus
  totalFen: number
  /** How it was (or is being) paid; undefined before a prepay. */
  channel?: PayChannel | null | undefined
  deliveryMethod: DeliveryMethod
  /** A delivery is recorded (shipped, or ready for pickup). */
  shipped: boolean
  /** Receipt was confirmed (by the shopper, by WeChat, or by the shop's own rule). */
  received: boolean
  /** The payment landed after the order had closed: all of it goes back, nothing is fulfilled. */
  paidAfterClose: boolean
  refunds: readonly RefundFacts[]
  /** A refund request of the shopper's is waiting for an operator. */
  refundRequestPending: boolean
}

/** Whether the order's money came in (whatever has been refunded since). */
export function isMoneyIn(status: OrderStatus): boolean {
  return (MONEY_IN_STATUSES as readonly OrderStatus[]).includes(status)
}

/** Whether a refund in this status still holds money of the order (succeeded or under way). */
export function isRefundHolding(status: RefundStatus): boolean {
  return (REFUND_HOLDING_STATUSES as readonly RefundStatus[]).includes(status)
}

/** Whether a refund in this status is still under way. */
export function isRefundOpen(status: RefundStatus): boolean {
  return (OPEN_REFUND_STATUSES as readonly RefundStatus[]).includes(status)
}

/**
 * What is left to refund of the order: its total less the refunds that went through or are still
 * open (a second payment's refund gives back that payment, not the order's money). Never negative.
 */
export function refundableFen(totalFen: number, refunds: readonly RefundFacts[]): number {
  const held = refunds
    .filter((r) => !r.paymentTransactionId && isRefundHolding(r.status))
    .reduce((sum, r) => sum + r.amountFen, 0)
  return Math.max(0, totalFen - held)
}

/**
 * Whether WeChat's shipping management (发货信息管理) covers the order's payment: mini-program
 * (JSAPI) payments only — `get_order` answers 10060001 for a Native one. Other payments are never
 * reported to WeChat, and receipt is the shop's own matter (`receiptBy`).
 */
export function reportsShipping(channel: PayChannel | null | undefined): boolean {
  return channel === 'jsapi'
}

/**
 * Who confirms receipt: for a JSAPI payment, WeChat (the shopper confirms in WeChat's own sheet,
 * `wx.openBusinessView`, or WeChat confirms by itself after its deadline; the server checks
 * `get_order`); for any other, the shop (the shopper's 确认收货 in the shop, or automatically
 * `ORDER_AUTO_RECEIVE_DAYS` after shipping).
 */
export function receiptBy(channel: PayChannel | null | undefined): 'wechat' | 'shop' {
  return reportsShipping(channel) ? 'wechat' : 'shop'
}

export function canPay(o: Pick<OrderFacts, 'status'>): boolean {
  return o.status === 'PENDING'
}

export function canCancel(o: Pick<OrderFacts, 'status'>): boolean {
  return o.status === 'PENDING'
}

/**
 * Paid, not yet shipped, and something is left to send: a partly refunded order ships (一杯拿铁
 * 缺货, the rest goes out), a fully refunded one — or one whose full refund is under way — does not,
 * nor one paid after it closed.
 */
export function canShip(o: OrderFacts): boolean {
  return (
    isMoneyIn(o.status) &&
    !o.shipped &&
    !o.paidAfterClose &&
    refundableFen(o.totalFen, o.refunds) > 0
  )
}

/** Shipped, not yet received, and not refunded in full. */
export function canConfirmReceipt(o: OrderFacts): boolean {
  return o.shipped && !o.received && o.status !== 'REFUNDED'
}

/** An operator's refund: the money came in and some of it is left. */
export function canRefund(o: OrderFacts): boolean {
  return isMoneyIn(o.status) && refundableFen(o.totalFen, o.refunds) > 0
}

/**
 * The shopper's 申请退款: as an operator's refund, but not while a refund is under way or a request
 * of theirs waits, and not for an order paid after it closed (that refund is automatic).
 */
export function canRequestRefund(o: OrderFacts): boolean {
  return (
    canRefund(o) &&
    !o.paidAfterClose &&
    !o.refundRequestPending &&
    !o.refunds.some((r) => !r.paymentTransactionId && isRefundOpen(r.status))
  )
}

/** What a shopper may do with their order now (the shop shows exactly these buttons). */
export const SHOPPER_ACTIONS = ['pay', 'cancel', 'confirm_receipt', 'request_refund'] as const
export type ShopperAction = (typeof SHOPPER_ACTIONS)[number]

/** What an operator may do with an order now (the console shows exactly these buttons). */
export const OPERATOR_ACTIONS = ['ship', 'refund'] as const
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number]

export function shopperActions(o: OrderFacts): ShopperAction[] {
  const actions: ShopperAction[] = []
  if (canPay(o)) actions.push('pay')
  if (canCancel(o)) actions.push('cancel')
  if (canConfirmReceipt(o)) actions.push('confirm_receipt')
  if (canRequestRefund(o)) actions.push('request_refund')
  return actions
}

export function operatorActions(o: OrderFacts): OperatorAction[] {
  const actions: OperatorAction[] = []
  if (canShip(o)) actions.push('ship')
  if (canRefund(o)) actions.push('refund')
  return actions
}

/**
 * Where the goods stand, apart from the money: `unpaid`; `to_ship` (paid, waiting for the shop);
 * `shipped` (sent, or ready for pickup; waiting for the shopper); `received`; `none` (closed, or
 * refunded in full before anything went out). The shop's 待发货 / 待收货 tabs follow this, so a
 * partly refunded order still waits for its parcel where the shopper looks for it.
 */
export const FULFILMENT_STAGES = ['unpaid', 'to_ship', 'shipped', 'received', 'none'] as const
export type FulfilmentStage = (typeof FULFILMENT_STAGES)[number]

export function fulfilmentStage(o: OrderFacts): FulfilmentStage {
  if (o.received) return 'received'
  if (o.status === 'PENDING') return 'unpaid'
  if (o.status === 'CLOSED' || o.status === 'REFUNDED' || o.paidAfterClose) return 'none'
  if (o.shipped) return 'shipped'
  return canShip(o) ? 'to_ship' : 'none'
}
