/**
 * Certificate mode (平台证书) from the server's side, with the sandbox's rotation drill: the list
 * is downloaded at start, again by the job once 12 h (test clock) have passed, and again when a
 * notification arrives signed by a certificate the server has never seen. Public-key mode runs no
 * job and downloads nothing; the migration (both keys) keeps the job.
 */
import { generateSandboxKeys, type SandboxKeys } from '@fen/sandbox'
import type { Order, PayResponse } from '@fen/shared'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startHarness, type Harness } from './harness'

async function keysIn(mode: SandboxKeys['platformMode']): Promise<SandboxKeys> {
  const shared = inject('fenSandboxKeys') as SandboxKeys | undefined
  return { ...(shared ?? (await generateSandboxKeys())), platformMode: mode }
}

/** How many times the server downloaded the certificate list. */
async function downloads(h: Harness): Promise<number> {
  const calls = await h.control<{ path: string; status?: number }[]>('GET', '/__sandbox/calls')
  return calls.body.filter((c) => c.path === '/v3/certificates' && c.status === 200).length
}

async function platform(h: Harness, body: object): Promise<Record<string, unknown>> {
  const res = await h.control<Record<string, unknown>>('POST', '/__sandbox/platform', body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

/** A Native order created and prepaid (its answer verified); not paid yet. */
async function prepaidOrder(h: Harness, token: string): Promise<{ order: Order; codeUrl: string }> {
  const res = await h.api<Order>('POST', '/api/orders', {
    token,
    body: { items: [{ productId: 1, quantity: 1 }] },
  })
  expect(res.status).toBe(201)
  const pay = await h.api<PayResponse>('POST', `/api/orders/${res.body.orderNo}/pay`, {
    token,
    body: { channel: 'native' },
  })
  expect(pay.status, JSON.stringify(pay.body)).toBe(200)
  if (pay.body.channel !== 'native') throw new Error('expected native')
  return { order: res.body, codeUrl: pay.body.codeUrl }
}

async function untilPaid(h: Harness, token: string, orderNo: string): Promise<void> {
  await h.until(async () => {
    const r = await h.api<Order>('GET', `/api/orders/${orderNo}`, { token })
    return r.body.status === 'PAID'
  }, 10_000)
}

describe('certificate mode', () => {
  let h: Harness
  let serials: string[]
  beforeAll(async () => {
    const keys = await keysIn('certificate')
    serials = keys.platformCertificates.map((c) => c.serialNo)
    h = await startHarness({ sandbox: { keys } })
  })
  afterAll(() => h?.close())

  it('downloads the certificates at start', async () => {
    expect(h.config.wechatpay.platformCertificates).toBe(true)
    expect(h.config.wechatpay.publicKey).toBeUndefined()
    // Before any payment call: the start's download.
    expect(await downloads(h)).toBe(1)
    expect(await h.refreshCertificates()).toBe('fresh')
    expect(await downloads(h)).toBe(1)
  })

  it('the job downloads again once 12 h have passed, not before', async () => {
    // WeChat lists only the certificate that signs today (the drill's starting point).
    await platform(h, { activeCertificate: serials[0], listedCertificates: [serials[0]] })
    h.advance(11 * 3600)
    expect(await h.refreshCertificates()).toBe('fresh')
    expect(await downloads(h)).toBe(1)
    h.advance(3600)
    expect(await h.refreshCertificates()).toBe('refreshed')
    expect(await downloads(h)).toBe(2)
    expect(await h.refreshCertificates()).toBe('fresh')
  })

  it('a rotation: a notification signed by the new certificate fetches it and verifies', async () => {
    // Logged in now: the clock moved past the life of a token from before.
    const token = await h.login()
    // Prepaid under the old certificate: its answer verifies with what the server holds.
    const { order, codeUrl } = await prepaidOrder(h, token)
    expect(await downloads(h)).toBe(2)

    // WeChat rotates: the new certificate is listed and signs from now on.
    const rotated = await platform(h, { activeCertificate: serials[1] })
    expect(rotated.listedCertificates).toEqual([serials[0], serials[1]])
    await h.control('POST', '/__sandbox/pay', { code_url: codeUrl })
    await untilPaid(h, token, order.orderNo)

    // The notification was accepted on its first delivery, after one download for its serial.
    const notes = await h.control<{ attempts: { ok: boolean }[] }[]>(
      'GET',
      `/__sandbox/notifications?out_trade_no=${order.orderNo}`,
    )
    expect(notes.body[0]!.attempts[0]!.ok).toBe(true)
    expect(await downloads(h)).toBe(3)

    // Answers signed by the new certificate verify too, with no further download.
    const next = await prepaidOrder(h, token)
    expect(next.codeUrl).toMatch(/^weixin:\/\//)
    expect(await downloads(h)).toBe(3)
  })
})

describe('public-key mode and the migration', () => {
  it('public key only: no certificate job, nothing downloaded', async () => {
    const h = await startHarness()
    try {
      expect(h.config.wechatpay.platformCertificates).toBe(false)
      expect(await h.refreshCertificates()).toBeUndefined()
      expect(await downloads(h)).toBe(0)
    } finally {
      await h.close()
    }
  })

  it('migrating (both keys): downloaded at start and kept fresh by the job', async () => {
    const h = await startHarness({ sandbox: { keys: await keysIn('both') } })
    try {
      expect(h.config.wechatpay.publicKey).toBeDefined()
      expect(h.config.wechatpay.platformCertificates).toBe(true)
      expect(await downloads(h)).toBe(1)
      h.advance(12 * 3600)
      expect(await h.refreshCertificates()).toBe('refreshed')
      expect(await downloads(h)).toBe(2)
      // Payments still verify, whichever key signs.
      const token = await h.login()
      const { order, codeUrl } = await prepaidOrder(h, token)
      await h.control('POST', '/__sandbox/pay', { code_url: codeUrl })
      await untilPaid(h, token, order.orderNo)
    } finally {
      await h.close()
    }
  })
})
