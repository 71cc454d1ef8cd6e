import { createHash, createPublicKey, verify as rsaVerify } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  ApiError,
  buildPaySignMessage,
  ConfigError,
  InvalidArgumentError,
  isApiError,
  isOrderPaidError,
  type PlatformCertificateManager,
  SignatureError,
  WechatPay,
  WechatPayError,
  type CreateRefundRequest,
  type JsapiPrepayRequest,
  type PrepayRequest,
  type WechatPayClientOptions,
} from '../src'
import type { TestMerchant } from '../src/testing'
import {
  certificateEntry,
  createFakeWechat,
  fakeClientOptions,
  platformCertificateKey,
  type FakeWechat,
  type FakeWechatOptions,
} from './support/fake-wechat'
import { testMerchant } from './support/merchant'

const NOW = Date.now()
const clock = () => NOW
const nowSeconds = Math.floor(NOW / 1000)

let m: TestMerchant
beforeAll(async () => {
  m = await testMerchant()
})

function setup(
  extra: Partial<WechatPayClientOptions> = {},
  fakeOptions: FakeWechatOptions = {},
): { fake: FakeWechat; wxpay: WechatPay } {
  const fake = createFakeWechat(m, { clock, ...fakeOptions })
  return { fake, wxpay: new WechatPay(fakeClientOptions(m, fake, clock, extra)) }
}

function merchantSigned(message: string, signature: string): boolean {
  return rsaVerify(
    'sha256',
    Buffer.from(message, 'utf8'),
    createPublicKey(m.merchantCertificate),
    Buffer.from(signature, 'base64'),
  )
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}

const order = (overrides: Partial<PrepayRequest> = {}): PrepayRequest => ({
  description: 'Image形象店-深圳腾大-QQ公仔',
  out_trade_no: '1217752501201407033233368018',
  notify_url: 'https://www.weixin.qq.com/wxpay/pay.php',
  amount: { total: 100, currency: 'CNY' },
  ...overrides,
})

const jsapiOrder = (overrides: Partial<JsapiPrepayRequest> = {}): JsapiPrepayRequest => ({
  ...order(),
  payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  ...overrides,
})

describe('transactions: prepay (§5.1, §5.2)', () => {
  it('jsapi posts to /v3/pay/transactions/jsapi with the client appid and mchid', async () => {
    const { fake, wxpay } = setup()
    fake.route('POST', '/v3/pay/transactions/jsapi', {
      body: { prepay_id: 'wx201410272009395522657a690389285100' },
    })
    const res = await wxpay.transactions.jsapi(jsapiOrder())
    expect(res).toEqual({ prepay_id: 'wx201410272009395522657a690389285100' })
    const [req] = fake.requests
    expect(req!.method).toBe('POST')
    expect(req!.path).toBe('/v3/pay/transactions/jsapi')
    expect(req!.authorized).toBe(true)
    expect(req!.json()).toEqual({ ...jsapiOrder(), appid: m.appid, mchid: m.mchid })
  })

  it('lets the request override the appid', async () => {
    const { fake, wxpay } = setup()
    fake.reply({ body: { prepay_id: 'wx2' } })
    await wxpay.transactions.jsapi(jsapiOrder({ appid: 'wxd678efh567hg6787' }))
    expect(fake.requests[0]!.json()).toMatchObject({
      appid: 'wxd678efh567hg6787',
      mchid: m.mchid,
    })
  })

  it('native posts to /v3/pay/transactions/native and returns code_url', async () => {
    const { fake, wxpay } = setup()
    fake.route('POST', '/v3/pay/transactions/native', {
      body: { code_url: 'weixin://wxpay/bizpayurl?pr=JyC91EIz1' },
    })
    const res = await wxpay.transactions.native(order())
    expect(res.code_url).toBe('weixin://wxpay/bizpayurl?pr=JyC91EIz1')
    expect(fake.requests[0]!.path).toBe('/v3/pay/transactions/native')
    const body = fake.requests[0]!.json<Record<string, unknown>>()
    expect(body).toMatchObject({ appid: m.appid, mchid: m.mchid, amount: { total: 100 } })
    expect(body).not.toHaveProperty('payer')
  })

  it('h5 posts to /v3/pay/transactions/h5 with scene_info and returns h5_url', async () => {
    const { fake, wxpay } = setup()
    fake.route('POST', '/v3/pay/transactions/h5', {
      body: { h5_url: 'https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1' },
    })
    const scene_info = { payer_client_ip: '14.23.150.211', h5_info: { type: 'Wap' as const } }
    const res = await wxpay.transactions.h5({ ...order(), scene_info })
    expect(res.h5_url).toMatch(/^https:\/\/wx\.tenpay\.com\//)
    expect(fake.requests[0]!.path).toBe('/v3/pay/transactions/h5')
    expect(fake.requests[0]!.json()).toMatchObject({ appid: m.appid, mchid: m.mchid, scene_info })
  })

  it('app posts to /v3/pay/transactions/app with its own appid', async () => {
    const { fake, wxpay } = setup()
    fake.route('POST', '/v3/pay/transactions/app', { body: { prepay_id: 'wx-app-1' } })
    const res = await wxpay.transactions.app(order({ appid: 'wx-open-app' }))
    expect(res.prepay_id).toBe('wx-app-1')
    expect(fake.requests[0]!.path).toBe('/v3/pay/transactions/app')
    expect(fake.requests[0]!.json()).toMatchObject({ appid: 'wx-open-app', mchid: m.mchid })
  })

  it.each([1.5, 0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])(
    'refuses amount.total %s before any request',
    async (total) => {
      const { fake, wxpay } = setup()
      const e = await rejection(wxpay.transactions.jsapi(jsapiOrder({ amount: { total } })))
      expect(e).toBeInstanceOf(InvalidArgumentError)
      expect(fake.requests).toHaveLength(0)
    },
  )

  it('refuses a string amount.total before any request', async () => {
    const { fake, wxpay } = setup()
    const amount = { total: '100' } as unknown as PrepayRequest['amount']
    await expect(wxpay.transactions.native(order({ amount }))).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
    expect(fake.requests).toHaveLength(0)
  })

  it.each(['12345', 'a'.repeat(33), 'order 123456', '订单号123456', 'abc#123', 'abc@123'])(
    'refuses out_trade_no %j before any request',
    async (out_trade_no) => {
      const { fake, wxpay } = setup()
      const e = await rejection(wxpay.transactions.native(order({ out_trade_no })))
      expect(e).toBeInstanceOf(InvalidArgumentError)
      expect(fake.requests).toHaveLength(0)
    },
  )

  it.each(['123456', 'a'.repeat(32), 'A-z_0|9*x'])('accepts out_trade_no %j', async (no) => {
    const { fake, wxpay } = setup()
    fake.reply({ body: { code_url: 'weixin://x' } })
    await wxpay.transactions.native(order({ out_trade_no: no }))
    expect(fake.requests[0]!.json()).toMatchObject({ out_trade_no: no })
  })

  it('refuses a prepay without any appid before any request', async () => {
    const { fake, wxpay } = setup({ appid: undefined })
    await expect(wxpay.transactions.native(order())).rejects.toBeInstanceOf(ConfigError)
    expect(fake.requests).toHaveLength(0)
  })
})

describe('transactions: query and close', () => {
  const paid = {
    amount: { currency: 'CNY', payer_currency: 'CNY', payer_total: 1, total: 1 },
    appid: 'wx2891ddef4f5de4de',
    mchid: '1320158301',
    out_trade_no: 'a|b*c-123',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    trade_type: 'JSAPI',
    transaction_id: '4200001460202207148197935963',
  }

  it('queryByOutTradeNo GETs the percent-encoded out_trade_no with ?mchid=', async () => {
    const { fake, wxpay } = setup()
    fake.reply({ body: paid })
    const tx = await wxpay.transactions.queryByOutTradeNo('a|b*c-123')
    expect(tx).toEqual(paid)
    const [req] = fake.requests
    expect(req!.method).toBe('GET')
    expect(req!.path).toBe(`/v3/pay/transactions/out-trade-no/a%7Cb*c-123?mchid=${m.mchid}`)
    expect(decodeURIComponent(req!.pathname.split('/').pop()!)).toBe('a|b*c-123')
    expect(req!.body).toBeUndefined()
    expect(req!.authorized).toBe(true)
    expect(
      merchantSigned(
        `GET\n/v3/pay/transactions/out-trade-no/a%7Cb*c-123?mchid=${m.mchid}\n` +
          `${nowSeconds}\n${req!.auth!.nonce_str}\n\n`,
        req!.auth!.signature,
      ),
    ).toBe(true)
  })

  it('queryById GETs /v3/pay/transactions/id/{id}?mchid=', async () => {
    const { fake, wxpay } = setup()
    fake.reply({ body: paid })
    const tx = await wxpay.transactions.queryById('4200001460202207148197935963')
    expect(tx.transaction_id).toBe('4200001460202207148197935963')
    expect(fake.requests[0]!.path).toBe(
      `/v3/pay/transactions/id/4200001460202207148197935963?mchid=${m.mchid}`,
    )
  })

  it('close POSTs {mchid} and resolves on 204', async () => {
    const { fake, wxpay } = setup()
    fake.route('POST', '/v3/pay/transactions/out-trade-no/ORDER_001/close', { status: 204 })
    await expect(wxpay.transactions.close('ORDER_001')).resolves.toBeUndefined()
    const [req] = fake.requests
    expect(req!.path).toBe('/v3/pay/transactions/out-trade-no/ORDER_001/close')
    expect(req!.body).toBe(JSON.stringify({ mchid: m.mchid }))
    expect(req!.authorized).toBe(true)
  })

  it('maps a 404 ORDER_NOT_EXIST to isApiError(e, "ORDER_NOT_EXIST")', async () => {
    const { fake, wxpay } = setup()
    fake.reply({ status: 404, body: { code: 'ORDER_NOT_EXIST', message: '订单不存在' } })
    const e = await rejection(wxpay.transactions.queryByOutTradeNo('UNKNOWN_123'))
    expect(isApiError(e, 'ORDER_NOT_EXIST')).toBe(true)
    expect(isApiError(e)).toBe(true)
    expect(isApiError(e, 'ORDERNOTEXIST')).toBe(false)
    expect(isOrderPaidError(e)).toBe(false)
    expect((e as ApiError).status).toBe(404)
    expect(fake.requests).toHaveLength(1)
  })

  it.each(['ORDERPAID', 'ORDER_PAID'])('isOrderPaidError is true for %s', async (code) => {
    const { fake, wxpay } = setup()
    fake.reply({ status: 400, body: { code, message: '订单已支付' } })
    const e = await rejection(wxpay.transactions.close('PAID_ORDER_1'))
    expect(e).toBeInstanceOf(ApiError)
    expect(isOrderPaidError(e)).toBe(true)
    expect(isApiError(e, code)).toBe(true)
  })

  it('isOrderPaidError and isApiError are false for other errors and non-errors', () => {
    const other = new ApiError({ status: 403, code: 'TRADE_ERROR', message: 'x' })
    expect(isOrderPaidError(other)).toBe(false)
    expect(isOrderPaidError(new Error('ORDERPAID'))).toBe(false)
    expect(isApiError({ code: 'ORDER_NOT_EXIST' }, 'ORDER_NOT_EXIST')).toBe(false)
  })
})

describe('refunds', () => {
  const refund = {
    refund_id: '50000000382019052709732678859',
    out_refund_no: 'R|1@x-2024',
    transaction_id: '1217752501201407033233368018',
    out_trade_no: '1217752501201407033233368018',
    channel: 'ORIGINAL',
    user_received_account: '招商银行信用卡0403',
    create_time: '2020-12-01T16:18:12+08:00',
    status: 'PROCESSING',
    amount: {
      total: 100,
      refund: 50,
      payer_total: 100,
      payer_refund: 50,
      settlement_refund: 50,
      settlement_total: 100,
      discount_refund: 0,
      currency: 'CNY',
    },
  }

  it('create POSTs the request as is to /v3/refund/domestic/refunds', async () => {
    const { fake, wxpay } = setup()
    fake.route('POST', '/v3/refund/domestic/refunds', { body: refund })
    const req: CreateRefundRequest = {
      out_trade_no: '1217752501201407033233368018',
      out_refund_no: 'R|1@x-2024',
      reason: '商品已售完',
      notify_url: 'https://weixin.qq.com/refund',
      amount: { refund: 50, total: 100, currency: 'CNY' },
    }
    const res = await wxpay.refunds.create(req)
    expect(res).toEqual(refund)
    const [sent] = fake.requests
    expect(sent!.path).toBe('/v3/refund/domestic/refunds')
    expect(sent!.body).toBe(JSON.stringify(req))
    expect(sent!.authorized).toBe(true)
  })

  it('query GETs /v3/refund/domestic/refunds/{out_refund_no}, percent-encoded', async () => {
    const { fake, wxpay } = setup()
    fake.reply({ body: { ...refund, status: 'SUCCESS' } })
    const res = await wxpay.refunds.query('R|1@x-2024')
    expect(res.status).toBe('SUCCESS')
    expect(fake.requests[0]!.method).toBe('GET')
    expect(fake.requests[0]!.path).toBe('/v3/refund/domestic/refunds/R%7C1%40x-2024')
    expect(fake.requests[0]!.body).toBeUndefined()
  })

  it('query maps 404 RESOURCE_NOT_EXISTS to an ApiError', async () => {
    const { fake, wxpay } = setup()
    fake.reply({ status: 404, body: { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' } })
    const e = await rejection(wxpay.refunds.query('R404'))
    expect(isApiError(e, 'RESOURCE_NOT_EXISTS')).toBe(true)
  })
})

describe('bills', () => {
  const csv = Buffer.from(
    '\uFEFF交易时间,公众账号ID,商户号,微信订单号,商户订单号,应结订单金额\r\n' +
      '`2024-05-01 10:00:00,`wx2421b1c4370ec43b,`1900000100,`4200000001,`ORDER1,`0.01\r\n' +
      '总交易单数,应结订单总金额\r\n`1,`0.01\r\n',
    'utf8',
  )
  const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex')
  const token = '6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO'

  it('tradeBill GETs /v3/bill/tradebill with its query', async () => {
    const { fake, wxpay } = setup()
    const bill = {
      hash_type: 'SHA1',
      hash_value: sha1(csv),
      download_url: `https://api.mch.weixin.qq.com/v3/billdownload/file?token=${token}`,
    }
    fake.route('GET', '/v3/bill/tradebill', { body: bill })
    const res = await wxpay.bills.tradeBill({
      bill_date: '2024-05-01',
      bill_type: 'ALL',
      tar_type: 'GZIP',
    })
    expect(res).toEqual(bill)
    expect(fake.requests[0]!.path).toBe(
      '/v3/bill/tradebill?bill_date=2024-05-01&bill_type=ALL&tar_type=GZIP',
    )
    expect(fake.requests[0]!.authorized).toBe(true)
  })

  it('tradeBill leaves out unset options', async () => {
    const { fake, wxpay } = setup()
    fake.reply({ body: { hash_type: 'SHA1', hash_value: 'x', download_url: 'https://x/' } })
    await wxpay.bills.tradeBill({ bill_date: '2024-05-01' })
    expect(fake.requests[0]!.path).toBe('/v3/bill/tradebill?bill_date=2024-05-01')
  })

  it('download fetches the unsigned plain file with a signed request and checks its SHA1', async () => {
    const { fake, wxpay } = setup()
    fake.route('GET', '/v3/billdownload/file', { body: csv, signature: 'omit' })
    const content = await wxpay.bills.download({
      hash_type: 'SHA1',
      hash_value: sha1(csv).toUpperCase(),
      download_url: `https://api.mch.weixin.qq.com/v3/billdownload/file?token=${token}`,
    })
    expect(content.equals(csv)).toBe(true)
    const [req] = fake.requests
    expect(req!.path).toBe(`/v3/billdownload/file?token=${token}`)
    expect(req!.authorized).toBe(true)
  })

  it('download gunzips a gzip file and hashes the decompressed content', async () => {
    const { fake, wxpay } = setup()
    const gz = gzipSync(csv)
    fake.route('GET', '/v3/billdownload/file', { body: gz, signature: 'omit' })
    const content = await wxpay.bills.download({
      hash_type: 'SHA1',
      hash_value: sha1(csv),
      download_url: `https://api.mch.weixin.qq.com/v3/billdownload/file?token=${token}&tartype=gzip`,
    })
    expect(content.equals(csv)).toBe(true)
    expect(content.toString('utf8')).toContain('交易时间')
    expect(fake.requests[0]!.path).toBe(`/v3/billdownload/file?token=${token}&tartype=gzip`)
  })

  it('download rejects a file whose hash does not match', async () => {
    const { fake, wxpay } = setup()
    fake.route('GET', '/v3/billdownload/file', { body: gzipSync(csv), signature: 'omit' })
    const e = await rejection(
      wxpay.bills.download({
        hash_type: 'SHA1',
        hash_value: sha1(Buffer.concat([csv, Buffer.from('x')])),
        download_url: `https://api.mch.weixin.qq.com/v3/billdownload/file?token=${token}`,
      }),
    )
    expect(e).toBeInstanceOf(WechatPayError)
    expect(e).not.toBeInstanceOf(ApiError)
  })

  it('download sends the signed request to the configured host only', async () => {
    const { fake, wxpay } = setup()
    fake.route('GET', '/v3/billdownload/file', { body: csv, signature: 'omit' })
    await wxpay.bills.download({
      hash_type: 'SHA1',
      hash_value: sha1(csv),
      download_url: `https://evil.example.com/v3/billdownload/file?token=${token}`,
    })
    expect(fake.requests[0]!.url).toBe(
      `https://api.mch.weixin.qq.com/v3/billdownload/file?token=${token}`,
    )
  })
})

describe('wx.requestPayment parameters (§8.1)', () => {
  it('payJsapi returns the prepay_id and params whose paySign verifies', async () => {
    const { fake, wxpay } = setup()
    fake.reply({ body: { prepay_id: 'wx201410272009395522657a690389285100' } })
    const res = await wxpay.payJsapi(jsapiOrder())
    expect(res.prepay_id).toBe('wx201410272009395522657a690389285100')
    const { params } = res
    expect(params).toMatchObject({
      appId: m.appid,
      timeStamp: String(nowSeconds),
      package: 'prepay_id=wx201410272009395522657a690389285100',
      signType: 'RSA',
    })
    expect(params.nonceStr).toMatch(/^N0+\d+$/)
    // The prepay request used nonce 1; the params take the next one.
    expect(params.nonceStr).not.toBe(fake.requests[0]!.auth!.nonce_str)
    const message = buildPaySignMessage(
      params.appId,
      params.timeStamp,
      params.nonceStr,
      params.package,
    )
    expect(merchantSigned(message, params.paySign)).toBe(true)
    expect(merchantSigned(message + 'x', params.paySign)).toBe(false)
  })

  it('payJsapi signs the request and paySign off the event loop (signAsync), never with sign', async () => {
    const { fake, wxpay } = setup()
    fake.reply({ body: { prepay_id: 'wx-async-1' } })
    const signer = wxpay.client.signer
    const onThread = signer.sign
    let offThread = 0
    const signAsync = signer.signAsync
    signer.sign = () => {
      throw new Error('signed on the event loop')
    }
    signer.signAsync = (message) => {
      offThread++
      return signAsync(message)
    }
    try {
      const res = await wxpay.payJsapi(jsapiOrder())
      // One signature for the Authorization header, one for paySign.
      expect(offThread).toBe(2)
      const { params } = res
      const message = buildPaySignMessage(
        params.appId,
        params.timeStamp,
        params.nonceStr,
        params.package,
      )
      expect(merchantSigned(message, params.paySign)).toBe(true)
      // The thread pool's signature is the one the calling thread makes (PKCS#1 v1.5 is deterministic).
      expect(params.paySign).toBe(onThread(message))
    } finally {
      signer.sign = onThread
      signer.signAsync = signAsync
    }
  })

  it('payJsapi signs with the appid the order was placed under', async () => {
    const { fake, wxpay } = setup()
    fake.reply({ body: { prepay_id: 'wx3' } })
    const res = await wxpay.payJsapi(jsapiOrder({ appid: 'wx-other-mini' }))
    expect(fake.requests[0]!.json()).toMatchObject({ appid: 'wx-other-mini' })
    expect(res.params.appId).toBe('wx-other-mini')
    expect(
      merchantSigned(
        buildPaySignMessage(
          'wx-other-mini',
          res.params.timeStamp,
          res.params.nonceStr,
          'prepay_id=wx3',
        ),
        res.params.paySign,
      ),
    ).toBe(true)
  })

  it('requestPaymentParams uses the injected clock and nonce', async () => {
    const { wxpay } = setup({ clock: () => 1_700_000_000_999, nonce: () => 'FIXEDNONCE0123456789' })
    const params = await wxpay.requestPaymentParams('wx-prepay-1')
    expect(params).toEqual({
      appId: m.appid,
      timeStamp: '1700000000',
      nonceStr: 'FIXEDNONCE0123456789',
      package: 'prepay_id=wx-prepay-1',
      signType: 'RSA',
      paySign: expect.any(String),
    })
    expect(
      merchantSigned(
        `${m.appid}\n1700000000\nFIXEDNONCE0123456789\nprepay_id=wx-prepay-1\n`,
        params.paySign,
      ),
    ).toBe(true)
    // Deterministic: same clock, nonce and key give the same signature.
    expect(await wxpay.requestPaymentParams('wx-prepay-1')).toEqual(params)
  })

  it('requestPaymentParams needs an appid', async () => {
    const { wxpay } = setup({ appid: undefined })
    await expect(wxpay.requestPaymentParams('wx1')).rejects.toThrow(ConfigError)
    expect((await wxpay.requestPaymentParams('wx1', 'wx-explicit')).appId).toBe('wx-explicit')
  })

  it('appPaymentParams signs appid, timestamp, noncestr and prepayid', async () => {
    const { wxpay } = setup({ clock: () => 1_700_000_000_000, nonce: () => 'APPNONCE' })
    const p = await wxpay.appPaymentParams('wx-app-prepay')
    expect(p).toMatchObject({
      appid: m.appid,
      partnerid: m.mchid,
      prepayid: 'wx-app-prepay',
      package: 'Sign=WXPay',
      noncestr: 'APPNONCE',
      timestamp: '1700000000',
    })
    expect(merchantSigned(`${m.appid}\n1700000000\nAPPNONCE\nwx-app-prepay\n`, p.sign)).toBe(true)
  })
})

describe('platform certificates (§3.6a)', () => {
  const downloading = { platform: { certificates: 'download' as const } }

  function certSetup(extra: Partial<WechatPayClientOptions> = downloading) {
    // A clock of its own, so a test can let the least interval between downloads pass.
    const time = { now: NOW }
    const tick = () => time.now
    const s = {
      ...setup({ clock: tick, ...extra }, { mode: 'certificate', certificate: 0, clock: tick }),
      time,
    }
    s.fake.route(
      'GET',
      (p) => p.startsWith('/v3/pay/transactions/id/'),
      (req) => ({
        body: { transaction_id: req.pathname.split('/').pop(), trade_state: 'SUCCESS' },
      }),
    )
    return s
  }
  const downloads = (fake: FakeWechat) => fake.requestsTo('/v3/certificates').length

  it('downloads the certificates on first use, once, and verifies with them', async () => {
    const { fake, wxpay } = certSetup()
    fake.serveCertificates({ list: [0] })
    const tx = await wxpay.transactions.queryById('4200000001')
    expect(tx.transaction_id).toBe('4200000001')
    expect(downloads(fake)).toBe(1)
    const download = fake.requestsTo('/v3/certificates')[0]!
    expect(download.authorized).toBe(true)
    expect(download.headers).not.toHaveProperty('wechatpay-serial')

    await wxpay.transactions.queryById('4200000002')
    await wxpay.transactions.queryById('4200000003')
    expect(downloads(fake)).toBe(1)
    expect((wxpay.client.verifier as PlatformCertificateManager).downloads).toBe(1)
  })

  it('downloads exactly once more when a rotated-in certificate signs', async () => {
    const { fake, wxpay, time } = certSetup()
    const serving = fake.serveCertificates({ list: [0] })
    await wxpay.transactions.queryById('4200000001')
    expect(downloads(fake)).toBe(1)

    // Rotation: WeChat lists both certificates and starts signing with the new one (a minute or
    // more after the first download: lookups download at most once a minute).
    serving.list = [0, 1]
    serving.signedBy = 1
    fake.certificate = 1
    time.now += 60_000
    const tx = await wxpay.transactions.queryById('4200000002')
    expect(tx.transaction_id).toBe('4200000002')
    expect(downloads(fake)).toBe(2)

    await wxpay.transactions.queryById('4200000003')
    fake.certificate = 0
    await wxpay.transactions.queryById('4200000004')
    expect(downloads(fake)).toBe(2)
  })

  it('rejects an unknown serial after one refresh, without hammering the download', async () => {
    const { fake, wxpay, time } = certSetup()
    fake.serveCertificates({ list: [0] })
    await wxpay.transactions.queryById('4200000001')
    fake.certificate = 1 // signs with a certificate WeChat never lists
    time.now += 60_000
    const e = await rejection(wxpay.transactions.queryById('4200000002'))
    expect(e).toMatchObject({ name: 'SignatureError', reason: 'unknown_serial' })
    expect(downloads(fake)).toBe(2)
    const again = await rejection(wxpay.transactions.queryById('4200000003'))
    expect(again).toMatchObject({ reason: 'unknown_serial' })
    expect(downloads(fake)).toBe(2) // the least interval: the clock has not moved since
  })

  it('collapses concurrent first calls into one download', async () => {
    const { fake, wxpay } = certSetup()
    fake.serveCertificates({ list: [0, 1], signedBy: 1 })
    const ids = ['4200000001', '4200000002', '4200000003', '4200000004', '4200000005']
    const txs = await Promise.all(ids.map((id) => wxpay.transactions.queryById(id)))
    expect(txs.map((t) => t.transaction_id)).toEqual(ids)
    expect(downloads(fake)).toBe(1)
  })

  it('collapses concurrent calls signed by a rotated-in certificate into one download', async () => {
    const { fake, wxpay, time } = certSetup()
    const serving = fake.serveCertificates({ list: [0] })
    await wxpay.transactions.queryById('4200000000')
    serving.list = [0, 1]
    fake.certificate = 1
    time.now += 60_000
    const ids = ['4200000001', '4200000002', '4200000003']
    const results = await Promise.allSettled(ids.map((id) => wxpay.transactions.queryById(id)))
    // Each call is either verified or names why it was not (e.g. unknown_serial).
    const outcomes = results.map((r) =>
      r.status === 'fulfilled' ? 'verified' : (r.reason as SignatureError).reason,
    )
    expect(outcomes).toEqual(['verified', 'verified', 'verified'])
    expect(downloads(fake)).toBe(2)
  })

  it('certificates.list decrypts the list and returns the parsed certificates', async () => {
    const { fake, wxpay } = certSetup()
    fake.serveCertificates({ list: [0, 1], signedBy: 0 })
    const certs = await wxpay.certificates.list()
    expect(certs.map((c) => c.serialNo)).toEqual([
      m.platformCertificates[0]!.serialNo,
      m.platformCertificates[1]!.serialNo,
    ])
    expect(certs[0]!.pem).toBe(m.platformCertificates[0]!.certificate)
  })

  it('rejects a list whose serial_no does not match the certificate it decrypts to', async () => {
    const { fake, wxpay } = certSetup()
    fake.reply({
      body: {
        data: [
          certificateEntry(m, 0, {
            serial_no: m.platformCertificates[0]!.serialNo,
            pem: m.platformCertificates[1]!.certificate,
          }),
        ],
      },
      signWith: platformCertificateKey(m, 1),
    })
    const e = await rejection(wxpay.certificates.list())
    expect(e).toBeInstanceOf(WechatPayError)
    expect((e as Error).message).toMatch(/decrypts to serial/)
  })

  it('rejects a list signed by a key that is not in it', async () => {
    const { fake, wxpay } = certSetup()
    fake.reply({ body: { data: [certificateEntry(m, 0)] }, signWith: platformCertificateKey(m, 1) })
    const e = await rejection(wxpay.certificates.list())
    expect(e).toBeInstanceOf(SignatureError)
    expect((e as SignatureError).reason).toBe('unknown_serial')
  })

  it('rejects a list signed by an outside key under a listed serial', async () => {
    const { fake, wxpay } = certSetup()
    fake.reply({
      body: { data: [certificateEntry(m, 0)] },
      signWith: { serial: m.platformCertificates[0]!.serialNo, privateKey: m.platformPrivateKey },
    })
    const e = await rejection(wxpay.certificates.list())
    expect(e).toMatchObject({ name: 'SignatureError', reason: 'mismatch' })
  })

  it('fails an API call whose certificate download is forged, and trusts nothing from it', async () => {
    const { fake, wxpay } = certSetup()
    fake.route('GET', '/v3/certificates', {
      body: { data: [certificateEntry(m, 0)] },
      signWith: { serial: m.platformCertificates[0]!.serialNo, privateKey: m.platformPrivateKey },
    })
    const e = await rejection(wxpay.transactions.queryById('4200000001'))
    expect(e).toBeInstanceOf(SignatureError)
    expect((wxpay.client.verifier as PlatformCertificateManager).certificates).toEqual([])
  })

  it('rejects a certificate list encrypted under another APIv3 key', async () => {
    const { fake, wxpay } = certSetup()
    const other = { ...m, apiV3Key: 'Z'.repeat(32) }
    fake.reply({
      body: { data: [certificateEntry(other, 0)] },
      signWith: platformCertificateKey(m, 0),
    })
    await expect(wxpay.certificates.list()).rejects.toMatchObject({ name: 'DecryptionError' })
  })

  it('migration (publicKey + download): public-key answers verify without any download', async () => {
    const { fake, wxpay } = certSetup({
      platform: {
        publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey },
        certificates: 'download',
      },
    })
    fake.serveCertificates({ list: [0] })
    await wxpay.transactions.queryById('4200000001')
    await wxpay.transactions.queryById('4200000002')
    expect(
      fake.requests.every((r) => r.headers['wechatpay-serial'] === m.platformPublicKeyId),
    ).toBe(true)
    expect(downloads(fake)).toBe(0)
  })

  it('migration: a certificate-signed answer still verifies, after one download', async () => {
    const { fake, wxpay } = certSetup({
      platform: {
        publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey },
        certificates: 'download',
      },
    })
    fake.serveCertificates({ list: [0] })
    fake.reply({ body: { ok: 1 }, signWith: platformCertificateKey(m, 0) })
    const res = await wxpay.client.request({ method: 'GET', path: '/v3/x' })
    expect(res.data).toEqual({ ok: 1 })
    expect(downloads(fake)).toBe(1)
    await wxpay.transactions.queryById('4200000002')
    expect(downloads(fake)).toBe(1)
  })
})
