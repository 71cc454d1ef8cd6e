import type { Signer } from '../auth/signer'
import { buildPaySignMessage } from '../auth/messages'

/**
 * The parameters of `wx.requestPayment` (and WeixinJSBridge `getBrandWCPayRequest`) for APIv3.
 * `appId` is not an argument of `wx.requestPayment` itself, but it is signed and JSAPI needs it.
 */
export interface RequestPaymentParams {
  appId: string
  /** Unix seconds, as a string. */
  timeStamp: string
  nonceStr: string
  /** `prepay_id=…`. */
  package: string
  signType: 'RSA'
  paySign: string
}

/**
 * Signs `wx.requestPayment` parameters: SHA256withRSA with the merchant key over
 * `appId\ntimeStamp\nnonceStr\npackage\n`. `appId` must be the appid used at prepay.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/apis/mini-program-payment/mini-transfer-payment.html
 */
export function buildRequestPaymentParams(input: {
  appId: string
  prepayId: string
  signer: Signer
  timestamp: number
  nonce: string
}): RequestPaymentParams {
  const timeStamp = String(input.timestamp)
  const pkg = `prepay_id=${input.prepayId}`
  return {
    appId: input.appId,
    timeStamp,
    nonceStr: input.nonce,
    package: pkg,
    signType: 'RSA',
    paySign: input.signer.sign(buildPaySignMessage(input.appId, timeStamp, input.nonce, pkg)),
  }
}

/** The parameters the WeChat Open SDK (Android/iOS) takes for an App payment. */
export interface AppPaymentParams {
  appid: string
  partnerid: string
  prepayid: string
  package: 'Sign=WXPay'
  noncestr: string
  timestamp: string
  sign: string
}

/**
 * Signs App payment parameters: SHA256withRSA over `appid\ntimestamp\nnoncestr\nprepayid\n`.
 * @see https://pay.weixin.qq.com/docs/merchant/apis/in-app-payment/app-transfer-payment.html
 */
export function buildAppPaymentParams(input: {
  appid: string
  mchid: string
  prepayId: string
  signer: Signer
  timestamp: number
  nonce: string
}): AppPaymentParams {
  const timestamp = String(input.timestamp)
  return {
    appid: input.appid,
    partnerid: input.mchid,
    prepayid: input.prepayId,
    package: 'Sign=WXPay',
    noncestr: input.nonce,
    timestamp,
    sign: input.signer.sign(
      buildPaySignMessage(input.appid, timestamp, input.nonce, input.prepayId),
    ),
  }
}
