import {
  ApiError,
  formatBeijingTime,
  formatV2Time,
  isApiError,
  isOrderPaidError,
  MiniProgramClient,
  type MiniProgramClientOptions,
  type Refund,
  type TradeState,
  type Transaction,
  type WechatPay,
  type WechatPayV2,
  parseV2Time,
} from '@fen/wechatpay'
import type { RequestPaymentParams } from '@fen/shared'
import type { Config } from '../config'
import type { Db } from '../db/client'
import { DbAccessTokenStore } from '../repositories/access-tokens'

/** What WeChat says about an order, the same whichever API asked. */
export interface WechatOrderState {
  state: TradeState
  appid: string
  mchid: string
  transactionId: string | undefined
  /** Fen, when WeChat reported it (always once paid). */
  totalFen: number | undefined
  payerOpenid: string | undefined
  successTime: Date | undefined
}

/**
 * A time WeChat reports (`success_time`), or undefined when absent or unreadable: callers then use
 * the time they learn of it. An Invalid Date would fail the database write, and a payment or
 * refund WeChat reports must not be refused over its timestamp.
 */
export function wechatTime(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value === '') return undefined
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? undefined : d
}

/** An APIv3 Transaction (query answer or notification resource) as a {@link WechatOrderState}. */
export function orderStateOf(t: Transaction): WechatOrderState {
  return {
    state: t.trade_state,
    appid: t.appid,
    mchid: t.mchid,
    transactionId: t.transaction_id,
    totalFen: t.amount?.total,
    payerOpenid: t.payer?.openid,
    successTime: wechatTime(t.success_time),
  }
}

/** What WeChat says about a refund. */
export interface WechatRefundState {
  refundId: string
  status: 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' | 'CLOSED'
  successTime: Date | undefined
}

/**
 * A prepay. Only the order's own parameters go to WeChat, so a retry (same out_trade_no) is the
 * same request: the payer's IP, which changes between tries, is sent only where APIv2 requires it.
 */
export interface PrepayInput {
  orderNo: string
  description: string
  totalFen: number
  expiresAt: Date
  notifyUrl: string
  clientIp: string
}

/**
 * The payment operations the shop needs, over APIv3 or APIv2. Errors are the SDK's typed errors;
 * `close` turns "already paid" into a result because callers must branch on it.
 */
export interface PayGateway {
  readonly apiVersion: 'v3' | 'v2'
  /** JSAPI prepay: the prepay_id and signed `wx.requestPayment` parameters. */
  prepayJsapi(
    input: PrepayInput & { openid: string },
  ): Promise<{ prepayId: string; params: RequestPaymentParams }>
  /** Signs `wx.requestPayment` parameters again for a prepay_id still valid (APIv3: off the event loop). */
  requestPaymentParams(prepayId: string): Promise<RequestPaymentParams>
  /** Native prepay: the code_url to show as a QR code. */
  prepayNative(input: PrepayInput): Promise<{ codeUrl: string }>
  /** undefined when WeChat does not know the order (it was never prepaid). */
  query(orderNo: string): Promise<WechatOrderState | undefined>
  /** `closed` (or never known to WeChat), or `paid` when WeChat refused because it is paid. */
  close(orderNo: string): Promise<'closed' | 'paid'>
  /** Refunds go through APIv3 in both modes (APIv2 refunds need a TLS client certificate). */
  refund(input: {
    orderNo: string
    /** Refund this transaction of the order (a second payment) rather than the order's own. */
    transactionId?: string
    outRefundNo: string
    amountFen: number
    totalFen: number
    reason: string
    notifyUrl: string
  }): Promise<WechatRefundState>
  queryRefund(outRefundNo: string): Promise<WechatRefundState | undefined>
}

/** The APIv3 gateway (the default). */
export class V3Gateway implements PayGateway {
  readonly apiVersion = 'v3' as const
  constructor(private readonly wxpay: WechatPay) {}

  async prepayJsapi(input: PrepayInput & { openid: string }) {
    const r = await this.wxpay.payJsapi({ ...this.#order(input), payer: { openid: input.openid } })
    return { prepayId: r.prepay_id, params: r.params }
  }

  requestPaymentParams(prepayId: string): Promise<RequestPaymentParams> {
    return this.wxpay.requestPaymentParams(prepayId)
  }

  async prepayNative(input: PrepayInput) {
    const r = await this.wxpay.transactions.native(this.#order(input))
    return { codeUrl: r.code_url }
  }

  /** The order's own prepay parameters, the same for every channel (see decisions.md). */
  #order(input: PrepayInput) {
    return {
      description: input.description,
      out_trade_no: input.orderNo,
      time_expire: formatBeijingTime(input.expiresAt),
      notify_url: input.notifyUrl,
      amount: { total: input.totalFen, currency: 'CNY' as const },
    }
  }

  async query(orderNo: string): Promise<WechatOrderState | undefined> {
    try {
      return orderStateOf(await this.wxpay.transactions.queryByOutTradeNo(orderNo))
    } catch (e) {
      if (isApiError(e, 'ORDER_NOT_EXIST')) return undefined
      throw e
    }
  }

  async close(orderNo: string): Promise<'closed' | 'paid'> {
    try {
      await this.wxpay.transactions.close(orderNo)
      return 'closed'
    } catch (e) {
      if (isOrderPaidError(e)) return 'paid'
      throw e
    }
  }

  refund = (input: Parameters<PayGateway['refund']>[0]) => refundV3(this.wxpay, input)
  queryRefund = (outRefundNo: string) => queryRefundV3(this.wxpay, outRefundNo)
}

/** The APIv2 gateway, for merchants still on APIv2 (`WECHATPAY_API_VERSION=v2`). */
export class V2Gateway implements PayGateway {
  readonly apiVersion = 'v2' as const
  constructor(
    private readonly v2: WechatPayV2,
    /** For refunds (see PayGateway.refund). */
    private readonly wxpay: WechatPay,
    private readonly v2NotifyUrl: (url: string) => string,
  ) {}

  /** unifiedorder's fields common to both channels. */
  #order(input: PrepayInput) {
    return {
      body: input.description,
      out_trade_no: input.orderNo,
      total_fee: input.totalFen,
      spbill_create_ip: input.clientIp,
      notify_url: this.v2NotifyUrl(input.notifyUrl),
      time_expire: formatV2Time(input.expiresAt),
    }
  }

  async prepayJsapi(input: PrepayInput & { openid: string }) {
    const r = await this.v2.unifiedOrder({
      ...this.#order(input),
      trade_type: 'JSAPI',
      openid: input.openid,
    })
    return { prepayId: r.prepay_id, params: this.v2.requestPaymentParams(r.prepay_id) }
  }

  /** APIv2's paySign is an MD5 or HMAC: cheap enough to compute on the event loop. */
  async requestPaymentParams(prepayId: string): Promise<RequestPaymentParams> {
    return this.v2.requestPaymentParams(prepayId)
  }

  async prepayNative(input: PrepayInput) {
    const r = await this.v2.unifiedOrder({
      ...this.#order(input),
      trade_type: 'NATIVE',
      product_id: input.orderNo,
    })
    if (!r.code_url)
      throw new ApiError({ status: 200, code: 'FAIL', message: 'unifiedorder gave no code_url' })
    return { codeUrl: r.code_url }
  }

  async query(orderNo: string): Promise<WechatOrderState | undefined> {
    try {
      const q = await this.v2.orderQuery({ out_trade_no: orderNo })
      return {
        state: q.trade_state,
        appid: q.raw.appid ?? '',
        mchid: q.raw.mch_id ?? '',
        transactionId: q.transaction_id,
        totalFen: q.total_fee,
        payerOpenid: q.openid,
        successTime: q.time_end ? parseV2Time(q.time_end) : undefined,
      }
    } catch (e) {
      if (isApiError(e, 'ORDERNOTEXIST')) return undefined
      throw e
    }
  }

  async close(orderNo: string): Promise<'closed' | 'paid'> {
    try {
      await this.v2.closeOrder(orderNo)
      return 'closed'
    } catch (e) {
      if (isOrderPaidError(e)) return 'paid'
      // Closed already, or never prepaid: either way WeChat will not take a payment for it.
      if (isApiError(e, 'ORDERCLOSED') || isApiError(e, 'ORDERNOTEXIST')) return 'closed'
      throw e
    }
  }

  refund = (input: Parameters<PayGateway['refund']>[0]) => refundV3(this.wxpay, input)
  queryRefund = (outRefundNo: string) => queryRefundV3(this.wxpay, outRefundNo)
}

async function refundV3(
  wxpay: WechatPay,
  input: Parameters<PayGateway['refund']>[0],
): Promise<WechatRefundState> {
  const r = await wxpay.refunds.create({
    // WeChat takes one of the two; a second payment of the order only by its transaction_id.
    ...(input.transactionId
      ? { transaction_id: input.transactionId }
      : { out_trade_no: input.orderNo }),
    out_refund_no: input.outRefundNo,
    reason: input.reason,
    notify_url: input.notifyUrl,
    amount: { refund: input.amountFen, total: input.totalFen, currency: 'CNY' },
  })
  return refundStateOf(r)
}

/** A WeChat refund as the server keeps it. */
function refundStateOf(
  r: Pick<Refund, 'refund_id' | 'status' | 'success_time'>,
): WechatRefundState {
  return { refundId: r.refund_id, status: r.status, successTime: wechatTime(r.success_time) }
}

async function queryRefundV3(
  wxpay: WechatPay,
  outRefundNo: string,
): Promise<WechatRefundState | undefined> {
  try {
    return refundStateOf(await wxpay.refunds.query(outRefundNo))
  } catch (e) {
    if (isApiError(e, 'RESOURCE_NOT_EXISTS')) return undefined
    throw e
  }
}

/**
 * The mini-program client of the server (login, shipping management): pointed at
 * `WECHAT_API_BASE_URL` (the Fen sandbox in sandbox mode), with its access_token kept in the
 * database so every instance shares one (`DbAccessTokenStore`). main.ts and the test harness both
 * build it here; `options` adds what a caller needs (a test clock, timeouts).
 */
export function miniProgramClient(
  config: Pick<Config, 'wechat'>,
  db: Db,
  options: Partial<MiniProgramClientOptions> = {},
): MiniProgramClient {
  return new MiniProgramClient({
    appid: config.wechat.appid,
    secret: config.wechat.appSecret,
    baseUrl: config.wechat.apiBaseUrl,
    tokenStore: new DbAccessTokenStore(db),
    ...options,
  })
}
