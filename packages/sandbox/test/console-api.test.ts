/**
 * The console's read endpoints (GET /__sandbox/console/…, routes/console.ts) and the controls the
 * console adds (the clock's scale), against a sandbox driven by the real SDK and a notify endpoint
 * that refuses the first delivery of each notification, then accepts.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WechatPay } from '@fen/wechatpay'
import type {
  ConsoleCall,
  ConsoleOrderDetail,
  ConsoleOrderSummary,
  ConsoleOverview,
  ConsolePage,
  ConsoleRefund,
} from '../src/console-api'
import type { SandboxKeys } from '../src/keys'
import { sandboxKeys } from './support/keys'
import { startSandbox, type RunningSandbox } from '../src/server'

let keys: SandboxKeys
let sb: RunningSandbox
let wxpay: WechatPay
let endpoint: Server
let notifyUrl: string
/** Notification ids the endpoint has refused once. */
const refused = new Set<string>()

beforeAll(async () => {
  keys = await sandboxKeys()
  sb = await startSandbox({ keys, port: 0, refundSettleSeconds: false })
  wxpay = sdk(sb)
  endpoint = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id
      if (refused.has(id)) return void res.writeHead(204).end()
      refused.add(id)
      res.writeHead(500).end('busy')
    })
  })
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve))
  notifyUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/notify`
})
afterAll(async () => {
  await sb?.close()
  endpoint?.closeAllConnections()
  await new Promise((resolve) => (endpoint ? endpoint.close(resolve) : resolve(undefined)))
})
afterEach(async () => {
  await fetch(`${sb.url}/__sandbox/reset`, { method: 'POST' })
})

/** The SDK against a sandbox, with no retries (a test sees each answer as it is). */
function sdk(target: RunningSandbox): WechatPay {
  const m = target.merchant
  return new WechatPay({
    baseUrl: target.url,
    mchid: m.mchid,
    appid: m.appid,
    serialNo: m.merchantSerialNo,
    privateKey: m.merchantPrivateKey,
    apiV3Key: m.apiV3Key,
    platform: { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
    maxRetries: 0,
  })
}

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${sb.url}/__sandbox/${path}`)
  return { status: res.status, body: (await res.json()) as T }
}
async function post(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${sb.url}/__sandbox/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}
async function until<T>(check: () => Promise<T | undefined | false>, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await check()
    if (v) return v
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

let n = 0
async function prepay(description = 'console test', total = 1000): Promise<string> {
  const no = `FENCON${Date.now().toString(36)}${(n++).toString(36)}`
  await wxpay.transactions.native({
    description,
    out_trade_no: no,
    notify_url: notifyUrl,
    amount: { total },
  })
  return no
}

const BEIJING = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/

describe('GET /__sandbox/console/overview', () => {
  it('says the clock, merchant, settling mode, fault kinds and counts, in Beijing time', async () => {
    const no = await prepay()
    await post('faults', { target: '/v3/refund', kind: 'error429' })
    const { status, body } = await get<ConsoleOverview>('console/overview')
    expect(status).toBe(200)
    expect(body.now).toMatch(BEIJING)
    expect(body.scale).toBe(1)
    expect(body.merchant).toEqual({
      mchid: keys.mchid,
      appid: keys.appid,
      platform_mode: 'publicKey',
    })
    expect(body.refund_settle_seconds).toBeNull()
    expect(body.fault_kinds.paths).toContain('error500')
    expect(body.fault_kinds.notifications).toContain('drop')
    expect(body.faults).toEqual([{ target: '/v3/refund', kind: 'error429', remaining: 1 }])
    expect(body.counts).toEqual({
      orders: 1,
      refunds: 0,
      refunds_pending: 0,
      notifications: 0,
      calls: 1,
    })
    expect(no).toMatch(/^FENCON/)
  })

  it('gives the automatic settling delay when refunds settle by themselves', async () => {
    const other = await startSandbox({ keys, port: 0, refundSettleSeconds: 5 })
    try {
      const res = await fetch(`${other.url}/__sandbox/console/overview`)
      expect(((await res.json()) as ConsoleOverview).refund_settle_seconds).toBe(5)
    } finally {
      await other.close()
    }
  })
})

describe('GET /__sandbox/console/orders', () => {
  it('lists newest first, searches, filters by state, and finds one by code_url', async () => {
    const a = await prepay('挂耳咖啡')
    const b = await prepay('手冲滤杯')
    await post('pay', { out_trade_no: b })
    const all = (await get<ConsolePage<ConsoleOrderSummary>>('console/orders')).body
    expect(all.items.map((o) => o.out_trade_no)).toEqual([b, a])
    expect(all).toMatchObject({ total: 2, matched: 2 })
    expect(all.items[0]!.created_at).toMatch(BEIJING)
    expect(all.items[0]!.transaction_id).toMatch(/^\d+$/)

    const paid = (await get<ConsolePage<ConsoleOrderSummary>>('console/orders?state=SUCCESS')).body
    expect(paid.items.map((o) => o.out_trade_no)).toEqual([b])
    const found = (
      await get<ConsolePage<ConsoleOrderSummary>>(`console/orders?q=${encodeURIComponent('咖啡')}`)
    ).body
    expect(found.items.map((o) => o.out_trade_no)).toEqual([a])

    const { code_url } = await wxpay.transactions.native({
      description: 'scanned',
      out_trade_no: `${a}Q`,
      notify_url: notifyUrl,
      amount: { total: 1000 },
    })
    const byCode = (
      await get<ConsolePage<ConsoleOrderSummary>>(
        `console/orders?code_url=${encodeURIComponent(code_url)}`,
      )
    ).body
    expect(byCode.items.map((o) => o.out_trade_no)).toEqual([`${a}Q`])
    const one = (await get<ConsolePage<ConsoleOrderSummary>>('console/orders?limit=1')).body
    expect(one).toMatchObject({ total: 3, matched: 3 })
    expect(one.items).toHaveLength(1)
  })

  it('refuses a limit outside 1 … 1000 with 400 INVALID_INPUT', async () => {
    for (const limit of ['0', '1001', 'x', '1.5']) {
      const r = await get<{ code: string; message: string }>(`console/orders?limit=${limit}`)
      expect(r.status).toBe(400)
      expect(r.body.code).toBe('INVALID_INPUT')
      expect(r.body.message).toMatch(/limit/)
    }
  })
})

describe('GET /__sandbox/console/orders/:out_trade_no', () => {
  it('has the order, its calls, and each attempt with its headers, raw body and decrypted resource', async () => {
    const no = await prepay('详情', 2990)
    await wxpay.transactions.queryByOutTradeNo(no)
    await post('pay', { out_trade_no: no })
    // The endpoint refuses the first attempt; the retry is due 15 s later.
    await until(
      async () =>
        (await get<ConsoleOrderDetail>(`console/orders/${no}`)).body.notifications[0]?.attempts
          .length,
      'a first attempt',
    )
    await post('clock', { advanceSeconds: 15 })
    const detail = await until(async () => {
      const d = (await get<ConsoleOrderDetail>(`console/orders/${no}`)).body
      return d.notifications[0]?.status === 'delivered' && d
    }, 'the retry')

    expect(detail.order).toMatchObject({
      out_trade_no: no,
      trade_state: 'SUCCESS',
      total: 2990,
      notify_url: notifyUrl,
      appid: keys.appid,
    })
    expect(detail.order.success_time).toMatch(BEIJING)
    expect(detail.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      `GET /v3/pay/transactions/out-trade-no/${no}`,
      'POST /v3/pay/transactions/native',
    ])
    const [n] = detail.notifications
    expect(n!.attempts.map((a) => [a.status, a.ok])).toEqual([
      [500, false],
      [204, true],
    ])
    const tx = await wxpay.transactions.queryByOutTradeNo(no)
    for (const a of n!.attempts) {
      expect(a.headers!['Wechatpay-Serial']).toBe(keys.platformPublicKeyId)
      expect(a.headers!['Wechatpay-Signature']).toMatch(/^[A-Za-z0-9+/]+=*$/)
      expect(JSON.parse(a.body!).event_type).toBe('TRANSACTION.SUCCESS')
      expect(a.resource).toEqual(tx)
    }
    // Each attempt is signed afresh.
    expect(n!.attempts[0]!.headers!['Wechatpay-Nonce']).not.toBe(
      n!.attempts[1]!.headers!['Wechatpay-Nonce'],
    )
  })

  it('answers 404 ORDER_NOT_EXIST for an unknown order', async () => {
    const r = await get<{ code: string }>('console/orders/FENNOPE')
    expect(r.status).toBe(404)
    expect(r.body.code).toBe('ORDER_NOT_EXIST')
  })
})

describe('GET /__sandbox/console/calls', () => {
  it('filters by method, path, status, order and a search, newest first', async () => {
    const a = await prepay()
    const b = await prepay()
    await wxpay.transactions.queryByOutTradeNo(a)
    await wxpay.transactions.close(b)
    await wxpay.transactions.queryByOutTradeNo('FENNOSUCH').catch(() => undefined)
    const paths = async (q: string) =>
      (await get<ConsolePage<ConsoleCall>>(`console/calls${q}`)).body.items.map(
        (c) => `${c.method} ${c.path} ${c.status}`,
      )

    const all = (await get<ConsolePage<ConsoleCall>>('console/calls')).body
    expect(all).toMatchObject({ total: 5, matched: 5 })
    expect(all.items.map((c) => c.seq)).toEqual(
      [...all.items.map((c) => c.seq)].sort((x, y) => y - x),
    )
    expect(await paths('?method=get')).toEqual([
      'GET /v3/pay/transactions/out-trade-no/FENNOSUCH 404',
      `GET /v3/pay/transactions/out-trade-no/${a} 200`,
    ])
    expect(await paths('?status=4xx')).toEqual([
      'GET /v3/pay/transactions/out-trade-no/FENNOSUCH 404',
    ])
    expect(await paths('?status=204')).toEqual([
      `POST /v3/pay/transactions/out-trade-no/${b}/close 204`,
    ])
    expect(await paths('?path=%2Fclose')).toEqual([
      `POST /v3/pay/transactions/out-trade-no/${b}/close 204`,
    ])
    expect(await paths(`?out_trade_no=${a}`)).toEqual([
      `GET /v3/pay/transactions/out-trade-no/${a} 200`,
      'POST /v3/pay/transactions/native 200',
    ])
    expect(await paths(`?q=${b.toLowerCase()}`)).toHaveLength(2)
    expect(await paths('?status=none')).toEqual([])
  })

  it('refuses an unknown status filter with 400', async () => {
    const r = await get<{ code: string; message: string }>('console/calls?status=ok')
    expect(r.status).toBe(400)
    expect(r.body.message).toMatch(/status/)
  })
})

describe('GET /__sandbox/console/refunds and /notifications', () => {
  it('lists pending refunds, and notifications newest first', async () => {
    const no = await prepay('退款', 3000)
    await post('pay', { out_trade_no: no })
    await wxpay.refunds.create({
      out_trade_no: no,
      out_refund_no: `R${no}`,
      amount: { refund: 1000, total: 3000, currency: 'CNY' },
    })
    await wxpay.refunds.create({
      out_trade_no: no,
      out_refund_no: `S${no}`,
      amount: { refund: 500, total: 3000, currency: 'CNY' },
    })
    await post(`refunds/S${no}`, { status: 'SUCCESS' })
    const pending = (await get<ConsolePage<ConsoleRefund>>('console/refunds?status=pending')).body
    expect(pending.items.map((r) => [r.out_refund_no, r.status, r.refund, r.total])).toEqual([
      [`R${no}`, 'PROCESSING', 1000, 3000],
    ])
    // Settled only by hand here: no automatic time.
    expect(pending.items[0]!.settles_at).toBeUndefined()
    const all = (await get<ConsolePage<ConsoleRefund>>('console/refunds')).body
    expect(all.items.map((r) => r.out_refund_no)).toEqual([`S${no}`, `R${no}`])
    expect(all.items[0]!.success_time).toMatch(BEIJING)

    const notifications = (
      await get<ConsolePage<{ event_type: string }>>(`console/notifications?q=${no}`)
    ).body
    expect(notifications.items.map((x) => x.event_type)).toEqual([
      'REFUND.SUCCESS',
      'TRANSACTION.SUCCESS',
    ])
  })

  it('says when a refund settles by itself', async () => {
    const other = await startSandbox({ keys, port: 0, refundSettleSeconds: 3600 })
    try {
      const client = sdk(other)
      await client.transactions.native({
        description: 'x',
        out_trade_no: 'FENAUTO1',
        notify_url: notifyUrl,
        amount: { total: 100 },
      })
      await fetch(`${other.url}/__sandbox/pay`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ out_trade_no: 'FENAUTO1' }),
      })
      const refund = await client.refunds.create({
        out_trade_no: 'FENAUTO1',
        out_refund_no: 'RFENAUTO1',
        amount: { refund: 100, total: 100, currency: 'CNY' },
      })
      const res = await fetch(`${other.url}/__sandbox/console/refunds`)
      const [row] = ((await res.json()) as ConsolePage<ConsoleRefund>).items
      expect(Date.parse(row!.settles_at!) - Date.parse(refund.create_time)).toBe(3600_000)
    } finally {
      await other.close()
    }
  })
})

describe('POST /__sandbox/clock {scale}', () => {
  it('sets the time scale without moving sandbox time, and refuses a scale that is not positive', async () => {
    const before = Date.parse((await get<{ now: string }>('clock')).body.now)
    const r = await post('clock', { scale: 600 })
    expect(r.status).toBe(200)
    expect((r.body as { scale: number }).scale).toBe(600)
    // A jump would be hours; running at 600× for the few ms of this call moves it seconds at most.
    expect(Date.parse((r.body as { now: string }).now) - before).toBeLessThan(600 * 60_000)
    expect((await post('clock', { scale: 1 })).status).toBe(200)
    for (const scale of [0, -1, '2']) {
      const bad = await post('clock', { scale })
      expect(bad.status).toBe(400)
      expect((bad.body as { message: string }).message).toMatch(/scale/)
    }
    expect((await get<{ scale: number }>('clock')).body.scale).toBe(1)
  })
})
