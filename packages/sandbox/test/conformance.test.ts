/**
 * Conformance of the sandbox's APIv3 side, driven by an independent client: requests are signed
 * and answers verified with `wechatpay-axios-plugin`'s primitives (Formatter, Rsa, Aes, Hash), over
 * Node's fetch — never with `@fen/wechatpay`. Expectations come from /work/shared/wechatpay-api.md
 * (§2 signing, §3 verification, §5 endpoints, §6 errors, §7 notifications, §8 requestPayment).
 */
import { X509Certificate } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Aes, Formatter, Hash, Rsa } from 'wechatpay-axios-plugin'
import { startSandbox, type RunningSandbox, type SandboxKeys } from '../src'
import { sandboxKeys } from './support/keys'
import {
  NotifyReceiver,
  V3Client,
  beijingDate,
  control,
  decryptResource,
  getMerchant,
  rawRequest,
  uniqueNo,
  verifySignature,
  wechatpayHeaders,
  type Answer,
  type ErrorBody,
  type MerchantView,
  type NotificationBody,
  type Received,
  type Refund,
  type Transaction,
} from './support/independent-client'

const JSAPI = '/v3/pay/transactions/jsapi'
const NATIVE = '/v3/pay/transactions/native'
const H5 = '/v3/pay/transactions/h5'
const APP = '/v3/pay/transactions/app'
const REFUNDS = '/v3/refund/domestic/refunds'
const SCHEME = 'WECHATPAY2-SHA256-RSA2048'
const OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o'
const PREPAY_ID = /^wx\d{14}[0-9a-f]{20}$/
const BEIJING_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/

let keys: SandboxKeys
let sb: RunningSandbox
let m: MerchantView
let v3: V3Client
const receiver = new NotifyReceiver()

beforeAll(async () => {
  ;[keys] = await Promise.all([sandboxKeys(), receiver.start()])
  sb = await startSandbox({ keys, port: 0, refundSettleSeconds: false })
  m = await getMerchant(sb.url)
  v3 = new V3Client(sb.url, m)
})

afterAll(async () => {
  await sb?.close()
  await receiver.close()
})

beforeEach(async () => {
  expect((await control(sb.url, 'POST', '/reset')).status).toBe(204)
})

// ---- helpers -------------------------------------------------------------------------------------

function prepayBody(no: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    appid: m.appid,
    mchid: m.mchid,
    description: 'Image形象店-深圳腾大-QQ公仔',
    out_trade_no: no,
    notify_url: receiver.url(no),
    amount: { total: 100, currency: 'CNY' },
    payer: { openid: OPENID },
    ...over,
  }
}

async function newOrder(
  over: Record<string, unknown> = {},
  no = uniqueNo(),
): Promise<{ no: string; prepayId: string }> {
  const a = await v3.post<{ prepay_id: string }>(JSAPI, prepayBody(no, over))
  expect(a.status).toBe(200)
  return { no, prepayId: a.json.prepay_id }
}

const queryPath = (no: string) => `/v3/pay/transactions/out-trade-no/${no}?mchid=${m.mchid}`
const closePath = (no: string) => `/v3/pay/transactions/out-trade-no/${no}/close`

function query(no: string): Promise<Answer<Transaction & ErrorBody>> {
  return v3.get<Transaction & ErrorBody>(queryPath(no))
}

function createRefundFor(no: string, refund = 10): Promise<Answer<ErrorBody>> {
  return v3.post(REFUNDS, {
    out_trade_no: no,
    out_refund_no: uniqueNo('R'),
    amount: { refund, total: 100, currency: 'CNY' },
  })
}

async function pay(no: string): Promise<void> {
  const a = await control(sb.url, 'POST', '/pay', { out_trade_no: no })
  expect(a.status).toBe(200)
}

/** The platform key for a serial, in public-key mode. */
const publicKeyFor = (serial: string) =>
  serial === m.platformPublicKeyId ? m.platformPublicKey : undefined

/** An error answer in WeChat's shape (§6.1): status, code, a message, and a Request-ID. */
function expectError(a: Answer<unknown>, status: number, code: string): ErrorBody {
  const body = a.json as ErrorBody
  expect({ status: a.status, code: body?.code }).toEqual({ status, code })
  expect(typeof body.message).toBe('string')
  expect(body.message.length).toBeGreaterThan(0)
  expect(a.headers.get('request-id')).toMatch(/^\S+$/)
  return body
}

/** A signed answer (§3.1, §3.2): all five headers, verifying over the raw body with `key`. */
function expectSigned(a: Answer<unknown>, serial: string, key: string): void {
  const w = wechatpayHeaders(a.headers)
  expect(w.timestamp).toMatch(/^\d{10}$/)
  expect(Math.abs(Number(w.timestamp) - Date.now() / 1000)).toBeLessThan(300)
  expect(w.nonce).toMatch(/^[0-9A-Za-z]{16,32}$/)
  expect(w.signature).toMatch(/^[A-Za-z0-9+/]+={0,2}$/)
  expect(w.serial).toBe(serial)
  expect(w.signatureType).toBe(SCHEME)
  expect(a.headers.get('request-id')).toMatch(/^\S+$/)
  expect(Rsa.verify(Formatter.response(w.timestamp!, w.nonce!, a.text), w.signature!, key)).toBe(
    true,
  )
}

const expectSignedByPublicKey = (a: Answer<unknown>) =>
  expectSigned(a, m.platformPublicKeyId, m.platformPublicKey)

/** A v3 notification (§7.1): signed headers, outer body, and the decrypted resource. */
function openNotification<T>(
  r: Received,
  keyFor: (serial: string) => string | undefined,
  apiV3Key: string,
): { body: NotificationBody; resource: T } {
  expect(r.headers['content-type']).toMatch(/^application\/json/)
  const w = wechatpayHeaders(r.headers)
  expect(w.signatureType).toBe(SCHEME)
  expect(w.timestamp).toMatch(/^\d{10}$/)
  expect(w.nonce).toMatch(/^[0-9A-Za-z]{12,32}$/)
  expect(verifySignature(r.headers, r.body, keyFor)).toBe(true)
  // A verifier that is not a rubber stamp: one changed byte fails.
  expect(verifySignature(r.headers, r.body.replace('"id"', '"Id"'), keyFor)).toBe(false)
  const body = JSON.parse(r.body) as NotificationBody
  expect(body.id).toMatch(/^\S{1,36}$/)
  expect(body.create_time).toMatch(BEIJING_TIME)
  expect(body.resource_type).toBe('encrypt-resource')
  expect(body.resource.algorithm).toBe('AEAD_AES_256_GCM')
  expect(Buffer.byteLength(body.resource.nonce)).toBe(12)
  return { body, resource: decryptResource<T>(body.resource, apiV3Key) }
}

const eventIs = (type: string) => (r: Received) =>
  (JSON.parse(r.body) as NotificationBody).event_type === type

async function paymentNotification(no: string): Promise<Transaction> {
  const r = await receiver.next(no, eventIs('TRANSACTION.SUCCESS'))
  const { body, resource } = openNotification<Transaction>(r, publicKeyFor, m.apiV3Key)
  expect(body.summary).toBe('支付成功')
  expect(body.resource.original_type).toBe('transaction')
  return resource
}

async function paidOrder(total = 100): Promise<{ no: string; tx: Transaction }> {
  const { no } = await newOrder({ amount: { total, currency: 'CNY' } })
  await pay(no)
  return { no, tx: await paymentNotification(no) }
}

// ---- §2 request signing ---------------------------------------------------------------------

describe('APIv3 request authentication (§2)', () => {
  it('accepts a correctly signed POST /v3/pay/transactions/jsapi and signs its answer', async () => {
    const no = uniqueNo()
    const a = await v3.post<{ prepay_id: string }>(JSAPI, prepayBody(no))
    expect(a.status).toBe(200)
    expect(a.headers.get('content-type')).toMatch(/^application\/json/)
    expect(Object.keys(a.json)).toEqual(['prepay_id'])
    expect(a.json.prepay_id).toMatch(PREPAY_ID)
    expectSignedByPublicKey(a)
  })

  it('signs a GET over path?query, and rejects a signature over the path alone', async () => {
    const { no } = await newOrder()
    const ok = await query(no)
    expect(ok.status).toBe(200)
    expectSignedByPublicKey(ok)

    const bad = await v3.get(queryPath(no), { signUri: `/v3/pay/transactions/out-trade-no/${no}` })
    const body = expectError(bad, 401, 'SIGN_ERROR')
    expect(body.detail?.sign_information?.url).toBe(queryPath(no))
    expect(body.detail?.sign_information?.method).toBe('GET')
  })

  it('accepts the Authorization parameters in any order (§2.3)', async () => {
    const no = uniqueNo()
    const body = JSON.stringify(prepayBody(no))
    const ts = Formatter.timestamp()
    const nonce = Formatter.nonce()
    const signature = Rsa.sign(
      Formatter.request('POST', JSAPI, ts, nonce, body),
      m.merchantPrivateKey,
    )
    // The Go SDK's order, unlike the plugin's Formatter.authorization.
    const authorization = `${SCHEME} mchid="${m.mchid}",nonce_str="${nonce}",timestamp="${ts}",serial_no="${m.merchantSerialNo}",signature="${signature}"`
    const a = await v3.post(JSAPI, body, { authorization })
    expect(a.status).toBe(200)
  })

  it('answers 400 INVALID_REQUEST when Accept or User-Agent is missing (§1)', async () => {
    const body = JSON.stringify(prepayBody(uniqueNo()))
    const authorization = v3.authorization('POST', JSAPI, body)
    const base = { Authorization: authorization, 'Content-Type': 'application/json' }
    for (const headers of [
      { ...base, 'User-Agent': 'fen-conformance' },
      { ...base, Accept: 'application/json' },
    ]) {
      const a = await rawRequest(sb.url, 'POST', JSAPI, headers, body)
      expect(a.status).toBe(400)
      expect(JSON.parse(a.text)).toEqual({
        code: 'INVALID_REQUEST',
        message: 'Http头缺少Accept或User-Agent',
      })
      expect(a.headers['request-id']).toMatch(/^\S+$/)
      expect(a.headers['wechatpay-signature']).toBeUndefined()
    }
  })

  it('answers 401 SIGN_ERROR to a missing or malformed Authorization', async () => {
    const body = prepayBody(uniqueNo())
    const good = v3.authorization('POST', JSAPI, JSON.stringify(body))
    for (const authorization of [
      '',
      good.replace(/"/g, ''), // values must be quoted
      good.replace(/,signature="[^"]*"/, ''), // no signature
      good.replace('mchid=', 'mchid ='),
    ]) {
      const a = await v3.post(JSAPI, body, { authorization })
      expectError(a, 401, 'SIGN_ERROR')
    }
  })

  it('answers 401 SIGN_ERROR to a wrong scheme', async () => {
    const body = prepayBody(uniqueNo())
    const good = v3.authorization('POST', JSAPI, JSON.stringify(body))
    for (const authorization of [
      good.replace(SCHEME, 'WECHATPAY2-SHA256-RSA4096'),
      good.replace(SCHEME, 'Bearer'),
      good.replace(SCHEME, SCHEME.toLowerCase()),
    ]) {
      const e = expectError(await v3.post(JSAPI, body, { authorization }), 401, 'SIGN_ERROR')
      expect(e.message).toContain('认证类型')
    }
  })

  it('answers 401 SIGN_ERROR to a wrong merchant certificate serial_no', async () => {
    const serial = '1' + '0'.repeat(39)
    const a = await v3.post(JSAPI, prepayBody(uniqueNo()), { serial })
    expectError(a, 401, 'SIGN_ERROR')
  })

  it('answers 400 MCH_NOT_EXISTS to an unknown mchid', async () => {
    const a = await v3.post(JSAPI, prepayBody(uniqueNo()), { mchid: '1900000001' })
    expectError(a, 400, 'MCH_NOT_EXISTS')
  })

  it('rejects a timestamp more than 5 minutes off with 401 SIGN_ERROR (§3.4)', async () => {
    const now = Formatter.timestamp()
    for (const timestamp of [now - 360, now + 360]) {
      const a = await v3.post(JSAPI, prepayBody(uniqueNo()), { timestamp })
      expectError(a, 401, 'SIGN_ERROR')
    }
    const recent = await v3.post(JSAPI, prepayBody(uniqueNo()), { timestamp: now - 240 })
    expect(recent.status).toBe(200)
  })

  it('rejects a body changed after signing with 401 SIGN_ERROR and sign_information', async () => {
    const body = JSON.stringify(prepayBody(uniqueNo()))
    const tampered = body.replace('"total":100', '"total":101')
    expect(Buffer.byteLength(tampered)).toBe(Buffer.byteLength(body))
    const timestamp = Formatter.timestamp()
    const nonce = Formatter.nonce()
    const a = await v3.post(JSAPI, body, { timestamp, nonce, tamper: () => tampered })
    const e = expectError(a, 401, 'SIGN_ERROR')
    expect(wechatpayHeaders(a.headers).signature).toBeUndefined()
    const message = Formatter.request('POST', JSAPI, timestamp, nonce, tampered)
    expect(e.detail).toMatchObject({
      field: 'signature',
      location: 'authorization',
      detail: { issue: 'sign not match' },
      sign_information: {
        method: 'POST',
        url: JSAPI,
        sign_message_length: Buffer.byteLength(message),
      },
    })
    const truncated = e.detail!.sign_information!.truncated_sign_message
    expect(truncated.length).toBeGreaterThan(0)
    expect(message.startsWith(truncated)).toBe(true)
  })

  it('rejects a signature whose nonce differs from the Authorization nonce', async () => {
    const body = JSON.stringify(prepayBody(uniqueNo()))
    const ts = Formatter.timestamp()
    const signature = Rsa.sign(
      Formatter.request('POST', JSAPI, ts, Formatter.nonce(), body),
      m.merchantPrivateKey,
    )
    const authorization = Formatter.authorization(
      m.mchid,
      Formatter.nonce(),
      signature,
      ts,
      m.merchantSerialNo,
    )
    expectError(await v3.post(JSAPI, body, { authorization }), 401, 'SIGN_ERROR')
  })

  it('answers 400 INVALID_REQUEST to a Wechatpay-Serial naming an unknown key (§3.6)', async () => {
    const unknown = `PUB_KEY_ID_${'9'.repeat(34)}`
    const a = await v3.post(JSAPI, prepayBody(uniqueNo()), {
      headers: { 'Wechatpay-Serial': unknown },
    })
    expectError(a, 400, 'INVALID_REQUEST')

    const known = await v3.post(JSAPI, prepayBody(uniqueNo()), {
      headers: { 'Wechatpay-Serial': m.platformPublicKeyId },
    })
    expect(known.status).toBe(200)
    expectSignedByPublicKey(known)
  })
})

// ---- §3 answer signatures and key modes ------------------------------------------------------

describe('answer signatures (§3)', () => {
  it('signs every 2xx answer with the WeChat Pay public key, a 204 over an empty body', async () => {
    const no = uniqueNo()
    const prepay = await v3.post(JSAPI, prepayBody(no))
    expectSignedByPublicKey(prepay)
    // The check is real: the same headers over a changed body do not verify.
    const w = wechatpayHeaders(prepay.headers)
    expect(
      Rsa.verify(
        Formatter.response(w.timestamp!, w.nonce!, prepay.text.replace('wx', 'wX')),
        w.signature!,
        m.platformPublicKey,
      ),
    ).toBe(false)

    expectSignedByPublicKey(await query(no))

    const closed = await v3.post(closePath(no), { mchid: m.mchid })
    expect(closed.status).toBe(204)
    expect(closed.raw.length).toBe(0)
    expectSignedByPublicKey(closed)
    const wc = wechatpayHeaders(closed.headers)
    expect(wc.timestamp).toBeDefined()
    expect(Rsa.verify(`${wc.timestamp}\n${wc.nonce}\n\n`, wc.signature!, m.platformPublicKey)).toBe(
      true,
    )
  })

  it('signs error answers to signed requests (see answer-signing.test.ts)', async () => {
    const a = await query(uniqueNo())
    expectError(a, 404, 'ORDER_NOT_EXIST')
    expectSignedByPublicKey(a)
  })

  it('answers /v3/certificates with 404 RESOURCE_NOT_EXISTS in public-key mode', async () => {
    expect(m.platformMode).toBe('publicKey')
    expectError(await v3.get('/v3/certificates'), 404, 'RESOURCE_NOT_EXISTS')
  })

  describe('certificate mode', () => {
    let cert: RunningSandbox
    let cm: MerchantView
    let client: V3Client
    const certFor = (serial: string) =>
      cm.platformCertificates.find((c) => c.serialNo === serial)?.certificate

    beforeAll(async () => {
      cert = await startSandbox({
        keys: { ...keys, platformMode: 'certificate' },
        port: 0,
        refundSettleSeconds: false,
      })
      cm = await getMerchant(cert.url)
      client = new V3Client(cert.url, cm)
    })
    afterAll(async () => {
      await cert?.close()
    })

    it('signs answers with the platform certificate named by Wechatpay-Serial', async () => {
      expect(cm.platformMode).toBe('certificate')
      expect(cm.platformCertificates.length).toBeGreaterThan(0)
      const no = uniqueNo()
      const a = await client.post(JSAPI, prepayBody(no))
      expect(a.status).toBe(200)
      const serial = wechatpayHeaders(a.headers).serial!
      expect(serial).toMatch(/^[0-9A-F]{8,40}$/)
      expect(certFor(serial)).toBeDefined()
      expectSigned(a, serial, certFor(serial)!)
      // Not by the public key, nor by the other certificate.
      expect(verifySignature(a.headers, a.text, () => cm.platformPublicKey)).toBe(false)
      for (const other of cm.platformCertificates.filter((c) => c.serialNo !== serial)) {
        expect(verifySignature(a.headers, a.text, () => other.certificate)).toBe(false)
      }
      const closed = await client.post(closePath(no), { mchid: cm.mchid })
      expect(closed.status).toBe(204)
      expectSigned(closed, serial, certFor(serial)!)
    })

    it('serves /v3/certificates, each decrypting to a published certificate', async () => {
      const a = await client.get<{
        data: {
          serial_no: string
          effective_time: string
          expire_time: string
          encrypt_certificate: {
            algorithm: string
            nonce: string
            associated_data: string
            ciphertext: string
          }
        }[]
      }>('/v3/certificates')
      expect(a.status).toBe(200)
      expect(a.json.data.map((d) => d.serial_no).sort()).toEqual(
        cm.platformCertificates.map((c) => c.serialNo).sort(),
      )
      const decrypted = new Map<string, string>()
      for (const d of a.json.data) {
        expect(d.effective_time).toMatch(BEIJING_TIME)
        expect(d.expire_time).toMatch(BEIJING_TIME)
        expect(d.encrypt_certificate.algorithm).toBe('AEAD_AES_256_GCM')
        expect(d.encrypt_certificate.associated_data).toBe('certificate')
        expect(Buffer.byteLength(d.encrypt_certificate.nonce)).toBe(12)
        const pem = Aes.AesGcm.decrypt(
          d.encrypt_certificate.ciphertext,
          cm.apiV3Key,
          d.encrypt_certificate.nonce,
          d.encrypt_certificate.associated_data,
        )
        expect(pem).toBe(certFor(d.serial_no))
        const x509 = new X509Certificate(pem)
        expect(x509.serialNumber.toUpperCase()).toBe(d.serial_no)
        expect(Date.parse(d.expire_time)).toBe(Date.parse(x509.validTo))
        decrypted.set(d.serial_no, pem)
      }
      // Bootstrap: the answer is signed by one of the certificates it carries.
      const serial = wechatpayHeaders(a.headers).serial!
      expectSigned(a, serial, decrypted.get(serial)!)
    })

    it('signs notifications with the platform certificate', async () => {
      const no = uniqueNo()
      expect((await client.post(JSAPI, prepayBody(no))).status).toBe(200)
      expect((await control(cert.url, 'POST', '/pay', { out_trade_no: no })).status).toBe(200)
      const r = await receiver.next(no, eventIs('TRANSACTION.SUCCESS'))
      expect(certFor(wechatpayHeaders(r.headers).serial!)).toBeDefined()
      const { resource } = openNotification<Transaction>(r, certFor, cm.apiV3Key)
      expect(resource.out_trade_no).toBe(no)
      expect(resource.trade_state).toBe('SUCCESS')
    })
  })

  describe("migration ('both') mode", () => {
    let both: RunningSandbox
    let bm: MerchantView
    let client: V3Client
    const keyFor = (serial: string) =>
      serial === bm.platformPublicKeyId
        ? bm.platformPublicKey
        : bm.platformCertificates.find((c) => c.serialNo === serial)?.certificate

    beforeAll(async () => {
      both = await startSandbox({
        keys: { ...keys, platformMode: 'both' },
        port: 0,
        refundSettleSeconds: false,
      })
      bm = await getMerchant(both.url)
      client = new V3Client(both.url, bm)
    })
    afterAll(async () => {
      await both?.close()
    })

    it('signs with the public key only when the request sends Wechatpay-Serial: PUB_KEY_ID_…', async () => {
      expect(bm.platformMode).toBe('both')
      const plain = await client.post(JSAPI, prepayBody(uniqueNo()))
      expect(plain.status).toBe(200)
      const certSerial = wechatpayHeaders(plain.headers).serial!
      expect(certSerial.startsWith('PUB_KEY_ID_')).toBe(false)
      expectSigned(plain, certSerial, keyFor(certSerial)!)

      const asked = await client.post(JSAPI, prepayBody(uniqueNo()), {
        headers: { 'Wechatpay-Serial': bm.platformPublicKeyId },
      })
      expect(asked.status).toBe(200)
      expectSigned(asked, bm.platformPublicKeyId, bm.platformPublicKey)

      const byCert = await client.post(JSAPI, prepayBody(uniqueNo()), {
        headers: { 'Wechatpay-Serial': certSerial },
      })
      expect(byCert.status).toBe(200)
      expectSigned(byCert, certSerial, keyFor(certSerial)!)

      const certs = await client.get('/v3/certificates')
      expect(certs.status).toBe(200)
    })

    it('signs notifications with a key the merchant can pick by serial', async () => {
      const no = uniqueNo()
      expect((await client.post(JSAPI, prepayBody(no))).status).toBe(200)
      expect((await control(both.url, 'POST', '/pay', { out_trade_no: no })).status).toBe(200)
      const r = await receiver.next(no, eventIs('TRANSACTION.SUCCESS'))
      expect(keyFor(wechatpayHeaders(r.headers).serial!)).toBeDefined()
      const { resource } = openNotification<Transaction>(r, keyFor, bm.apiV3Key)
      expect(resource.out_trade_no).toBe(no)
    })
  })
})

// ---- §5.2 body validation ---------------------------------------------------------------------

describe('prepay body validation (§5.2, §6.1)', () => {
  async function expectParamError(body: unknown, field: string, path = JSAPI): Promise<void> {
    const e = expectError(await v3.post(path, body), 400, 'PARAM_ERROR')
    expect(e.detail?.field).toBe(field)
    expect(e.detail?.location).toBe('body')
    expect(typeof e.detail?.issue).toBe('string')
  }

  it('names a missing field as a JSON pointer', async () => {
    const body = prepayBody(uniqueNo(), { amount: { currency: 'CNY' } })
    await expectParamError(body, '/amount/total')
    await expectParamError(prepayBody(uniqueNo(), { payer: {} }), '/payer/openid')
    const noDescription = prepayBody(uniqueNo())
    delete noDescription.description
    await expectParamError(noDescription, '/description')
  })

  it('rejects a non-integer or non-positive amount', async () => {
    for (const total of [1.5, '100', 0, -1]) {
      await expectParamError(
        prepayBody(uniqueNo(), { amount: { total, currency: 'CNY' } }),
        '/amount/total',
      )
    }
  })

  it('rejects a bad out_trade_no (6–32 of [0-9A-Za-z_-|*])', async () => {
    for (const no of ['abc12', 'A'.repeat(33), '订单号123456', 'has space1', 'dot.dot.dot']) {
      await expectParamError(prepayBody(no), '/out_trade_no')
    }
    // The edges of the rule are accepted.
    for (const no of ['a-b_c|d*e', '1'.repeat(32)]) {
      expect((await v3.post(JSAPI, prepayBody(no))).status).toBe(200)
      // …and queried with the path signed exactly as sent.
      const q = await query(no)
      expect(q.status).toBe(200)
      expect(q.json.out_trade_no).toBe(no)
    }
  })

  it('rejects a notify_url with a query string', async () => {
    await expectParamError(
      prepayBody(uniqueNo(), { notify_url: `${receiver.url('x')}?a=1` }),
      '/notify_url',
    )
  })

  it('rejects a 4-byte UTF-8 character (emoji) in description', async () => {
    await expectParamError(prepayBody(uniqueNo(), { description: 'QQ公仔 🐧' }), '/description')
    // 3-byte characters are fine.
    expect((await v3.post(JSAPI, prepayBody(uniqueNo(), { description: '公仔€' }))).status).toBe(
      200,
    )
  })

  it('rejects a currency other than CNY, naming field and value (§6.1 example)', async () => {
    const e = expectError(
      await v3.post(JSAPI, prepayBody(uniqueNo(), { amount: { total: 100, currency: 'XYZ' } })),
      400,
      'PARAM_ERROR',
    )
    expect(e.detail).toMatchObject({ field: '/amount/currency', value: 'XYZ', location: 'body' })
  })

  it('limits description to 127 characters and checks time_expire is RFC 3339', async () => {
    const ok = await v3.post(JSAPI, prepayBody(uniqueNo(), { description: '公'.repeat(127) }))
    expect(ok.status).toBe(200)
    const e = expectError(
      await v3.post(JSAPI, prepayBody(uniqueNo(), { description: '公'.repeat(128) })),
      400,
      'PARAM_ERROR',
    )
    expect(e.detail?.field).toBe('/description')
    for (const time_expire of ['2030-01-01 10:00:00', '20300101100000', '2030-01-01T10:00:00']) {
      const t = expectError(
        await v3.post(JSAPI, prepayBody(uniqueNo(), { time_expire })),
        400,
        'PARAM_ERROR',
      )
      expect(t.detail?.field).toBe('/time_expire')
    }
  })

  it('answers 400 APPID_MCHID_NOT_MATCH when appid is not bound to the merchant', async () => {
    const a = await v3.post(JSAPI, prepayBody(uniqueNo(), { appid: 'wx0000000000000000' }))
    expectError(a, 400, 'APPID_MCHID_NOT_MATCH')
  })

  it('rejects a body that is not JSON with 400 PARAM_ERROR', async () => {
    expectError(await v3.post(JSAPI, '{"appid":'), 400, 'PARAM_ERROR')
  })
})

// ---- orders: state transitions ------------------------------------------------------------------

describe('order lifecycle (§5.1, §5.3, §6.3)', () => {
  it('repeats a prepay with identical parameters, refuses changed ones', async () => {
    const no = uniqueNo()
    const first = await v3.post<{ prepay_id: string }>(JSAPI, prepayBody(no))
    expect(first.status).toBe(200)
    const again = await v3.post<{ prepay_id: string }>(JSAPI, prepayBody(no))
    expect(again.status).toBe(200)
    expect(again.json.prepay_id).toBe(first.json.prepay_id)
    expectSignedByPublicKey(again)

    // Key order does not matter.
    const reordered = Object.fromEntries(Object.entries(prepayBody(no)).reverse())
    const third = await v3.post<{ prepay_id: string }>(JSAPI, reordered)
    expect(third.json.prepay_id).toBe(first.json.prepay_id)

    const changed = await v3.post(
      JSAPI,
      prepayBody(no, { amount: { total: 101, currency: 'CNY' } }),
    )
    expectError(changed, 403, 'OUT_TRADE_NO_USED')
  })

  it('queries an unpaid order as NOTPAY, an unknown one as 404 ORDER_NOT_EXIST', async () => {
    const { no } = await newOrder()
    const a = await query(no)
    expect(a.status).toBe(200)
    expect(a.json).toMatchObject({
      appid: m.appid,
      mchid: m.mchid,
      out_trade_no: no,
      trade_state: 'NOTPAY',
      trade_state_desc: '订单未支付',
      amount: { total: 100 },
    })
    for (const absent of ['transaction_id', 'trade_type', 'success_time', 'payer', 'bank_type'])
      expect(a.json).not.toHaveProperty(absent)

    const unknown = expectError(await query(uniqueNo()), 404, 'ORDER_NOT_EXIST')
    expect(unknown.message).toBe('订单不存在')
    expectError(
      await v3.get(`/v3/pay/transactions/id/4200000000202401010000000000?mchid=${m.mchid}`),
      404,
      'ORDER_NOT_EXIST',
    )
  })

  it('requires ?mchid on queries', async () => {
    const { no } = await newOrder()
    const e = expectError(
      await v3.get(`/v3/pay/transactions/out-trade-no/${no}`),
      400,
      'PARAM_ERROR',
    )
    expect(e.detail?.field).toBe('mchid')
  })

  it('pays: TRANSACTION.SUCCESS notification verifies and decrypts to the Transaction', async () => {
    const { no } = await newOrder({ attach: 'fen:order:1' })
    await pay(no)
    const tx = await paymentNotification(no)
    expect(tx).toMatchObject({
      appid: m.appid,
      mchid: m.mchid,
      out_trade_no: no,
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      attach: 'fen:order:1',
      payer: { openid: OPENID },
      amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
    })
    expect(tx.transaction_id).toMatch(/^\d{28}$/)
    expect(tx.success_time).toMatch(BEIJING_TIME)
    expect(typeof tx.bank_type).toBe('string')

    const r = await receiver.next(no)
    expect(r.headers['user-agent']).toBeDefined()
    // The same Transaction by out_trade_no and by transaction_id.
    const byNo = await query(no)
    expect(byNo.status).toBe(200)
    expect(byNo.json).toEqual(tx)
    const byId = await v3.get<Transaction>(
      `/v3/pay/transactions/id/${tx.transaction_id}?mchid=${m.mchid}`,
    )
    expect(byId.status).toBe(200)
    expectSignedByPublicKey(byId)
    expect(byId.json).toEqual(tx)
  })

  it('refuses prepay and close of a paid order with 400 ORDERPAID', async () => {
    const { no } = await newOrder()
    await pay(no)
    expectError(await v3.post(JSAPI, prepayBody(no)), 400, 'ORDERPAID')
    expectError(await v3.post(closePath(no), { mchid: m.mchid }), 400, 'ORDERPAID')
    expect((await query(no)).json.trade_state).toBe('SUCCESS')
    // Paying twice is refused too.
    expect((await control(sb.url, 'POST', '/pay', { out_trade_no: no })).status).toBe(400)
  })

  it('closes an unpaid order (204), again (204), and an unknown one (204)', async () => {
    const { no } = await newOrder()
    const closed = await v3.post(closePath(no), { mchid: m.mchid })
    expect(closed.status).toBe(204)
    expect(closed.text).toBe('')
    expect(closed.headers.get('request-id')).toMatch(/^\S+$/)
    const q = await query(no)
    expect(q.json.trade_state).toBe('CLOSED')
    expect(q.json).not.toHaveProperty('transaction_id')

    expect((await v3.post(closePath(no), { mchid: m.mchid })).status).toBe(204)
    expect((await v3.post(closePath(uniqueNo()), { mchid: m.mchid })).status).toBe(204)

    expectError(await v3.post(JSAPI, prepayBody(no)), 400, 'ORDER_CLOSED')
    const payClosed = await control<ErrorBody>(sb.url, 'POST', '/pay', { out_trade_no: no })
    expect(payClosed.status).toBe(400)
    expect(payClosed.json.code).toBe('ORDER_CLOSED')
    expect((await query(no)).json.trade_state).toBe('CLOSED')
  })

  it('a failed payment (PAYERROR) sends no notification and the order stays payable', async () => {
    const { no } = await newOrder()
    const failed = await control<Transaction>(sb.url, 'POST', '/pay', {
      out_trade_no: no,
      result: 'PAYERROR',
    })
    expect(failed.status).toBe(200)
    const q = await query(no)
    expect(q.json.trade_state).toBe('NOTPAY')
    expect(q.json).not.toHaveProperty('transaction_id')
    expectError(await createRefundFor(no), 404, 'RESOURCE_NOT_EXISTS')

    await pay(no)
    const tx = await paymentNotification(no)
    expect(tx.trade_state).toBe('SUCCESS')
    expect(receiver.received.filter((r) => r.path === `/notify/${no}`)).toHaveLength(1)
  })

  it('an order past time_expire can no longer be paid', async () => {
    const clock = await control<{ now: string }>(sb.url, 'GET', '/clock')
    const in2min = Date.parse(clock.json.now) + 120_000
    const time_expire = new Date(in2min + 8 * 3600_000).toISOString().slice(0, 19) + '+08:00'
    const { no, prepayId } = await newOrder({ time_expire })
    // Past time_expire and its 60 s grace (payment-grace.test.ts covers the grace).
    expect((await control(sb.url, 'POST', '/clock', { advanceSeconds: 181 })).status).toBe(200)
    const late = await control<ErrorBody>(sb.url, 'POST', '/pay', { out_trade_no: no })
    expect(late.status).toBe(400)
    expect(late.json.code).toBe('ORDER_EXPIRED')
    const cashier = await control<{ errMsg: string }>(sb.url, 'POST', '/request-payment', {
      appId: m.appid,
      timeStamp: String(Formatter.timestamp()),
      nonceStr: 'n1',
      package: `prepay_id=${prepayId}`,
      signType: 'RSA',
      paySign: Rsa.sign(
        Formatter.joinedByLineFeed(
          m.appid,
          String(Formatter.timestamp()),
          'n1',
          `prepay_id=${prepayId}`,
        ),
        m.merchantPrivateKey,
      ),
    })
    expect(cashier.json.errMsg).toMatch(/^requestPayment:fail /)
    // Whether WeChat closes expired orders by itself is UNCONFIRMED (§14.10): never paid, though.
    expect(['NOTPAY', 'CLOSED']).toContain((await query(no)).json.trade_state)
  })

  it('answers a path that is not valid percent-encoding with a 4xx, not 500 SYSTEM_ERROR', async () => {
    // 500 SYSTEM_ERROR tells the merchant to retry the same request (§6.2): wrong for a bad request.
    for (const a of [
      await v3.get(`/v3/pay/transactions/out-trade-no/%E0%A4%A?mchid=${m.mchid}`),
      await v3.get(`/v3/pay/transactions/id/%ZZ?mchid=${m.mchid}`),
      await v3.post('/v3/pay/transactions/out-trade-no/%E0%A4%A/close', { mchid: m.mchid }),
    ]) {
      expect(a.status).toBeGreaterThanOrEqual(400)
      expect(a.status).toBeLessThan(500)
      expect(typeof a.json.code).toBe('string')
      expect(a.json.message.length).toBeGreaterThan(0)
    }
  })

  it('requires mchid in the close body', async () => {
    const { no } = await newOrder()
    const e = expectError(await v3.post(closePath(no), {}), 400, 'PARAM_ERROR')
    expect(e.detail?.field).toBe('/mchid')
  })
})

// ---- Native, H5, App -----------------------------------------------------------------------

describe('Native, H5 and App prepay (§5.1)', () => {
  it('Native answers a code_url, payable by that code_url', async () => {
    const no = uniqueNo()
    const body = prepayBody(no)
    delete body.payer
    const a = await v3.post<{ code_url: string }>(NATIVE, body)
    expect(a.status).toBe(200)
    expectSignedByPublicKey(a)
    expect(Object.keys(a.json)).toEqual(['code_url'])
    expect(a.json.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=\w+$/)
    const again = await v3.post<{ code_url: string }>(NATIVE, body)
    expect(again.json.code_url).toBe(a.json.code_url)

    const paid = await control(sb.url, 'POST', '/pay', { code_url: a.json.code_url })
    expect(paid.status).toBe(200)
    const tx = await paymentNotification(no)
    expect(tx.trade_type).toBe('NATIVE')
    expect(tx.trade_state).toBe('SUCCESS')
    expect(tx.payer?.openid).toMatch(/^\S+$/)
    expect((await query(no)).json.trade_type).toBe('NATIVE')
  })

  it('H5 requires scene_info.h5_info and answers an h5_url', async () => {
    const no = uniqueNo()
    const body = prepayBody(no)
    delete body.payer
    let e = expectError(await v3.post(H5, body), 400, 'PARAM_ERROR')
    expect(e.detail?.field).toBe('/scene_info')
    body.scene_info = { payer_client_ip: '14.23.150.211' }
    e = expectError(await v3.post(H5, body), 400, 'PARAM_ERROR')
    expect(e.detail?.field).toBe('/scene_info/h5_info')
    body.scene_info = { payer_client_ip: '14.23.150.211', h5_info: { type: 'Wap' } }
    const a = await v3.post<{ h5_url: string }>(H5, body)
    expect(a.status).toBe(200)
    expectSignedByPublicKey(a)
    expect(a.json.h5_url).toMatch(/^https?:\/\/\S+$/)
    // An unpaid answer has no trade_type: pay, then query.
    await pay(no)
    expect((await query(no)).json.trade_type).toBe('MWEB')
  })

  it('App answers a prepay_id', async () => {
    const no = uniqueNo()
    const body = prepayBody(no)
    delete body.payer
    const a = await v3.post<{ prepay_id: string }>(APP, body)
    expect(a.status).toBe(200)
    expectSignedByPublicKey(a)
    expect(a.json.prepay_id).toMatch(PREPAY_ID)
    await pay(no)
    expect((await query(no)).json.trade_type).toBe('APP')
  })
})

// ---- §8.1 wx.requestPayment ------------------------------------------------------------------

describe('wx.requestPayment (§8.1) via /__sandbox/request-payment', () => {
  function params(prepayId: string, over: Record<string, string> = {}) {
    const p = {
      appId: m.appid,
      timeStamp: String(Formatter.timestamp()),
      nonceStr: Formatter.nonce(),
      package: `prepay_id=${prepayId}`,
      signType: 'RSA',
      ...over,
    }
    const paySign = Rsa.sign(
      Formatter.joinedByLineFeed(p.appId, p.timeStamp, p.nonceStr, p.package),
      m.merchantPrivateKey,
    )
    return { ...p, paySign }
  }

  const requestPayment = (body: Record<string, string>) =>
    control<{ errMsg: string }>(sb.url, 'POST', '/request-payment', body)

  async function expectFail(body: Record<string, string>): Promise<string> {
    const a = await requestPayment(body)
    expect(a.status).toBe(400)
    expect(a.json.errMsg).toMatch(/^requestPayment:fail /)
    return a.json.errMsg
  }

  it('pays with a paySign over appId\\ntimeStamp\\nnonceStr\\npackage\\n', async () => {
    const { no, prepayId } = await newOrder()
    const a = await requestPayment(params(prepayId))
    expect(a.status).toBe(200)
    expect(a.json).toEqual({ errMsg: 'requestPayment:ok' })
    expect((await query(no)).json.trade_state).toBe('SUCCESS')
    const tx = await paymentNotification(no)
    expect(tx.payer?.openid).toBe(OPENID)
    // A paid order cannot be paid again.
    await expectFail(params(prepayId))
  })

  it('fails a bad signature, an unknown prepay_id and a wrong appId', async () => {
    const { no, prepayId } = await newOrder()
    const good = params(prepayId)
    const otherKeySign = Rsa.sign('something else\n', m.merchantPrivateKey)
    await expectFail({ ...good, paySign: otherKeySign })
    await expectFail({ ...good, nonceStr: Formatter.nonce() }) // signed over another nonce
    await expectFail(params(`wx${'1'.repeat(14)}${'a'.repeat(20)}`))
    await expectFail(params(prepayId, { appId: 'wx0000000000000000' }))
    expect((await query(no)).json.trade_state).toBe('NOTPAY')
  })

  it('fails a prepay_id older than 2 hours; an identical prepay issues a fresh one', async () => {
    const { no, prepayId } = await newOrder()
    expect((await control(sb.url, 'POST', '/clock', { advanceSeconds: 7201 })).status).toBe(200)
    await expectFail(params(prepayId))
    expect((await query(no)).json.trade_state).toBe('NOTPAY')

    const again = await v3.post<{ prepay_id: string }>(JSAPI, prepayBody(no))
    expect(again.status).toBe(200)
    expect(again.json.prepay_id).toMatch(PREPAY_ID)
    expect(again.json.prepay_id).not.toBe(prepayId)
    await expectFail(params(prepayId))
    expect((await requestPayment(params(again.json.prepay_id))).json.errMsg).toBe(
      'requestPayment:ok',
    )
  })

  it('a user cancel answers requestPayment:fail cancel and leaves the order NOTPAY', async () => {
    const { no, prepayId } = await newOrder()
    const a = await requestPayment({ ...params(prepayId), result: 'CANCEL' })
    expect(a.json.errMsg).toBe('requestPayment:fail cancel')
    expect((await query(no)).json.trade_state).toBe('NOTPAY')
  })
})

// ---- §5.4 refunds ---------------------------------------------------------------------------------

describe('refunds (§5.4, §5.5, §6.4, §7.1)', () => {
  function refundBody(no: string, rno: string, refund: number, total = 100) {
    return {
      out_trade_no: no,
      out_refund_no: rno,
      reason: '商品已售完',
      notify_url: receiver.url(rno),
      amount: { refund, total, currency: 'CNY' },
    }
  }

  const createRefund = (body: unknown) => v3.post<Refund & ErrorBody>(REFUNDS, body)
  const queryRefund = (rno: string) => v3.get<Refund & ErrorBody>(`${REFUNDS}/${rno}`)
  const settle = (rno: string, status: string) =>
    control<Refund>(sb.url, 'POST', `/refunds/${rno}`, { status })

  interface RefundResource {
    mchid: string
    transaction_id: string
    out_trade_no: string
    refund_id: string
    out_refund_no: string
    refund_status: string
    success_time?: string
    user_received_account: string
    amount: { total: number; refund: number; payer_total: number; payer_refund: number }
  }

  async function refundNotification(rno: string, event: string): Promise<RefundResource> {
    const r = await receiver.next(rno, eventIs(event))
    const { body, resource } = openNotification<RefundResource>(r, publicKeyFor, m.apiV3Key)
    expect(body.resource.original_type).toBe('refund')
    expect(body.summary.length).toBeGreaterThan(0)
    return resource
  }

  it('creates a PROCESSING refund, idempotently by out_refund_no', async () => {
    const { no, tx } = await paidOrder()
    const rno = uniqueNo('R')
    const a = await createRefund(refundBody(no, rno, 30))
    expect(a.status).toBe(200)
    expectSignedByPublicKey(a)
    expect(a.json).toMatchObject({
      out_refund_no: rno,
      out_trade_no: no,
      transaction_id: tx.transaction_id,
      status: 'PROCESSING',
      amount: { total: 100, refund: 30, currency: 'CNY' },
    })
    // The Refund object's fields (§5.5); success_time only once SUCCESS.
    expect(Object.keys(a.json).sort()).toEqual(
      [
        'amount',
        'channel',
        'create_time',
        'funds_account',
        'out_refund_no',
        'out_trade_no',
        'promotion_detail',
        'refund_id',
        'status',
        'transaction_id',
        'user_received_account',
      ].sort(),
    )
    expect(Object.keys(a.json.amount).sort()).toEqual(
      [
        'currency',
        'discount_refund',
        'from',
        'payer_refund',
        'payer_total',
        'refund',
        'refund_fee',
        'settlement_refund',
        'settlement_total',
        'total',
      ].sort(),
    )
    expect(a.json.refund_id).toMatch(/^\d{20,32}$/)
    expect(a.json.create_time).toMatch(BEIJING_TIME)
    expect(a.json).not.toHaveProperty('success_time')

    const again = await createRefund(refundBody(no, rno, 30))
    expect(again.status).toBe(200)
    expect(again.json.refund_id).toBe(a.json.refund_id)

    const q = await queryRefund(rno)
    expect(q.status).toBe(200)
    expectSignedByPublicKey(q)
    expect(q.json.refund_id).toBe(a.json.refund_id)
    expect(q.json.status).toBe('PROCESSING')
    expect((await query(no)).json.trade_state).toBe('REFUND')
  })

  it('refuses the same out_refund_no with another amount, and over-refunds', async () => {
    const { no } = await paidOrder()
    const rno = uniqueNo('R')
    expect((await createRefund(refundBody(no, rno, 60))).status).toBe(200)
    expectError(await createRefund(refundBody(no, rno, 61)), 400, 'INVALID_REQUEST')
    expectError(await createRefund(refundBody(no, uniqueNo('R'), 41)), 400, 'INVALID_REQUEST')
    const rest = await createRefund(refundBody(no, uniqueNo('R'), 40))
    expect(rest.status).toBe(200)
    expectError(await createRefund(refundBody(no, uniqueNo('R'), 1)), 400, 'INVALID_REQUEST')
  })

  it('refuses an amount.total that is not the order total', async () => {
    const { no } = await paidOrder()
    expectError(await createRefund(refundBody(no, uniqueNo('R'), 10, 99)), 400, 'INVALID_REQUEST')
  })

  it('answers 404 RESOURCE_NOT_EXISTS for unpaid or unknown orders and unknown refunds', async () => {
    const { no } = await newOrder()
    expectError(await createRefund(refundBody(no, uniqueNo('R'), 10)), 404, 'RESOURCE_NOT_EXISTS')
    expectError(
      await createRefund(refundBody(uniqueNo(), uniqueNo('R'), 10)),
      404,
      'RESOURCE_NOT_EXISTS',
    )
    const e = expectError(await queryRefund(uniqueNo('R')), 404, 'RESOURCE_NOT_EXISTS')
    expect(e.message).toBe('退款单不存在')
  })

  it('validates the refund body', async () => {
    const { no } = await paidOrder()
    const body = refundBody(no, uniqueNo('R'), 10) as Record<string, unknown>
    delete body.out_trade_no
    expectError(await createRefund(body), 400, 'PARAM_ERROR')
    const noCurrency = refundBody(no, uniqueNo('R'), 10)
    const e = expectError(
      await createRefund({ ...noCurrency, amount: { refund: 10, total: 100 } }),
      400,
      'PARAM_ERROR',
    )
    expect(e.detail?.field).toBe('/amount/currency')
  })

  it('refunds by transaction_id', async () => {
    const { no, tx } = await paidOrder()
    const rno = uniqueNo('R')
    const body = { ...refundBody(no, rno, 100), transaction_id: tx.transaction_id } as Record<
      string,
      unknown
    >
    delete body.out_trade_no
    delete body.notify_url
    const a = await createRefund(body)
    expect(a.status).toBe(200)
    expect(a.json.out_trade_no).toBe(no)
    expect(a.json.transaction_id).toBe(tx.transaction_id)
    // A refunded order is still a paid one.
    expectError(await v3.post(JSAPI, prepayBody(no)), 400, 'ORDERPAID')
    expectError(await v3.post(closePath(no), { mchid: m.mchid }), 400, 'ORDERPAID')
    // Without its own notify_url, the refund notifies the order's.
    expect((await settle(rno, 'SUCCESS')).status).toBe(200)
    const res = await refundNotification(no, 'REFUND.SUCCESS')
    expect(res.out_refund_no).toBe(rno)
  })

  it('settles SUCCESS with a REFUND.SUCCESS notification', async () => {
    const { no, tx } = await paidOrder()
    const rno = uniqueNo('R')
    const created = await createRefund(refundBody(no, rno, 100))
    expect((await settle(rno, 'SUCCESS')).status).toBe(200)
    const res = await refundNotification(rno, 'REFUND.SUCCESS')
    expect(res).toMatchObject({
      mchid: m.mchid,
      out_trade_no: no,
      transaction_id: tx.transaction_id,
      out_refund_no: rno,
      refund_id: created.json.refund_id,
      refund_status: 'SUCCESS',
      amount: { total: 100, refund: 100, payer_total: 100, payer_refund: 100 },
    })
    expect(res.success_time).toMatch(BEIJING_TIME)
    expect(typeof res.user_received_account).toBe('string')
    const q = await queryRefund(rno)
    expect(q.json.status).toBe('SUCCESS')
    expect(q.json.success_time).toMatch(BEIJING_TIME)
  })

  it('settles ABNORMAL and CLOSED with their notifications', async () => {
    const { no } = await paidOrder()
    const abnormal = uniqueNo('R')
    const closed = uniqueNo('R')
    expect((await createRefund(refundBody(no, abnormal, 30))).status).toBe(200)
    expect((await createRefund(refundBody(no, closed, 30))).status).toBe(200)

    expect((await settle(abnormal, 'ABNORMAL')).status).toBe(200)
    const a = await refundNotification(abnormal, 'REFUND.ABNORMAL')
    expect(a.refund_status).toBe('ABNORMAL')
    expect(a).not.toHaveProperty('success_time')
    expect((await queryRefund(abnormal)).json.status).toBe('ABNORMAL')

    expect((await settle(closed, 'CLOSED')).status).toBe(200)
    const c = await refundNotification(closed, 'REFUND.CLOSED')
    expect(c.refund_status).toBe('CLOSED')
    expect((await queryRefund(closed)).json.status).toBe('CLOSED')
    // A final refund cannot be settled again.
    expect((await settle(closed, 'SUCCESS')).status).toBe(400)
  })

  it('a CLOSED refund frees its amount for a new refund', async () => {
    const { no } = await paidOrder()
    const first = uniqueNo('R')
    expect((await createRefund(refundBody(no, first, 100))).status).toBe(200)
    expectError(await createRefund(refundBody(no, uniqueNo('R'), 1)), 400, 'INVALID_REQUEST')
    expect((await settle(first, 'CLOSED')).status).toBe(200)
    await refundNotification(first, 'REFUND.CLOSED')
    // With no refund left, the order reads as plainly paid again (the sandbox's choice).
    expect((await query(no)).json.trade_state).toBe('SUCCESS')
    const second = await createRefund(refundBody(no, uniqueNo('R'), 100))
    expect(second.status).toBe(200)
    expect(second.json.status).toBe('PROCESSING')
    expect((await query(no)).json.trade_state).toBe('REFUND')
  })
})

// ---- trade bill ---------------------------------------------------------------------------------

describe('trade bill (§5.1, §5.6)', () => {
  interface BillAnswer {
    hash_type: string
    hash_value: string
    download_url: string
  }

  async function sandboxToday(): Promise<string> {
    const c = await control<{ now: string }>(sb.url, 'GET', '/clock')
    return beijingDate(Date.parse(c.json.now))
  }

  function castBill(raw: Buffer): {
    rows: Record<string, string>[]
    summary: Record<string, string>
  } {
    return Formatter.castCsvBill(raw) as {
      rows: Record<string, string>[]
      summary: Record<string, string>
    }
  }

  async function download(url: string): Promise<Answer<unknown>> {
    const u = new URL(url)
    expect(`${u.protocol}//${u.host}`).toBe(sb.url)
    return v3.get(`${u.pathname}${u.search}`)
  }

  it('bills yesterday’s payment: SHA1 matches, 27 columns, backtick-prefixed rows', async () => {
    const { no, tx } = await paidOrder(1234)
    const billDate = tx.success_time!.slice(0, 10)
    expect(billDate).toBe(await sandboxToday())
    const rno = uniqueNo('R')
    const refund = await v3.post<Refund>(REFUNDS, {
      out_trade_no: no,
      out_refund_no: rno,
      notify_url: receiver.url(rno),
      amount: { refund: 234, total: 1234, currency: 'CNY' },
    })
    expect(refund.status).toBe(200)
    expect((await control(sb.url, 'POST', `/refunds/${rno}`, { status: 'SUCCESS' })).status).toBe(
      200,
    )
    // Two days on: past 10:00 the next day, when the day's bill is ready.
    expect((await control(sb.url, 'POST', '/clock', { advanceSeconds: 2 * 86_400 })).status).toBe(
      200,
    )
    expect(await sandboxToday()).not.toBe(billDate)

    const a = await v3.get<BillAnswer>(`/v3/bill/tradebill?bill_date=${billDate}&bill_type=ALL`)
    expect(a.status).toBe(200)
    expectSignedByPublicKey(a)
    expect(a.json.hash_type).toBe('SHA1')
    expect(a.json.hash_value).toMatch(/^[0-9a-f]{40}$/)
    expect(a.json.download_url).toMatch(/\/v3\/billdownload\/file\?token=\S+$/)

    const file = await download(a.json.download_url)
    expect(file.status).toBe(200)
    // The file is not signed (§3.3): integrity is the digest.
    expect(wechatpayHeaders(file.headers).signature).toBeUndefined()
    expect(Hash.sha1(file.raw)).toBe(a.json.hash_value)

    expect([...file.raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    const lines = file.raw.subarray(3).toString('utf8').split('\r\n')
    const header = lines[0]!.split(',')
    expect(header).toHaveLength(27)
    expect(header[0]).toBe('交易时间')
    expect(header).toContain('商户订单号')
    expect(header).toContain('微信订单号')
    const row = lines.find((l) => l.includes(no))!
    expect(row.startsWith('`')).toBe(true)
    expect(row.split(',').every((cell) => cell.startsWith('`'))).toBe(true)

    const { rows, summary } = castBill(file.raw)
    expect(rows).toHaveLength(2)
    for (const r of rows) expect(Object.keys(r)).toHaveLength(27)
    const paid = rows.find((r) => r['交易状态'] === 'SUCCESS')!
    expect(paid).toMatchObject({
      公众账号ID: m.appid,
      商户号: m.mchid,
      微信订单号: tx.transaction_id,
      商户订单号: no,
      交易类型: 'JSAPI',
      交易状态: 'SUCCESS',
      应结订单金额: '12.34',
      订单金额: '12.34',
    })
    expect(paid['交易时间']).toBe(tx.success_time!.slice(0, 19).replace('T', ' '))
    expect(rows.find((r) => r['交易状态'] === 'REFUND')).toMatchObject({
      商户订单号: no,
      微信退款单号: refund.json.refund_id,
      商户退款单号: rno,
      退款金额: '2.34',
      退款状态: 'SUCCESS',
    })
    expect(summary['总交易单数']).toBe('2')
    expect(summary['应结订单总金额']).toBe('12.34')
    expect(summary['退款总金额']).toBe('2.34')

    for (const [billType, state] of [
      ['SUCCESS', 'SUCCESS'],
      ['REFUND', 'REFUND'],
    ]) {
      const typed = await v3.get<BillAnswer>(
        `/v3/bill/tradebill?bill_date=${billDate}&bill_type=${billType}`,
      )
      expect(typed.status).toBe(200)
      const typedFile = await download(typed.json.download_url)
      expect(Hash.sha1(typedFile.raw)).toBe(typed.json.hash_value)
      expect(castBill(typedFile.raw).rows.map((r) => r['交易状态'])).toEqual([state])
    }

    // GZIP: the digest is of the decompressed file.
    const gz = await v3.get<BillAnswer>(`/v3/bill/tradebill?bill_date=${billDate}&tar_type=GZIP`)
    expect(gz.status).toBe(200)
    expect(gz.json.hash_value).toBe(a.json.hash_value)
    const gzFile = await download(gz.json.download_url)
    expect(gzFile.status).toBe(200)
    expect([...gzFile.raw.subarray(0, 2)]).toEqual([0x1f, 0x8b])
    expect(Hash.sha1(gunzipSync(gzFile.raw))).toBe(gz.json.hash_value)
  })

  it('refuses today’s bill and a malformed date; the download URL expires', async () => {
    const { tx } = await paidOrder()
    const today = await sandboxToday()
    // Today's bill is not generated yet (bill-availability.test.ts covers the rules).
    expectError(await v3.get(`/v3/bill/tradebill?bill_date=${today}`), 400, 'STATEMENT_CREATING')
    expectError(await v3.get('/v3/bill/tradebill?bill_date=2024/01/01'), 400, 'PARAM_ERROR')

    expect((await control(sb.url, 'POST', '/clock', { advanceSeconds: 2 * 86_400 })).status).toBe(
      200,
    )
    const a = await v3.get<BillAnswer>(
      `/v3/bill/tradebill?bill_date=${tx.success_time!.slice(0, 10)}`,
    )
    expect(a.status).toBe(200)
    expect((await control(sb.url, 'POST', '/clock', { advanceSeconds: 301 })).status).toBe(200)
    expectError(await download(a.json.download_url), 400, 'INVALID_REQUEST')
  })

  it('refuses a bill_date that is not a calendar date', async () => {
    // The 31st of a short month among the last three (any three months in a row have one).
    const today = await sandboxToday()
    let [year, month] = today.split('-').map(Number) as [number, number]
    let date = ''
    for (let back = 1; back <= 3 && !date; back++) {
      month -= 1
      if (month === 0) [year, month] = [year - 1, 12]
      const days = new Date(Date.UTC(year, month, 0)).getUTCDate()
      if (days < 31) date = `${year}-${String(month).padStart(2, '0')}-31`
    }
    expect(date).not.toBe('')
    const e = expectError(await v3.get(`/v3/bill/tradebill?bill_date=${date}`), 400, 'PARAM_ERROR')
    expect(e.detail?.field).toBe('bill_date')
  })

  it('only bills the last three months (§5.1)', async () => {
    const today = await sandboxToday()
    const old = beijingDate(Date.parse(`${today}T12:00:00+08:00`) - 100 * 86_400_000)
    expectError(await v3.get(`/v3/bill/tradebill?bill_date=${old}`), 400, 'INVALID_REQUEST')
  })
})
