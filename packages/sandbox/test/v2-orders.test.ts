/**
 * APIv2 orders as WeChat takes them: `closeorder` answers alike for an unknown order (no
 * ORDERNOTEXIST), and `unifiedorder` takes trade_type MWEB (H5, answering `mweb_url`) and APP.
 */
import { describe, expect, it } from 'vitest'
import { uniqueNo, v2SignOk } from './support/independent-client'
import { useFidelitySandbox } from './support/fidelity'

const f = useFidelitySandbox()

function order(no: string, tradeType: string, extra: Record<string, string> = {}) {
  return {
    body: '测试商品',
    out_trade_no: no,
    total_fee: 100,
    spbill_create_ip: '14.23.150.211',
    notify_url: 'https://example.com/notify',
    trade_type: tradeType,
    ...extra,
  }
}

describe('APIv2 closeorder', () => {
  it('answers an unknown order as it answers a close that worked', async () => {
    const unknown = await f.v2('/pay/closeorder', { out_trade_no: uniqueNo('V2') })
    expect(v2SignOk(unknown, f.m.apiV2Key, 'MD5')).toBe(true)
    expect(unknown).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS' })
    expect(unknown.err_code).toBeUndefined()

    const no = uniqueNo('V2')
    expect((await f.v2('/pay/unifiedorder', order(no, 'NATIVE'))).result_code).toBe('SUCCESS')
    const known = await f.v2('/pay/closeorder', { out_trade_no: no })
    expect(Object.keys(known).sort()).toEqual(Object.keys(unknown).sort())
  })
})

describe('APIv2 unifiedorder', () => {
  it('MWEB (H5): answers mweb_url and prepay_id; the order pays and queries as MWEB', async () => {
    const no = uniqueNo('V2')
    const a = await f.v2(
      '/pay/unifiedorder',
      order(no, 'MWEB', {
        scene_info: JSON.stringify({
          h5_info: { type: 'Wap', wap_url: 'https://shop.example', wap_name: '商店' },
        }),
      }),
    )
    expect(v2SignOk(a, f.m.apiV2Key, 'MD5')).toBe(true)
    expect(a).toMatchObject({ result_code: 'SUCCESS', trade_type: 'MWEB' })
    expect(a.prepay_id).toMatch(/^wx\w+$/)
    expect(a.mweb_url).toMatch(/^https?:\/\/\S+\/__sandbox\/h5pay\?prepay_id=wx\w+$/)
    expect(a.code_url).toBeUndefined()
    expect((await f.pay(no)).status).toBe(200)
    expect((await f.v2('/pay/orderquery', { out_trade_no: no })).trade_type).toBe('MWEB')
  })

  it('MWEB without scene_info → LACK_PARAMS', async () => {
    const a = await f.v2('/pay/unifiedorder', order(uniqueNo('V2'), 'MWEB'))
    expect(a).toMatchObject({ result_code: 'FAIL', err_code: 'LACK_PARAMS' })
  })

  it('APP: answers a prepay_id and no URL', async () => {
    const no = uniqueNo('V2')
    const a = await f.v2('/pay/unifiedorder', order(no, 'APP'))
    expect(a).toMatchObject({ result_code: 'SUCCESS', trade_type: 'APP' })
    expect(a.prepay_id).toMatch(/^wx\w+$/)
    expect(a.mweb_url).toBeUndefined()
    expect(a.code_url).toBeUndefined()
    expect((await f.pay(no)).status).toBe(200)
    expect((await f.v2('/pay/orderquery', { out_trade_no: no })).trade_type).toBe('APP')
  })
})
