import { beforeAll, describe, expect, it } from 'vitest'
import {
  DecryptionError,
  SignatureError,
  WechatPay,
  WechatPayError,
  failureReply,
  successReply,
  type NotificationEvent,
  type RefundNotificationResource,
  type SignatureFailure,
  type Transaction,
} from '../src'
import {
  buildNotification,
  signResponse,
  type BuildNotificationInput,
  type TestMerchant,
} from '../src/testing'
import { testMerchant } from './support/merchant'

/** A fixed "now" inside the generated certificates' validity, injected as the client clock. */
const NOW = Math.floor(Date.now() / 1000)
const clock = () => NOW * 1000

const TRANSACTION: Transaction = {
  amount: { currency: 'CNY', payer_currency: 'CNY', payer_total: 1, total: 1 },
  appid: 'wx2891ddef4f5de4de',
  attach: '',
  bank_type: 'BOC_CREDIT',
  mchid: '1320158301',
  out_trade_no: 'TC20220714153431503610455',
  payer: { openid: 'ol6JF5UnuWP--XEfcE-Tbmlh_xM4' },
  promotion_detail: [],
  success_time: '2022-07-14T15:34:45+08:00',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  trade_type: 'JSAPI',
  transaction_id: '4200001460202207148197935963',
}

const REFUND: RefundNotificationResource = {
  mchid: '1900000100',
  transaction_id: '1008450740201411110005820873',
  out_trade_no: '20150806125346',
  refund_id: '50200207182018070300011301001',
  out_refund_no: '7752501201407033233368018',
  refund_status: 'SUCCESS',
  success_time: '2018-06-08T10:34:56+08:00',
  user_received_account: '招商银行信用卡0403',
  amount: { total: 999, refund: 999, payer_total: 999, payer_refund: 999 },
}

let merchant: TestMerchant
let wxpay: WechatPay

beforeAll(async () => {
  merchant = await testMerchant()
  wxpay = new WechatPay({
    mchid: merchant.mchid,
    serialNo: merchant.merchantSerialNo,
    privateKey: merchant.merchantPrivateKey,
    apiV3Key: merchant.apiV3Key,
    platform: { publicKey: { id: merchant.platformPublicKeyId, key: merchant.platformPublicKey } },
    clock,
  })
})

/** A notification signed with the WeChat Pay public key, as WeChat sends it. */
function notification(
  input: Partial<BuildNotificationInput> & Pick<BuildNotificationInput, 'eventType' | 'resource'>,
) {
  return buildNotification({
    apiV3Key: merchant.apiV3Key,
    privateKey: merchant.platformPrivateKey,
    serial: merchant.platformPublicKeyId,
    timestamp: NOW,
    ...input,
  })
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (e: unknown) => e,
  )
}

async function expectSignatureFailure(
  promise: Promise<unknown>,
  reason: SignatureFailure,
): Promise<void> {
  const error = await rejection(promise)
  expect(error).toBeInstanceOf(SignatureError)
  expect((error as SignatureError).reason).toBe(reason)
}

describe('WechatPay.parseNotification (wechatpay-api.md §7)', () => {
  it('turns TRANSACTION.SUCCESS into a transaction event with every field', async () => {
    const n = notification({
      eventType: 'TRANSACTION.SUCCESS',
      resource: TRANSACTION,
      id: 'EV-2018022511223320873',
    })
    const event = await wxpay.parseNotification(new Headers(n.headers), n.body)
    expect(event.type).toBe('transaction')
    if (event.type !== 'transaction') throw new Error('narrowing')
    expect(event.eventType).toBe('TRANSACTION.SUCCESS')
    expect(event.transaction).toEqual(TRANSACTION)
    expect(event.id).toBe('EV-2018022511223320873')
    expect(event.summary).toBe('支付成功')
    expect(event.createTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/)
  })

  for (const eventType of ['REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED'] as const) {
    it(`turns ${eventType} into a refund event`, async () => {
      const status = eventType.slice(
        'REFUND.'.length,
      ) as RefundNotificationResource['refund_status']
      const refund = { ...REFUND, refund_status: status }
      const n = notification({ eventType, resource: refund, summary: '退款状态' })
      const event = await wxpay.parseNotification(new Headers(n.headers), n.body)
      expect(event).toMatchObject({ type: 'refund', eventType, summary: '退款状态' })
      if (event.type !== 'refund') throw new Error('narrowing')
      expect(event.refund).toEqual(refund)
      expect(event.refund.refund_status).toBe(status)
    })
  }

  it('gives an unknown event type as `other` with the decrypted resource', async () => {
    const resource = { out_order_no: 'P1', state: 'DONE', 中文: '字段' }
    const n = notification({
      eventType: 'PAYSCORE.USER_CONFIRM',
      resource,
      associatedData: 'payscore',
    })
    const event = await wxpay.parseNotification(new Headers(n.headers), n.body)
    expect(event).toMatchObject({ type: 'other', eventType: 'PAYSCORE.USER_CONFIRM' })
    if (event.type !== 'other') throw new Error('narrowing')
    expect(event.resource).toEqual(resource)
  })

  it('keeps the same id across deliveries (for deduplication)', async () => {
    const id = '3119dfba-e649-5eec-ab1e-3412bc4d2e17'
    const first = notification({ eventType: 'TRANSACTION.SUCCESS', resource: TRANSACTION, id })
    const retry = notification({
      eventType: 'TRANSACTION.SUCCESS',
      resource: TRANSACTION,
      id,
      timestamp: NOW - 15,
    })
    expect(retry.body).not.toBe(first.body) // fresh nonce and ciphertext
    const events: NotificationEvent[] = [
      await wxpay.parseNotification(new Headers(first.headers), first.body),
      await wxpay.parseNotification(new Headers(retry.headers), retry.body),
    ]
    expect(events.map((e) => e.id)).toEqual([id, id])
  })

  it('accepts Buffer and string bodies alike', async () => {
    const n = notification({ eventType: 'TRANSACTION.SUCCESS', resource: TRANSACTION })
    const fromString = await wxpay.parseNotification(new Headers(n.headers), n.body)
    const fromBuffer = await wxpay.parseNotification(
      new Headers(n.headers),
      Buffer.from(n.body, 'utf8'),
    )
    expect(fromBuffer).toEqual(fromString)
  })

  it('reads lower-cased Node request headers', async () => {
    const n = notification({ eventType: 'TRANSACTION.SUCCESS', resource: TRANSACTION })
    const nodeHeaders = Object.fromEntries(
      Object.entries(n.headers).map(([k, v]) => [k.toLowerCase(), v]),
    )
    await expect(wxpay.parseNotification(nodeHeaders, n.body)).resolves.toMatchObject({
      type: 'transaction',
    })
  })

  it('reads the headers exactly as buildNotification returns them', async () => {
    const n = notification({ eventType: 'TRANSACTION.SUCCESS', resource: TRANSACTION })
    await expect(wxpay.parseNotification(n.headers, n.body)).resolves.toMatchObject({
      type: 'transaction',
    })
  })

  it('verifies a notification signed by a platform certificate in a combined (migration) setup', async () => {
    const platform = merchant.platformCertificates[0]!
    const combined = new WechatPay({
      mchid: merchant.mchid,
      serialNo: merchant.merchantSerialNo,
      privateKey: merchant.merchantPrivateKey,
      apiV3Key: merchant.apiV3Key,
      platform: {
        publicKey: { id: merchant.platformPublicKeyId, key: merchant.platformPublicKey },
        certificates: merchant.platformCertificates.map((c) => c.certificate),
      },
      clock,
    })
    const byCertificate = notification({
      eventType: 'TRANSACTION.SUCCESS',
      resource: TRANSACTION,
      privateKey: platform.privateKey,
      serial: platform.serialNo,
    })
    const byPublicKey = notification({ eventType: 'TRANSACTION.SUCCESS', resource: TRANSACTION })
    for (const n of [byCertificate, byPublicKey]) {
      await expect(
        combined.parseNotification(new Headers(n.headers), n.body),
      ).resolves.toMatchObject({ type: 'transaction', transaction: TRANSACTION })
    }
    // The public-key-only client does not know the certificate.
    await expectSignatureFailure(
      wxpay.parseNotification(new Headers(byCertificate.headers), byCertificate.body),
      'unknown_serial',
    )
  })

  it('rejects a SIGNTEST probe with reason `signtest`', async () => {
    const n = notification({
      eventType: 'TRANSACTION.SUCCESS',
      resource: TRANSACTION,
      signtest: true,
    })
    expect(n.headers['Wechatpay-Signature']).toMatch(/^WECHATPAY\/SIGNTEST\//)
    await expectSignatureFailure(
      wxpay.parseNotification(new Headers(n.headers), n.body),
      'signtest',
    )
  })

  it('rejects a stale notification with reason `stale_timestamp`', async () => {
    const n = notification({
      eventType: 'TRANSACTION.SUCCESS',
      resource: TRANSACTION,
      timestamp: NOW - 301,
    })
    await expectSignatureFailure(
      wxpay.parseNotification(new Headers(n.headers), n.body),
      'stale_timestamp',
    )
  })

  it('rejects a body re-serialised with different spacing as `mismatch`', async () => {
    const n = notification({ eventType: 'TRANSACTION.SUCCESS', resource: TRANSACTION })
    const reserialised = JSON.stringify(JSON.parse(n.body), null, 2)
    expect(JSON.parse(reserialised)).toEqual(JSON.parse(n.body))
    await expectSignatureFailure(
      wxpay.parseNotification(new Headers(n.headers), reserialised),
      'mismatch',
    )
  })

  it('rejects a resource encrypted with another APIv3 key with DecryptionError', async () => {
    const n = notification({
      eventType: 'TRANSACTION.SUCCESS',
      resource: TRANSACTION,
      apiV3Key: 'X'.repeat(32),
    })
    const error = await rejection(wxpay.parseNotification(new Headers(n.headers), n.body))
    expect(error).toBeInstanceOf(DecryptionError)
  })

  it('rejects a resource holding half a UTF-16 pair or NUL with WechatPayError; whole pairs are fine', async () => {
    for (const value of [
      '\udfff',
      'x\ud83d',
      { nested: ['\udc00'] },
      'a\u0000',
      { 'k\u0000': 1 },
    ]) {
      const n = notification({
        eventType: 'TRANSACTION.SUCCESS',
        resource: { ...TRANSACTION, attach: value },
      })
      const error = await rejection(wxpay.parseNotification(new Headers(n.headers), n.body))
      expect(error).toBeInstanceOf(WechatPayError)
      expect(error).not.toBeInstanceOf(DecryptionError)
    }
    const n = notification({
      eventType: 'TRANSACTION.SUCCESS',
      resource: { ...TRANSACTION, attach: '😀𠮷' },
    })
    const event = await wxpay.parseNotification(new Headers(n.headers), n.body)
    expect(event).toMatchObject({ type: 'transaction', transaction: { attach: '😀𠮷' } })
  })

  it('rejects a correctly signed non-JSON body with WechatPayError', async () => {
    for (const body of ['not json', '{"id":"x"}']) {
      const headers = signResponse({
        body,
        privateKey: merchant.platformPrivateKey,
        serial: merchant.platformPublicKeyId,
        timestamp: NOW,
      })
      const error = await rejection(wxpay.parseNotification(new Headers(headers), body))
      expect(error).toBeInstanceOf(WechatPayError)
      expect(error).not.toBeInstanceOf(SignatureError)
      expect(error).not.toBeInstanceOf(DecryptionError)
    }
  })
})

describe('notification replies (§7.2)', () => {
  it('successReply() is a 204 with an empty body', () => {
    expect(successReply()).toEqual({ status: 204, headers: {}, body: '' })
  })

  it('failureReply(401, message) is FAIL JSON with a JSON content type', () => {
    const reply = failureReply(401, '签名错误')
    expect(reply.status).toBe(401)
    expect(reply.headers['Content-Type']).toMatch(/^application\/json/)
    expect(reply.body).toBe('{"code":"FAIL","message":"签名错误"}')
    expect(JSON.parse(reply.body)).toEqual({ code: 'FAIL', message: '签名错误' })
  })

  it('failureReply() defaults to 500 `失败`', () => {
    const reply = failureReply()
    expect(reply.status).toBe(500)
    expect(JSON.parse(reply.body)).toEqual({ code: 'FAIL', message: '失败' })
  })

  it('failureReply refuses a status WeChat would read as success', () => {
    for (const status of [200, 204, 302, 399, 600]) {
      expect(() => failureReply(status), String(status)).toThrow(RangeError)
    }
    expect(failureReply(400).status).toBe(400)
    expect(failureReply(599).status).toBe(599)
  })
})
