import type { Order } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import {
  buildNotification,
  buildV2Notification,
  generateTestMerchant,
  signResponse,
  type TestMerchant,
} from '@fen/wechatpay/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminOrder,
  createOrder,
  deliveredTypes,
  metric,
  newTransactionId,
  paidTransaction,
  postNotify,
  prepayNative,
  sandboxPay,
  signedNotification,
  untilStatus,
} from './support'

let h: Harness
let stranger: TestMerchant
let token: string
let order: Order
beforeAll(async () => {
  ;[h, stranger] = await Promise.all([startHarness(), generateTestMerchant()])
  token = await h.login()
  order = await createOrder(h, token, [{ productId: 2, quantity: 1 }])
  await prepayNative(h, token, order.orderNo)
})
afterAll(() => h?.close())

/** The order untouched: PENDING, no payment, no notification stored, no event. */
async function expectUntouched() {
  const detail = await adminOrder(h, order.orderNo)
  expect(detail.status).toBe('PENDING')
  expect(detail.transactionId).toBeUndefined()
  expect(detail.payments).toEqual([])
  expect(detail.events).toEqual([])
  expect(await deliveredTypes(h, order.orderNo)).toEqual([])
  return detail
}

/** APIv3 notifications refused so far (each must be counted as unverified). */
let refused = 0
function expectFail(reply: { status: number; text: string }, status: number) {
  refused += 1
  expect(reply.status, reply.text).toBe(status)
  expect(JSON.parse(reply.text)).toMatchObject({ code: 'FAIL' })
}

describe('notifications that are not from WeChat, or not for this order, change nothing', () => {
  it('(a) signed with a key WeChat does not have → 401', async () => {
    const resource = paidTransaction(h, order)
    const keys = h.sandbox.sandbox.keys
    // A stranger's key presented under the real key's serial, and under a serial of its own.
    for (const serial of [keys.platformPublicKeyId, stranger.platformPublicKeyId]) {
      const forged = buildNotification({
        apiV3Key: keys.apiV3Key,
        privateKey: stranger.platformPrivateKey,
        serial,
        eventType: 'TRANSACTION.SUCCESS',
        resource,
      })
      expectFail(await postNotify(h, forged), 401)
    }
    // And one built entirely from a stranger's merchant: its key, its APIv3 key.
    const foreign = buildNotification({
      apiV3Key: stranger.apiV3Key,
      privateKey: stranger.platformPrivateKey,
      serial: stranger.platformPublicKeyId,
      eventType: 'TRANSACTION.SUCCESS',
      resource,
    })
    expectFail(await postNotify(h, foreign), 401)
    const detail = await expectUntouched()
    expect(detail.notifications).toEqual([])
  })

  it('(b) a valid notification with one body byte changed → 401', async () => {
    const valid = signedNotification(h, paidTransaction(h, order))
    const at = valid.body.indexOf('"ciphertext":"') + '"ciphertext":"'.length + 10
    const original = valid.body[at]!
    const body = valid.body.slice(0, at) + (original === 'A' ? 'B' : 'A') + valid.body.slice(at + 1)
    expect(body).toHaveLength(valid.body.length)
    expectFail(await postNotify(h, { headers: valid.headers, body }), 401)
    // A changed byte outside the ciphertext too (the amount is encrypted, the summary is not).
    const summary = valid.body.replace('"summary":"支付成功"', '"summary":"支付成劝"')
    expect(summary).not.toBe(valid.body)
    expectFail(await postNotify(h, { headers: valid.headers, body: summary }), 401)
    expect((await expectUntouched()).notifications).toEqual([])
  })

  it('(c) a timestamp 6 minutes old → 401', async () => {
    const stale = signedNotification(h, paidTransaction(h, order), {
      timestamp: Math.floor(Date.now() / 1000) - 360,
    })
    expectFail(await postNotify(h, stale), 401)
    expect((await expectUntouched()).notifications).toEqual([])
  })

  it('(d) a WECHATPAY/SIGNTEST/ probe → 401', async () => {
    const probe = signedNotification(h, paidTransaction(h, order), { signtest: true })
    expect(probe.headers['Wechatpay-Signature']).toMatch(/^WECHATPAY\/SIGNTEST\//)
    expectFail(await postNotify(h, probe), 401)
    expect(await metric(h, 'fen_signature_failures_total{reason="signtest"}')).toBe(1)
    expect((await expectUntouched()).notifications).toEqual([])
  })

  it('(e) missing Wechatpay-* headers → 401', async () => {
    const valid = signedNotification(h, paidTransaction(h, order))
    expectFail(
      await postNotify(h, { headers: { 'Content-Type': 'application/json' }, body: valid.body }),
      401,
    )
    // Each header missing in turn.
    const names = Object.keys(valid.headers).filter((k) => k.startsWith('Wechatpay-'))
    expect(names).toEqual(
      expect.arrayContaining([
        'Wechatpay-Timestamp',
        'Wechatpay-Nonce',
        'Wechatpay-Signature',
        'Wechatpay-Serial',
      ]),
    )
    for (const name of names) {
      if (name === 'Wechatpay-Signature-Type') continue // optional: RSA is the default
      const headers = { ...valid.headers }
      delete headers[name]
      expectFail(await postNotify(h, { headers, body: valid.body }), 401)
    }
    expect((await expectUntouched()).notifications).toEqual([])
  })

  it('(f) a body that is not JSON → 401 unsigned, 400 when correctly signed', async () => {
    expectFail(
      await postNotify(h, {
        headers: { 'Content-Type': 'application/json' },
        body: 'this is not json',
      }),
      401,
    )
    const keys = h.sandbox.sandbox.keys
    for (const body of [
      'this is not json',
      '{"id":',
      '{"id":"x","event_type":"TRANSACTION.SUCCESS"}',
    ]) {
      const headers = signResponse({
        body,
        privateKey: keys.platformPrivateKey,
        serial: keys.platformPublicKeyId,
      })
      expectFail(
        await postNotify(h, { headers: { 'Content-Type': 'application/json', ...headers }, body }),
        400,
      )
    }
    expect((await expectUntouched()).notifications).toEqual([])
    // Every refusal so far was counted as unverified, none applied.
    expect(await metric(h, 'fen_notifications_total{api="v3",outcome="unverified"}')).toBe(refused)
    expect(await metric(h, 'fen_notifications_total{api="v3",outcome="applied"}')).toBe(0)
  })

  it('(g) a validly signed notification whose amount differs → 204, never PAID, stored as rejected, counted', async () => {
    expect(await metric(h, 'fen_payment_mismatches_total')).toBe(0)
    const n = signedNotification(
      h,
      paidTransaction(h, order, { total: 1, transactionId: newTransactionId() }),
      { id: 'e2e-amount-mismatch' },
    )
    const reply = await postNotify(h, n)
    expect(reply.status).toBe(204)

    const detail = await expectUntouched()
    expect(detail.notifications).toEqual([
      expect.objectContaining({
        id: 'e2e-amount-mismatch',
        eventType: 'TRANSACTION.SUCCESS',
        outcome: 'rejected',
        detail: expect.stringContaining('amount'),
      }),
    ])
    expect(await metric(h, 'fen_payment_mismatches_total')).toBe(1)
    // A retry of the same notification is a duplicate: still one mismatch, still not paid.
    expect((await postNotify(h, n)).status).toBe(204)
    expect(await metric(h, 'fen_payment_mismatches_total')).toBe(1)
    h.advance(5)
    const mine = await h.api<Order>('GET', `/api/orders/${order.orderNo}`, { token })
    expect(mine.body.status).toBe('PENDING')
  })

  it('(h) a validly signed notification for another appid → 204, never PAID, rejected, counted', async () => {
    const n = signedNotification(
      h,
      paidTransaction(h, order, { appid: 'wx0000000000000000', transactionId: newTransactionId() }),
      { id: 'e2e-appid-mismatch' },
    )
    expect((await postNotify(h, n)).status).toBe(204)
    const detail = await expectUntouched()
    expect(detail.notifications.find((x) => x.id === 'e2e-appid-mismatch')).toMatchObject({
      outcome: 'rejected',
      detail: expect.stringContaining('appid'),
    })
    expect(await metric(h, 'fen_payment_mismatches_total')).toBe(2)

    // Likewise another merchant id.
    const m = signedNotification(
      h,
      paidTransaction(h, order, { mchid: '1900000000', transactionId: newTransactionId() }),
      { id: 'e2e-mchid-mismatch' },
    )
    expect((await postNotify(h, m)).status).toBe(204)
    expect((await adminOrder(h, order.orderNo)).notifications).toHaveLength(3)
    expect(await metric(h, 'fen_payment_mismatches_total')).toBe(3)
    await expectUntouched()
  })

  it('(i) APIv2: a notification with a wrong sign → 401 with FAIL XML', async () => {
    const keys = h.sandbox.sandbox.keys
    const fields = {
      appid: keys.appid,
      mch_id: keys.mchid,
      nonce_str: 'n0nce0000000000000000000000000000',
      openid: 'o-forged-payer',
      trade_type: 'NATIVE',
      bank_type: 'OTHERS',
      total_fee: order.totalFen,
      fee_type: 'CNY',
      cash_fee: order.totalFen,
      transaction_id: newTransactionId(),
      out_trade_no: order.orderNo,
      time_end: '20250101120000',
    }
    const wrongKey = buildV2Notification(fields, stranger.apiV2Key)
    // Signed with the right key, then one field changed.
    const tampered = buildV2Notification({ ...fields, total_fee: 1 }, keys.apiV2Key).replace(
      /<total_fee>(<!\[CDATA\[)?1(\]\]>)?<\/total_fee>/,
      `<total_fee>${order.totalFen}</total_fee>`,
    )
    expect(tampered).toContain(`<total_fee>${order.totalFen}</total_fee>`)
    const unsigned = wrongKey.replace(/<sign>.*<\/sign>/, '')
    for (const xml of [wrongKey, tampered, unsigned]) {
      const reply = await postNotify(
        h,
        { headers: { 'Content-Type': 'text/xml' }, body: xml },
        '/api/pay/notify/v2',
      )
      expect(reply.status, reply.text).toBe(401)
      expect(reply.contentType).toMatch(/xml/)
      expect(reply.text).toMatch(/<return_code><!\[CDATA\[FAIL\]\]><\/return_code>/)
    }
    expect(await metric(h, 'fen_notifications_total{api="v2",outcome="unverified"}')).toBe(3)
    await expectUntouched()
  })

  it('after all of that, the real payment still goes through, once', async () => {
    const codeUrl = await prepayNative(h, token, order.orderNo)
    await sandboxPay(h, { code_url: codeUrl })
    const paid = await untilStatus(h, order.orderNo, 'PAID')
    expect(paid.payments).toHaveLength(1)
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])
    expect(await metric(h, 'fen_payment_mismatches_total')).toBe(3)
  })
})
