import { sign as rsaSign, type KeyObject } from 'node:crypto'
import { SignatureError } from '../core/errors'
import { loadPrivateKey } from './keys'
import { buildRequestMessage } from './messages'

/** The scheme of every APIv3 `Authorization` header and of WeChat's signatures. */
export const SIGNATURE_SCHEME = 'WECHATPAY2-SHA256-RSA2048'

/** Signs a message with the merchant API private key; returns standard Base64. */
export interface Signer {
  /** Signs on the calling thread: for tools, tests and test vectors. */
  sign(message: string | Buffer): string
  /**
   * The same signature, computed on libuv's thread pool (`crypto.sign` with a callback), so the
   * event loop goes on serving other requests meanwhile. An RSA-2048 signature is ~0.5 ms of CPU:
   * on a server's one thread that is most of what a pay costs. The client signs every request
   * this way, and so do `WechatPay.requestPaymentParams` / `appPaymentParams`.
   */
  signAsync(message: string | Buffer): Promise<string>
}

/**
 * SHA256withRSA (RSASSA-PKCS1-v1_5) over the UTF-8 bytes of `message`, Base64-encoded.
 * The key is parsed once, here, and reused for every signature.
 */
export function createRsaSigner(privateKey: string | Buffer | KeyObject): Signer {
  const key = loadPrivateKey(privateKey)
  return {
    sign: (message) => rsaSign('sha256', toBytes(message), key).toString('base64'),
    signAsync: (message) =>
      new Promise((resolve, reject) => {
        rsaSign('sha256', toBytes(message), key, (error, signature) => {
          if (error) reject(error)
          else resolve(signature.toString('base64'))
        })
      }),
  }
}

function toBytes(message: string | Buffer): Buffer {
  return typeof message === 'string' ? Buffer.from(message, 'utf8') : message
}

/** The five parameters of an `Authorization` header. */
export interface AuthorizationParams {
  mchid: string
  nonce_str: string
  timestamp: string
  serial_no: string
  signature: string
}

/** What one APIv3 request's `Authorization` header covers. */
export interface RequestToSign {
  signer: Signer
  mchid: string
  serialNo: string
  method: string
  /** The canonical URL: the path and query exactly as they go on the wire, without scheme and host. */
  url: string
  body: string
  timestamp: number
  nonce: string
}

/**
 * Signs one APIv3 request and returns its `Authorization` header value, on the calling thread.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-generation.html
 */
export function signRequest(input: RequestToSign): string {
  return authorizationOf(input, input.signer.sign(requestMessageOf(input)))
}

/** {@link signRequest} with the RSA on the thread pool ({@link Signer.signAsync}): what the client uses. */
export async function signRequestAsync(input: RequestToSign): Promise<string> {
  return authorizationOf(input, await input.signer.signAsync(requestMessageOf(input)))
}

const requestMessageOf = (r: RequestToSign) =>
  buildRequestMessage(r.method, r.url, r.timestamp, r.nonce, r.body)

const authorizationOf = (r: RequestToSign, signature: string) =>
  formatAuthorization({
    mchid: r.mchid,
    nonce_str: r.nonce,
    timestamp: String(r.timestamp),
    serial_no: r.serialNo,
    signature,
  })

/** Formats the header in the order the official Go SDK emits. */
export function formatAuthorization(p: AuthorizationParams): string {
  return (
    `${SIGNATURE_SCHEME} mchid="${p.mchid}",nonce_str="${p.nonce_str}",` +
    `timestamp="${p.timestamp}",serial_no="${p.serial_no}",signature="${p.signature}"`
  )
}

const AUTH_PARAM = /^([a-z_]+)="([^"]*)"$/
const AUTH_KEYS = ['mchid', 'nonce_str', 'timestamp', 'serial_no', 'signature'] as const

/**
 * Parses an `Authorization` header the way WeChat's gateway does: the exact scheme, one space, then
 * `key="value"` pairs separated by commas, in any order, each of the five exactly once.
 * Throws {@link SignatureError} (`bad_authorization`) otherwise.
 */
export function parseAuthorization(header: string | undefined): AuthorizationParams {
  if (!header) throw new SignatureError('bad_authorization', 'Authorization header is missing')
  const space = header.indexOf(' ')
  if (space < 0 || header.slice(0, space) !== SIGNATURE_SCHEME) {
    throw new SignatureError('bad_authorization', 'Authorization scheme is not ' + SIGNATURE_SCHEME)
  }
  const found: Partial<Record<string, string>> = {}
  for (const part of header.slice(space + 1).split(',')) {
    const m = AUTH_PARAM.exec(part)
    if (!m || m[1] === undefined || m[2] === undefined || m[1] in found) {
      throw new SignatureError('bad_authorization', 'Authorization parameters are malformed')
    }
    found[m[1]] = m[2]
  }
  for (const key of AUTH_KEYS) {
    if (!found[key]) {
      throw new SignatureError('bad_authorization', `Authorization has no ${key}`)
    }
  }
  return found as unknown as AuthorizationParams
}
