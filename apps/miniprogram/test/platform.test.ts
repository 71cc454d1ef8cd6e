import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import CashierPage from '@/pages/sandbox-cashier/index.vue'
import { outcomeOf, weappPlatform } from '@/platform/weapp'
import { h5Platform } from '@/platform/h5'
import {
  answerCashier,
  answerReloadedCashier,
  cashierFromQuery,
  cashierUnloaded,
  cashierUrl,
  pendingCashier,
  withSandbox,
} from '@/platform/sandbox'
import type { PayingOrder, PayOutcome } from '@/platform'
import { taro } from './taro-mock'
import { TOKEN_KEY, jsapiAnswer, ok, order, routes } from './fixtures'

const { Taro } = taro
const params = jsapiAnswer.params
const paying: PayingOrder = { orderNo: 'FENSBX000001', totalFen: 2990, description: '手冲咖啡豆' }

describe('outcomeOf (wx.requestPayment errMsg)', () => {
  it('requestPayment:ok → paid', () => {
    expect(outcomeOf('requestPayment:ok')).toEqual({ status: 'paid' })
  })

  it('anything with cancel → cancelled', () => {
    expect(outcomeOf('requestPayment:fail cancel')).toEqual({ status: 'cancelled' })
    expect(outcomeOf('requestPayment:cancel')).toEqual({ status: 'cancelled' })
  })

  it('a failure → failed with the reason after "requestPayment:fail"', () => {
    expect(outcomeOf('requestPayment:fail 余额不足')).toEqual({
      status: 'failed',
      reason: '余额不足',
    })
  })

  it('no reason → 支付失败', () => {
    expect(outcomeOf('requestPayment:fail')).toEqual({ status: 'failed', reason: '支付失败' })
    expect(outcomeOf('requestPayment:fail ')).toEqual({ status: 'failed', reason: '支付失败' })
    expect(outcomeOf('')).toEqual({ status: 'failed', reason: '支付失败' })
    expect(outcomeOf(undefined)).toEqual({ status: 'failed', reason: '支付失败' })
  })
})

describe('weappPlatform', () => {
  it('login returns the wx.login code', async () => {
    await expect(weappPlatform.login()).resolves.toBe('code-1')
    expect(Taro.login).toHaveBeenCalledTimes(1)
  })

  it('login without a code throws', async () => {
    taro.loginCode('')
    await expect(weappPlatform.login()).rejects.toThrow('微信登录失败')
  })

  it('requestPayment passes exactly the five signed fields (no appId) and maps the outcome', async () => {
    await expect(weappPlatform.requestPayment(params, paying)).resolves.toEqual({ status: 'paid' })
    const { timeStamp, nonceStr, package: pkg, signType, paySign } = params
    expect(Taro.requestPayment).toHaveBeenCalledWith({
      timeStamp,
      nonceStr,
      package: pkg,
      signType,
      paySign,
    })
    expect(Object.keys(Taro.requestPayment.mock.calls[0]![0]).sort()).toEqual([
      'nonceStr',
      'package',
      'paySign',
      'signType',
      'timeStamp',
    ])

    taro.payment('fail cancel')
    await expect(weappPlatform.requestPayment(params, paying)).resolves.toEqual({
      status: 'cancelled',
    })
    taro.payment('fail 余额不足')
    await expect(weappPlatform.requestPayment(params, paying)).resolves.toEqual({
      status: 'failed',
      reason: '余额不足',
    })
  })

  it('a rejection without errMsg is a failure, not a success', async () => {
    Taro.requestPayment.mockRejectedValueOnce(new Error('boom'))
    await expect(weappPlatform.requestPayment(params, paying)).resolves.toEqual({
      status: 'failed',
      reason: '支付失败',
    })
  })
})

describe('h5Platform', () => {
  it('pays by native only, cannot log in outside WeChat, and renders a QR data URL', async () => {
    expect(h5Platform.channels).toEqual(['native'])
    await expect(h5Platform.login()).rejects.toThrow('请在微信中打开以登录')
    await expect(h5Platform.requestPayment(params, paying)).resolves.toEqual({
      status: 'failed',
      reason: '浏览器中请使用扫码支付',
    })
    await expect(h5Platform.qrImage!('weixin://wxpay/bizpayurl?pr=abc')).resolves.toMatch(
      /^data:image\/png;base64,/,
    )
  })
})

describe('withSandbox', () => {
  const sandboxed = withSandbox(weappPlatform)

  // Leaving the cashier unloads its page, as Taro does once the exit is over.
  beforeEach(() => {
    Taro.navigateBack.mockImplementation(async () => {
      cashierUnloaded()
      return { errMsg: 'navigateBack:ok' }
    })
  })

  it('adds nothing to weapp channels and keeps jsapi first for H5', () => {
    expect(sandboxed.channels).toEqual(['jsapi'])
    expect(withSandbox(h5Platform).channels).toEqual(['jsapi', 'native'])
  })

  it('logs in with a sandbox code from FEN_SANDBOX_URL', async () => {
    taro.answer(ok({ code: 'sbx-code' }))
    await expect(sandboxed.login()).resolves.toBe('sbx-code')
    expect(taro.requests[0]!.url).toBe('http://sandbox.test/__sandbox/login-codes')
    expect(Taro.login).not.toHaveBeenCalled()

    taro.answer({ statusCode: 500, data: {} })
    await expect(sandboxed.login()).rejects.toThrow('沙箱登录失败')
  })

  it("确认收货: the sandbox's stand-in sheet confirms at the sandbox; declining sends nothing", async () => {
    const c = {
      businessType: 'weappOrderConfirm' as const,
      extraData: { merchant_id: '1900000001', merchant_trade_no: 'FENSBX000001' },
    }
    taro.answer(ok({}))
    await expect(sandboxed.openReceiptConfirm!(c)).resolves.toBe('opened')
    expect(taro.requests[0]!.url).toBe('http://sandbox.test/__sandbox/confirm-receipt')
    expect(taro.requests[0]!.body).toEqual({ out_trade_no: 'FENSBX000001' })
    expect(Taro.openBusinessView).not.toHaveBeenCalled()

    taro.confirm(false)
    await expect(sandboxed.openReceiptConfirm!(c)).resolves.toBe('cancelled')
    expect(taro.requests).toHaveLength(1)

    // In WeChat: the real wx.openBusinessView with the server's parameters.
    await expect(weappPlatform.openReceiptConfirm!(c)).resolves.toBe('opened')
    expect(Taro.openBusinessView).toHaveBeenCalledWith(c)
    expect(h5Platform.openReceiptConfirm).toBeUndefined()
  })

  it('keeps the sandbox shopper across launches, and 切换用户 makes a new one (bug 1)', async () => {
    taro.answer(ok({ code: 'c1', openid: 'o-device' }))
    await sandboxed.login()
    expect(taro.requests[0]!.body).toEqual({})

    taro.answer(ok({ code: 'c2', openid: 'o-device' }))
    await sandboxed.login()
    expect(taro.requests[1]!.body).toEqual({ openid: 'o-device' })

    sandboxed.switchUser!()
    taro.answer(ok({ code: 'c3', openid: 'o-new' }))
    await sandboxed.login()
    expect(taro.requests[2]!.body).toEqual({})
    expect(weappPlatform.switchUser).toBeUndefined()
  })

  it('requestPayment opens the cashier page; its answer goes to the sandbox, leaves the page, then settles', async () => {
    const result = sandboxed.requestPayment(params, paying)
    expect(Taro.navigateTo).toHaveBeenCalledWith({
      url: cashierUrl({ orderNo: paying.orderNo, params }),
    })
    expect(pendingCashier()?.order).toEqual(paying)

    taro.answer(ok({ errMsg: 'requestPayment:ok' }))
    await expect(answerCashier('SUCCESS')).resolves.toEqual({ status: 'paid' })
    await expect(result).resolves.toEqual({ status: 'paid' })

    const call = taro.requests[0]!
    expect(call.url).toBe('http://sandbox.test/__sandbox/request-payment')
    expect(call.body).toEqual({ ...params, result: 'SUCCESS' })
    expect(Taro.navigateBack).toHaveBeenCalledTimes(1)
    expect(pendingCashier()).toBeUndefined()
    expect(Taro.requestPayment).not.toHaveBeenCalled()
  })

  it('settles only once the cashier page has unloaded, not when navigateBack resolves (bug 2)', async () => {
    Taro.navigateBack.mockImplementationOnce(async () => ({ errMsg: 'navigateBack:ok' }))
    let settled = false
    const result = sandboxed.requestPayment(params, paying).then((o) => {
      settled = true
      return o
    })
    taro.answer(ok({ errMsg: 'requestPayment:ok' }))
    const answered = answerCashier('SUCCESS')
    await vi.waitFor(() => expect(Taro.navigateBack).toHaveBeenCalledTimes(1))
    await flushPromises()
    expect(settled).toBe(false)

    cashierUnloaded()
    await expect(answered).resolves.toEqual({ status: 'paid' })
    await expect(result).resolves.toEqual({ status: 'paid' })
  })

  it('a cashier closed without a choice (unload) cancels without navigating back', async () => {
    const result = sandboxed.requestPayment(params, paying)
    taro.answer(ok({ errMsg: 'requestPayment:fail cancel' }))
    await answerCashier('CANCEL', false)
    await expect(result).resolves.toEqual({ status: 'cancelled' })
    expect(Taro.navigateBack).not.toHaveBeenCalled()
  })

  it('an unreachable sandbox is a failure; a second payment cancels the first', async () => {
    const first: Promise<PayOutcome> = sandboxed.requestPayment(params, paying)
    const second = sandboxed.requestPayment(params, { ...paying, orderNo: 'FENSBX000002' })
    await expect(first).resolves.toEqual({ status: 'cancelled' })

    Taro.request.mockRejectedValueOnce({ errMsg: 'request:fail' })
    await expect(answerCashier('SUCCESS')).resolves.toEqual({
      status: 'failed',
      reason: '无法连接沙箱',
    })
    await expect(second).resolves.toEqual({ status: 'failed', reason: '无法连接沙箱' })
    expect(await answerCashier('SUCCESS')).toEqual({ status: 'cancelled' })
  })

  it("the cashier's address carries the order and the payment, so that a reload finds them again", () => {
    const signed = { ...params, paySign: 'a+b/c==', package: 'prepay_id=wx1&x' }
    const url = cashierUrl({ orderNo: 'FENSBX000001', params: signed })
    expect(url).toMatch(/^\/pages\/sandbox-cashier\/index\?orderNo=FENSBX000001&/)
    // Taro hands the page its query still encoded (weapp and H5 alike).
    const query = Object.fromEntries(
      url
        .split('?')[1]!
        .split('&')
        .map((kv) => kv.split('=') as [string, string]),
    )
    expect(cashierFromQuery(query)).toEqual({ orderNo: 'FENSBX000001', params: signed })
    expect(cashierFromQuery({})).toBeUndefined()
    expect(cashierFromQuery({ ...query, paySign: '' })).toBeUndefined()
    expect(cashierFromQuery({ ...query, signType: 'NONE' })).toBeUndefined()
  })

  it('a reloaded cashier (no payer waits) answers the sandbox, then goes where the payer would have', async () => {
    const a = { orderNo: 'FENSBX000001', params }
    taro.answer(ok({ errMsg: 'requestPayment:ok' }))
    await expect(answerReloadedCashier(a, 'SUCCESS')).resolves.toEqual({ status: 'paid' })
    expect(taro.requests[0]!.body).toEqual({ ...params, result: 'SUCCESS' })
    expect(Taro.redirectTo).toHaveBeenLastCalledWith({
      url: '/pages/result/index?orderNo=FENSBX000001',
    })

    taro.answer(ok({ errMsg: 'requestPayment:fail cancel' }))
    await answerReloadedCashier(a, 'CANCEL')
    expect(Taro.redirectTo).toHaveBeenLastCalledWith({
      url: '/pages/checkout/index?orderNo=FENSBX000001&payOutcome=cancelled',
    })

    taro.answer(ok({ errMsg: 'requestPayment:fail 余额不足' }))
    await answerReloadedCashier(a, 'PAYERROR')
    expect(Taro.redirectTo).toHaveBeenLastCalledWith({
      url: `/pages/checkout/index?orderNo=FENSBX000001&payOutcome=failed&reason=${encodeURIComponent('余额不足')}`,
    })
    expect(Taro.navigateBack).not.toHaveBeenCalled()
  })

  it('simulateScan posts the code_url and throws the sandbox message on refusal', async () => {
    taro.answer(ok({}), { statusCode: 404, data: { message: '二维码已过期' } })
    await sandboxed.simulateScan!('weixin://wxpay/bizpayurl?pr=abc', 'SUCCESS')
    expect(taro.requests[0]!.body).toEqual({
      code_url: 'weixin://wxpay/bizpayurl?pr=abc',
      result: 'SUCCESS',
    })
    await expect(sandboxed.simulateScan!('weixin://x', 'PAYERROR')).rejects.toThrow('二维码已过期')
  })
})

describe('the sandbox cashier page (pages/sandbox-cashier)', () => {
  it('reloaded: shows the amount and order number from its address and the server; its buttons work', async () => {
    const url = cashierUrl({ orderNo: 'FENSBX000001', params })
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams(
      Object.fromEntries(
        url
          .split('?')[1]!
          .split('&')
          .map((kv) => kv.split('=') as [string, string]),
      ),
    )
    taro.onRequest(
      routes({
        'GET /api/orders/FENSBX000001': ok(order({ orderNo: 'FENSBX000001', totalFen: 11580 })),
        'POST /__sandbox/request-payment': ok({ errMsg: 'requestPayment:ok' }),
      }),
    )
    const w = mount(CashierPage)
    await flushPromises()
    expect(w.find('.amount').text()).toBe('¥115.80')
    expect(w.find('.cashier-order-no').text()).toBe('FENSBX000001')
    expect(w.find('.desc').text()).toBe('手冲咖啡豆 等3件商品')
    expect(w.find('.confirm').classes()).not.toContain('disabled')

    await w.find('.confirm').trigger('tap')
    await flushPromises()
    expect(taro.requestsTo('/__sandbox/request-payment')[0]!.body).toEqual({
      ...params,
      result: 'SUCCESS',
    })
    expect(Taro.redirectTo).toHaveBeenCalledWith({
      url: '/pages/result/index?orderNo=FENSBX000001',
    })
  })

  it('opened with no payment at all: says so, and its buttons are off', async () => {
    taro.routerParams({})
    const w = mount(CashierPage)
    await flushPromises()
    expect(w.find('.problem').text()).toBe('没有待支付的订单，请返回重新发起支付')
    expect(w.find('.confirm').classes()).toContain('disabled')
    await w.find('.confirm').trigger('tap')
    expect(taro.requests).toHaveLength(0)
  })
})
