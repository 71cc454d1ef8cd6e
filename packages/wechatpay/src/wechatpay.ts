import type { HeaderSource } from './auth/verify'
import { unixSeconds } from './core/clock'
import { WechatPayClient, type WechatPayClientOptions } from './core/client'
import { ConfigError } from './core/errors'
import { parseNotification } from './notify/parse'
import type { NotificationEvent } from './notify/types'
import {
  signAppPaymentParams,
  signRequestPaymentParams,
  type AppPaymentParams,
  type RequestPaymentParams,
} from './payments/request-payment'
import { Bills } from './resources/bills'
import { Certificates } from './resources/certificates'
import { Refunds } from './resources/refunds'
import {
  Transactions,
  type CallOptions,
  type JsapiPrepayRequest,
  type JsapiPrepayResponse,
} from './resources/transactions'

/**
 * The WeChat Pay APIv3 SDK: one object per merchant, holding the parsed keys.
 *
 * @example
 * const wxpay = new WechatPay({ mchid, serialNo, privateKey, apiV3Key, appid,
 *   platform: { publicKey: { id: 'PUB_KEY_ID_…', key: pubKeyPem } } })
 * const { prepay_id } = await wxpay.transactions.jsapi({ description, out_trade_no, notify_url,
 *   amount: { total: 100 }, payer: { openid } })
 */
export class WechatPay {
  readonly client: WechatPayClient
  readonly transactions: Transactions
  readonly refunds: Refunds
  readonly bills: Bills
  readonly certificates: Certificates

  constructor(options: WechatPayClientOptions | WechatPayClient) {
    this.client = options instanceof WechatPayClient ? options : new WechatPayClient(options)
    this.transactions = new Transactions(this.client)
    this.refunds = new Refunds(this.client)
    this.bills = new Bills(this.client)
    this.certificates = new Certificates(this.client)
  }

  /**
   * Verifies and decrypts a notification POSTed to your `notify_url`. Pass the raw body bytes.
   * Answer with `successReply()` once it is durably handled, `failureReply()` otherwise.
   */
  parseNotification(headers: HeaderSource, rawBody: Buffer | string): Promise<NotificationEvent> {
    return parseNotification({
      headers,
      body: rawBody,
      verifier: this.client.verifier,
      apiV3Key: this.client.apiV3Key,
      nowSeconds: unixSeconds(this.client.clock),
      toleranceSeconds: this.client.timestampToleranceSeconds,
    })
  }

  /**
   * Signs `wx.requestPayment` parameters for a `prepay_id` (appId defaults to the client's), on
   * the thread pool (`Signer.signAsync`).
   */
  async requestPaymentParams(
    prepayId: string,
    appId = this.client.appid,
  ): Promise<RequestPaymentParams> {
    if (!appId) throw new ConfigError('appId is required: pass it or set the client appid')
    return signRequestPaymentParams({
      appId,
      prepayId,
      signer: this.client.signer,
      timestamp: unixSeconds(this.client.clock),
      nonce: this.client.nonce(),
    })
  }

  /** Signs App (Open SDK) payment parameters for a `prepay_id`, on the thread pool. */
  async appPaymentParams(prepayId: string, appId = this.client.appid): Promise<AppPaymentParams> {
    if (!appId) throw new ConfigError('appId is required: pass it or set the client appid')
    return signAppPaymentParams({
      appid: appId,
      mchid: this.client.mchid,
      prepayId,
      signer: this.client.signer,
      timestamp: unixSeconds(this.client.clock),
      nonce: this.client.nonce(),
    })
  }

  /**
   * JSAPI prepay and the signed `wx.requestPayment` parameters in one call: what a mini-program
   * server's "pay" endpoint returns.
   */
  async payJsapi(
    req: JsapiPrepayRequest,
    options?: CallOptions,
  ): Promise<JsapiPrepayResponse & { params: RequestPaymentParams }> {
    const prepay = await this.transactions.jsapi(req, options)
    return { ...prepay, params: await this.requestPaymentParams(prepay.prepay_id, req.appid) }
  }
}
