import type { WechatPayClient } from '../core/client'
import { ConfigError, InvalidArgumentError } from '../core/errors'

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal
}

/** One line of `detail.goods_detail`: amounts in fen. */
export interface GoodsDetail {
  merchant_goods_id: string
  wechatpay_goods_id?: string
  goods_name?: string
  quantity: number
  unit_price: number
}

/** `scene_info` of a prepay request. */
export interface SceneInfo {
  payer_client_ip: string
  device_id?: string
  store_info?: { id: string; name?: string; area_code?: string; address?: string }
}

/** H5 prepay needs `h5_info` in its scene. */
export interface H5SceneInfo extends SceneInfo {
  h5_info: {
    type: 'Wap' | 'iOS' | 'Android'
    app_name?: string
    app_url?: string
    bundle_id?: string
    package_name?: string
  }
}

/**
 * Fields shared by every prepay request. `mchid` is always the client's; `appid` defaults to the
 * client's `appid` option.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/apis/mini-program-payment/mini-prepay.html
 */
export interface PrepayRequest {
  appid?: string
  /** Shown in the payer's bill; at most 127 characters, no 4-byte UTF-8 (emoji). */
  description: string
  /** 6–32 characters of `[0-9A-Za-z_-|*]`, unique per merchant. */
  out_trade_no: string
  /** RFC 3339 with offset, e.g. `2018-06-08T10:34:56+08:00`; see `formatBeijingTime`. */
  time_expire?: string
  attach?: string
  /** HTTPS, reachable from the internet, without a query string. */
  notify_url: string
  goods_tag?: string
  support_fapiao?: boolean
  /** `total` is in fen, a positive integer. */
  amount: { total: number; currency?: 'CNY' }
  detail?: { cost_price?: number; invoice_id?: string; goods_detail?: GoodsDetail[] }
  scene_info?: SceneInfo
  settle_info?: { profit_sharing?: boolean }
}

/** JSAPI / mini-program prepay: the payer's openid under `appid` is required. */
export interface JsapiPrepayRequest extends PrepayRequest {
  payer: { openid: string }
}

/** H5 prepay: the payer's IP and `h5_info` are required. */
export interface H5PrepayRequest extends PrepayRequest {
  scene_info: H5SceneInfo
}

export interface JsapiPrepayResponse {
  /** Valid for 2 hours; goes into `package=prepay_id=…` of `wx.requestPayment`. */
  prepay_id: string
}
export interface NativePrepayResponse {
  /** `weixin://wxpay/bizpayurl?pr=…`: render it as a QR code. */
  code_url: string
}
export interface H5PrepayResponse {
  h5_url: string
}
export interface AppPrepayResponse {
  prepay_id: string
}

export type TradeState =
  'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR' | 'ACCEPT'

export type TradeType = 'JSAPI' | 'NATIVE' | 'APP' | 'MICROPAY' | 'MWEB' | 'FACEPAY'

/** A coupon applied to a payment. */
export interface PromotionDetail {
  coupon_id: string
  name?: string
  scope?: 'GLOBAL' | 'SINGLE'
  type?: 'CASH' | 'NOCASH'
  amount: number
  stock_id?: string
  wechatpay_contribute?: number
  merchant_contribute?: number
  other_contribute?: number
  currency?: string
  goods_detail?: {
    goods_id: string
    quantity: number
    unit_price: number
    discount_amount: number
    goods_remark?: string
  }[]
}

/**
 * A payment as WeChat reports it, from a query or a `TRANSACTION.SUCCESS` notification.
 * Fields that exist only once paid (`transaction_id`, `success_time`, `payer`, …) are optional.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/apis/mini-program-payment/query-by-out-trade-no.html
 */
export interface Transaction {
  appid: string
  mchid: string
  out_trade_no: string
  transaction_id?: string
  trade_type?: TradeType
  trade_state: TradeState
  trade_state_desc: string
  bank_type?: string
  attach?: string
  success_time?: string
  payer?: { openid: string }
  amount?: { total?: number; payer_total?: number; currency?: string; payer_currency?: string }
  scene_info?: { device_id?: string }
  promotion_detail?: PromotionDetail[]
}

const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/

/**
 * `/v3/pay/transactions/…`: prepay for each channel, query, and close.
 * Method names follow WeChat's operations.
 */
export class Transactions {
  constructor(private readonly client: WechatPayClient) {}

  /** JSAPI / mini-program prepay (JSAPI下单). */
  async jsapi(req: JsapiPrepayRequest, options?: CallOptions): Promise<JsapiPrepayResponse> {
    return this.#prepay<JsapiPrepayResponse>('jsapi', req, options)
  }

  /** Native prepay (Native下单): returns the `code_url` to show as a QR code. */
  async native(req: PrepayRequest, options?: CallOptions): Promise<NativePrepayResponse> {
    return this.#prepay<NativePrepayResponse>('native', req, options)
  }

  /** H5 prepay (H5下单): returns the `h5_url` to send a mobile browser to. */
  async h5(req: H5PrepayRequest, options?: CallOptions): Promise<H5PrepayResponse> {
    return this.#prepay<H5PrepayResponse>('h5', req, options)
  }

  /** App prepay (APP下单); `appid` is the open-platform mobile app's. */
  async app(req: PrepayRequest, options?: CallOptions): Promise<AppPrepayResponse> {
    return this.#prepay<AppPrepayResponse>('app', req, options)
  }

  /** 商户订单号查询订单: works for unpaid orders too. 404 `ORDER_NOT_EXIST` when unknown. */
  async queryByOutTradeNo(outTradeNo: string, options?: CallOptions): Promise<Transaction> {
    const res = await this.client.request<Transaction>({
      method: 'GET',
      path: `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}`,
      query: { mchid: this.client.mchid },
      ...options,
    })
    return res.data
  }

  /** 微信支付订单号查询订单: only paid orders have a `transaction_id`. */
  async queryById(transactionId: string, options?: CallOptions): Promise<Transaction> {
    const res = await this.client.request<Transaction>({
      method: 'GET',
      path: `/v3/pay/transactions/id/${encodeURIComponent(transactionId)}`,
      query: { mchid: this.client.mchid },
      ...options,
    })
    return res.data
  }

  /**
   * 关闭订单: answers 204. Closing a paid order fails (see `isOrderPaidError`); closing a closed
   * order succeeds again.
   */
  async close(outTradeNo: string, options?: CallOptions): Promise<void> {
    await this.client.request<void>({
      method: 'POST',
      path: `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}/close`,
      body: { mchid: this.client.mchid },
      ...options,
    })
  }

  async #prepay<T>(channel: string, req: PrepayRequest, options?: CallOptions): Promise<T> {
    const appid = req.appid ?? this.client.appid
    if (!appid)
      throw new ConfigError('appid is required: pass it in the request or the client options')
    checkPrepay(req)
    const res = await this.client.request<T>({
      method: 'POST',
      path: `/v3/pay/transactions/${channel}`,
      body: { ...req, appid, mchid: this.client.mchid },
      ...options,
    })
    return res.data
  }
}

/** Fails fast, before any network call, on the two mistakes that cost money or orders. */
function checkPrepay(req: PrepayRequest): void {
  if (!Number.isSafeInteger(req.amount?.total) || req.amount.total <= 0) {
    throw new InvalidArgumentError('amount.total must be a positive integer number of fen')
  }
  if (!OUT_TRADE_NO.test(req.out_trade_no)) {
    throw new InvalidArgumentError('out_trade_no must be 6–32 characters of [0-9A-Za-z_-|*]')
  }
}
