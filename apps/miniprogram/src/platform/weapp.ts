import Taro from '@tarojs/taro'
import type { PayOutcome, Platform } from './types'

/** `wx.requestPayment`'s errMsg → what happened. */
export function outcomeOf(errMsg: string | undefined): PayOutcome {
  if (errMsg === 'requestPayment:ok') return { status: 'paid' }
  if (errMsg?.includes('cancel')) return { status: 'cancelled' }
  return {
    status: 'failed',
    reason: (errMsg ?? '').replace(/^requestPayment:fail\s*/, '') || '支付失败',
  }
}

/** Inside WeChat: the real `wx.login` and `wx.requestPayment` (through Taro). */
export const weappPlatform: Platform = {
  channels: ['jsapi'],
  async login() {
    const r = await Taro.login()
    if (!r.code) throw new Error('微信登录失败')
    return r.code
  },
  async requestPayment(params) {
    try {
      // wx.requestPayment returns a Promise when given no callbacks (Taro passes it through).
      const r = await Taro.requestPayment({
        timeStamp: params.timeStamp,
        nonceStr: params.nonceStr,
        package: params.package,
        signType: params.signType,
        paySign: params.paySign,
      })
      return outcomeOf(r?.errMsg ?? 'requestPayment:ok')
    } catch (e) {
      return outcomeOf((e as { errMsg?: string })?.errMsg)
    }
  },
  async chooseAddress() {
    try {
      const a = await Taro.chooseAddress()
      return {
        name: a.userName,
        phone: a.telNumber,
        province: a.provinceName,
        city: a.cityName,
        district: a.countyName,
        detail: a.detailInfo,
        ...(a.postalCode ? { postalCode: a.postalCode } : {}),
      }
    } catch {
      // backed out of WeChat's sheet (chooseAddress:fail cancel), or no permission
      return undefined
    }
  },
  async openReceiptConfirm(c) {
    try {
      // Taro's types list only the 微信支付分 business types, not weappOrderConfirm.
      await Taro.openBusinessView({
        businessType: c.businessType,
        extraData: c.extraData as unknown as Taro.openBusinessView.Option['extraData'],
      })
      return 'opened'
    } catch {
      return 'cancelled'
    }
  },
}
