/**
 * The exact byte strings WeChat Pay signs. Each line ends with `\n`, the last one included, even when
 * the value itself ends with one. Kept as pure functions so tests can check them against the
 * documented examples.
 */

/**
 * The APIv3 request signing string: method, canonical URL (path and `?query`, exactly as sent),
 * Unix timestamp in seconds, nonce, and body (empty for GET).
 *
 * @see https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-generation.html
 */
export function buildRequestMessage(
  method: string,
  canonicalUrl: string,
  timestamp: number | string,
  nonce: string,
  body: string,
): string {
  return `${method}\n${canonicalUrl}\n${timestamp}\n${nonce}\n${body}\n`
}

/**
 * The string a WeChat response or notification is signed over: timestamp, nonce and the raw body
 * bytes as received. Built from bytes, never from a re-serialised or re-decoded body.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
 */
export function buildResponseMessage(
  timestamp: number | string,
  nonce: string,
  body: Buffer | string,
): Buffer {
  const head = Buffer.from(`${timestamp}\n${nonce}\n`, 'utf8')
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
  return Buffer.concat([head, bytes, NEWLINE], head.length + bytes.length + 1)
}

const NEWLINE = Buffer.from('\n')

/**
 * The string `paySign` covers for `wx.requestPayment` (APIv3, signType `RSA`):
 * `appId\ntimeStamp\nnonceStr\npackage\n`. App payments sign the same four-line shape over
 * `appid`, `timestamp`, `noncestr` and `prepayid`.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/apis/mini-program-payment/mini-transfer-payment.html
 */
export function buildPaySignMessage(
  appId: string,
  timeStamp: string,
  nonceStr: string,
  pkg: string,
): string {
  return `${appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`
}
