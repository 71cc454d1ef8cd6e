import { formatBeijingTime } from '@fen/wechatpay'
import { z } from 'zod'
import { WechatError, decodePathParam, paramError } from '../errors'
import { newRefundId } from '../ids'
import type { Sandbox } from '../sandbox'
import { refundFeeFen } from './bills'
import type { Route } from '../http'
import type { Refund } from '../state'
import { OUT_REFUND_NO, OUT_TRADE_NO, notifyUrl, parseJsonBody, str } from '../validation'

/** WeChat allows at most 50 partial refunds per order. */
const MAX_REFUNDS_PER_ORDER = 50

const createRefund = z
  .object({
    transaction_id: str(32).optional(),
    out_trade_no: OUT_TRADE_NO.optional(),
    out_refund_no: OUT_REFUND_NO,
    reason: str(80).optional(),
    notify_url: notifyUrl.optional(),
    funds_account: z.enum(['AVAILABLE', 'UNSETTLED']).optional(),
    amount: z.object({
      refund: z.number().int().positive(),
      total: z.number().int().positive(),
      currency: z.literal('CNY'),
      from: z
        .array(
          z.object({ account: z.enum(['AVAILABLE', 'UNAVAILABLE']), amount: z.number().int() }),
        )
        .optional(),
    }),
    goods_detail: z.array(z.object({}).passthrough()).optional(),
  })
  .refine((b) => b.transaction_id !== undefined || b.out_trade_no !== undefined, {
    message: 'transaction_id 与 out_trade_no 必须填写其一',
    path: ['out_trade_no'],
  })

/** The Refund object of create and query (§5.5). */
export function refundView(sandbox: Sandbox, r: Refund): object {
  const o = r.order
  return {
    refund_id: r.refundId,
    out_refund_no: r.outRefundNo,
    transaction_id: o.transactionId,
    out_trade_no: o.outTradeNo,
    channel: 'ORIGINAL',
    user_received_account: '支付用户零钱',
    ...(r.successTime ? { success_time: formatBeijingTime(r.successTime) } : {}),
    create_time: formatBeijingTime(r.createdAt),
    status: r.status,
    funds_account: r.fundsAccount,
    amount: {
      total: o.totalFen,
      refund: r.refundFen,
      from: [],
      payer_total: o.totalFen,
      payer_refund: r.refundFen,
      settlement_refund: r.refundFen,
      settlement_total: o.totalFen,
      discount_refund: 0,
      currency: o.currency,
      // 手续费退款金额: the share of the 0.6% fee the bills charge, rounded to the fen.
      refund_fee: refundFeeFen(r.refundFen),
    },
    promotion_detail: [],
  }
}

export const refundRoutes: Route[] = [
  {
    method: 'POST',
    path: '/v3/refund/domestic/refunds',
    kind: 'v3',
    handler: (req) => {
      const { sandbox } = req
      const body = parseJsonBody(createRefund, req.body)
      const order = body.transaction_id
        ? sandbox.store.byTransactionId.get(body.transaction_id)
        : sandbox.store.orders.get(body.out_trade_no!)
      if (!order) throw new WechatError(404, 'RESOURCE_NOT_EXISTS', '订单不存在')
      if (body.transaction_id && body.out_trade_no && order.outTradeNo !== body.out_trade_no) {
        throw new WechatError(400, 'INVALID_REQUEST', 'transaction_id 与 out_trade_no 不是同一订单')
      }
      // Same out_refund_no: the same refund (idempotent), unless the amounts changed.
      const existing = sandbox.store.refunds.get(body.out_refund_no)
      if (existing) {
        if (existing.order !== order || existing.refundFen !== body.amount.refund) {
          throw new WechatError(400, 'INVALID_REQUEST', '退款单号已存在，且与原退款参数不一致')
        }
        return { status: 200, body: refundView(sandbox, existing) }
      }
      if (order.state !== 'SUCCESS' && order.state !== 'REFUND') {
        throw new WechatError(404, 'RESOURCE_NOT_EXISTS', '订单未支付，不能退款')
      }
      if (body.amount.total !== order.totalFen) {
        throw new WechatError(400, 'INVALID_REQUEST', '订单金额与原订单金额不一致')
      }
      if (body.amount.refund > order.totalFen - sandbox.store.refundedFen(order)) {
        throw new WechatError(400, 'INVALID_REQUEST', '申请退款金额超过订单可退金额')
      }
      if (order.refunds.length >= MAX_REFUNDS_PER_ORDER) {
        throw new WechatError(400, 'INVALID_REQUEST', '该订单部分退款次数已达上限(50次)')
      }
      const refund: Refund = {
        refundId: newRefundId(),
        outRefundNo: body.out_refund_no,
        order,
        refundFen: body.amount.refund,
        reason: body.reason,
        notifyUrl: body.notify_url,
        status: 'PROCESSING',
        createdAt: sandbox.clock.now(),
        successTime: undefined,
        fundsAccount: body.funds_account ?? 'AVAILABLE',
      }
      order.refunds.push(refund)
      order.state = 'REFUND'
      sandbox.store.refunds.set(refund.outRefundNo, refund)
      sandbox.log(`refund ${refund.outRefundNo} of ${order.outTradeNo}: ${refund.refundFen} fen`)
      if (sandbox.refundSettleSeconds !== false) {
        sandbox.clock.after(sandbox.refundSettleSeconds * 1000, () => {
          // A reset forgets the refund: its pending settlement must not resurrect it.
          const current = sandbox.store.refunds.get(refund.outRefundNo) === refund
          if (current && refund.status === 'PROCESSING') sandbox.settleRefund(refund, 'SUCCESS')
        })
      }
      return { status: 200, body: refundView(sandbox, refund) }
    },
  },
  {
    method: 'GET',
    path: '/v3/refund/domestic/refunds/:no',
    kind: 'v3',
    handler: (req) => {
      const refund = req.sandbox.store.refunds.get(
        decodePathParam(req.params.no!, () => paramError('out_refund_no', '格式不正确')),
      )
      if (!refund) throw new WechatError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在')
      return { status: 200, body: refundView(req.sandbox, refund) }
    },
  },
]
