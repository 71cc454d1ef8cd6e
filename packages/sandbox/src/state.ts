import type { Transaction, TradeState, RefundStatus } from '@fen/wechatpay'
import { newCodeUrl, newPrepayId } from './ids'

/** A prepay_id lives 2 hours. */
export const PREPAY_TTL_MS = 2 * 3600_000
/** Without `time_expire`, an order can be paid for 7 days. */
export const DEFAULT_ORDER_LIFE_MS = 7 * 24 * 3600_000

/** Which API created an order: its notifications and queries follow that protocol. */
export type ApiVersion = 'v3' | 'v2'

/** An order as WeChat holds it. Times are sandbox ms. Amounts are fen. */
export interface Order {
  api: ApiVersion
  outTradeNo: string
  appid: string
  mchid: string
  description: string
  attach: string | undefined
  totalFen: number
  currency: string
  notifyUrl: string
  tradeType: 'JSAPI' | 'NATIVE' | 'MWEB' | 'APP'
  payerOpenid: string | undefined
  state: TradeState
  createdAt: number
  /** `time_expire`, or 7 days after creation when the merchant gave none. */
  expiresAt: number
  /** The parameters of the first prepay: a repeat must match them exactly. */
  fingerprint: string
  prepayId: string | undefined
  prepayExpiresAt: number
  codeUrl: string | undefined
  h5Url: string | undefined
  /** APIv2 orders: the sign type of unifiedorder, which `wx.requestPayment` must use too. */
  v2SignType: 'MD5' | 'HMAC-SHA256' | undefined
  transactionId: string | undefined
  successTime: number | undefined
  bankType: string | undefined
  closedAt: number | undefined
  /** Failed payment attempts (`PAYERROR` on the control API): the order stays NOTPAY. */
  failedAttempts: number
  refunds: Refund[]
  /**
   * Payments made after this one paid the order (`POST /__sandbox/pay {secondPayment: true}`):
   * each its own transaction of the same out_trade_no and amount, with refunds of its own. Found
   * by `transaction_id` only; a query by out_trade_no still answers the first payment.
   */
  secondPayments: Order[]
}

/** What a prepay call decides about a new order; the rest starts empty. */
export type NewOrder = Pick<
  Order,
  | 'api'
  | 'outTradeNo'
  | 'appid'
  | 'mchid'
  | 'description'
  | 'attach'
  | 'totalFen'
  | 'currency'
  | 'notifyUrl'
  | 'tradeType'
  | 'payerOpenid'
  | 'createdAt'
  | 'expiresAt'
  | 'fingerprint'
  | 'v2SignType'
>

/** A refund as WeChat holds it. */
export interface Refund {
  refundId: string
  outRefundNo: string
  order: Order
  refundFen: number
  reason: string | undefined
  notifyUrl: string | undefined
  status: RefundStatus
  createdAt: number
  successTime: number | undefined
  fundsAccount: string
}

/** A login code handed out by `POST /__sandbox/login-codes`. */
export interface LoginCode {
  code: string
  openid: string
  createdAt: number
  used: boolean
  /** Make the exchange fail with this errcode (40226 blocked, 45011 rate limited, -1 busy). */
  errcode: number | undefined
}

/**
 * A change to one day's trade bill, planted by `POST /__sandbox/bill-edits` so a merchant's
 * reconciliation has something to find (WeChat's bill and the merchant's books disagreeing):
 * - `amount`: the payment row of `outTradeNo` (or the refund row of `outRefundNo`) bills
 *   `amountFen` instead of its real amount;
 * - `drop`: that row is left out (with every row of a day dropped, the day has no bill);
 * - `foreign`: a payment row of `amountFen` for an order the sandbox never saw (`outTradeNo`,
 *   `transactionId`), booked at noon that day;
 * - `raw`: `line` written verbatim as the first data row (before the day's real rows), not counted
 *   in the summary: a row WeChat's format would not produce, for testing a merchant's parser.
 */
export type BillEdit =
  | {
      billDate: string
      kind: 'amount'
      outTradeNo: string
      outRefundNo?: string
      amountFen: number
    }
  | { billDate: string; kind: 'drop'; outTradeNo: string; outRefundNo?: string }
  | {
      billDate: string
      kind: 'foreign'
      outTradeNo: string
      transactionId: string
      amountFen: number
    }
  | { billDate: string; kind: 'raw'; line: string }

/** All sandbox state; `reset()` empties it. */
export class Store {
  readonly orders = new Map<string, Order>()
  readonly byPrepayId = new Map<string, Order>()
  readonly byCodeUrl = new Map<string, Order>()
  readonly byTransactionId = new Map<string, Order>()
  readonly refunds = new Map<string, Refund>()
  readonly loginCodes = new Map<string, LoginCode>()
  /** Bill download tokens → the file and when the token stops working (sandbox ms). */
  readonly billFiles = new Map<string, { content: Buffer; gzip: boolean; expiresAt: number }>()
  /** The trade-bill edits armed by `POST /__sandbox/bill-edits`, in the order they were made. */
  billEdits: BillEdit[] = []

  /** Creates an unpaid order (NOTPAY) and indexes it. */
  addOrder(init: NewOrder): Order {
    const order: Order = {
      ...init,
      state: 'NOTPAY',
      prepayId: undefined,
      prepayExpiresAt: 0,
      codeUrl: undefined,
      h5Url: undefined,
      transactionId: undefined,
      successTime: undefined,
      bankType: undefined,
      closedAt: undefined,
      failedAttempts: 0,
      refunds: [],
      secondPayments: [],
    }
    this.orders.set(order.outTradeNo, order)
    return order
  }

  /** The order's live prepay_id, or a new one once 2 hours have passed (old ones stop working). */
  issuePrepayId(order: Order, now: number): string {
    if (!order.prepayId || now >= order.prepayExpiresAt) {
      order.prepayId = newPrepayId(now)
      order.prepayExpiresAt = now + PREPAY_TTL_MS
      this.byPrepayId.set(order.prepayId, order)
    }
    return order.prepayId
  }

  /** The order's Native `code_url` (one per order). */
  issueCodeUrl(order: Order): string {
    if (!order.codeUrl) {
      order.codeUrl = newCodeUrl()
      this.byCodeUrl.set(order.codeUrl, order)
    }
    return order.codeUrl
  }

  reset(): void {
    this.orders.clear()
    this.byPrepayId.clear()
    this.byCodeUrl.clear()
    this.byTransactionId.clear()
    this.refunds.clear()
    this.loginCodes.clear()
    this.billFiles.clear()
    this.billEdits = []
  }

  refundedFen(order: Order): number {
    return order.refunds
      .filter((r) => r.status !== 'CLOSED')
      .reduce((sum, r) => sum + r.refundFen, 0)
  }
}

export type { Transaction }
