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

/** What `wx.requestPayment` parameters are built from. */
export interface RequestPaymentInput {
  appId: string
  prepayId: string
  signer: Signer
  timestamp: number
  nonce: string
}

/**
 * Signs `wx.requestPayment` parameters: SHA256withRSA with the merchant key over
 * `appId\ntimeStamp\nnonceStr\npackage\n`. `appId` must be the appid used at prepay. Signs on the
 * calling thread; {@link signRequestPaymentParams} signs on the thread pool.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/apis/mini-program-payment/mini-transfer-payment.html
 */
export function buildRequestPaymentParams(input: RequestPaymentInput): RequestPaymentParams {
  const { fields, message } = requestPaymentFields(input)
  return { ...fields, paySign: input.signer.sign(message) }
}

/** {@link buildRequestPaymentParams} with the RSA off the event loop ({@link Signer.signAsync}). */
export async function signRequestPaymentParams(
  input: RequestPaymentInput,
): Promise<RequestPaymentParams> {
  const { fields, message } = requestPaymentFields(input)
  return { ...fields, paySign: await input.signer.signAsync(message) }
}

function requestPaymentFields(input: RequestPaymentInput) {
  const timeStamp = String(input.timestamp)
  const pkg = `prepay_id=${input.prepayId}`
  const fields = {
    appId: input.appId,
    timeStamp,
    nonceStr: input.nonce,
    package: pkg,
    signType: 'RSA' as const,
  }
  return { fields, message: buildPaySignMessage(input.appId, timeStamp, input.nonce, pkg) }
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

/** What App payment parameters are built from. */
export interface AppPaymentInput {
  appid: string
  mchid: string
  prepayId: string
  signer: Signer
  timestamp: number
  nonce: string
}

/**
 * Signs App payment parameters: SHA256withRSA over `appid\ntimestamp\nnoncestr\nprepayid\n`, on the
 * calling thread; {@link signAppPaymentParams} signs on the thread pool.
 * @see https://pay.weixin.qq.com/docs/merchant/apis/in-app-payment/app-transfer-payment.html
 */
export function buildAppPaymentParams(input: AppPaymentInput): AppPaymentParams {
  const { fields, message } = appPaymentFields(input)
  return { ...fields, sign: input.signer.sign(message) }
}

/** {@link buildAppPaymentParams} with the RSA off the event loop ({@link Signer.signAsync}). */
export async function signAppPaymentParams(input: AppPaymentInput): Promise<AppPaymentParams> {
  const { fields, message } = appPaymentFields(input)
  return { ...fields, sign: await input.signer.signAsync(message) }
}

function appPaymentFields(input: AppPaymentInput) {
  const timestamp = String(input.timestamp)
  const fields = {
    appid: input.appid,
    partnerid: input.mchid,
    prepayid: input.prepayId,
    package: 'Sign=WXPay' as const,
    noncestr: input.nonce,
    timestamp,
  }
  return {
    fields,
    message: buildPaySignMessage(input.appid, timestamp, input.nonce, input.prepayId),
  }
}
