import Taro from '@tarojs/taro'
import { receiptBy, type Order } from '@fen/shared'
import { cancelOrder, confirmReceipt, receiptConfirmation } from '@/api/orders'
import { describeError, payFor } from '@/pay'
import { platform } from '@/platform'

/**
 * 继续支付 and 取消订单, shared by the order list and the order page. Each returns a message to
 * show, or '' when there is nothing to say.
 */
export async function continuePaying(order: Order): Promise<string> {
  try {
    const r = await payFor(order)
    if (r.kind === 'cancelled') return '已取消支付，订单仍待支付'
    if (r.kind === 'failed') return `支付失败：${r.reason}`
    return ''
  } catch (e) {
    return describeError(e)
  }
}

/**
 * The modal names both buttons by what they do: a bare 取消 / 确定 pair read as "cancel the
 * cancelling". Success is a toast, not the page's message line, which is red for errors.
 */
export async function confirmAndCancel(order: Order): Promise<{ order?: Order; message: string }> {
  const { confirm } = await Taro.showModal({
    title: '取消订单',
    content: '取消后订单将关闭，确定取消吗？',
    cancelText: '暂不取消',
    confirmText: '取消订单',
  })
  if (!confirm) return { message: '' }
  try {
    const cancelled = await cancelOrder(order.orderNo)
    void Taro.showToast({ title: '订单已取消', icon: 'success' })
    return { order: cancelled, message: '' }
  } catch (e) {
    return { message: describeError(e) }
  }
}

/**
 * 确认收货, shown when the server's `actions` include it. Who confirms depends on how the order was
 * paid (`receiptBy` in packages/shared): a mini-program (JSAPI) payment's receipt is WeChat's — its
 * page (`wx.openBusinessView`, or the sandbox's stand-in), then the server, which checks with WeChat;
 * any other (a Native QR payment, every H5 one) is the shop's — the shopper's word, after a prompt,
 * completes it at the server.
 */
export async function confirmReceiving(order: Order): Promise<{ order?: Order; message: string }> {
  try {
    if (receiptBy(order.channel) === 'wechat') {
      if (!platform.openReceiptConfirm) return { message: '请在微信小程序中确认收货' }
      const opened = await platform.openReceiptConfirm(await receiptConfirmation(order.orderNo))
      if (opened !== 'opened') return { message: '' }
    } else {
      const { confirm } = await Taro.showModal({
        title: '确认收货',
        content: '请确认已收到全部商品，确认后订单完成。',
        cancelText: '暂不确认',
        confirmText: '确认收货',
      })
      if (!confirm) return { message: '' }
    }
    const done = await confirmReceipt(order.orderNo)
    void Taro.showToast({ title: '已确认收货', icon: 'success' })
    return { order: done, message: '' }
  } catch (e) {
    return { message: describeError(e) }
  }
}
