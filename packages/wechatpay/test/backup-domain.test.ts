import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  ApiError,
  ConfigError,
  NetworkError,
  TimeoutError,
  WechatPay,
  WechatPayClient,
  parseAuthorization,
  type WechatPayClientOptions,
} from '../src'
import { signResponse, type TestMerchant } from '../src/testing'
import { createFakeWechat, fakeClientOptions, type FakeReply } from './support/fake-wechat'
import { testMerchant } from './support/merchant'

const NOW = Date.now()
const clock = () => NOW
const PRIMARY = 'https://api.mch.weixin.qq.com'
const BACKUP = 'https://api2.mch.weixin.qq.com'
const OUT_TRADE_NO = 'FEN20261202000001'
const QUERY_PATH = `/v3/pay/transactions/out-trade-no/${OUT_TRADE_NO}`
const CLOSE_PATH = `${QUERY_PATH}/close`

let m: TestMerchant
beforeAll(async () => {
  m = await testMerchant()
})

const paid = { out_trade_no: OUT_TRADE_NO, trade_state: 'NOTPAY', mchid: '', appid: '' }

/** The fake answers `onPrimary` at the primary host and `onBackup` at any other. */
function setup(
  onPrimary: FakeReply,
  onBackup: FakeReply,
  extra: Partial<WechatPayClientOptions> = { backupBaseUrl: true },
) {
  const fake = createFakeWechat(m, { clock })
  const answer = (url: string): FakeReply => (url.startsWith(PRIMARY) ? onPrimary : onBackup)
  fake.route('GET', QUERY_PATH, (req) => answer(req.url))
  fake.route('POST', CLOSE_PATH, (req) => answer(req.url))
  const wxpay = new WechatPay(
    new WechatPayClient(fakeClientOptions(m, fake, clock, { maxRetries: 0, ...extra })),
  )
  const hosts = () => fake.requests.map((r) => new URL(r.url).origin)
  return { fake, wxpay, hosts }
}

describe('backup domain: failover only when no HTTP answer came', () => {
  it('is off by default: a refused connection is a NetworkError, with no second host', async () => {
    const { wxpay, hosts } = setup({ fail: 'network' }, { body: paid }, {})
    await expect(wxpay.transactions.queryByOutTradeNo(OUT_TRADE_NO)).rejects.toBeInstanceOf(
      NetworkError,
    )
    expect(hosts()).toEqual([PRIMARY])
  })

  it('backupBaseUrl: true sends the request once to api2.mch.weixin.qq.com, newly signed', async () => {
    const { fake, wxpay, hosts } = setup({ fail: 'network' }, { body: { ...paid, mchid: m.mchid } })
    const tx = await wxpay.transactions.queryByOutTradeNo(OUT_TRADE_NO)
    expect(tx.out_trade_no).toBe(OUT_TRADE_NO)
    expect(hosts()).toEqual([PRIMARY, BACKUP])
    const [first, second] = fake.requests
    expect(second!.path).toBe(first!.path)
    expect(second!.authorized).toBe(true) // the fake checked the merchant's signature
    expect(second!.auth!.nonce_str).not.toBe(first!.auth!.nonce_str)
  })

  it('fails over after a timeout too, even for a POST', async () => {
    const { wxpay, hosts } = setup(
      { fail: 'hang' },
      { status: 204 },
      { backupBaseUrl: true, timeoutMs: 50 },
    )
    await wxpay.transactions.close(OUT_TRADE_NO)
    expect(hosts()).toEqual([PRIMARY, BACKUP])
  })

  it.each([500, 503, 429, 404, 401])('never fails over after HTTP %i', async (status) => {
    const { wxpay, hosts } = setup(
      { status, body: { code: 'SYSTEM_ERROR', message: '系统错误' } },
      { body: paid },
    )
    await expect(wxpay.transactions.queryByOutTradeNo(OUT_TRADE_NO)).rejects.toBeInstanceOf(
      ApiError,
    )
    expect(hosts()).toEqual([PRIMARY])
  })

  it('never fails over after a 2xx whose signature fails', async () => {
    const { wxpay, hosts } = setup({ body: paid, signature: 'tamper' }, { body: paid })
    await expect(wxpay.transactions.queryByOutTradeNo(OUT_TRADE_NO)).rejects.toThrow()
    expect(hosts()).toEqual([PRIMARY])
  })

  it('tries the backup only once: both down is the backup NetworkError after 2 requests', async () => {
    const { wxpay, hosts } = setup({ fail: 'network' }, { fail: 'network' })
    await expect(wxpay.transactions.close(OUT_TRADE_NO)).rejects.toBeInstanceOf(NetworkError)
    expect(hosts()).toEqual([PRIMARY, BACKUP])
  })

  it('a GET with retries fails over within each attempt', async () => {
    const { wxpay, hosts } = setup(
      { fail: 'network' },
      { fail: 'network' },
      { backupBaseUrl: true, maxRetries: 1 },
    )
    await expect(wxpay.transactions.queryByOutTradeNo(OUT_TRADE_NO)).rejects.toBeInstanceOf(
      NetworkError,
    )
    expect(hosts()).toEqual([PRIMARY, BACKUP, PRIMARY, BACKUP])
  })

  it('does not fail over when the caller aborted', async () => {
    const { wxpay, hosts } = setup({ fail: 'hang' }, { body: paid })
    const controller = new AbortController()
    const pending = wxpay.transactions.queryByOutTradeNo(OUT_TRADE_NO, {
      signal: controller.signal,
    })
    controller.abort()
    await expect(pending).rejects.toBeInstanceOf(NetworkError)
    await expect(pending).rejects.not.toBeInstanceOf(TimeoutError)
    expect(hosts()).toEqual([PRIMARY])
  })

  it('checks the backup URL: same path as the base URL, a known host for true', () => {
    const base = { ...fakeClientOptions(m, createFakeWechat(m), clock) }
    expect(
      () =>
        new WechatPayClient({
          ...base,
          baseUrl: 'http://127.0.0.1:1/wx',
          backupBaseUrl: 'http://127.0.0.1:2',
        }),
    ).toThrow(ConfigError)
    expect(
      () => new WechatPayClient({ ...base, baseUrl: 'http://127.0.0.1:1', backupBaseUrl: true }),
    ).toThrow(ConfigError)
    expect(new WechatPayClient({ ...base, backupBaseUrl: true }).backupOrigin).toBe(BACKUP)
    expect(new WechatPayClient({ ...base, backupBaseUrl: false }).backupOrigin).toBeUndefined()
    expect(
      new WechatPayClient({ ...base, backupBaseUrl: 'https://api2.wechatpay.cn/' }).backupOrigin,
    ).toBe('https://api2.wechatpay.cn')
  })
})

describe('backup domain over real sockets', () => {
  it('a closed primary port (connection refused) fails over to a live backup server', async () => {
    // A port that was just ours and is now closed: connecting to it is refused.
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const closedPort = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))

    const seen: { method?: string; url?: string; headers: IncomingHttpHeaders }[] = []
    const backup = createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, headers: req.headers })
      const body = JSON.stringify({ ...paid, mchid: m.mchid })
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Request-ID': 'backup-1',
        ...signResponse({
          body,
          privateKey: m.platformPrivateKey,
          serial: m.platformPublicKeyId,
          timestamp: Math.floor(NOW / 1000),
        }),
      })
      res.end(body)
    })
    await new Promise<void>((resolve) => backup.listen(0, '127.0.0.1', resolve))
    const backupPort = (backup.address() as AddressInfo).port
    try {
      const client = new WechatPayClient({
        ...fakeClientOptions(m, createFakeWechat(m), clock),
        transport: undefined, // the real fetch
        baseUrl: `http://127.0.0.1:${closedPort}`,
        backupBaseUrl: `http://127.0.0.1:${backupPort}`,
        maxRetries: 0,
      })
      const res = await client.request<{ out_trade_no: string }>({
        method: 'GET',
        path: QUERY_PATH,
        query: { mchid: m.mchid },
      })
      expect(res.data.out_trade_no).toBe(OUT_TRADE_NO)
      expect(res.requestId).toBe('backup-1')
      expect(seen).toHaveLength(1)
      expect(seen[0]!.url).toBe(`${QUERY_PATH}?mchid=${m.mchid}`)
      expect(parseAuthorization(String(seen[0]!.headers.authorization)).mchid).toBe(m.mchid)
    } finally {
      backup.closeAllConnections()
      await new Promise<void>((resolve) => backup.close(() => resolve()))
    }
  })

  it('without a backup, the refused connection is a NetworkError naming ECONNREFUSED', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const client = new WechatPayClient({
      ...fakeClientOptions(m, createFakeWechat(m), clock),
      transport: undefined,
      baseUrl: `http://127.0.0.1:${port}`,
      maxRetries: 0,
    })
    const e = await client
      .request({ method: 'GET', path: QUERY_PATH, query: { mchid: m.mchid } })
      .catch((err: unknown) => err)
    expect(e).toBeInstanceOf(NetworkError)
    expect((e as Error).message).toContain('ECONNREFUSED')
  })
})
