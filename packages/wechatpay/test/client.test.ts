import { createPublicKey, verify as rsaVerify } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import packageJson from '../package.json' with { type: 'json' }
import {
  ApiError,
  InvalidArgumentError,
  buildRequestMessage,
  NetworkError,
  SignatureError,
  TimeoutError,
  WechatPayClient,
  WechatPayError,
  type WechatPayClientOptions,
} from '../src'
import type { TestMerchant } from '../src/testing'
import {
  createFakeWechat,
  fakeClientOptions,
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
): { fake: FakeWechat; client: WechatPayClient } {
  const fake = createFakeWechat(m, { clock, ...fakeOptions })
  const client = new WechatPayClient(fakeClientOptions(m, fake, clock, extra))
  return { fake, client }
}

/** Checks a request signature independently of the fake, with the merchant certificate's key. */
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

describe('request headers and signing (§1, §2)', () => {
  it('sends Accept, Content-Type, User-Agent and an Authorization that verifies', async () => {
    const { fake, client } = setup({ userAgent: 'shop/1.2' })
    fake.reply({ body: { ok: true } })
    const res = await client.request<{ ok: boolean }>({ method: 'GET', path: '/v3/ping' })
    expect(res.data).toEqual({ ok: true })

    const [req] = fake.requests
    expect(fake.requests).toHaveLength(1)
    expect(req!.headers['accept']).toBe('application/json')
    expect(req!.headers['content-type']).toBe('application/json')
    // The package's own version, which Changesets bumps in package.json.
    expect(req!.headers['user-agent']).toMatch(new RegExp(`^fen-wechatpay/${packageJson.version} `))
    expect(req!.headers['user-agent']).toMatch(/ shop\/1\.2$/)
    expect(req!.headers['authorization']).toMatch(/^WECHATPAY2-SHA256-RSA2048 mchid="/)
    expect(req!.authorized).toBe(true)
    expect(req!.auth).toMatchObject({
      mchid: m.mchid,
      serial_no: m.merchantSerialNo,
      timestamp: String(nowSeconds),
      nonce_str: 'N0000000000000000000000000000001',
    })
    const message = `GET\n/v3/ping\n${nowSeconds}\nN0000000000000000000000000000001\n\n`
    expect(merchantSigned(message, req!.auth!.signature)).toBe(true)
  })

  it('signs the query string exactly as sent, leaving out undefined values', async () => {
    const { fake, client } = setup()
    fake.reply({ body: {} })
    await client.request({
      method: 'GET',
      path: '/v3/search',
      query: { a: '1 2', skip: undefined, c: 'x&y=z', n: 3 },
    })
    const [req] = fake.requests
    expect(req!.url).toBe('https://api.mch.weixin.qq.com/v3/search?a=1%202&c=x%26y%3Dz&n=3')
    expect(req!.path).toBe('/v3/search?a=1%202&c=x%26y%3Dz&n=3')
    expect(req!.query.get('c')).toBe('x&y=z')
    const message = buildRequestMessage(
      'GET',
      '/v3/search?a=1%202&c=x%26y%3Dz&n=3',
      nowSeconds,
      req!.auth!.nonce_str,
      '',
    )
    expect(merchantSigned(message, req!.auth!.signature)).toBe(true)
    expect(req!.authorized).toBe(true)
  })

  it('includes the path prefix of the base URL in the signed canonical URL', async () => {
    const { fake, client } = setup({ baseUrl: 'https://proxy.example.com/wxpay/' })
    fake.reply({ body: {} })
    await client.request({ method: 'GET', path: '/v3/certificates', query: { x: '1' } })
    const [req] = fake.requests
    expect(req!.url).toBe('https://proxy.example.com/wxpay/v3/certificates?x=1')
    expect(req!.signedMessage).toBe(
      `GET\n/wxpay/v3/certificates?x=1\n${nowSeconds}\n${req!.auth!.nonce_str}\n\n`,
    )
    expect(req!.authorized).toBe(true)
    expect(
      merchantSigned(
        buildRequestMessage('GET', '/v3/certificates?x=1', nowSeconds, req!.auth!.nonce_str, ''),
        req!.auth!.signature,
      ),
    ).toBe(false)
  })

  it('sends no body with GET and signs an empty body line', async () => {
    const { fake, client } = setup()
    fake.reply({ body: {} })
    await client.request({ method: 'GET', path: '/v3/thing' })
    const [req] = fake.requests
    expect(req!.body).toBeUndefined()
    expect(req!.signedMessage).toMatch(/\n\n$/)
    expect(req!.signedMessage!.split('\n')).toEqual([
      'GET',
      '/v3/thing',
      String(nowSeconds),
      req!.auth!.nonce_str,
      '',
      '',
    ])
    expect(req!.authorized).toBe(true)
  })

  it('refuses a GET given a body before sending (it would sign bytes it never sends)', async () => {
    const { fake, client } = setup()
    fake.reply({ body: {} })
    await expect(
      client.request({ method: 'GET', path: '/v3/thing', body: { a: 1 } }),
    ).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(fake.requests).toHaveLength(0)
  })

  it('signs a UTF-8 (Chinese) body over its exact bytes', async () => {
    const { fake, client } = setup()
    const payload = { description: '腾讯充值中心-QQ会员充值', attach: '深圳分店' }
    fake.reply({ body: { prepay_id: 'wx201410272009395522657a690389285100', note: '下单成功' } })
    const res = await client.request<{ note: string }>({
      method: 'POST',
      path: '/v3/pay/transactions/jsapi',
      body: payload,
    })
    expect(res.data.note).toBe('下单成功')
    const [req] = fake.requests
    const expected = Buffer.from(JSON.stringify(payload), 'utf8')
    expect(req!.bodyBytes!.equals(expected)).toBe(true)
    expect(req!.body).toContain('腾讯充值中心')
    expect(req!.body).not.toContain('\\u')
    const message = buildRequestMessage(
      'POST',
      '/v3/pay/transactions/jsapi',
      nowSeconds,
      req!.auth!.nonce_str,
      JSON.stringify(payload),
    )
    expect(merchantSigned(message, req!.auth!.signature)).toBe(true)
    expect(req!.authorized).toBe(true)
  })

  it('sends Wechatpay-Serial (the public key id) in public-key mode', async () => {
    const { fake, client } = setup()
    fake.reply({ body: {} })
    await client.request({ method: 'GET', path: '/v3/x' })
    expect(fake.requests[0]!.headers['wechatpay-serial']).toBe(m.platformPublicKeyId)
  })

  it('sends no Wechatpay-Serial with fixed platform certificates', async () => {
    const { fake, client } = setup(
      { platform: { certificates: [m.platformCertificates[0]!.certificate] } },
      { mode: 'certificate', certificate: 0 },
    )
    fake.reply({ body: { ok: 1 } })
    const res = await client.request({ method: 'GET', path: '/v3/x' })
    expect(res.data).toEqual({ ok: 1 })
    expect(fake.requests[0]!.headers).not.toHaveProperty('wechatpay-serial')
  })

  it('is refused by the fake when signed with the wrong key (the fake really checks)', async () => {
    const { fake, client } = setup({
      privateKey: m.platformCertificates[0]!.privateKey,
      maxRetries: 0,
    })
    fake.reply({ body: {} })
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toMatchObject({ status: 401, code: 'SIGN_ERROR' })
    expect(fake.requests[0]!.authorized).toBe(false)
  })
})

describe('response verification (§3)', () => {
  it('resolves a verified answer with its data, status and Request-ID', async () => {
    const { fake, client } = setup()
    fake.reply({ body: { code_url: 'weixin://wxpay/bizpayurl?pr=JyC91EIz1' }, requestId: 'REQ-1' })
    const res = await client.request({ method: 'POST', path: '/v3/pay/transactions/native' })
    expect(res).toEqual({
      status: 200,
      requestId: 'REQ-1',
      data: { code_url: 'weixin://wxpay/bizpayurl?pr=JyC91EIz1' },
    })
  })

  it('verifies over the raw body bytes, not a re-serialisation', async () => {
    const { fake, client } = setup()
    fake.reply({ body: '{ "b" : 2,\n  "a": "一" }' })
    const res = await client.request({ method: 'GET', path: '/v3/x' })
    expect(res.data).toEqual({ a: '一', b: 2 })
  })

  it('rejects a 2xx without signature headers: missing_headers', async () => {
    const { fake, client } = setup()
    fake.reply({ body: { prepay_id: 'wx1' }, signature: 'omit' })
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toBeInstanceOf(SignatureError)
    expect((e as SignatureError).reason).toBe('missing_headers')
    expect(fake.requests).toHaveLength(1)
  })

  it('rejects a badly signed 2xx: mismatch', async () => {
    const { fake, client } = setup()
    fake.reply({ body: { prepay_id: 'wx1' }, signature: 'tamper' })
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toBeInstanceOf(SignatureError)
    expect(e).toMatchObject({ reason: 'mismatch', serial: m.platformPublicKeyId })
  })

  it('rejects a 2xx signed by another key under the right serial: mismatch', async () => {
    const { fake, client } = setup()
    fake.reply({
      body: { prepay_id: 'wx1' },
      signWith: {
        serial: m.platformPublicKeyId,
        privateKey: m.platformCertificates[0]!.privateKey,
      },
    })
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toMatchObject({ name: 'SignatureError', reason: 'mismatch' })
  })

  it('rejects a WECHATPAY/SIGNTEST/ probe: signtest', async () => {
    const { fake, client } = setup()
    fake.reply({ body: { prepay_id: 'wx1' }, signature: 'signtest' })
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toBeInstanceOf(SignatureError)
    expect((e as SignatureError).reason).toBe('signtest')
  })

  it('rejects an unknown Wechatpay-Serial: unknown_serial', async () => {
    const { fake, client } = setup()
    fake.reply({
      body: {},
      signWith: {
        serial: 'PUB_KEY_ID_0000000000000000000000000000000001',
        privateKey: m.platformPrivateKey,
      },
    })
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toMatchObject({ name: 'SignatureError', reason: 'unknown_serial' })
  })

  it('rejects a timestamp more than 300 s away: stale_timestamp', async () => {
    const { fake, client } = setup()
    fake.reply({ body: {}, timestamp: nowSeconds - 301 }, { body: {}, timestamp: nowSeconds + 301 })
    for (let i = 0; i < 2; i++) {
      const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
      expect(e).toBeInstanceOf(SignatureError)
      expect((e as SignatureError).reason).toBe('stale_timestamp')
    }
  })

  it('accepts a timestamp exactly 300 s away', async () => {
    const { fake, client } = setup()
    fake.reply({ body: { ok: 1 }, timestamp: nowSeconds - 300 })
    await expect(client.request({ method: 'GET', path: '/v3/x' })).resolves.toMatchObject({
      data: { ok: 1 },
    })
  })

  it('accepts a stale timestamp with timestampToleranceSeconds: false', async () => {
    const { fake, client } = setup({ timestampToleranceSeconds: false })
    fake.reply({ body: { ok: 1 }, timestamp: nowSeconds - 86_400 })
    const res = await client.request({ method: 'GET', path: '/v3/x' })
    expect(res.data).toEqual({ ok: 1 })
  })

  it('still checks the signature with timestampToleranceSeconds: false', async () => {
    const { fake, client } = setup({ timestampToleranceSeconds: false })
    fake.reply({ body: {}, timestamp: nowSeconds - 86_400, signature: 'tamper' })
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toMatchObject({ name: 'SignatureError', reason: 'mismatch' })
  })

  it('resolves a signed 204 with data undefined', async () => {
    const { fake, client } = setup()
    fake.reply({ status: 204 })
    const res = await client.request({ method: 'POST', path: '/v3/x', body: { mchid: m.mchid } })
    expect(res.status).toBe(204)
    expect(res.data).toBeUndefined()
  })

  it('rejects an unsigned 204', async () => {
    const { fake, client } = setup()
    fake.reply({ status: 204, signature: 'omit' })
    const e = await rejection(client.request({ method: 'POST', path: '/v3/x', body: {} }))
    expect(e).toMatchObject({ name: 'SignatureError', reason: 'missing_headers' })
  })

  it('rejects a signed 2xx whose body is not JSON with a WechatPayError', async () => {
    const { fake, client } = setup()
    fake.reply({ body: 'not json' })
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toBeInstanceOf(WechatPayError)
    expect(e).not.toBeInstanceOf(SignatureError)
  })

  it('turns a non-2xx into an ApiError with status, code, message, detail and Request-ID', async () => {
    const { fake, client } = setup()
    const detail = { field: '/amount/currency', value: 'XYZ', issue: 'Currency code is invalid' }
    fake.reply({
      status: 400,
      body: { code: 'PARAM_ERROR', message: '参数错误', detail },
      requestId: '08F4A8B6A60610F50318A6B1A3F101201B2000',
    })
    const e = await rejection(client.request({ method: 'POST', path: '/v3/x', body: {} }))
    expect(e).toBeInstanceOf(ApiError)
    const err = e as ApiError
    expect(err.status).toBe(400)
    expect(err.code).toBe('PARAM_ERROR')
    expect(err.message).toBe('参数错误')
    expect(err.detail).toEqual(detail)
    expect(err.requestId).toBe('08F4A8B6A60610F50318A6B1A3F101201B2000')
  })

  it('leaves requestId undefined when there is no Request-ID', async () => {
    const { fake, client } = setup()
    fake.reply({ status: 404, body: { code: 'X', message: 'y' }, requestId: null })
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toMatchObject({ status: 404, code: 'X', requestId: undefined })
  })

  it('gives an ApiError for a 502 whose body is not JSON', async () => {
    const { fake, client } = setup({ maxRetries: 0 })
    fake.reply({
      status: 502,
      body: '<html><body>502 Bad Gateway</body></html>',
      headers: { 'Content-Type': 'text/html' },
      requestId: 'gw-1',
    })
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toMatchObject({ status: 502, code: 'SYSTEM_ERROR', requestId: 'gw-1' })
    expect((e as ApiError).message).toContain('502')
  })

  it('does not need signatures on error answers', async () => {
    const { fake, client } = setup()
    fake.reply({ status: 404, body: { code: 'ORDER_NOT_EXIST', message: '订单不存在' } })
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toMatchObject({ name: 'ApiError', code: 'ORDER_NOT_EXIST' })
  })
})

describe('retries and timeouts', () => {
  it('retries a GET after a 500, then succeeds (2 attempts)', async () => {
    const { fake, client } = setup()
    fake.reply(
      { status: 500, body: { code: 'SYSTEM_ERROR', message: '系统繁忙,请稍后重试' } },
      { body: { trade_state: 'SUCCESS' } },
    )
    const res = await client.request({ method: 'GET', path: '/v3/x' })
    expect(res.data).toEqual({ trade_state: 'SUCCESS' })
    expect(fake.requests).toHaveLength(2)
    expect(fake.requests.every((r) => r.authorized)).toBe(true)
  })

  it('retries a GET after a network error', async () => {
    const { fake, client } = setup()
    fake.reply({ fail: 'network' }, { body: { ok: 1 } })
    const res = await client.request({ method: 'GET', path: '/v3/x' })
    expect(res.data).toEqual({ ok: 1 })
    expect(fake.requests).toHaveLength(2)
  })

  it('retries a GET after a timeout', async () => {
    const { fake, client } = setup({ timeoutMs: 50 })
    fake.reply({ fail: 'hang' }, { body: { ok: 1 } })
    const res = await client.request({ method: 'GET', path: '/v3/x' })
    expect(res.data).toEqual({ ok: 1 })
    expect(fake.requests).toHaveLength(2)
  })

  it('retries a POST after a 500 with the byte-identical body, freshly signed', async () => {
    const { fake, client } = setup()
    fake.reply(
      { status: 500, body: { code: 'SYSTEM_ERROR', message: '系统繁忙' } },
      { body: { refund_id: '50200207182018070300011301001' } },
    )
    const body = { out_refund_no: 'R1', reason: '商品已售完', amount: { refund: 1, total: 1 } }
    const res = await client.request({ method: 'POST', path: '/v3/refund/domestic/refunds', body })
    expect(res.data).toEqual({ refund_id: '50200207182018070300011301001' })
    expect(fake.requests).toHaveLength(2)
    const [first, second] = fake.requests
    expect(first!.bodyBytes!.equals(second!.bodyBytes!)).toBe(true)
    expect(first!.bodyBytes!.equals(Buffer.from(JSON.stringify(body)))).toBe(true)
    expect(second!.auth!.nonce_str).not.toBe(first!.auth!.nonce_str)
    expect(second!.auth!.signature).not.toBe(first!.auth!.signature)
    expect(first!.authorized && second!.authorized).toBe(true)
  })

  it('does not retry a POST after a timeout (TimeoutError, 1 attempt)', async () => {
    const { fake, client } = setup({ timeoutMs: 50 })
    fake.reply({ fail: 'hang' }, { body: {} })
    const e = await rejection(client.request({ method: 'POST', path: '/v3/x', body: {} }))
    expect(e).toBeInstanceOf(TimeoutError)
    expect((e as TimeoutError).timeoutMs).toBe(50)
    expect(fake.requests).toHaveLength(1)
  })

  it('does not retry a POST after a network error', async () => {
    const { fake, client } = setup()
    fake.reply({ fail: 'network' }, { body: {} })
    const e = await rejection(client.request({ method: 'POST', path: '/v3/x', body: {} }))
    expect(e).toBeInstanceOf(NetworkError)
    expect(e).not.toBeInstanceOf(TimeoutError)
    expect((e as Error).message).toContain('ECONNREFUSED')
    expect(fake.requests).toHaveLength(1)
  })

  it('does not retry a 429', async () => {
    const { fake, client } = setup()
    fake.reply(
      { status: 429, body: { code: 'FREQUENCY_LIMITED', message: '频率超限' } },
      { body: {} },
    )
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toMatchObject({ name: 'ApiError', status: 429, code: 'FREQUENCY_LIMITED' })
    expect(fake.requests).toHaveLength(1)
  })

  it('does not retry a 4xx', async () => {
    const { fake, client } = setup()
    fake.reply({ status: 400, body: { code: 'PARAM_ERROR', message: '参数错误' } }, { body: {} })
    const e = await rejection(client.request({ method: 'POST', path: '/v3/x', body: {} }))
    expect(e).toMatchObject({ name: 'ApiError', status: 400, code: 'PARAM_ERROR' })
    expect(fake.requests).toHaveLength(1)
  })

  it('does not retry a bad signature on a 2xx', async () => {
    const { fake, client } = setup()
    fake.reply({ body: {}, signature: 'tamper' }, { body: {} })
    await expect(client.request({ method: 'GET', path: '/v3/x' })).rejects.toBeInstanceOf(
      SignatureError,
    )
    expect(fake.requests).toHaveLength(1)
  })

  it('stops after maxRetries (maxRetries + 1 attempts) and throws the last ApiError', async () => {
    const { fake, client } = setup({ maxRetries: 3 })
    for (let i = 1; i <= 5; i++) {
      fake.reply({
        status: i % 2 ? 500 : 503,
        body: { code: 'SYSTEM_ERROR', message: `busy ${i}` },
        requestId: `r${i}`,
      })
    }
    const e = await rejection(client.request({ method: 'POST', path: '/v3/x', body: { a: 1 } }))
    expect(fake.requests).toHaveLength(4)
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toMatchObject({ status: 503, message: 'busy 4', requestId: 'r4' })
  })

  it('uses 2 retries by default', async () => {
    const { fake, client } = setup({ maxRetries: undefined })
    for (let i = 0; i < 4; i++) fake.reply({ fail: 'network' })
    await expect(client.request({ method: 'GET', path: '/v3/x' })).rejects.toBeInstanceOf(
      NetworkError,
    )
    expect(fake.requests).toHaveLength(3)
  })

  it('gives a TimeoutError when no answer comes in time', async () => {
    const { fake, client } = setup({ timeoutMs: 50, maxRetries: 0 })
    fake.reply({ fail: 'hang' })
    const started = Date.now()
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toBeInstanceOf(TimeoutError)
    expect(e).toBeInstanceOf(NetworkError)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(fake.requests[0]!.signal.aborted).toBe(true)
  })

  it('times out when the body stalls after the headers', async () => {
    const { fake, client } = setup({ timeoutMs: 50, maxRetries: 0 })
    fake.reply({ body: { ok: 1 }, fail: 'hang-body' })
    const e = await rejection(client.request({ method: 'GET', path: '/v3/x' }))
    expect(e).toBeInstanceOf(TimeoutError)
  })

  it('does not retry a GET the caller aborted, and does not call it a timeout', async () => {
    const { fake, client } = setup()
    fake.reply({ fail: 'hang' }, { body: { ok: 1 } }, { body: { ok: 2 } })
    const controller = new AbortController()
    const pending = rejection(
      client.request({ method: 'GET', path: '/v3/x', signal: controller.signal }),
    )
    await new Promise((resolve) => setTimeout(resolve, 10))
    controller.abort()
    const e = await pending
    expect(e).toBeInstanceOf(NetworkError)
    expect(e).not.toBeInstanceOf(TimeoutError)
    expect(fake.requests).toHaveLength(1)
  })
})
