import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  verify as rsaVerify,
  type KeyObject,
} from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  ConfigError,
  SIGNATURE_SCHEME,
  SignatureError,
  buildRequestMessage,
  createRsaSigner,
  formatAuthorization,
  parseAuthorization,
  signRequest,
  type AuthorizationParams,
} from '../src'
import { testMerchant } from './support/merchant'

/** Asserts `fn` throws a SignatureError with reason `bad_authorization`. */
function expectBadAuthorization(fn: () => unknown): void {
  let thrown: unknown
  try {
    fn()
  } catch (e) {
    thrown = e
  }
  expect(thrown).toBeInstanceOf(SignatureError)
  expect((thrown as SignatureError).reason).toBe('bad_authorization')
}

describe('buildRequestMessage (wechatpay-api.md §2.1)', () => {
  it('ends a GET with an empty body in `\\n\\n`', () => {
    const message = buildRequestMessage('GET', '/v3/certificates', 1554208460, 'NONCE', '')
    expect(message).toBe('GET\n/v3/certificates\n1554208460\nNONCE\n\n')
    expect(message.endsWith('NONCE\n\n')).toBe(true)
  })

  it('has exactly five lines, each terminated by `\\n`', () => {
    const message = buildRequestMessage('POST', '/v3/pay/transactions/jsapi', '1', 'n', '{"a":1}')
    expect(message.split('\n')).toEqual([
      'POST',
      '/v3/pay/transactions/jsapi',
      '1',
      'n',
      '{"a":1}',
      '',
    ])
  })

  it('keeps the query string verbatim: no sorting, decoding or re-encoding', () => {
    const url = '/v3/bill/tradebill?bill_date=2024-01-02&bill_type=ALL&x=%E4%B8%AD+b&a=1'
    const message = buildRequestMessage('GET', url, 1700000000, 'N', '')
    expect(message).toBe(`GET\n${url}\n1700000000\nN\n\n`)
  })

  it('still appends one more `\\n` when the body itself ends with `\\n`', () => {
    const message = buildRequestMessage('POST', '/v3/x', 1, 'n', '{"a":1}\n')
    expect(message).toBe('POST\n/v3/x\n1\nn\n{"a":1}\n\n')
  })

  it('keeps a UTF-8 Chinese body as-is', () => {
    const body = '{"description":"腾讯充值中心-QQ会员充值","amount":{"total":1}}'
    const message = buildRequestMessage('POST', '/v3/pay/transactions/jsapi', 1, 'n', body)
    expect(message).toBe(`POST\n/v3/pay/transactions/jsapi\n1\nn\n${body}\n`)
    // The UTF-8 byte length counts each of these CJK characters as 3 bytes.
    const cjk = [...body].filter((c) => c.charCodeAt(0) > 0x7f).length
    expect(Buffer.byteLength(message, 'utf8')).toBe(message.length + 2 * cjk)
  })
})

describe('createRsaSigner', () => {
  let pkcs8: string
  let publicKey: KeyObject
  const message = buildRequestMessage(
    'POST',
    '/v3/refund/domestic/refunds',
    1,
    'n',
    '{"reason":"退款"}',
  )

  beforeAll(async () => {
    const merchant = await testMerchant()
    pkcs8 = merchant.merchantPrivateKey
    publicKey = createPublicKey(pkcs8)
  })

  it('accepts a PKCS#8 PEM and signs SHA256withRSA over the UTF-8 bytes', () => {
    expect(pkcs8).toContain('-----BEGIN PRIVATE KEY-----')
    const signature = createRsaSigner(pkcs8).sign(message)
    expect(signature).toMatch(/^[A-Za-z0-9+/]+={0,2}$/)
    expect(Buffer.from(signature, 'base64')).toHaveLength(256)
    expect(
      rsaVerify(
        'sha256',
        Buffer.from(message, 'utf8'),
        publicKey,
        Buffer.from(signature, 'base64'),
      ),
    ).toBe(true)
  })

  it('accepts a PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`) and gives the same signature', () => {
    const pkcs1 = createPrivateKey(pkcs8).export({ type: 'pkcs1', format: 'pem' }).toString()
    expect(pkcs1).toContain('-----BEGIN RSA PRIVATE KEY-----')
    expect(createRsaSigner(pkcs1).sign(message)).toBe(createRsaSigner(pkcs8).sign(message))
  })

  it('accepts a KeyObject and a PEM Buffer, giving the same signature', () => {
    const expected = createRsaSigner(pkcs8).sign(message)
    expect(createRsaSigner(createPrivateKey(pkcs8)).sign(message)).toBe(expected)
    expect(createRsaSigner(Buffer.from(pkcs8)).sign(message)).toBe(expected)
  })

  it('signs a string and its UTF-8 Buffer identically', () => {
    const signer = createRsaSigner(pkcs8)
    expect(signer.sign(Buffer.from(message, 'utf8'))).toBe(signer.sign(message))
  })

  it('rejects a non-RSA (EC) key with ConfigError, as PEM and as KeyObject', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const ecPem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    expect(() => createRsaSigner(ecPem)).toThrow(ConfigError)
    expect(() => createRsaSigner(ec.privateKey)).toThrow(ConfigError)
    expect(() => createRsaSigner(ec.privateKey)).toThrow(/RSA/)
  })

  it('rejects garbage and a public key with ConfigError', () => {
    expect(() => createRsaSigner('not a key')).toThrow(ConfigError)
    expect(() =>
      createRsaSigner('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
    ).toThrow(ConfigError)
    expect(() => createRsaSigner(Buffer.from([1, 2, 3]))).toThrow(ConfigError)
    expect(() => createRsaSigner(publicKey)).toThrow(ConfigError)
  })
})

describe('parseAuthorization / formatAuthorization (§2.3)', () => {
  const params: AuthorizationParams = {
    mchid: '1900009191',
    nonce_str: '593BEC0C930BF1AFEB40B4A08C8FB242',
    timestamp: '1554208460',
    serial_no: '1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C',
    signature: 'dGVzdA+/sig==',
  }
  const pairs = (p: AuthorizationParams) => Object.entries(p).map(([k, v]) => `${k}="${v}"`)

  it('round-trips formatAuthorization', () => {
    expect(parseAuthorization(formatAuthorization(params))).toEqual(params)
  })

  it('accepts the parameters in any order', () => {
    const docOrder = `${SIGNATURE_SCHEME} mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",signature="dGVzdA+/sig==",timestamp="1554208460",serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"`
    expect(parseAuthorization(docOrder)).toEqual(params)
    const reversed = `${SIGNATURE_SCHEME} ${pairs(params).reverse().join(',')}`
    expect(parseAuthorization(reversed)).toEqual(params)
  })

  it('parses what signRequest emits, and its signature verifies over the request message', async () => {
    const merchant = await testMerchant()
    const header = signRequest({
      signer: createRsaSigner(merchant.merchantPrivateKey),
      mchid: merchant.mchid,
      serialNo: merchant.merchantSerialNo,
      method: 'GET',
      url: '/v3/pay/transactions/out-trade-no/T1?mchid=' + merchant.mchid,
      body: '',
      timestamp: 1700000000,
      nonce: 'abc',
    })
    const parsed = parseAuthorization(header)
    expect(parsed).toMatchObject({
      mchid: merchant.mchid,
      nonce_str: 'abc',
      timestamp: '1700000000',
      serial_no: merchant.merchantSerialNo,
    })
    const message = `GET\n/v3/pay/transactions/out-trade-no/T1?mchid=${merchant.mchid}\n1700000000\nabc\n\n`
    expect(
      rsaVerify(
        'sha256',
        Buffer.from(message),
        createPublicKey(merchant.merchantPrivateKey),
        Buffer.from(parsed.signature, 'base64'),
      ),
    ).toBe(true)
  })

  it('rejects a wrong scheme', () => {
    const rest = pairs(params).join(',')
    expectBadAuthorization(() => parseAuthorization(`WECHATPAY2-SHA256-RSA4096 ${rest}`))
    expectBadAuthorization(() => parseAuthorization(`wechatpay2-sha256-rsa2048 ${rest}`))
    expectBadAuthorization(() => parseAuthorization(`Bearer ${rest}`))
    expectBadAuthorization(() => parseAuthorization(rest))
  })

  it('rejects a missing parameter', () => {
    for (const key of Object.keys(params)) {
      const without = pairs(params).filter((p) => !p.startsWith(`${key}=`))
      expectBadAuthorization(() => parseAuthorization(`${SIGNATURE_SCHEME} ${without.join(',')}`))
    }
  })

  it('rejects a duplicated parameter, even with the same value', () => {
    const all = pairs(params)
    expectBadAuthorization(() =>
      parseAuthorization(`${SIGNATURE_SCHEME} ${[...all, 'mchid="1900009191"'].join(',')}`),
    )
    expectBadAuthorization(() =>
      parseAuthorization(`${SIGNATURE_SCHEME} ${[...all, 'signature="other"'].join(',')}`),
    )
  })

  it('rejects unquoted values', () => {
    const unquoted = pairs(params).map((p) => (p.startsWith('mchid=') ? 'mchid=1900009191' : p))
    expectBadAuthorization(() => parseAuthorization(`${SIGNATURE_SCHEME} ${unquoted.join(',')}`))
    const single = pairs(params).map((p) => (p.startsWith('mchid=') ? "mchid='1900009191'" : p))
    expectBadAuthorization(() => parseAuthorization(`${SIGNATURE_SCHEME} ${single.join(',')}`))
  })

  it('rejects a missing header', () => {
    expectBadAuthorization(() => parseAuthorization(undefined))
    expectBadAuthorization(() => parseAuthorization(''))
  })
})
