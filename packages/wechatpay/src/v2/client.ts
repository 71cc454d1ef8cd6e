import { createDecipheriv, createHash } from 'node:crypto'
import {
  formatBeijingTime,
  randomNonce,
  systemClock,
  unixSeconds,
  type Clock,
  type NonceSource,
} from '../core/clock'
import { DEFAULT_BASE_URL } from '../core/client'
import {
  ApiError,
  ConfigError,
  DecryptionError,
  InvalidArgumentError,
  SignatureError,
  WechatPayError,
} from '../core/errors'
import { exchange } from '../core/http'
import { fetchTransport, type Transport } from '../core/transport'
import type { CallOptions, TradeState } from '../resources/transactions'
import { signV2, verifyV2, type V2Params, type V2SignType } from './sign'
import { parseXml, toXml } from './xml'

/** Options of {@link WechatPayV2}. */
export interface WechatPayV2Options {
  /** 商户号 (APIv2 calls it `mch_id`). */
  mchid: string
  appid: string
  /** The 32-character APIv2 key (not the APIv3 key). */
  apiV2Key: string
  /** Default `MD5`, WeChat's own default. */
  signType?: V2SignType
  baseUrl?: string
  timeoutMs?: number
  transport?: Transport
  clock?: Clock
  nonce?: NonceSource
}

/**
 * 统一下单 fields this SDK sends. `total_fee` is in fen; times are `yyyyMMddHHmmss` Beijing time
 * (see {@link formatV2Time}).
 *
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_1
 */
export interface UnifiedOrderRequest {
  body: string
  out_trade_no: string
  total_fee: number
  spbill_create_ip: string
  notify_url: string
  /** JSAPI (mini-program / 公众号), NATIVE (QR code), APP, or MWEB (H5 in a mobile browser). */
  trade_type: 'JSAPI' | 'NATIVE' | 'APP' | 'MWEB'
  /** Required for JSAPI. */
  openid?: string
  /** NATIVE only. */
  product_id?: string
  /**
   * A JSON string; required for MWEB:
   * `{"h5_info":{"type":"Wap","wap_url":"https://…","wap_name":"…"}}` (or iOS / Android app info).
   */
  scene_info?: string
  attach?: string
  time_start?: string
  time_expire?: string
  goods_tag?: string
  device_info?: string
  detail?: string
}

export interface UnifiedOrderResponse {
  prepay_id: string
  trade_type: string
  /** NATIVE only. */
  code_url?: string
  /** MWEB only: send the shopper's browser there (it lives 5 minutes). */
  mweb_url?: string
  raw: Record<string, string>
}

/** 查询订单 answer; amounts in fen (strings in the XML, numbers here). */
export interface V2OrderQueryResponse {
  trade_state: TradeState
  trade_state_desc?: string
  out_trade_no: string
  transaction_id?: string
  total_fee?: number
  cash_fee?: number
  openid?: string
  trade_type?: string
  bank_type?: string
  attach?: string
  /** `yyyyMMddHHmmss`, Beijing time. */
  time_end?: string
  raw: Record<string, string>
}

/** `wx.requestPayment` parameters for APIv2 (`signType` equals the one used at unifiedorder). */
export interface V2RequestPaymentParams {
  appId: string
  timeStamp: string
  nonceStr: string
  package: string
  signType: V2SignType
  paySign: string
}

/** A verified APIv2 payment notification. */
export interface V2PayNotification {
  out_trade_no: string
  transaction_id: string
  total_fee: number
  cash_fee?: number
  openid?: string
  appid: string
  mch_id: string
  result_code: string
  time_end?: string
  raw: Record<string, string>
}

/**
 * The APIv2 (XML) client, for merchants not yet on APIv3: unifiedorder, orderquery, closeorder,
 * `wx.requestPayment` parameters, and payment notifications. Every response's `sign` is verified.
 */
export class WechatPayV2 {
  readonly mchid: string
  readonly appid: string
  readonly signType: V2SignType
  readonly #key: string
  readonly #baseUrl: string
  readonly #timeoutMs: number
  readonly #transport: Transport
  readonly #clock: Clock
  readonly #nonce: NonceSource

  constructor(options: WechatPayV2Options) {
    if (!options.mchid || !options.appid) throw new ConfigError('mchid and appid are required')
    if (!options.apiV2Key || options.apiV2Key.length !== 32) {
      throw new ConfigError('the APIv2 key must be 32 characters')
    }
    this.mchid = options.mchid
    this.appid = options.appid
    this.signType = options.signType ?? 'MD5'
    this.#key = options.apiV2Key
    this.#baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '')
    this.#timeoutMs = options.timeoutMs ?? 10_000
    this.#transport = options.transport ?? fetchTransport
    this.#clock = options.clock ?? systemClock
    this.#nonce = options.nonce ?? randomNonce
  }

  /** 统一下单 (JSAPI, NATIVE, APP or MWEB). */
  async unifiedOrder(
    req: UnifiedOrderRequest,
    options?: CallOptions,
  ): Promise<UnifiedOrderResponse> {
    if (!Number.isSafeInteger(req.total_fee) || req.total_fee <= 0) {
      throw new InvalidArgumentError('total_fee must be a positive integer number of fen')
    }
    const raw = await this.#call('/pay/unifiedorder', { ...req }, options)
    if (!raw.prepay_id) throw new WechatPayError('unifiedorder answered without prepay_id')
    return {
      prepay_id: raw.prepay_id,
      trade_type: raw.trade_type ?? req.trade_type,
      ...(raw.code_url ? { code_url: raw.code_url } : {}),
      ...(raw.mweb_url ? { mweb_url: raw.mweb_url } : {}),
      raw,
    }
  }

  /** 查询订单 by `out_trade_no` or `transaction_id`. Unknown → `ApiError` code `ORDERNOTEXIST`. */
  async orderQuery(
    by: { out_trade_no: string } | { transaction_id: string },
    options?: CallOptions,
  ): Promise<V2OrderQueryResponse> {
    const raw = await this.#call('/pay/orderquery', { ...by }, options)
    return {
      trade_state: raw.trade_state as TradeState,
      trade_state_desc: raw.trade_state_desc,
      out_trade_no: raw.out_trade_no ?? '',
      transaction_id: raw.transaction_id,
      total_fee: toInt(raw.total_fee),
      cash_fee: toInt(raw.cash_fee),
      openid: raw.openid,
      trade_type: raw.trade_type,
      bank_type: raw.bank_type,
      attach: raw.attach,
      time_end: raw.time_end,
      raw,
    }
  }

  /** 关闭订单. A paid order → `ApiError` code `ORDERPAID`. */
  async closeOrder(outTradeNo: string, options?: CallOptions): Promise<void> {
    await this.#call('/pay/closeorder', { out_trade_no: outTradeNo }, options)
  }

  /**
   * `wx.requestPayment` parameters: the v2 sign over `appId` (capital I), `nonceStr`, `package`,
   * `signType`, `timeStamp`, with the same sign type as unifiedorder.
   * @see https://pay.weixin.qq.com/wiki/doc/api/wxa/wxa_api.php?chapter=7_7
   */
  requestPaymentParams(prepayId: string): V2RequestPaymentParams {
    const params = {
      appId: this.appid,
      timeStamp: String(unixSeconds(this.#clock)),
      nonceStr: this.#nonce(),
      package: `prepay_id=${prepayId}`,
      signType: this.signType,
    }
    return { ...params, paySign: signV2(params, this.#key, this.signType) }
  }

  /**
   * Parses and verifies a payment notification (XML). The sign type is the message's own
   * `sign_type` when present, else the client's (notifications follow the order's sign type). A
   * message claiming MD5 is refused by a client set to HMAC-SHA256: never a weaker check than the
   * one configured. Throws {@link SignatureError} on a bad `sign`.
   */
  async parseNotification(xml: string): Promise<V2PayNotification> {
    const raw = await parseXml(xml)
    const signType = (raw.sign_type as V2SignType | undefined) ?? this.signType
    if (signType !== 'MD5' && signType !== 'HMAC-SHA256') {
      throw new SignatureError('mismatch', `unknown APIv2 sign_type ${JSON.stringify(signType)}`)
    }
    if (this.signType === 'HMAC-SHA256' && signType === 'MD5') {
      throw new SignatureError('mismatch', 'an MD5-signed notification for an HMAC-SHA256 merchant')
    }
    if (!verifyV2(raw, this.#key, signType)) {
      throw new SignatureError('mismatch', 'the APIv2 notification sign does not match')
    }
    if (raw.return_code !== 'SUCCESS') {
      throw new ApiError({
        status: 200,
        code: 'FAIL',
        message: raw.return_msg ?? 'return_code FAIL',
      })
    }
    const totalFee = toInt(raw.total_fee)
    if (!raw.out_trade_no || !raw.transaction_id || totalFee === undefined) {
      throw new WechatPayError('the notification lacks out_trade_no, transaction_id or total_fee')
    }
    return {
      out_trade_no: raw.out_trade_no,
      transaction_id: raw.transaction_id,
      total_fee: totalFee,
      cash_fee: toInt(raw.cash_fee),
      openid: raw.openid,
      appid: raw.appid ?? '',
      mch_id: raw.mch_id ?? '',
      result_code: raw.result_code ?? '',
      time_end: raw.time_end,
      raw,
    }
  }

  async #call(
    path: string,
    fields: V2Params,
    options?: CallOptions,
  ): Promise<Record<string, string>> {
    const params: V2Params = {
      appid: this.appid,
      mch_id: this.mchid,
      nonce_str: this.#nonce(),
      sign_type: this.signType,
      ...fields,
    }
    params.sign = signV2(params, this.#key, this.signType)
    const res = await exchange(
      this.#transport,
      this.#baseUrl + path,
      {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml; charset=utf-8' },
        body: toXml(params),
      },
      this.#timeoutMs,
      `POST ${path}`,
      options?.signal,
    )
    if (res.status !== 200) {
      throw new ApiError({ status: res.status, code: 'HTTP_ERROR', message: `HTTP ${res.status}` })
    }
    const raw = await parseXml(res.body.toString('utf8'))
    if (raw.return_code !== 'SUCCESS') {
      // Communication-level failure (bad sign, bad XML): WeChat sends no sign with these.
      throw new ApiError({
        status: 200,
        code: 'FAIL',
        message: raw.return_msg ?? 'return_code FAIL',
      })
    }
    if (!verifyV2(raw, this.#key, this.signType)) {
      throw new SignatureError('mismatch', 'the APIv2 response sign does not match')
    }
    if (raw.result_code !== 'SUCCESS') {
      throw new ApiError({
        status: 200,
        code: raw.err_code ?? 'FAIL',
        message: raw.err_code_des ?? 'result_code FAIL',
        // Its sign was checked above.
        signed: true,
      })
    }
    return raw
  }
}

/** The XML reply to an APIv2 notification: `SUCCESS` stops the retries, anything else asks for one. */
export function v2NotificationReply(ok: boolean, message = ok ? 'OK' : 'FAIL'): string {
  return toXml({ return_code: ok ? 'SUCCESS' : 'FAIL', return_msg: message })
}

/** `yyyyMMddHHmmss` in Beijing time: the APIv2 time format (`time_expire`, `time_end`). */
export function formatV2Time(date: Date | number): string {
  return formatBeijingTime(date).slice(0, 19).replace(/[-T:]/g, '')
}

/** The inverse of {@link formatV2Time}: `yyyyMMddHHmmss` Beijing time → a Date (undefined if malformed). */
export function parseV2Time(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(s)
  if (!m) return undefined
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}+08:00`)
  return Number.isNaN(d.getTime()) ? undefined : d
}

/**
 * Decrypts `req_info` of an APIv2 refund notification: AES-256-ECB keyed with the lower-case hex
 * MD5 of the APIv2 key, PKCS#7; returns the inner XML's fields.
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_16&index=10
 */
export async function decryptV2RefundInfo(
  reqInfo: string,
  apiV2Key: string,
): Promise<Record<string, string>> {
  const key = Buffer.from(createHash('md5').update(apiV2Key, 'utf8').digest('hex'), 'utf8')
  try {
    const decipher = createDecipheriv('aes-256-ecb', key, null)
    const plain = Buffer.concat([decipher.update(Buffer.from(reqInfo, 'base64')), decipher.final()])
    // A wrong key can still end in valid-looking padding (about 1 in 256): then the XML is junk.
    return await parseXml(plain.toString('utf8'))
  } catch (cause) {
    throw new DecryptionError('req_info could not be decrypted with this APIv2 key', { cause })
  }
}

function toInt(v: string | undefined): number | undefined {
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined
}
