import { randomBytes, randomInt } from 'node:crypto'
import { formatBeijingTime, randomAlphanumeric } from '@fen/wechatpay'

/** Digits only, `n` of them. */
export function digits(n: number): string {
  let s = ''
  while (s.length < n) s += String(randomInt(0, 10))
  return s
}

/** `wx` + Beijing `yyyyMMddHHmmss` + hex, 36 characters, like `wx201410272009395522657a690389285100`. */
export function newPrepayId(nowMs: number): string {
  const stamp = formatBeijingTime(nowMs).slice(0, 19).replace(/[-T:]/g, '')
  return `wx${stamp}${randomBytes(10).toString('hex')}`
}

/** 28 digits starting `4200`, like `4200001460202207148197935963`. */
export function newTransactionId(nowMs: number): string {
  const day = formatBeijingTime(nowMs).slice(0, 10).replace(/-/g, '')
  return `420000${digits(4)}${day}${digits(10)}`
}

/** 29 digits starting `50`, like `50200207182018070300011301001`. */
export function newRefundId(): string {
  return `50${digits(27)}`
}

/** A Native `code_url`: `weixin://wxpay/bizpayurl?pr=` and a short token. */
export function newCodeUrl(): string {
  return `weixin://wxpay/bizpayurl?pr=${randomAlphanumeric(9)}`
}

/** The `Request-ID` header WeChat puts on every API answer. */
export function newRequestId(): string {
  return randomBytes(16).toString('hex').toUpperCase()
}

/** A login code as `wx.login` returns it: 32 characters. */
export function newLoginCode(): string {
  return randomAlphanumeric(32)
}

/** A sandbox openid: `o` + 27 URL-safe characters, the length real openids have. */
export function newOpenid(): string {
  return `o${randomBytes(21).toString('base64url')}`.slice(0, 28)
}
