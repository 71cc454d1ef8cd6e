/**
 * Moving from platform certificates to the WeChat Pay public key without downtime, and rotating a
 * platform certificate, as docs/operations.md tells an operator to do it.
 *
 * WeChat switches a merchant over gradually: for a while, answers and notifications are signed by
 * either a platform certificate or the public key (the sandbox's `both` mode, with a share of
 * notifications signed by the public key). A server holding both keys
 * (`WECHATPAY_PLATFORM_CERTIFICATES=download` beside `WECHATPAY_PUBLIC_KEY`) verifies every one; a
 * server holding only the public key refuses the certificate-signed ones, which is why the setting
 * exists.
 */
import type { Harness } from '@fen/server/test/harness'
import { ADMIN_TOKEN, startHarness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOrder, prepayNative, sandboxNotifications, sandboxPay, untilStatus } from './support'

type Mode = 'publicKey' | 'certificate' | 'both'

async function setPlatform(
  h: Harness,
  body: { mode?: Mode; activeCertificate?: string; publicKeyNotificationShare?: number },
): Promise<void> {
  const res = await h.control('POST', '/__sandbox/platform', body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
}

/** Creates, prepays and pays `n` orders at WeChat; returns their numbers. */
async function payOrders(h: Harness, n: number): Promise<string[]> {
  const token = await h.login()
  const orderNos: string[] = []
  for (let i = 0; i < n; i++) {
    const order = await createOrder(h, token, [{ productId: 1, quantity: 1 }])
    const codeUrl = await prepayNative(h, token, order.orderNo)
    await sandboxPay(h, { code_url: codeUrl })
    orderNos.push(order.orderNo)
  }
  return orderNos
}

/** `fen_notification_keys_total` by key, from the server's /metrics. */
async function notificationKeys(h: Harness): Promise<{ public_key: number; certificate: number }> {
  const res = await fetch(`${h.url}/metrics`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })
  const text = await res.text()
  const count = (key: string) =>
    Number(
      new RegExp(`^fen_notification_keys_total\\{key="${key}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0,
    )
  return { public_key: count('public_key'), certificate: count('certificate') }
}

/** Every order PAID through its notification: the first attempt was accepted. */
async function expectPaidByNotification(h: Harness, orderNos: string[]): Promise<void> {
  for (const orderNo of orderNos) {
    await untilStatus(h, orderNo, 'PAID')
    const [note] = await sandboxNotifications(h, orderNo)
    expect(note!.status).toBe('delivered')
    expect(note!.attempts[0]!.ok).toBe(true)
  }
}

describe('a server holding the public key and the platform certificates (migrating)', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ env: { WECHATPAY_PLATFORM_CERTIFICATES: 'download' } })
  })
  afterAll(() => h?.close())

  it('before the switch: certificate-signed answers and notifications verify', async () => {
    await setPlatform(h, { mode: 'certificate' })
    await expectPaidByNotification(h, await payOrders(h, 3))
  })

  it('a platform certificate rotated meanwhile: the new one is fetched and verifies', async () => {
    const merchant = await h.control<{ platformCertificates: { serialNo: string }[] }>(
      'GET',
      '/__sandbox/merchant',
    )
    const serials = merchant.body.platformCertificates.map((c) => c.serialNo)
    expect(serials.length).toBeGreaterThanOrEqual(2)
    await setPlatform(h, { mode: 'certificate', activeCertificate: serials.at(-1)! })
    await expectPaidByNotification(h, await payOrders(h, 2))
    await setPlatform(h, { activeCertificate: serials[0]! })
  })

  it('during the switch: notifications signed either way all verify, and /metrics counts each key', async () => {
    await setPlatform(h, { mode: 'both', publicKeyNotificationShare: 0.5 })
    const before = await notificationKeys(h)
    await expectPaidByNotification(h, await payOrders(h, 10))
    const after = await notificationKeys(h)
    expect(after.public_key + after.certificate - before.public_key - before.certificate).toBe(10)

    // Each kind on its own, so the counts are exact.
    await setPlatform(h, { publicKeyNotificationShare: 1 })
    await expectPaidByNotification(h, await payOrders(h, 3))
    await setPlatform(h, { publicKeyNotificationShare: 0 })
    await expectPaidByNotification(h, await payOrders(h, 2))
    const end = await notificationKeys(h)
    expect(end.public_key - after.public_key).toBe(3)
    expect(end.certificate - after.certificate).toBe(2)
  })

  it('after the switch: public-key-signed answers and notifications verify', async () => {
    await setPlatform(h, { mode: 'publicKey' })
    await expectPaidByNotification(h, await payOrders(h, 3))
  })
})

describe('a server holding only the public key while WeChat still signs with certificates', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness()
  })
  afterAll(() => h?.close())

  it('refuses the certificate-signed notification (WeChat will retry it)', async () => {
    expect(h.config.wechatpay.platformCertificates).toBe(false)
    await setPlatform(h, { mode: 'both', publicKeyNotificationShare: 0 })
    const [orderNo] = await payOrders(h, 1)
    const note = await h.until(async () => {
      const [n] = await sandboxNotifications(h, orderNo!)
      return n && n.attempts.length > 0 && n
    })
    expect(note.attempts[0]!.ok).toBe(false)
    expect(note.attempts[0]!.status).toBeGreaterThanOrEqual(400)
  })
})
