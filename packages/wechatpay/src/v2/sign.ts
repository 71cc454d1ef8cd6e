import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

/** APIv2 signature types; the casing is exactly WeChat's. */
export type V2SignType = 'MD5' | 'HMAC-SHA256'

/** A flat APIv2 message: field name → value. */
export type V2Params = Record<string, string | number | undefined | null>

/**
 * The APIv2 signing string: every field except `sign` whose value is not empty, sorted by name in
 * ASCII order, joined as `k=v&…` with raw (not URL-encoded) values, then `&key=<APIv2 key>`.
 *
 * @see https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_3
 */
export function buildV2SignString(params: V2Params, apiV2Key: string): string {
  const pairs: string[] = []
  for (const name of Object.keys(params).sort(compareAscii)) {
    const value = params[name]
    if (name === 'sign' || value === undefined || value === null || value === '') continue
    pairs.push(`${name}=${value}`)
  }
  pairs.push(`key=${apiV2Key}`)
  return pairs.join('&')
}

/** Plain code-unit order: what "ASCII ascending" means (`localeCompare` would not do it). */
function compareAscii(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Signs an APIv2 message: upper-case hex MD5, or HMAC-SHA256 keyed with the APIv2 key. */
export function signV2(params: V2Params, apiV2Key: string, signType: V2SignType = 'MD5'): string {
  const text = buildV2SignString(params, apiV2Key)
  const digest =
    signType === 'HMAC-SHA256'
      ? createHmac('sha256', apiV2Key).update(text, 'utf8').digest('hex')
      : createHash('md5').update(text, 'utf8').digest('hex')
  return digest.toUpperCase()
}

/**
 * Checks the `sign` of a received APIv2 message (response or notification), including any fields
 * WeChat added that we do not know. Constant-time comparison.
 */
export function verifyV2(
  params: V2Params,
  apiV2Key: string,
  signType: V2SignType = 'MD5',
): boolean {
  const given = params.sign
  if (typeof given !== 'string' || given === '') return false
  const expected = Buffer.from(signV2(params, apiV2Key, signType))
  const actual = Buffer.from(given.toUpperCase())
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}
