/**
 * The protocol work of the reference backend, on node:crypto alone (not the Fen SDK): the APIv3
 * request signature, WeChat's answer and notification signatures, AEAD_AES_256_GCM, `paySign`, and
 * an HS256 JWT. Each function does what WeChat's documentation asks and nothing more; the checks are
 * the ones the Fen SDK makes, in the same order, so the reference is never faster for checking less.
 */
import {
  createDecipheriv,
  createHmac,
  createVerify,
  randomBytes,
  sign,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto'

/** WeChat's limit on clock skew, either way (the SDK's default too). */
const TOLERANCE_SECONDS = 300
const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/'

/** 32 characters from [0-9a-f]: a valid `nonce_str` / `nonceStr` (WeChat asks for ≤ 32 alphanumerics). */
export const nonce = () => randomBytes(16).toString('hex')
export const unixSeconds = () => Math.floor(Date.now() / 1000)

/** RSA-SHA256 with the merchant key, Base64: the request signature and `paySign` alike. */
export const rsaSign = (key: KeyObject, message: string) =>
  sign('sha256', Buffer.from(message, 'utf8'), key).toString('base64')

/** The `Authorization` header of one APIv3 request (method, path, timestamp, nonce, body). */
export function authorization(
  m: { mchid: string; serialNo: string; key: KeyObject },
  method: string,
  path: string,
  body: string,
): string {
  const ts = unixSeconds()
  const n = nonce()
  const signature = rsaSign(m.key, `${method}\n${path}\n${ts}\n${n}\n${body}\n`)
  return `WECHATPAY2-SHA256-RSA2048 mchid="${m.mchid}",nonce_str="${n}",timestamp="${ts}",serial_no="${m.serialNo}",signature="${signature}"`
}

/** A header of a Node request or a fetch answer. */
type Headers = { get(name: string): string | null } | Record<string, string | string[] | undefined>
const header = (h: Headers, name: string): string | undefined => {
  const v = typeof h.get === 'function' ? h.get(name) : (h as Record<string, unknown>)[name]
  return typeof v === 'string' ? v : undefined
}

/**
 * Checks WeChat's signature over the raw bytes of an answer or a notification: all four headers
 * present, not a SIGNTEST probe, the timestamp within 5 minutes, a key known for the serial, and
 * the signature itself. Returns why it failed, or undefined when it holds.
 */
export function verifyWechat(
  keys: ReadonlyMap<string, KeyObject>,
  headers: Headers,
  body: Buffer,
): string | undefined {
  const ts = header(headers, 'wechatpay-timestamp')
  const n = header(headers, 'wechatpay-nonce')
  const signature = header(headers, 'wechatpay-signature')
  const serial = header(headers, 'wechatpay-serial')
  if (!ts || !n || !signature || !serial) return 'missing_headers'
  if (signature.startsWith(SIGNTEST_PREFIX)) return 'signtest'
  const t = /^\d{1,12}$/.test(ts) ? Number(ts) : NaN
  if (!(Math.abs(unixSeconds() - t) <= TOLERANCE_SECONDS)) return 'stale_timestamp'
  const key = keys.get(serial)
  if (!key) return 'unknown_serial'
  const bytes = Buffer.from(signature, 'base64')
  const ok =
    bytes.length > 0 &&
    createVerify('RSA-SHA256')
      .update(Buffer.concat([Buffer.from(`${ts}\n${n}\n`), body, Buffer.from('\n')]))
      .verify(key, bytes)
  return ok ? undefined : 'mismatch'
}

/** An encrypted notification resource. */
export interface Resource {
  algorithm?: unknown
  ciphertext?: unknown
  nonce?: unknown
  associated_data?: unknown
}

/** AEAD_AES_256_GCM with the APIv3 key; undefined when anything is off (tag, key, shape). */
export function decrypt(apiV3Key: KeyObject, r: Resource): string | undefined {
  if (r.algorithm !== 'AEAD_AES_256_GCM') return undefined
  if (typeof r.ciphertext !== 'string' || typeof r.nonce !== 'string') return undefined
  const iv = Buffer.from(r.nonce, 'utf8')
  const data = Buffer.from(r.ciphertext, 'base64')
  if (iv.length !== 12 || data.length < 16) return undefined
  try {
    const d = createDecipheriv('aes-256-gcm', apiV3Key, iv, { authTagLength: 16 })
    d.setAuthTag(data.subarray(data.length - 16))
    d.setAAD(Buffer.from(typeof r.associated_data === 'string' ? r.associated_data : '', 'utf8'))
    return Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]).toString('utf8')
  } catch {
    return undefined
  }
}

// ---- JWT (HS256) with Fen's claims: sub (the user id), oid (a tag of the openid), iat, exp ----

const JWT_HEADER = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')

export interface Claims {
  sub: string
  oid: string
  iat: number
  exp: number
}

/** A signed HS256 token. */
export function signJwt(secret: KeyObject, claims: Claims): string {
  const body = `${JWT_HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
}

/**
 * The claims of a valid HS256 token (signature in constant time, `alg` HS256 only, not expired,
 * not before its `nbf`), or undefined.
 */
export function verifyJwt(secret: KeyObject, token: string): Claims | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  const [h, p, s] = parts as [string, string, string]
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest()
  const given = Buffer.from(s, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  try {
    if (JSON.parse(Buffer.from(h, 'base64url').toString('utf8')).alg !== 'HS256') return undefined
    const c = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))
    const now = unixSeconds()
    if (typeof c !== 'object' || c === null) return undefined
    if (typeof c.exp !== 'number' || c.exp <= now) return undefined
    if (c.nbf !== undefined && !(typeof c.nbf === 'number' && c.nbf <= now)) return undefined
    return c as Claims
  } catch {
    return undefined
  }
}
