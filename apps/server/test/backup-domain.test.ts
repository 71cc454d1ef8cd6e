/**
 * WeChat Pay's backup domain (WECHATPAY_BACKUP_BASE_URL): the setting's defaults, and the server
 * failing over to the sandbox's backup host when the primary gives no HTTP answer (the
 * `unreachable` fault) — never after an HTTP status such as a 5xx.
 */
import { generateSandboxKeys, merchantView, type SandboxMerchant } from '@fen/sandbox'
import type { AdminOrderDetail, Order, PayResponse } from '@fen/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config'
import { configRefusal, realMerchantEnv } from './support/config'
import { startHarness, type Harness } from './harness'

let merchant: SandboxMerchant
beforeAll(async () => {
  merchant = merchantView(await generateSandboxKeys())
})

const realEnv = (overrides: Record<string, string> = {}) => realMerchantEnv(merchant, overrides)

const SANDBOX_URL = 'http://127.0.0.1:3100'
const sandboxEnv = { FEN_SANDBOX_URL: SANDBOX_URL, WECHATPAY_API_VERSION: 'v3' }

const refused = configRefusal

describe('WECHATPAY_BACKUP_BASE_URL', () => {
  it("defaults to api2.mch.weixin.qq.com with WeChat Pay's production host", async () => {
    const config = await loadConfig(realEnv())
    expect(config.wechatpay.backupBaseUrl).toBe('https://api2.mch.weixin.qq.com')
  })

  it('off turns failover off; a URL of its own is taken', async () => {
    expect(
      (await loadConfig(realEnv({ WECHATPAY_BACKUP_BASE_URL: 'off' }))).wechatpay.backupBaseUrl,
    ).toBeUndefined()
    const own = await loadConfig(
      realEnv({
        WECHATPAY_BASE_URL: 'https://api.wechatpay.cn',
        WECHATPAY_BACKUP_BASE_URL: 'https://api2.wechatpay.cn',
      }),
    )
    expect(own.wechatpay.backupBaseUrl).toBe('https://api2.wechatpay.cn')
  })

  it('sandbox mode: the sandbox’s backup host when it runs one, else none', async () => {
    const withBackup = await loadConfig(sandboxEnv, async () => ({
      ...merchant,
      backupBaseUrl: 'http://127.0.0.1:3101',
    }))
    expect(withBackup.wechatpay.backupBaseUrl).toBe('http://127.0.0.1:3101')
    const without = await loadConfig(sandboxEnv, async () => merchant)
    expect(without.wechatpay.backupBaseUrl).toBeUndefined()
  })

  it('is refused when it is the primary itself, has another path, or breaks the key rules', async () => {
    expect(
      await refused(realEnv({ WECHATPAY_BACKUP_BASE_URL: 'https://api.mch.weixin.qq.com' })),
    ).toMatch(/^WECHATPAY_BACKUP_BASE_URL: must be another host/m)
    expect(
      await refused(realEnv({ WECHATPAY_BACKUP_BASE_URL: 'https://api2.mch.weixin.qq.com/v3' })),
    ).toMatch(/^WECHATPAY_BACKUP_BASE_URL: must have the same path/m)
    // A real key goes to WeChat's hosts only.
    expect(
      await refused(realEnv({ WECHATPAY_BACKUP_BASE_URL: 'https://backup.example.com' })),
    ).toMatch(/^WECHATPAY_BACKUP_BASE_URL: real merchant keys must only be used/m)
    expect(await refused(realEnv({ WECHATPAY_BACKUP_BASE_URL: 'ftp://x' }))).toMatch(
      /^WECHATPAY_BACKUP_BASE_URL:/m,
    )
  })
})

describe('the server against a sandbox with a backup host', () => {
  let h: Harness
  let shopper: string

  beforeAll(async () => {
    h = await startHarness({ sandbox: { backupPort: 0 } })
    shopper = await h.login()
  })
  afterAll(() => h?.close())

  interface Call {
    seq: number
    path: string
    host?: 'backup'
    fault?: string
    status?: number
  }
  const calls = async (orderNo: string): Promise<Call[]> =>
    (await h.control<Call[]>('GET', `/__sandbox/calls?out_trade_no=${orderNo}`)).body
  const hosts = (list: Call[]) => list.map((c) => [c.host ?? 'primary', c.fault, c.status])

  async function newOrder(): Promise<string> {
    const created = await h.api<Order>('POST', '/api/orders', {
      token: shopper,
      body: { items: [{ productId: 1, quantity: 1 }] },
    })
    expect(created.status).toBe(201)
    return created.body.orderNo
  }

  it('takes the sandbox’s backup host from /__sandbox/merchant', () => {
    expect(h.sandbox.backupUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(h.config.wechatpay.backupBaseUrl).toBe(h.sandbox.backupUrl)
  })

  it('primary unreachable: pay and query succeed on the backup', async () => {
    const no = await newOrder()
    const armed = await h.control('POST', '/__sandbox/faults', {
      target: '/v3/pay/transactions',
      kind: 'unreachable',
      rate: 1,
    })
    expect(armed.status).toBe(200)
    try {
      const pay = await h.api<PayResponse>('POST', `/api/orders/${no}/pay`, {
        token: shopper,
        body: { channel: 'jsapi' },
      })
      expect(pay.status).toBe(200)
      if (pay.body.channel !== 'jsapi') throw new Error('expected jsapi')
      expect(hosts(await calls(no))).toEqual([
        ['primary', 'unreachable', undefined],
        ['backup', undefined, 200],
      ])
      const cashier = await h.control<{ errMsg: string }>(
        'POST',
        '/__sandbox/request-payment',
        pay.body.params,
      )
      expect(cashier.body.errMsg).toBe('requestPayment:ok')

      // The query (admin sync) goes to the backup too.
      const before = (await calls(no)).length
      const synced = await h.admin<AdminOrderDetail>('POST', `/api/admin/orders/${no}/sync`)
      expect(synced.status).toBe(200)
      expect(synced.body.status).toBe('PAID')
      const queries = (await calls(no)).slice(before).filter((c) => c.path.includes('out-trade-no'))
      expect(hosts(queries)).toEqual([
        ['primary', 'unreachable', undefined],
        ['backup', undefined, 200],
      ])
    } finally {
      await h.control('DELETE', '/__sandbox/faults')
    }
  })

  it('an HTTP 5xx from the primary is not retried on the backup', async () => {
    const no = await newOrder()
    await h.control('POST', '/__sandbox/faults', {
      target: '/v3/pay/transactions',
      kind: 'error500',
      rate: 1,
    })
    try {
      const pay = await h.api('POST', `/api/orders/${no}/pay`, {
        token: shopper,
        body: { channel: 'jsapi' },
      })
      expect(pay.status).toBeGreaterThanOrEqual(500)
      const list = await calls(no)
      expect(list.length).toBeGreaterThan(0)
      // Every attempt (the SDK's own retries included) went to the primary and got its 500.
      for (const c of list) expect([c.host ?? 'primary', c.status]).toEqual(['primary', 500])
    } finally {
      await h.control('DELETE', '/__sandbox/faults')
    }
    // With the primary back, the same order pays at the primary.
    const pay = await h.api<PayResponse>('POST', `/api/orders/${no}/pay`, {
      token: shopper,
      body: { channel: 'jsapi' },
    })
    expect(pay.status).toBe(200)
    expect((await calls(no)).at(-1)).toMatchObject({ status: 200 })
    expect((await calls(no)).at(-1)?.host).toBeUndefined()
  })
})
