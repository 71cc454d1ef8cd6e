import { createCipheriv, createHash, createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  ApiError,
  DecryptionError,
  InvalidArgumentError,
  SignatureError,
  WechatPayError,
  WechatPayV2,
  buildV2SignString,
  decryptV2RefundInfo,
  formatV2Time,
  isApiError,
  isOrderPaidError,
  parseXml,
  signV2,
  toXml,
  v2NotificationReply,
  verifyV2,
  type Transport,
  type TransportRequest,
  type V2SignType,
} from '../src'
import { buildV2Notification } from '../src/testing'
import { V2_PAYSIGN_VECTOR, V2_SIGN_VECTOR } from './fixtures/vectors'

/** Fixed 32-character APIv2 keys: deterministic, so the wrong-key cases are too. */
const KEY = 'Kx7pQ2mZ9vL4tR8wN3bY6cF1hJ5dG0sA'
const OTHER_KEY = 'zZ0yY1xX2wW3vV4uU5tT6sS7rR8qQ9pP'
const MCHID = '1900000109'
const APPID = 'wxd930ea5d5a258f4f'
const NONCE = 'ibuaiVcKdpRxkhJA5Z1cWnGq7Lm3Xo9T'
const SIGN_TYPES: V2SignType[] = ['MD5', 'HMAC-SHA256']

/**
 * An independent APIv2 signer (§10.1), written from the spec rather than from src: drop `sign` and
 * empty values, sort by code unit, join raw, append `&key=`, MD5 or HMAC-SHA256, upper-case hex.
 */
function refSign(fields: Record<string, string>, key: string, signType: V2SignType): string {
  const text =
    Object.keys(fields)
      .filter((k) => k !== 'sign' && fields[k] !== '')
      .sort()
      .map((k) => `${k}=${fields[k]}`)
      .join('&') + `&key=${key}`
  const digest =
    signType === 'HMAC-SHA256'
      ? createHmac('sha256', key).update(text, 'utf8').digest('hex')
      : createHash('md5').update(text, 'utf8').digest('hex')
  return digest.toUpperCase()
}

/** WeChat's answer format: every value in CDATA. */
function wechatXml(fields: Record<string, string>): string {
  const body = Object.entries(fields)
    .map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`)
    .join('')
  return `<xml>${body}</xml>`
}

function signedXml(fields: Record<string, string>, key: string, signType: V2SignType): string {
  return wechatXml({ ...fields, sign: refSign(fields, key, signType) })
}

/** A small flat-XML reader independent of src/v2/xml.ts (CDATA or escaped text). */
function readFlatXml(xml: string): Record<string, string> {
  const inner = /^<xml>([\s\S]*)<\/xml>$/.exec(xml.trim())
  if (!inner?.[1]) throw new Error(`not an <xml> document: ${xml}`)
  const out: Record<string, string> = {}
  const field = /<([A-Za-z_][\w]*)>([\s\S]*?)<\/\1>/g
  for (const m of inner[1].matchAll(field)) {
    const [, name, raw] = m as unknown as [string, string, string]
    out[name] = raw.startsWith('<![CDATA[')
      ? raw.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
      : raw
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&quot;/g, '"')
          .replace(/&apos;/g, "'")
          .replace(/&amp;/g, '&')
  }
  return out
}

/** Replaces one field's text, whatever form (plain or CDATA) it was written in. */
function replaceField(xml: string, name: string, value: string): string {
  const re = new RegExp(`<${name}>[\\s\\S]*?</${name}>`)
  expect(xml).toMatch(re)
  return xml.replace(re, `<${name}><![CDATA[${value}]]></${name}>`)
}

interface Seen {
  url: string
  init: TransportRequest
  fields: Record<string, string>
}

/**
 * A fake WeChat APIv2 server as a transport: reads the request XML, checks its `sign` with the APIv2
 * key (answering `return_code=FAIL 签名错误` like WeChat when it is wrong), and lets `answer` build
 * the business fields, which it signs.
 */
function fakeWechat(
  signType: V2SignType,
  answer: (path: string, req: Record<string, string>) => Record<string, string> | string,
  key = KEY,
): { transport: Transport; seen: Seen[] } {
  const seen: Seen[] = []
  const transport: Transport = async (url, init) => {
    const fields = readFlatXml(String(init.body))
    seen.push({ url, init, fields })
    const reqSignType = (fields.sign_type as V2SignType | undefined) ?? 'MD5'
    if (!fields.sign || refSign(fields, key, reqSignType) !== fields.sign) {
      return new Response(wechatXml({ return_code: 'FAIL', return_msg: '签名错误' }))
    }
    const out = answer(new URL(url).pathname, fields)
    if (typeof out === 'string') return new Response(out)
    return new Response(
      signedXml(
        {
          return_code: 'SUCCESS',
          return_msg: 'OK',
          appid: fields.appid ?? '',
          mch_id: fields.mch_id ?? '',
          nonce_str: 'WeChatAnswerNonce0000000000000001',
          result_code: 'SUCCESS',
          ...out,
        },
        key,
        signType,
      ),
    )
  }
  return { transport, seen }
}

function client(signType: V2SignType, transport: Transport, key = KEY): WechatPayV2 {
  return new WechatPayV2({
    mchid: MCHID,
    appid: APPID,
    apiV2Key: key,
    signType,
    transport,
    nonce: () => NONCE,
    clock: () => 1_700_000_000_000,
  })
}

const JSAPI_ORDER = {
  body: '腾讯充值中心-QQ会员充值',
  out_trade_no: '20150806125346',
  total_fee: 88,
  spbill_create_ip: '123.12.12.123',
  notify_url: 'https://merchant.example.com/wxpay/notify?a=1&b=2',
  trade_type: 'JSAPI' as const,
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  attach: '深圳分店',
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}

describe('buildV2SignString', () => {
  it('drops empty, undefined and null values and sign; keeps 0', () => {
    expect(
      buildV2SignString(
        { b: '2', empty: '', undef: undefined, nul: null, sign: 'ABC', a: '1', zero: 0 },
        'KEY',
      ),
    ).toBe('a=1&b=2&zero=0&key=KEY')
  })

  it('sorts by ASCII: upper case before `_` before lower case, not by locale', () => {
    expect(buildV2SignString({ a: '1', B: '2', _c: '3', A: '4', b: '5', Z: '6' }, 'K')).toBe(
      'A=4&B=2&Z=6&_c=3&a=1&b=5&key=K',
    )
    // localeCompare would put `a` before `B`; ASCII order does not.
    expect(buildV2SignString({ a: 'x', B: 'y' }, 'K')).toBe('B=y&a=x&key=K')
  })

  it('keeps raw values: no URL encoding of Chinese, spaces, & or =', () => {
    expect(
      buildV2SignString(
        { body: '腾讯充值中心-QQ会员充值', attach: 'a b&c=d', notify_url: 'https://x.cn/n?a=1' },
        'K',
      ),
    ).toBe('attach=a b&c=d&body=腾讯充值中心-QQ会员充值&notify_url=https://x.cn/n?a=1&key=K')
  })

  it('includes sign_type as an ordinary field and reproduces the §12.1 string', () => {
    expect(buildV2SignString({ sign_type: 'MD5', appid: 'wx1' }, 'K')).toBe(
      'appid=wx1&sign_type=MD5&key=K',
    )
    expect(buildV2SignString(V2_SIGN_VECTOR.params, V2_SIGN_VECTOR.key)).toBe(
      V2_SIGN_VECTOR.signString,
    )
  })

  it('signV2 agrees with the reference signer on Chinese values, both types', () => {
    const fields = { body: '腾讯充值中心-QQ会员充值', attach: '深圳分店', total_fee: '1' }
    for (const t of SIGN_TYPES) {
      expect(signV2(fields, KEY, t)).toBe(refSign(fields, KEY, t))
    }
  })
})

describe('verifyV2', () => {
  const fields = {
    appid: APPID,
    mch_id: MCHID,
    nonce_str: NONCE,
    out_trade_no: '1217752501201407033233368018',
    total_fee: '1',
    attach: '支付测试',
  }

  it.each(SIGN_TYPES)('accepts a message signed with %s', (t) => {
    const msg = { ...fields, sign: refSign(fields, KEY, t) }
    expect(verifyV2(msg, KEY, t)).toBe(true)
  })

  it('accepts a lower-case sign (compared case-insensitively)', () => {
    expect(verifyV2({ ...fields, sign: refSign(fields, KEY, 'MD5').toLowerCase() }, KEY)).toBe(true)
  })

  it('rejects the other sign type, and the wrong key', () => {
    expect(verifyV2({ ...fields, sign: refSign(fields, KEY, 'MD5') }, KEY, 'HMAC-SHA256')).toBe(
      false,
    )
    expect(verifyV2({ ...fields, sign: refSign(fields, KEY, 'HMAC-SHA256') }, KEY, 'MD5')).toBe(
      false,
    )
    expect(verifyV2({ ...fields, sign: refSign(fields, KEY, 'MD5') }, OTHER_KEY, 'MD5')).toBe(false)
  })

  it.each(SIGN_TYPES)('rejects a changed field (%s)', (t) => {
    const msg = { ...fields, sign: refSign(fields, KEY, t) }
    expect(verifyV2({ ...msg, total_fee: '100' }, KEY, t)).toBe(false)
    expect(verifyV2({ ...msg, attach: '支付测试 ' }, KEY, t)).toBe(false)
  })

  it('rejects an added field that was not signed', () => {
    const msg = { ...fields, sign: refSign(fields, KEY, 'MD5') }
    expect(verifyV2({ ...msg, coupon_fee: '10' }, KEY, 'MD5')).toBe(false)
  })

  it('rejects a message without sign, or with an empty one', () => {
    expect(verifyV2(fields, KEY, 'MD5')).toBe(false)
    expect(verifyV2({ ...fields, sign: '' }, KEY, 'MD5')).toBe(false)
    expect(verifyV2({ ...fields, sign: undefined }, KEY, 'MD5')).toBe(false)
  })

  it.each(SIGN_TYPES)('includes unknown fields WeChat added and signed (%s)', (t) => {
    const withNew = { ...fields, settlement_total_fee: '1', brand_new_field: '新字段' }
    const msg = { ...withNew, sign: refSign(withNew, KEY, t) }
    expect(verifyV2(msg, KEY, t)).toBe(true)
    // …and they really are part of the check: dropping one breaks it.
    const { brand_new_field: _dropped, ...without } = msg
    expect(verifyV2(without, KEY, t)).toBe(false)
  })
})

describe('toXml / parseXml', () => {
  it('round-trips CDATA-worthy values, numbers (as text), < & ]]> and Chinese', async () => {
    const params = {
      body: '腾讯充值中心-QQ会员充值',
      total_fee: 88,
      detail: '{"goods":[{"name":"<b>&amp;"}]}',
      lt: 'a<b',
      amp: 'R&D',
      end: 'x]]>y',
      skip: undefined,
      nul: null,
    }
    const xml = toXml(params)
    expect(xml.startsWith('<xml>')).toBe(true)
    expect(xml.endsWith('</xml>')).toBe(true)
    expect(xml).not.toMatch(/skip|nul/)
    expect(await parseXml(xml)).toEqual({
      body: '腾讯充值中心-QQ会员充值',
      total_fee: '88',
      detail: '{"goods":[{"name":"<b>&amp;"}]}',
      lt: 'a<b',
      amp: 'R&D',
      end: 'x]]>y',
    })
    // An independent reader sees the same values.
    expect(readFlatXml(xml)).toMatchObject({ lt: 'a<b', amp: 'R&D', total_fee: '88' })
  })

  it('writes every value as CDATA, the way WeChat writes its XML', () => {
    expect(toXml({ return_code: 'SUCCESS', total_fee: 1 })).toBe(
      '<xml><return_code><![CDATA[SUCCESS]]></return_code><total_fee><![CDATA[1]]></total_fee></xml>',
    )
  })

  it('parses WeChat-style XML: CDATA and plain text mixed, whitespace kept', async () => {
    const xml =
      '<xml><return_code><![CDATA[SUCCESS]]></return_code><total_fee>1</total_fee>' +
      '<attach><![CDATA[ 支付测试 ]]></attach><escaped>a &lt; b &amp; c</escaped><empty></empty></xml>'
    expect(await parseXml(xml)).toEqual({
      return_code: 'SUCCESS',
      total_fee: '1',
      attach: ' 支付测试 ',
      escaped: 'a < b & c',
      empty: '',
    })
  })

  it('rejects nested elements, repeated fields and attributes', async () => {
    await expect(parseXml('<xml><a><b>1</b></a></xml>')).rejects.toThrow(WechatPayError)
    await expect(parseXml('<xml><a><b>1</b></a></xml>')).rejects.toThrow(/field a is not text/)
    await expect(parseXml('<xml><a>1</a><a>2</a></xml>')).rejects.toThrow(WechatPayError)
    await expect(parseXml('<xml><a x="1">t</a></xml>')).rejects.toThrow(WechatPayError)
  })

  it('rejects malformed XML', async () => {
    for (const bad of ['<xml><a>1</xml>', 'not xml at all', '<xml><a>1</a>', '{"a":1}']) {
      await expect(parseXml(bad), bad).rejects.toThrow(WechatPayError)
    }
    await expect(parseXml('<xml><a>1</xml>')).rejects.toThrow(/not well-formed XML/)
  })
})

describe('WechatPayV2 against a fake WeChat', () => {
  describe.each(SIGN_TYPES)('signType %s', (signType) => {
    it('unifiedOrder JSAPI → prepay_id; the request is complete and validly signed', async () => {
      const { transport, seen } = fakeWechat(signType, () => ({
        trade_type: 'JSAPI',
        prepay_id: 'wx201410272009395522657a690389285100',
      }))
      const res = await client(signType, transport).unifiedOrder(JSAPI_ORDER)
      expect(res.prepay_id).toBe('wx201410272009395522657a690389285100')
      expect(res.trade_type).toBe('JSAPI')
      expect(res.code_url).toBeUndefined()
      expect(res.raw.return_code).toBe('SUCCESS')

      expect(seen).toHaveLength(1)
      const { url, init, fields } = seen[0]!
      expect(url).toBe('https://api.mch.weixin.qq.com/pay/unifiedorder')
      expect(init.method).toBe('POST')
      expect(init.headers['Content-Type']).toMatch(/^text\/xml/)
      expect(fields).toMatchObject({
        appid: APPID,
        mch_id: MCHID,
        nonce_str: NONCE,
        sign_type: signType,
        body: JSAPI_ORDER.body,
        out_trade_no: JSAPI_ORDER.out_trade_no,
        total_fee: '88',
        spbill_create_ip: JSAPI_ORDER.spbill_create_ip,
        notify_url: JSAPI_ORDER.notify_url,
        trade_type: 'JSAPI',
        openid: JSAPI_ORDER.openid,
        attach: JSAPI_ORDER.attach,
      })
      expect(fields.product_id).toBeUndefined()
      expect(fields.sign).toMatch(signType === 'MD5' ? /^[0-9A-F]{32}$/ : /^[0-9A-F]{64}$/)
      expect(fields.sign).toBe(refSign(fields, KEY, signType))
    })

    it('unifiedOrder NATIVE → code_url', async () => {
      const { transport, seen } = fakeWechat(signType, (_path, req) => ({
        trade_type: 'NATIVE',
        prepay_id: 'wx20160805105123e8d3b5a6c20486765530',
        code_url: `weixin://wxpay/bizpayurl?pr=${req.product_id}`,
      }))
      const res = await client(signType, transport).unifiedOrder({
        ...JSAPI_ORDER,
        openid: undefined,
        trade_type: 'NATIVE',
        product_id: '12235413214070356458058',
      })
      expect(res.trade_type).toBe('NATIVE')
      expect(res.code_url).toBe('weixin://wxpay/bizpayurl?pr=12235413214070356458058')
      expect(res.prepay_id).toBe('wx20160805105123e8d3b5a6c20486765530')
      const { fields } = seen[0]!
      expect(fields.trade_type).toBe('NATIVE')
      expect(fields.product_id).toBe('12235413214070356458058')
      expect(fields.openid).toBeUndefined()
      expect(fields.sign).toBe(refSign(fields, KEY, signType))
    })

    it('orderQuery maps total_fee/cash_fee to numbers and sends out_trade_no', async () => {
      const { transport, seen } = fakeWechat(signType, (path, req) => {
        expect(path).toBe('/pay/orderquery')
        return {
          trade_state: 'SUCCESS',
          trade_state_desc: '支付成功',
          out_trade_no: req.out_trade_no ?? '',
          transaction_id: '1008450740201411110005820873',
          total_fee: '88',
          cash_fee: '80',
          openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
          trade_type: 'JSAPI',
          bank_type: 'CMC',
          attach: '深圳分店',
          time_end: '20141111170043',
          is_subscribe: 'Y',
        }
      })
      const q = await client(signType, transport).orderQuery({ out_trade_no: '20150806125346' })
      expect(q).toMatchObject({
        trade_state: 'SUCCESS',
        trade_state_desc: '支付成功',
        out_trade_no: '20150806125346',
        transaction_id: '1008450740201411110005820873',
        total_fee: 88,
        cash_fee: 80,
        openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
        trade_type: 'JSAPI',
        bank_type: 'CMC',
        attach: '深圳分店',
        time_end: '20141111170043',
      })
      expect(typeof q.total_fee).toBe('number')
      expect(typeof q.cash_fee).toBe('number')
      expect(q.raw.is_subscribe).toBe('Y')
      expect(seen[0]!.fields).toMatchObject({ out_trade_no: '20150806125346', sign_type: signType })
      expect(seen[0]!.fields.transaction_id).toBeUndefined()
    })

    it('orderQuery by transaction_id; unpaid order has no fees', async () => {
      const { transport, seen } = fakeWechat(signType, () => ({
        trade_state: 'NOTPAY',
        out_trade_no: '20150806125346',
        trade_state_desc: '订单未支付',
      }))
      const q = await client(signType, transport).orderQuery({
        transaction_id: '1008450740201411110005820873',
      })
      expect(q.trade_state).toBe('NOTPAY')
      expect(q.total_fee).toBeUndefined()
      expect(q.cash_fee).toBeUndefined()
      expect(seen[0]!.fields.transaction_id).toBe('1008450740201411110005820873')
      expect(seen[0]!.fields.out_trade_no).toBeUndefined()
    })

    it('closeOrder of a paid order → ApiError ORDERPAID', async () => {
      const { transport, seen } = fakeWechat(signType, () => ({
        result_code: 'FAIL',
        err_code: 'ORDERPAID',
        err_code_des: '订单已支付',
      }))
      const e = await caught(client(signType, transport).closeOrder('20150806125346'))
      expect(e).toBeInstanceOf(ApiError)
      expect(e).toMatchObject({ code: 'ORDERPAID', status: 200, message: '订单已支付' })
      expect(isOrderPaidError(e)).toBe(true)
      expect(new URL(seen[0]!.url).pathname).toBe('/pay/closeorder')
      expect(seen[0]!.fields.out_trade_no).toBe('20150806125346')
    })

    it('closeOrder resolves on success', async () => {
      const { transport } = fakeWechat(signType, () => ({}))
      await expect(client(signType, transport).closeOrder('20150806125346')).resolves.toBe(
        undefined,
      )
    })

    it('orderQuery of an unknown order → ApiError ORDERNOTEXIST', async () => {
      const { transport } = fakeWechat(signType, () => ({
        result_code: 'FAIL',
        err_code: 'ORDERNOTEXIST',
        err_code_des: '此交易订单号不存在',
      }))
      const e = await caught(client(signType, transport).orderQuery({ out_trade_no: 'nope123' }))
      expect(isApiError(e, 'ORDERNOTEXIST')).toBe(true)
      expect((e as ApiError).message).toBe('此交易订单号不存在')
    })

    it('return_code=FAIL → ApiError FAIL carrying return_msg', async () => {
      const { transport } = fakeWechat(signType, () =>
        wechatXml({ return_code: 'FAIL', return_msg: '参数格式校验错误' }),
      )
      const e = await caught(client(signType, transport).unifiedOrder(JSAPI_ORDER))
      expect(e).toBeInstanceOf(ApiError)
      expect(e).toMatchObject({ code: 'FAIL', status: 200, message: '参数格式校验错误' })
    })

    it('a client with the wrong key is told 签名错误 by WeChat (return_code FAIL)', async () => {
      const { transport } = fakeWechat(signType, () => ({ prepay_id: 'wx1' }))
      const e = await caught(client(signType, transport, OTHER_KEY).unifiedOrder(JSAPI_ORDER))
      expect(e).toMatchObject({ code: 'FAIL', message: '签名错误' })
    })

    it('a response with a wrong sign → SignatureError', async () => {
      const forged = {
        return_code: 'SUCCESS',
        result_code: 'SUCCESS',
        appid: APPID,
        mch_id: MCHID,
        trade_type: 'JSAPI',
        prepay_id: 'wx_forged',
      }
      for (const body of [
        signedXml(forged, OTHER_KEY, signType), // signed with another key
        replaceField(signedXml(forged, KEY, signType), 'prepay_id', 'wx_swapped'), // altered
        wechatXml(forged), // unsigned
      ]) {
        const { transport } = fakeWechat(signType, () => body)
        const e = await caught(client(signType, transport).unifiedOrder(JSAPI_ORDER))
        expect(e).toBeInstanceOf(SignatureError)
        expect((e as SignatureError).reason).toBe('mismatch')
      }
    })

    it('requestPaymentParams: paySign is the v2 sign of appId/nonceStr/package/signType/timeStamp', () => {
      const { transport } = fakeWechat(signType, () => ({}))
      const p = client(signType, transport).requestPaymentParams('wx2017033010242291fcfe0db7')
      expect(p).toMatchObject({
        appId: APPID,
        timeStamp: '1700000000',
        nonceStr: NONCE,
        package: 'prepay_id=wx2017033010242291fcfe0db7',
        signType,
      })
      const signed = {
        appId: p.appId,
        nonceStr: p.nonceStr,
        package: p.package,
        signType: p.signType,
        timeStamp: p.timeStamp,
      }
      expect(p.paySign).toBe(signV2(signed, KEY, signType))
      expect(p.paySign).toBe(refSign(signed, KEY, signType))
      expect(verifyV2({ ...signed, paySign: undefined, sign: p.paySign }, KEY, signType)).toBe(true)
      // `appid` (lower-case i) would be a different field and a different sign.
      const { appId, ...rest } = signed
      expect(p.paySign).not.toBe(signV2({ ...rest, appid: appId }, KEY, signType))
    })
  })

  it('requestPaymentParams reproduces the official v2 paySign example (§12.1)', () => {
    const v = V2_PAYSIGN_VECTOR.params
    const c = new WechatPayV2({
      mchid: MCHID,
      appid: v.appId,
      apiV2Key: V2_PAYSIGN_VECTOR.key,
      transport: () => Promise.reject(new Error('no network')),
      clock: () => Number(v.timeStamp) * 1000 + 999,
      nonce: () => v.nonceStr,
    })
    const p = c.requestPaymentParams(v.package.replace(/^prepay_id=/, ''))
    expect(p).toEqual({ ...v, paySign: V2_PAYSIGN_VECTOR.md5 })
  })

  it.each([1.5, 0, -1, Number.NaN, 2 ** 53])(
    'total_fee %s → InvalidArgumentError before anything is sent',
    async (fee) => {
      const { transport, seen } = fakeWechat('MD5', () => ({ prepay_id: 'wx1' }))
      const e = await caught(
        client('MD5', transport).unifiedOrder({ ...JSAPI_ORDER, total_fee: fee }),
      )
      expect(e).toBeInstanceOf(InvalidArgumentError)
      expect(seen).toHaveLength(0)
    },
  )
})

describe('WechatPayV2.parseNotification', () => {
  const fields = {
    appid: APPID,
    mch_id: MCHID,
    nonce_str: '5d2b6c2a8db53831f7eda20af46e531c',
    openid: 'oUpF8uMEb4qRXf22hE3X68TekukE',
    is_subscribe: 'Y',
    trade_type: 'JSAPI',
    bank_type: 'CFT',
    total_fee: '100',
    cash_fee: '90',
    fee_type: 'CNY',
    transaction_id: '1004400740201409030005092168',
    out_trade_no: '1409811653',
    attach: '支付测试',
    time_end: '20140903131540',
    coupon_count: '1',
    coupon_fee_0: '10',
  }
  const noNetwork: Transport = () => Promise.reject(new Error('no network'))

  it.each(SIGN_TYPES)('verifies a %s notification and types its fields', async (t) => {
    const xml = buildV2Notification(fields, KEY, t)
    const n = await client(t, noNetwork).parseNotification(xml)
    expect(n).toMatchObject({
      out_trade_no: '1409811653',
      transaction_id: '1004400740201409030005092168',
      total_fee: 100,
      cash_fee: 90,
      openid: 'oUpF8uMEb4qRXf22hE3X68TekukE',
      appid: APPID,
      mch_id: MCHID,
      result_code: 'SUCCESS',
      time_end: '20140903131540',
    })
    expect(n.raw).toMatchObject({ attach: '支付测试', coupon_fee_0: '10', return_code: 'SUCCESS' })
    // The helper's sign is the one WeChat would compute.
    expect(n.raw.sign).toBe(refSign({ ...n.raw }, KEY, t))
  })

  it.each(SIGN_TYPES)('rejects a tampered total_fee (%s)', async (t) => {
    const xml = replaceField(buildV2Notification(fields, KEY, t), 'total_fee', '1')
    await expect(client(t, noNetwork).parseNotification(xml)).rejects.toBeInstanceOf(SignatureError)
  })

  it('rejects a notification signed with another key', async () => {
    const xml = buildV2Notification(fields, OTHER_KEY, 'MD5')
    await expect(client('MD5', noNetwork).parseNotification(xml)).rejects.toMatchObject({
      reason: 'mismatch',
    })
  })

  it('a sign_type=HMAC-SHA256 notification to an MD5 client is checked with HMAC', async () => {
    const xml = buildV2Notification(fields, KEY, 'HMAC-SHA256')
    expect((await parseXml(xml)).sign_type).toBe('HMAC-SHA256')
    const n = await client('MD5', noNetwork).parseNotification(xml)
    expect(n.total_fee).toBe(100)
    expect(n.raw.sign).toMatch(/^[0-9A-F]{64}$/)
  })

  it('an HMAC-SHA256 client refuses a notification that claims MD5 (never a weaker check)', async () => {
    const xml = toXml({
      ...fields,
      sign_type: 'MD5',
      sign: refSign({ ...fields, sign_type: 'MD5' }, KEY, 'MD5'),
    })
    await expect(client('HMAC-SHA256', noNetwork).parseNotification(xml)).rejects.toMatchObject({
      reason: 'mismatch',
      message: expect.stringContaining('MD5-signed'),
    })
  })

  it('v2NotificationReply(true) is exactly the documented reply', () => {
    expect(v2NotificationReply(true)).toBe(
      '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>',
    )
  })

  it('v2NotificationReply(false, msg) asks for a retry', async () => {
    expect(await parseXml(v2NotificationReply(false, '参数格式校验错误'))).toEqual({
      return_code: 'FAIL',
      return_msg: '参数格式校验错误',
    })
    expect(await parseXml(v2NotificationReply(false))).toEqual({
      return_code: 'FAIL',
      return_msg: 'FAIL',
    })
  })
})

describe('formatV2Time', () => {
  it('formats Beijing time as yyyyMMddHHmmss', () => {
    expect(formatV2Time(new Date('2009-12-27T01:10:10Z'))).toBe('20091227091010')
    expect(formatV2Time(Date.parse('2009-12-27T01:10:10Z'))).toBe('20091227091010')
  })

  it('crosses the date line at 16:00 UTC and drops milliseconds', () => {
    expect(formatV2Time(new Date('2009-12-26T16:10:10.999Z'))).toBe('20091227001010')
    expect(formatV2Time(new Date('2023-12-31T15:59:59Z'))).toBe('20231231235959')
    expect(formatV2Time(new Date('2023-12-31T16:00:00Z'))).toBe('20240101000000')
  })
})

describe('decryptV2RefundInfo', () => {
  const inner =
    '<root><out_refund_no><![CDATA[131811191610442717309]]></out_refund_no>' +
    '<out_trade_no><![CDATA[71106718111915575302817]]></out_trade_no>' +
    '<refund_account><![CDATA[REFUND_SOURCE_RECHARGE_FUNDS]]></refund_account>' +
    '<refund_fee><![CDATA[3960]]></refund_fee>' +
    '<refund_id><![CDATA[50000408942018111907145868882]]></refund_id>' +
    '<refund_recv_accout><![CDATA[支付用户零钱]]></refund_recv_accout>' +
    '<refund_request_source><![CDATA[API]]></refund_request_source>' +
    '<refund_status><![CDATA[SUCCESS]]></refund_status>' +
    '<settlement_refund_fee><![CDATA[3960]]></settlement_refund_fee>' +
    '<settlement_total_fee><![CDATA[3960]]></settlement_total_fee>' +
    '<success_time><![CDATA[2018-11-19 16:24:13]]></success_time>' +
    '<total_fee><![CDATA[3960]]></total_fee>' +
    '<transaction_id><![CDATA[4200000215201811190261405420]]></transaction_id></root>'

  /** As WeChat does it: AES-256-ECB, key = lower-case hex MD5 of the APIv2 key, PKCS#7, Base64. */
  function encryptReqInfo(xml: string, apiV2Key: string): string {
    const key = Buffer.from(createHash('md5').update(apiV2Key).digest('hex'), 'utf8')
    const cipher = createCipheriv('aes-256-ecb', key, null)
    return Buffer.concat([cipher.update(xml, 'utf8'), cipher.final()]).toString('base64')
  }

  it('decrypts a req_info into its fields', async () => {
    const info = await decryptV2RefundInfo(encryptReqInfo(inner, KEY), KEY)
    expect(info).toMatchObject({
      out_refund_no: '131811191610442717309',
      out_trade_no: '71106718111915575302817',
      refund_id: '50000408942018111907145868882',
      refund_fee: '3960',
      total_fee: '3960',
      refund_status: 'SUCCESS',
      refund_recv_accout: '支付用户零钱',
      success_time: '2018-11-19 16:24:13',
      transaction_id: '4200000215201811190261405420',
    })
    expect(Object.keys(info)).toHaveLength(13)
  })

  it('rejects a wrong APIv2 key with DecryptionError', async () => {
    const reqInfo = encryptReqInfo(inner, KEY)
    await expect(decryptV2RefundInfo(reqInfo, OTHER_KEY)).rejects.toBeInstanceOf(DecryptionError)
  })

  it('rejects a key that is the raw APIv2 key rather than its MD5', async () => {
    const cipher = createCipheriv('aes-256-ecb', Buffer.from(KEY, 'utf8'), null)
    const reqInfo = Buffer.concat([cipher.update(inner, 'utf8'), cipher.final()]).toString('base64')
    await expect(decryptV2RefundInfo(reqInfo, KEY)).rejects.toBeInstanceOf(DecryptionError)
  })
})

describe('parseV2Time', () => {
  it('reads Beijing yyyyMMddHHmmss back to the instant formatV2Time wrote', async () => {
    const { parseV2Time } = await import('../src')
    expect(parseV2Time('20091227091010')?.toISOString()).toBe('2009-12-27T01:10:10.000Z')
    expect(parseV2Time(formatV2Time(Date.parse('2026-11-22T16:30:05Z')))?.toISOString()).toBe(
      '2026-11-22T16:30:05.000Z',
    )
    for (const bad of ['2009122709101', '2009-12-27 09:10:10', '20091327091010', ''])
      expect(parseV2Time(bad)).toBeUndefined()
  })
})
