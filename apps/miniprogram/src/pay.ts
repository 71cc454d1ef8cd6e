import Taro from '@tarojs/taro'
import { describeItems, type Order, type PayChannel } from '@fen/shared'
import { payOrder } from '@/api/orders'
import { ApiRequestError } from '@/http/request'
import { platform, type PayOutcome } from '@/platform'

/** What a page shows after trying to pay. */
export type PayResult =
  | { kind: 'paying'; orderNo: string } // on the result page, which confirms with the server
  | { kind: 'cancelled' }
  | { kind: 'failed'; reason: string }

/** The text to show for a failed call, by the server's error code. */
export function describeError(e: unknown): string {
  if (!(e instanceof ApiRequestError)) return (e as Error)?.message || '出错了，请重试'
  switch (e.code) {
    case 'NETWORK':
      return '网络连接失败，请检查网络后重试'
    case 'ORDER_ALREADY_PAID':
      return '订单已支付'
    case 'WECHAT_UNAVAILABLE':
      return '微信支付繁忙，请稍后重试'
    case 'OUT_OF_STOCK':
    case 'ORDER_NOT_PAYABLE':
    case 'PAY_CHANNEL_LOCKED':
    case 'PRODUCT_NOT_FOUND':
      return e.message
    default:
      return e.message || '出错了，请重试'
  }
}

/**
 * Pays an order by `channel`. JSAPI: the server signs the parameters, `wx.requestPayment` runs,
 * and a success goes to the result page, which confirms with the server (the client's success is
 * not proof of payment). Native: straight to the result page, which shows the QR code and polls.
 */
export async function payFor(
  order: Order,
  channel: PayChannel = platform.channels[0]!,
): Promise<PayResult> {
  if (channel === 'native') {
    await Taro.redirectTo({ url: `/pages/result/index?orderNo=${order.orderNo}&channel=native` })
    return { kind: 'paying', orderNo: order.orderNo }
  }
  const answer = await payOrder(order.orderNo, 'jsapi')
  if (answer.channel !== 'jsapi') return { kind: 'failed', reason: '支付方式不正确' }
  const outcome: PayOutcome = await platform.requestPayment(answer.params, {
    orderNo: order.orderNo,
    totalFen: order.totalFen,
    description: describeItems(order.items),
  })
  if (outcome.status === 'cancelled') return { kind: 'cancelled' }
  if (outcome.status === 'failed') return { kind: 'failed', reason: outcome.reason }
  await Taro.redirectTo({ url: `/pages/result/index?orderNo=${order.orderNo}` })
  return { kind: 'paying', orderNo: order.orderNo }
}
