/**
 * Conformance of the sandbox's APIv2 (XML) side and of mini-program login, driven by an independent
 * client: `wechatpay-axios-plugin`'s Hash.sign and Transformer (XML) over Node's fetch — never
 * `@fen/wechatpay`. Expectations come from /work/shared/wechatpay-api.md §9, §10 and §12.1.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Formatter, Hash, Transformer } from 'wechatpay-axios-plugin'
import { startSandbox, type RunningSandbox } from '../src'
import { sandboxKeys } from './support/keys'
import {
  NotifyReceiver,
  control,
  getMerchant,
  parseV2,
  postV2,
  uniqueNo,
  v2SignOk,
  v2Xml,
  type MerchantView,
  type V2Fields,
} from './support/independent-client'

type SignType = 'MD5' | 'HMAC-SHA256'

const OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o'
const PREPAY_ID = /^wx\d{14}[0-9a-f]{20}$/

let sb: RunningSandbox
let m: MerchantView
const receiver = new NotifyReceiver()

beforeAll(async () => {
  const [keys] = await Promise.all([sandboxKeys(), receiver.start()])
  sb = await startSandbox({ keys, port: 0, refundSettleSeconds: false })
  m = await getMerchant(sb.url)
})

afterAll(async () => {
  await sb?.close()
  await receiver.close()
})

beforeEach(async () => {
  expect((await control(sb.url, 'POST', '/reset')).status).toBe(204)
})

// ---- APIv2 ---------------------------------------------------------------------------------------

function orderFields(no: string, over: Record<string, string | number> = {}) {
  return {
    appid: m.appid,
    mch_id: m.mchid,
    nonce_str: Formatter.nonce(),
    body: 'Fen测试-QQ公仔',
    out_trade_no: no,
    total_fee: 100,
    spbill_create_ip: '14.23.150.211',
    notify_url: receiver.url(no),
    trade_type: 'JSAPI',
    openid: OPENID,
    ...over,
  }
}

interface V2Answer {
  status: number
  contentType: string | null
  fields: V2Fields
}

async function callV2(path: string, xml: string): Promise<V2Answer> {
  const a = await postV2(sb.url, path, xml)
  return { status: a.status, contentType: a.headers.get('content-type'), fields: parseV2(a.text) }
}

/** A signed request with `fields` (plus sign_type when not MD5). */
function signedCall(
  path: string,
  fields: Record<string, string | number>,
  type: SignType = 'MD5',
): Promise<V2Answer> {
  return callV2(path, v2Xml(fields, m.apiV2Key, type))
}

/** A communication-level success whose sign verifies with the request's sign type. */
function expectSignedSuccess(a: V2Answer, type: SignType): V2Fields {
  expect(a.status).toBe(200)
  expect(a.contentType).toMatch(/xml/)
  expect(a.fields.return_code).toBe('SUCCESS')
  expect(a.fields.appid).toBe(m.appid)
  expect(a.fields.mch_id).toBe(m.mchid)
  expect(a.fields.nonce_str).toMatch(/^\w{1,32}$/)
  expect(a.fields.sign).toMatch(type === 'MD5' ? /^[0-9A-F]{32}$/ : /^[0-9A-F]{64}$/)
  expect(v2SignOk(a.fields, m.apiV2Key, type)).toBe(true)
  // Not a rubber stamp: a changed field breaks the sign.
  expect(v2SignOk({ ...a.fields, nonce_str: `${a.fields.nonce_str}x` }, m.apiV2Key, type)).toBe(
    false,
  )
  return a.fields
}

function expectBusinessError(a: V2Answer, errCode: string, type: SignType = 'MD5'): V2Fields {
  const f = expectSignedSuccess(a, type)
  expect(f.result_code).toBe('FAIL')
  expect(f.err_code).toBe(errCode)
  expect(f.err_code_des?.length).toBeGreaterThan(0)
  return f
}

async function unifiedOrder(
  no = uniqueNo('V2'),
  type: SignType = 'MD5',
  over: Record<string, string | number> = {},
): Promise<{ no: string; prepayId: string }> {
  const f = expectSignedSuccess(
    await signedCall('/pay/unifiedorder', orderFields(no, over), type),
    type,
  )
  expect(f.result_code).toBe('SUCCESS')
  return { no, prepayId: f.prepay_id! }
}

function orderQuery(by: Record<string, string>, type: SignType = 'MD5'): Promise<V2Answer> {
  return signedCall(
    '/pay/orderquery',
    { appid: m.appid, mch_id: m.mchid, nonce_str: Formatter.nonce(), ...by },
    type,
  )
}

function closeOrder(no: string): Promise<V2Answer> {
  return signedCall('/pay/closeorder', {
    appid: m.appid,
    mch_id: m.mchid,
    nonce_str: Formatter.nonce(),
    out_trade_no: no,
  })
}

async function pay(no: string): Promise<void> {
  expect((await control(sb.url, 'POST', '/pay', { out_trade_no: no })).status).toBe(200)
}

describe('the client primitives agree with the official APIv2 vectors (§12.1)', () => {
  it('Hash.sign reproduces the MD5, HMAC-SHA256 and paySign examples', () => {
    const params = {
      appid: 'wxd930ea5d5a258f4f',
      mch_id: '10000100',
      device_info: '1000',
      body: 'test',
      nonce_str: 'ibuaiVcKdpRxkhJA',
    }
    const key = '192006250b4c09247ec02edce69f6a2d'
    expect(Hash.sign('MD5', params, key)).toBe('9A0A8659F005D6984697E2CA0A9CF3B7')
    expect(Hash.sign('HMAC-SHA256', params, key)).toBe(
      '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6',
    )
    expect(
      Hash.sign(
        'MD5',
        {
          appId: 'wxd678efh567hg6787',
          nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
          package: 'prepay_id=wx2017033010242291fcfe0db70013231072',
          signType: 'MD5',
          timeStamp: '1490840662',
        },
        'qazwsxedcrfvtgbyhnujmikolp111111',
      ),
    ).toBe('22D9B4E54AB1950F51E0649E8810ACD6')
  })
})

describe('APIv2 unifiedorder (§10.1, §10.2)', () => {
  it('accepts an MD5-signed order and answers signed XML with a prepay_id', async () => {
    const a = await signedCall('/pay/unifiedorder', orderFields(uniqueNo('V2')))
    const f = expectSignedSuccess(a, 'MD5')
    expect(f.return_msg).toBe('OK')
    expect(f.result_code).toBe('SUCCESS')
    expect(f.trade_type).toBe('JSAPI')
    expect(f.prepay_id).toMatch(PREPAY_ID)
    expect(f).not.toHaveProperty('err_code')
  })

  it('accepts an HMAC-SHA256-signed order and signs its answer the same way', async () => {
    const a = await signedCall('/pay/unifiedorder', orderFields(uniqueNo('V2')), 'HMAC-SHA256')
    const f = expectSignedSuccess(a, 'HMAC-SHA256')
    expect(v2SignOk(f, m.apiV2Key, 'MD5')).toBe(false)
    expect(f.prepay_id).toMatch(PREPAY_ID)
  })

  it('answers a NATIVE order with a code_url', async () => {
    const fields = orderFields(uniqueNo('V2'), { trade_type: 'NATIVE', product_id: 'P1' })
    delete (fields as Record<string, unknown>).openid
    const f = expectSignedSuccess(await signedCall('/pay/unifiedorder', fields), 'MD5')
    expect(f.trade_type).toBe('NATIVE')
    expect(f.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=\w+$/)
  })

  it('answers a bad sign with return_code FAIL, unsigned', async () => {
    const no = uniqueNo('V2')
    for (const xml of [
      v2Xml(orderFields(no), 'x'.repeat(32)), // another key
      v2Xml(orderFields(no), m.apiV2Key).replace('<total_fee>100<', '<total_fee>101<'), // tampered
      v2Xml(orderFields(no), m.apiV3Key), // the APIv3 key is not the APIv2 key (§13.20)
    ]) {
      const a = await callV2('/pay/unifiedorder', xml)
      expect(a.status).toBe(200)
      expect(a.fields.return_code).toBe('FAIL')
      expect(a.fields.return_msg?.length).toBeGreaterThan(0)
      expect(a.fields).not.toHaveProperty('sign')
      expect(a.fields).not.toHaveProperty('prepay_id')
    }
    // Nothing was created.
    expectBusinessError(await orderQuery({ out_trade_no: no }), 'ORDERNOTEXIST')
  })

  it('answers XML that does not parse, or an unknown sign_type, with return_code FAIL', async () => {
    const fields = orderFields(uniqueNo('V2'))
    const withSha1 = { ...fields, sign_type: 'SHA1' }
    const unknownType = Transformer.toXml({
      ...withSha1,
      sign: Hash.sign('MD5', withSha1, m.apiV2Key),
    })
    expect(unknownType).toContain('<sign_type>SHA1</sign_type>')
    for (const xml of ['<xml><appid>', 'not xml at all', unknownType]) {
      const a = await callV2('/pay/unifiedorder', xml)
      expect(a.status).toBe(200)
      expect(a.fields.return_code).toBe('FAIL')
      expect(a.fields.return_msg?.length).toBeGreaterThan(0)
    }
  })

  it('answers a malformed total_fee, out_trade_no or trade_type with return_code FAIL 参数格式校验错误', async () => {
    for (const change of [
      { total_fee: '1.5' },
      { total_fee: '0' },
      { out_trade_no: 'a b' },
      { trade_type: 'MICROPAY' },
    ]) {
      const fields = { ...orderFields(uniqueNo('V2')), ...change }
      const a = await signedCall('/pay/unifiedorder', fields)
      expect(a.status).toBe(200)
      expect(a.fields.return_code).toBe('FAIL')
      expect(a.fields.return_msg).toBe('参数格式校验错误')
      expect(a.fields).not.toHaveProperty('prepay_id')
    }
  })

  it('answers a missing field with result_code FAIL, err_code LACK_PARAMS', async () => {
    for (const missing of ['body', 'notify_url', 'spbill_create_ip', 'openid']) {
      const fields = orderFields(uniqueNo('V2')) as Record<string, string | number>
      delete fields[missing]
      expectBusinessError(await signedCall('/pay/unifiedorder', fields), 'LACK_PARAMS')
    }
  })

  it('repeats an identical order (same prepay_id), refuses a changed total_fee', async () => {
    const no = uniqueNo('V2')
    const first = await unifiedOrder(no)
    // A new nonce_str is not a change of parameters.
    const again = await unifiedOrder(no)
    expect(again.prepayId).toBe(first.prepayId)
    const f = expectBusinessError(
      await signedCall('/pay/unifiedorder', orderFields(no, { total_fee: 101 })),
      'INVALID_REQUEST',
    )
    expect(f.err_code_des).toContain('商户订单号重复')
  })
})

describe('APIv2 orderquery and closeorder (§10.2)', () => {
  it('queries NOTPAY, then SUCCESS after payment; unknown is ORDERNOTEXIST', async () => {
    const { no } = await unifiedOrder()
    const before = expectSignedSuccess(await orderQuery({ out_trade_no: no }), 'MD5')
    expect(before.result_code).toBe('SUCCESS')
    expect(before.trade_state).toBe('NOTPAY')
    expect(before.out_trade_no).toBe(no)
    expect(before).not.toHaveProperty('transaction_id')

    await pay(no)
    const after = expectSignedSuccess(await orderQuery({ out_trade_no: no }), 'MD5')
    expect(after).toMatchObject({
      result_code: 'SUCCESS',
      trade_state: 'SUCCESS',
      out_trade_no: no,
      total_fee: '100',
      cash_fee: '100',
      trade_type: 'JSAPI',
      openid: OPENID,
    })
    expect(after.transaction_id).toMatch(/^\d{28}$/)
    expect(after.time_end).toMatch(/^\d{14}$/)

    const byId = expectSignedSuccess(
      await orderQuery({ transaction_id: after.transaction_id! }, 'HMAC-SHA256'),
      'HMAC-SHA256',
    )
    expect(byId.out_trade_no).toBe(no)
    expect(byId.trade_state).toBe('SUCCESS')

    expectBusinessError(await orderQuery({ out_trade_no: uniqueNo('V2') }), 'ORDERNOTEXIST')
  })

  it('closes an unpaid order; refuses to close a paid one (ORDERPAID)', async () => {
    const open = await unifiedOrder()
    const closed = expectSignedSuccess(await closeOrder(open.no), 'MD5')
    expect(closed.result_code).toBe('SUCCESS')
    expect(
      expectSignedSuccess(await orderQuery({ out_trade_no: open.no }), 'MD5').trade_state,
    ).toBe('CLOSED')
    expectBusinessError(await closeOrder(open.no), 'ORDERCLOSED')
    expectBusinessError(await signedCall('/pay/unifiedorder', orderFields(open.no)), 'ORDERCLOSED')

    const paid = await unifiedOrder()
    await pay(paid.no)
    expectBusinessError(await closeOrder(paid.no), 'ORDERPAID')
    expectBusinessError(await signedCall('/pay/unifiedorder', orderFields(paid.no)), 'ORDERPAID')
    // An unknown order closes like any (v2-close.test.ts).
    expect(expectSignedSuccess(await closeOrder(uniqueNo('V2')), 'MD5').result_code).toBe('SUCCESS')
  })
})

describe('APIv2 payment notification (§10.3)', () => {
  it('arrives as XML with a valid MD5 sign', async () => {
    const { no } = await unifiedOrder(uniqueNo('V2'), 'MD5', { attach: 'a=1&b=2' })
    await pay(no)
    const r = await receiver.next(no)
    expect(r.headers['content-type']).toMatch(/xml/)
    const f = parseV2(r.body)
    expect(v2SignOk(f, m.apiV2Key, 'MD5')).toBe(true)
    expect(f).toMatchObject({
      return_code: 'SUCCESS',
      result_code: 'SUCCESS',
      appid: m.appid,
      mch_id: m.mchid,
      out_trade_no: no,
      total_fee: '100',
      cash_fee: '100',
      trade_type: 'JSAPI',
      openid: OPENID,
      attach: 'a=1&b=2',
    })
    expect(f.transaction_id).toMatch(/^\d{28}$/)
    expect(f.time_end).toMatch(/^\d{14}$/)
  })

  it('is signed with the order’s sign type (HMAC-SHA256)', async () => {
    const { no } = await unifiedOrder(uniqueNo('V2'), 'HMAC-SHA256')
    await pay(no)
    const f = parseV2((await receiver.next(no)).body)
    expect(v2SignOk(f, m.apiV2Key, 'HMAC-SHA256')).toBe(true)
    expect(f.out_trade_no).toBe(no)
  })
})

describe('APIv2 wx.requestPayment (§10.5)', () => {
  function paySign(prepayId: string, signType: SignType, over: Record<string, string> = {}) {
    const p = {
      appId: m.appid,
      timeStamp: String(Formatter.timestamp()),
      nonceStr: Formatter.nonce(),
      package: `prepay_id=${prepayId}`,
      signType,
      ...over,
    }
    return { ...p, paySign: Hash.sign(signType, p, m.apiV2Key) }
  }

  const requestPayment = (body: Record<string, string>) =>
    control<{ errMsg: string }>(sb.url, 'POST', '/request-payment', body)

  it('pays an MD5 order with an MD5 paySign over appId, nonceStr, package, signType, timeStamp', async () => {
    const { no, prepayId } = await unifiedOrder()
    const a = await requestPayment(paySign(prepayId, 'MD5'))
    expect(a.status).toBe(200)
    expect(a.json).toEqual({ errMsg: 'requestPayment:ok' })
    const q = expectSignedSuccess(await orderQuery({ out_trade_no: no }), 'MD5')
    expect(q.trade_state).toBe('SUCCESS')
  })

  it('pays an HMAC-SHA256 order with an HMAC-SHA256 paySign', async () => {
    const { prepayId } = await unifiedOrder(uniqueNo('V2'), 'HMAC-SHA256')
    expect((await requestPayment(paySign(prepayId, 'HMAC-SHA256'))).json.errMsg).toBe(
      'requestPayment:ok',
    )
  })

  it('fails a signType other than the order’s, a bad paySign, and the RSA type', async () => {
    const { no, prepayId } = await unifiedOrder()
    for (const body of [
      paySign(prepayId, 'HMAC-SHA256'),
      { ...paySign(prepayId, 'MD5'), paySign: '0'.repeat(32) },
      { ...paySign(prepayId, 'MD5'), appId: 'wx0000000000000000' },
      { ...paySign(prepayId, 'MD5'), signType: 'RSA' },
    ]) {
      const a = await requestPayment(body)
      expect(a.status).toBe(400)
      expect(a.json.errMsg).toMatch(/^requestPayment:fail /)
    }
    expect(expectSignedSuccess(await orderQuery({ out_trade_no: no }), 'MD5').trade_state).toBe(
      'NOTPAY',
    )
  })
})

// ---- §9 mini-program login ------------------------------------------------------------------------

describe('mini-program login: /sns/jscode2session (§9)', () => {
  interface Session {
    openid?: string
    session_key?: string
    unionid?: string
    errcode?: number
    errmsg?: string
  }

  async function newCode(body: Record<string, unknown> = {}): Promise<string> {
    const a = await control<{ code: string; openid: string }>(sb.url, 'POST', '/login-codes', body)
    expect(a.status).toBe(200)
    expect(a.json.code.length).toBeGreaterThan(0)
    return a.json.code
  }

  async function exchange(q: Record<string, string>): Promise<{ status: number; json: Session }> {
    const query = new URLSearchParams({
      appid: m.appid,
      secret: m.appSecret,
      grant_type: 'authorization_code',
      ...q,
    })
    for (const [k, v] of Object.entries(q)) if (v === '') query.delete(k)
    const res = await fetch(`${sb.url}/sns/jscode2session?${query}`)
    return { status: res.status, json: (await res.json()) as Session }
  }

  async function expectErrcode(q: Record<string, string>, errcode: number): Promise<void> {
    const a = await exchange(q)
    expect(a.status).toBe(200)
    expect(a.json.errcode).toBe(errcode)
    expect(a.json.errmsg?.length).toBeGreaterThan(0)
    expect(a.json).not.toHaveProperty('session_key')
  }

  it('exchanges a code for openid and session_key (16 bytes, base64); no unionid', async () => {
    const openid = 'oGZUI0egBJY1zhBYw2KhdUfwVJJE'
    const code = await newCode({ openid })
    const a = await exchange({ js_code: code })
    expect(a.status).toBe(200)
    expect(a.json.openid).toBe(openid)
    expect(a.json.session_key).toMatch(/^[A-Za-z0-9+/]{22}==$/)
    expect(Buffer.from(a.json.session_key!, 'base64')).toHaveLength(16)
    // Not bound to an Open Platform account: no unionid (unionid.test.ts binds one).
    expect(a.json).not.toHaveProperty('unionid')
    expect(a.json.errcode ?? 0).toBe(0)

    // Single use.
    await expectErrcode({ js_code: code }, 40163)
  })

  it('answers 40029 to an unknown code and to one older than 5 minutes', async () => {
    await expectErrcode({ js_code: Formatter.nonce() }, 40029)
    const code = await newCode()
    expect((await control(sb.url, 'POST', '/clock', { advanceSeconds: 301 })).status).toBe(200)
    await expectErrcode({ js_code: code }, 40029)
  })

  it('checks appid, secret and the presence of js_code', async () => {
    const code = await newCode()
    await expectErrcode({ js_code: code, secret: 'f'.repeat(32) }, 40125)
    await expectErrcode({ js_code: code, appid: 'wx0000000000000000' }, 40013)
    await expectErrcode({ js_code: '' }, 41008)
  })

  it('answers a code made to fail with its errcode (40226 blocked user)', async () => {
    await expectErrcode({ js_code: await newCode({ errcode: 40226 }) }, 40226)
  })
})
