import { createVerify, type KeyObject } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { SignatureError, parseAuthorization } from '@fen/wechatpay'
import { WechatError } from '../errors'
import type { SandboxKeys } from '../keys'
import type { CallMiddleware } from './context'

/** WeChat's documented limit on clock skew, applied to the merchant's `timestamp` (real time). */
const REQUEST_TIMESTAMP_TOLERANCE_S = 300

/** What checking a merchant's APIv3 request uses of the sandbox. */
export interface MerchantVerifier {
  keys: Pick<SandboxKeys, 'mchid' | 'merchantSerialNo'>
  merchantPublicKey: KeyObject
  /** True when `serial` names one of WeChat's keys (the `Wechatpay-Serial` request header). */
  knowsSerial(serial: string): boolean
}

/**
 * Lets an APIv3 call through only when {@link authenticate} accepts it, and marks it so
 * (`authenticated`: its answer is signed). A refusal is thrown as WeChat's error answer.
 */
export function verifyV3Request(verifier: MerchantVerifier): CallMiddleware {
  return (ctx, next) => {
    authenticate(verifier, {
      method: ctx.method,
      rawUrl: ctx.state.rawUrl,
      headers: ctx.req.headers,
      body: ctx.state.body,
    })
    ctx.state.authenticated = true
    return next()
  }
}

/**
 * Checks a merchant's APIv3 request the way WeChat's gateway does, throwing WeChat's error answer:
 * Accept and User-Agent present; the Authorization scheme and format; the merchant and its
 * certificate serial; the timestamp within 5 minutes (real time); the signature over method,
 * path?query as sent, timestamp, nonce and the raw body bytes.
 */
export function authenticate(
  verifier: MerchantVerifier,
  req: { method: string; rawUrl: string; headers: IncomingHttpHeaders; body: Buffer },
): void {
  if (!req.headers.accept || !req.headers['user-agent']) {
    throw new WechatError(400, 'INVALID_REQUEST', 'Http头缺少Accept或User-Agent')
  }
  let auth
  try {
    auth = parseAuthorization(req.headers.authorization)
  } catch (e) {
    const scheme = e instanceof SignatureError && e.message.includes('scheme')
    throw new WechatError(
      401,
      'SIGN_ERROR',
      scheme
        ? 'Http头Authorization认证类型不正确'
        : 'Http头Authorization值格式错误,请参考《微信支付商户REST API签名规则》',
    )
  }
  if (auth.mchid !== verifier.keys.mchid) {
    throw new WechatError(400, 'MCH_NOT_EXISTS', '商户号不存在', {
      field: 'mchid',
      location: 'authorization',
    })
  }
  if (auth.serial_no.toUpperCase() !== verifier.keys.merchantSerialNo) {
    throw new WechatError(401, 'SIGN_ERROR', '商户API证书序列号不正确', {
      field: 'serial_no',
      location: 'authorization',
      issue: 'serial_no does not match the merchant API certificate',
    })
  }
  const ts = /^\d{1,12}$/.test(auth.timestamp) ? Number(auth.timestamp) : NaN
  if (!(Math.abs(Date.now() / 1000 - ts) <= REQUEST_TIMESTAMP_TOLERANCE_S)) {
    throw new WechatError(401, 'SIGN_ERROR', '请求时间戳与当前时间相差超过5分钟', {
      field: 'timestamp',
      location: 'authorization',
      issue: 'timestamp expired',
    })
  }
  const head = `${req.method}\n${req.rawUrl}\n${auth.timestamp}\n${auth.nonce_str}\n`
  const message = Buffer.concat([Buffer.from(head), req.body, Buffer.from('\n')])
  const signature = Buffer.from(auth.signature, 'base64')
  const verified =
    signature.length > 0 &&
    createVerify('RSA-SHA256').update(message).verify(verifier.merchantPublicKey, signature)
  if (!verified) {
    const text = message.toString('utf8')
    throw new WechatError(401, 'SIGN_ERROR', '错误的签名,验签失败', {
      detail: { issue: 'sign not match' },
      field: 'signature',
      location: 'authorization',
      sign_information: {
        method: req.method,
        sign_message_length: message.length,
        truncated_sign_message: text.slice(0, 200),
        url: req.rawUrl,
      },
    })
  }
  const serial = req.headers['wechatpay-serial']
  if (typeof serial === 'string' && !verifier.knowsSerial(serial)) {
    throw new WechatError(
      400,
      'INVALID_REQUEST',
      'Wechatpay-Serial 不是本商户的平台证书序列号或微信支付公钥ID',
    )
  }
}
