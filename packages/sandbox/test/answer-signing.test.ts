/**
 * WeChat signs the answer to every request whose signature it verified, whatever the status
 * (4xx business errors such as ORDER_NOT_EXIST, OUT_TRADE_NO_USED, PARAM_ERROR included); only
 * answers to requests it could not authenticate go unsigned (wechat-ops-api.md §7).
 */
import { describe, expect, it } from 'vitest'
import { uniqueNo, wechatpayHeaders } from './support/independent-client'
import { JSAPI, useFidelitySandbox } from './support/fidelity'

const f = useFidelitySandbox()

describe('answers to a correctly signed request', () => {
  it('are signed when they are 4xx business errors', async () => {
    const unknown = await f.query(uniqueNo())
    expect(unknown.status).toBe(404)
    expect(unknown.json.code).toBe('ORDER_NOT_EXIST')
    expect(f.signed(unknown)).toBe(true)

    const no = await f.prepay()
    const changed = await f.v3.post(JSAPI, {
      appid: f.m.appid,
      mchid: f.m.mchid,
      description: '另一个商品',
      out_trade_no: no,
      notify_url: 'https://example.com/notify',
      amount: { total: 200, currency: 'CNY' },
      payer: { openid: 'o1' },
    })
    expect({ status: changed.status, code: changed.json.code }).toEqual({
      status: 403,
      code: 'OUT_TRADE_NO_USED',
    })
    expect(f.signed(changed)).toBe(true)

    const bad = await f.v3.post(JSAPI, { appid: f.m.appid })
    expect({ status: bad.status, code: bad.json.code }).toEqual({
      status: 400,
      code: 'PARAM_ERROR',
    })
    expect(f.signed(bad)).toBe(true)

    const unpaid = await f.refund(no, 10)
    expect(unpaid.status).toBe(404)
    expect(f.signed(unpaid)).toBe(true)
  })
})

describe('answers to a request WeChat could not authenticate', () => {
  it('are unsigned: a bad signature, a missing Accept header', async () => {
    const badSignature = await f.v3.get(
      `/v3/pay/transactions/out-trade-no/${uniqueNo()}?mchid=${f.m.mchid}`,
      { signUri: '/v3/other' },
    )
    expect({ status: badSignature.status, code: badSignature.json.code }).toEqual({
      status: 401,
      code: 'SIGN_ERROR',
    })
    expect(wechatpayHeaders(badSignature.headers).signature).toBeUndefined()
    expect(badSignature.headers.get('request-id')).toMatch(/^\S+$/)

    const noAccept = await f.v3.get(
      `/v3/pay/transactions/out-trade-no/${uniqueNo()}?mchid=${f.m.mchid}`,
      { headers: { Accept: '' } },
    )
    expect(noAccept.status).toBe(400)
    expect(wechatpayHeaders(noAccept.headers).signature).toBeUndefined()
  })
})
