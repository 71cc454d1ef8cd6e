import type { WechatPayClient } from '../core/client'
import type { CallOptions } from './transactions'

export type RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL'
export type RefundChannel = 'ORIGINAL' | 'BALANCE' | 'OTHER_BALANCE' | 'OTHER_BANKCARD'
export type FundsAccount = 'UNSETTLED' | 'AVAILABLE' | 'UNAVAILABLE' | 'OPERATION' | 'BASIC'

/**
 * 申请退款. Give `transaction_id` or `out_trade_no`. Retry a failed or timed-out refund with the
 * **same** `out_refund_no`: WeChat refunds each number once.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/apis/mini-program-payment/create.html
 */
export interface CreateRefundRequest {
  transaction_id?: string
  out_trade_no?: string
  /** Up to 64 characters of `[0-9A-Za-z_-|*@]`, unique per merchant. */
  out_refund_no: string
  /** Shown to the payer (up to 80 characters). */
  reason?: string
  notify_url?: string
  funds_account?: 'AVAILABLE' | 'UNSETTLED'
  /** Fen: `refund` ≤ what is left to refund of `total`, the original order amount. */
  amount: {
    refund: number
    total: number
    currency: 'CNY'
    from?: { account: 'AVAILABLE' | 'UNAVAILABLE'; amount: number }[]
  }
  goods_detail?: {
    merchant_goods_id: string
    wechatpay_goods_id?: string
    goods_name?: string
    unit_price: number
    refund_amount: number
    refund_quantity: number
  }[]
}

/** A refund as WeChat reports it from create and query. `status` PROCESSING is not final. */
export interface Refund {
  refund_id: string
  out_refund_no: string
  transaction_id: string
  out_trade_no: string
  channel: RefundChannel
  user_received_account: string
  /** Only when `status` is SUCCESS. */
  success_time?: string
  create_time: string
  status: RefundStatus
  funds_account?: FundsAccount
  amount: {
    total: number
    refund: number
    from?: { account: string; amount: number }[]
    payer_total: number
    payer_refund: number
    settlement_refund: number
    settlement_total: number
    discount_refund: number
    currency: string
    refund_fee?: number
  }
  promotion_detail?: unknown[]
}

/** `/v3/refund/domestic/refunds`: create and query refunds. */
export class Refunds {
  constructor(private readonly client: WechatPayClient) {}

  /**
   * 申请退款. A 200 means accepted: the refund usually starts PROCESSING and settles later by
   * notification or {@link query}. ABNORMAL needs a person in 商户平台.
   */
  async create(req: CreateRefundRequest, options?: CallOptions): Promise<Refund> {
    const res = await this.client.request<Refund>({
      method: 'POST',
      path: '/v3/refund/domestic/refunds',
      body: req,
      ...options,
    })
    return res.data
  }

  /** 查询单笔退款. 404 `RESOURCE_NOT_EXISTS` when unknown. */
  async query(outRefundNo: string, options?: CallOptions): Promise<Refund> {
    const res = await this.client.request<Refund>({
      method: 'GET',
      path: `/v3/refund/domestic/refunds/${encodeURIComponent(outRefundNo)}`,
      ...options,
    })
    return res.data
  }
}
