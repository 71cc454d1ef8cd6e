import { describe, expect, it } from 'vitest'
import { describeError, payFor } from '@/pay'
import { ApiRequestError } from '@/http/request'
import { platform } from '@/platform'
import { weappPlatform } from '@/platform/weapp'
import { confirmAndCancel, continuePaying } from '@/order-actions'
import { taro } from './taro-mock'
import {
  TOKEN_KEY,
  fail,
  jsapiAnswer,
  nativeAnswer,
  ok,
  order,
  routes,
  withStatus,
} from './fixtures'

const { Taro } = taro
const ORDER = order({ orderNo: 'FENPAY000001' })
const PAY_PATH = '/api/orders/FENPAY000001/pay'

function serveJsapi() {
  taro.storage.set(TOKEN_KEY, 'tok')
  taro.onRequest(routes({ [`POST ${PAY_PATH}`]: ok(jsapiAnswer) }))
}

describe('the platform of a weapp build', () => {
  it('is the weapp platform (FEN_SANDBOX false), paying by jsapi first', () => {
    expect(platform).toBe(weappPlatform)
    expect(platform.channels).toEqual(['jsapi'])
    expect(platform.simulateScan).toBeUndefined()
  })
})

describe('payFor (weapp, jsapi)', () => {
  it('POSTs /pay with channel jsapi, calls requestPayment with exactly the signed fields, then redirects to the result page', async () => {
    serveJsapi()

    const r = await payFor(ORDER)

    expect(r).toEqual({ kind: 'paying', orderNo: 'FENPAY000001' })
    expect(taro.requests).toHaveLength(1)
    expect(taro.requests[0]!.method).toBe('POST')
    expect(taro.requests[0]!.path).toBe(PAY_PATH)
    expect(taro.requests[0]!.body).toStrictEqual({ channel: 'jsapi' })

    expect(Taro.requestPayment).toHaveBeenCalledTimes(1)
    const sent = Taro.requestPayment.mock.calls[0]![0]
    const { timeStamp, nonceStr, package: pkg, signType, paySign } = jsapiAnswer.params
    expect(sent).toStrictEqual({ timeStamp, nonceStr, package: pkg, signType, paySign })

    expect(Taro.redirectTo).toHaveBeenCalledTimes(1)
    expect(Taro.redirectTo).toHaveBeenCalledWith({
      url: '/pages/result/index?orderNo=FENPAY000001',
    })
  })

  it('requestPayment:fail cancel → cancelled, and no redirect', async () => {
    serveJsapi()
    taro.payment('fail cancel')

    await expect(payFor(ORDER, 'jsapi')).resolves.toEqual({ kind: 'cancelled' })

    expect(Taro.requestPayment).toHaveBeenCalledTimes(1)
    expect(Taro.redirectTo).not.toHaveBeenCalled()
    expect(Taro.navigateTo).not.toHaveBeenCalled()
  })

  it('requestPayment:fail 余额不足 → failed with the reason, and no redirect', async () => {
    serveJsapi()
    taro.payment('fail 余额不足')

    await expect(payFor(ORDER)).resolves.toEqual({ kind: 'failed', reason: '余额不足' })
    expect(Taro.redirectTo).not.toHaveBeenCalled()
  })

  it('an answer for another channel is refused without calling requestPayment', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(ok(nativeAnswer))

    await expect(payFor(ORDER, 'jsapi')).resolves.toEqual({
      kind: 'failed',
      reason: '支付方式不正确',
    })
    expect(Taro.requestPayment).not.toHaveBeenCalled()
    expect(Taro.redirectTo).not.toHaveBeenCalled()
  })

  it('a server refusal of /pay rejects with its ApiRequestError and pays nothing', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(fail('ORDER_ALREADY_PAID', 'order already paid'))

    const e = await payFor(ORDER).catch((err: unknown) => err)

    expect(e).toBeInstanceOf(ApiRequestError)
    expect((e as ApiRequestError).code).toBe('ORDER_ALREADY_PAID')
    expect(describeError(e)).toBe('订单已支付')
    expect(Taro.requestPayment).not.toHaveBeenCalled()
  })
})

describe('payFor (native)', () => {
  it('redirects to the result page with channel=native, with no server call and no payment API', async () => {
    await expect(payFor(ORDER, 'native')).resolves.toEqual({
      kind: 'paying',
      orderNo: 'FENPAY000001',
    })

    expect(Taro.redirectTo).toHaveBeenCalledWith({
      url: '/pages/result/index?orderNo=FENPAY000001&channel=native',
    })
    expect(Taro.requestPayment).not.toHaveBeenCalled()
    expect(taro.requests).toHaveLength(0)
  })
})

describe('describeError', () => {
  const err = (
    code: ConstructorParameters<typeof ApiRequestError>[0],
    message: string,
    status = 409,
  ) => new ApiRequestError(code, message, status)

  it('maps NETWORK, ORDER_ALREADY_PAID and WECHAT_UNAVAILABLE to fixed texts', () => {
    expect(describeError(err('NETWORK', 'whatever', 0))).toBe('网络连接失败，请检查网络后重试')
    expect(describeError(err('ORDER_ALREADY_PAID', 'order already paid'))).toBe('订单已支付')
    expect(describeError(err('WECHAT_UNAVAILABLE', 'upstream 503', 503))).toBe(
      '微信支付繁忙，请稍后重试',
    )
  })

  it("passes the server's message for OUT_OF_STOCK, ORDER_NOT_PAYABLE, PAY_CHANNEL_LOCKED, PRODUCT_NOT_FOUND", () => {
    expect(describeError(err('OUT_OF_STOCK', '马克杯库存不足'))).toBe('马克杯库存不足')
    expect(describeError(err('ORDER_NOT_PAYABLE', '订单已关闭'))).toBe('订单已关闭')
    expect(describeError(err('PAY_CHANNEL_LOCKED', '订单已选择扫码支付'))).toBe(
      '订单已选择扫码支付',
    )
    expect(describeError(err('PRODUCT_NOT_FOUND', '商品已下架', 404))).toBe('商品已下架')
  })

  it('falls back to the message, then to a generic text', () => {
    expect(describeError(err('INTERNAL', '服务器错误（500）', 500))).toBe('服务器错误（500）')
    expect(describeError(err('INTERNAL', '', 500))).toBe('出错了，请重试')
    expect(describeError(new Error('缺少订单号'))).toBe('缺少订单号')
    expect(describeError(undefined)).toBe('出错了，请重试')
    expect(describeError({})).toBe('出错了，请重试')
  })
})

describe('order actions', () => {
  it('continuePaying: a cancelled payment says the order is still pending', async () => {
    serveJsapi()
    taro.payment('fail cancel')
    await expect(continuePaying(ORDER)).resolves.toBe('已取消支付，订单仍待支付')
  })

  it('continuePaying: a failure shows its reason; success says nothing (the result page does)', async () => {
    serveJsapi()
    taro.payment('fail 余额不足')
    await expect(continuePaying(ORDER)).resolves.toBe('支付失败：余额不足')

    taro.payment('ok')
    await expect(continuePaying(ORDER)).resolves.toBe('')
    expect(Taro.redirectTo).toHaveBeenCalledTimes(1)
  })

  it('continuePaying: a server error is described', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(fail('WECHAT_UNAVAILABLE', 'busy'))
    await expect(continuePaying(ORDER)).resolves.toBe('微信支付繁忙，请稍后重试')
  })

  it('confirmAndCancel: asks, then POSTs /cancel and returns the closed order', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    const closed = withStatus('CLOSED', { orderNo: 'FENPAY000001' })
    taro.onRequest(routes({ 'POST /api/orders/FENPAY000001/cancel': ok(closed) }))

    await expect(confirmAndCancel(ORDER)).resolves.toEqual({ order: closed, message: '' })
    expect(Taro.showToast).toHaveBeenCalledWith({ title: '订单已取消', icon: 'success' })
    expect(Taro.showModal).toHaveBeenCalledTimes(1)
    expect(Taro.showModal.mock.calls[0]![0]).toMatchObject({ title: '取消订单' })
    expect(taro.requestsTo('/api/orders/FENPAY000001/cancel', 'POST')).toHaveLength(1)
  })

  it('confirmAndCancel: declining the modal cancels nothing', async () => {
    taro.confirm(false)
    await expect(confirmAndCancel(ORDER)).resolves.toEqual({ message: '' })
    expect(taro.requests).toHaveLength(0)
  })

  it("confirmAndCancel: a refusal shows the server's message", async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(fail('ORDER_NOT_PAYABLE', '订单已支付，无法取消'))
    await expect(confirmAndCancel(ORDER)).resolves.toEqual({ message: '订单已支付，无法取消' })
  })
})
