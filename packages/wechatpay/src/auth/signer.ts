import { sign as rsaSign, type KeyObject } from 'node:crypto'
import { SignatureError } from '../core/errors'
import { loadPrivateKey } from './keys'
import { buildRequestMessage } from './messages'

/** The scheme of every APIv3 `Authorization` header and of WeChat's signatures. */
export const SIGNATURE_SCHEME = 'WECHATPAY2-SHA256-RSA2048'

/** Signs a message with the merchant API private key; returns standard Base64. */
export interface Signer {
  sign(message: string | Buffer): string
}

/**
 * SHA256withRSA (RSASSA-PKCS1-v1_5) over the UTF-8 bytes of `message`, Base64-encoded.
 * The key is parsed once, here, and reused for every signature.
 */
export function createRsaSigner(privateKey: string | Buffer | KeyObject): Signer {
  const key = loadPrivateKey(privateKey)
  return {
    sign: (message) => rsaSign('sha256', toBytes(message), key).toString('base64'),
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

/**
 * Signs one APIv3 request and returns its `Authorization` header value. `url` is the canonical URL:
 * the path and query exactly as they go on the wire, without scheme and host.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-generation.html
 */
export function signRequest(input: {
  signer: Signer
  mchid: string
  serialNo: string
  method: string
  url: string
  body: string
  timestamp: number
  nonce: string
}): string {
  const message = buildRequestMessage(
    input.method,
    input.url,
    input.timestamp,
    input.nonce,
    input.body,
  )
  return formatAuthorization({
    mchid: input.mchid,
    nonce_str: input.nonce,
    timestamp: String(input.timestamp),
    serial_no: input.serialNo,
    signature: input.signer.sign(message),
  })
}

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
