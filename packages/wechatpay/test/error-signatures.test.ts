/**
 * Error answers and their signatures. WeChat signs its answer to every request it authenticated,
 * 4xx business errors included: the SDK verifies a signed error answer as it verifies a 2xx one
 * (a bad signature is a SignatureError — the error may be forged), and keeps an unsigned one as an
 * ApiError with `signed: false` (WeChat's gateway refusals carry no signature; the official SDKs
 * check no error answer).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { ApiError, SignatureError, WechatPay, isApiError } from '../src'
import type { TestMerchant } from '../src/testing'
import { createFakeWechat, fakeClientOptions, type FakeReply } from './support/fake-wechat'
import { testMerchant } from './support/merchant'

const NOW = Date.now()
const clock = () => NOW

let m: TestMerchant
beforeAll(async () => {
  m = await testMerchant()
})

const NOT_FOUND = { code: 'ORDER_NOT_EXIST', message: '订单不存在' }

async function queryAnswering(reply: FakeReply): Promise<unknown> {
  const fake = createFakeWechat(m, { clock })
  const wxpay = new WechatPay(fakeClientOptions(m, fake, clock, { maxRetries: 0 }))
  fake.route('GET', (p) => p.startsWith('/v3/pay/transactions/out-trade-no/'), reply)
  try {
    await wxpay.transactions.queryByOutTradeNo('FEN20261202000001')
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}

describe('a 4xx answer', () => {
  it('signed and valid → ApiError with signed: true', async () => {
    const e = await queryAnswering({ status: 404, body: NOT_FOUND, signature: 'valid' })
    expect(isApiError(e, 'ORDER_NOT_EXIST')).toBe(true)
    expect(e).toMatchObject({ status: 404, signed: true })
  })

  it('signed but not matching → SignatureError, not an ApiError', async () => {
    const e = await queryAnswering({ status: 404, body: NOT_FOUND, signature: 'tamper' })
    expect(e).toBeInstanceOf(SignatureError)
    expect(e).toMatchObject({ reason: 'mismatch' })
    expect(e).not.toBeInstanceOf(ApiError)
  })

  it('a signature probe on an error answer is refused too', async () => {
    const e = await queryAnswering({ status: 403, body: NOT_FOUND, signature: 'signtest' })
    expect(e).toBeInstanceOf(SignatureError)
    expect(e).toMatchObject({ reason: 'signtest' })
  })

  it('signed long ago → SignatureError (stale_timestamp)', async () => {
    const e = await queryAnswering({
      status: 404,
      body: NOT_FOUND,
      signature: 'valid',
      timestamp: Math.floor(NOW / 1000) - 3600,
    })
    expect(e).toBeInstanceOf(SignatureError)
    expect(e).toMatchObject({ reason: 'stale_timestamp' })
  })

  it('unsigned → ApiError with signed: false (a gateway refusal, e.g. 401 SIGN_ERROR)', async () => {
    const e = await queryAnswering({
      status: 401,
      body: { code: 'SIGN_ERROR', message: '错误的签名,验签失败' },
      signature: 'omit',
    })
    expect(isApiError(e, 'SIGN_ERROR')).toBe(true)
    expect(e).toMatchObject({ status: 401, signed: false })
  })
})
