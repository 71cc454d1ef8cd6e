import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  WechatPay,
  WechatPayV2,
  parseXml,
  v2NotificationReply,
  verifyV2,
  SIGNTEST_PREFIX,
} from '@fen/wechatpay'
import type { SandboxKeys } from '../src/keys'
import type { NotificationRecord } from '../src/notifier'
import { startSandbox, type RunningSandbox } from '../src/server'
import { sleep, until } from './support/until'
import { sandboxKeys } from './support/keys'

// ---- the merchant's notify endpoint, scripted per test -------------------------------------

interface Received {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

interface Reply {
  status: number
  body?: string
  contentType?: string
  /** Real ms to wait before answering. */
  delayMs?: number
}

interface NotifyServer {
  /** Base URL of the server; notify URLs are `${url}/notify`. */
  url: string
  notifyUrl: string
  received: Received[]
  close(): Promise<void>
}

const servers: NotifyServer[] = []

/** A local notify endpoint; `respond` gets each request and its index (0-based). */
async function notifyServer(respond: (req: Received, n: number) => Reply): Promise<NotifyServer> {
  const received: Received[] = []
  const timers = new Set<NodeJS.Timeout>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      const n = received.length
      received.push(r)
      const reply = respond(r, n)
      const answer = (out: ServerResponse) => {
        if (out.destroyed) return
        out.writeHead(reply.status, {
          ...(reply.body !== undefined
            ? { 'Content-Type': reply.contentType ?? 'application/json' }
            : {}),
        })
        out.end(reply.body)
      }
      if (reply.delayMs) {
        const t = setTimeout(() => {
          timers.delete(t)
          answer(res)
        }, reply.delayMs)
        timers.add(t)
      } else {
        answer(res)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  const s: NotifyServer = {
    url,
    notifyUrl: `${url}/notify`,
    received,
    close: async () => {
      for (const t of timers) clearTimeout(t)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  servers.push(s)
  return s
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

// ---- the sandbox side ------------------------------------------------------------------------

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

async function call(
  sb: RunningSandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(sb.url + path, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

function merchantClient(sb: RunningSandbox): WechatPay {
  const m = sb.merchant
  return new WechatPay({
    mchid: m.mchid,
    appid: m.appid,
    serialNo: m.merchantSerialNo,
    privateKey: m.merchantPrivateKey,
    apiV3Key: m.apiV3Key,
    baseUrl: sb.url,
    platform: { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
  })
}

let seq = 0
const newOutTradeNo = () => `N${Date.now()}${String(++seq).padStart(4, '0')}`

/** A Native order made with a real signed APIv3 prepay request. */
async function createOrder(sb: RunningSandbox, notifyUrl: string): Promise<string> {
  const outTradeNo = newOutTradeNo()
  const { code_url } = await merchantClient(sb).transactions.native({
    appid: sb.merchant.appid,
    description: 'notifier test',
    out_trade_no: outTradeNo,
    notify_url: notifyUrl,
    amount: { total: 100 },
  })
  expect(code_url).toMatch(/^weixin:\/\//)
  return outTradeNo
}

/** The user pays (control API); returns the Transaction. */
async function pay(sb: RunningSandbox, outTradeNo: string): Promise<Json> {
  const r = await call(sb, 'POST', '/__sandbox/pay', { out_trade_no: outTradeNo })
  expect(r.status).toBe(200)
  expect(r.body.trade_state).toBe('SUCCESS')
  return r.body
}

async function records(sb: RunningSandbox, outTradeNo: string): Promise<NotificationRecord[]> {
  const r = await call(
    sb,
    'GET',
    `/__sandbox/notifications?out_trade_no=${encodeURIComponent(outTradeNo)}`,
  )
  expect(r.status).toBe(200)
  return r.body as NotificationRecord[]
}

/** The one notification of an order, once `ok` holds for it. */
async function record(
  sb: RunningSandbox,
  outTradeNo: string,
  ok: (r: NotificationRecord) => boolean,
  timeoutMs = 5000,
): Promise<NotificationRecord> {
  const list = await until(
    () => records(sb, outTradeNo),
    (l) => l.length === 1 && ok(l[0]!),
    timeoutMs,
  )
  return list[0]!
}

/** The attempt has been recorded and the notifier has decided what comes next. */
const settled = (r: NotificationRecord) => r.status !== 'pending' || r.next_attempt_at !== undefined

const seconds = (rfc3339: string) => Date.parse(rfc3339) / 1000

/** Offsets of each attempt from the first, in sandbox seconds. */
const offsets = (r: NotificationRecord) =>
  r.attempts.map((a) => seconds(a.at) - seconds(r.attempts[0]!.at))

async function advance(sb: RunningSandbox, s: number): Promise<void> {
  const r = await call(sb, 'POST', '/__sandbox/clock', { advanceSeconds: s })
  expect(r.status).toBe(200)
}

/**
 * Walks a notification through its whole schedule on a scale-1 sandbox: after each attempt,
 * advances the clock just past the next due time (never past the one after), so every attempt
 * runs exactly at its due time. Returns the final record.
 */
async function walkSchedule(sb: RunningSandbox, outTradeNo: string): Promise<NotificationRecord> {
  let rec = await record(sb, outTradeNo, (r) => r.attempts.length >= 1 && settled(r))
  while (rec.status === 'pending') {
    const n = rec.attempts.length
    const next = Date.parse(rec.next_attempt_at!) // whole seconds: the due time is within 1 s after
    const now = Date.parse((await call(sb, 'GET', '/__sandbox/clock')).body.now)
    await advance(sb, Math.max(0, (next + 1500 - now) / 1000))
    rec = await record(sb, outTradeNo, (r) => r.attempts.length > n && settled(r))
    expect(rec.attempts.length).toBe(n + 1)
  }
  return rec
}

const notificationId = (r: Received) => (JSON.parse(r.body) as { id: string }).id

// WeChat's APIv3 schedule as offsets from the first attempt (s): 16 attempts over 24 h 4 min.
const V3_OFFSETS = [
  0, 15, 30, 60, 240, 840, 2040, 3840, 5640, 7440, 11040, 21840, 32640, 43440, 65040, 86640,
]
// APIv2: 15/15/30/180/1800/1800/1800/1800/3600 → 10 attempts.
const V2_OFFSETS = [0, 15, 30, 60, 240, 2040, 3840, 5640, 7440, 11040]

let keys: SandboxKeys
/** 600×: WeChat's retry schedule in minutes instead of a day. */
let fast: RunningSandbox
/** 1×: time moves only by the clock API (plus real time), for exact checks. */
let manual: RunningSandbox

beforeAll(async () => {
  keys = await sandboxKeys()
  fast = await startSandbox({ keys, port: 0, timeScale: 600 })
  manual = await startSandbox({ keys, port: 0, timeScale: 1 })
})

afterAll(async () => {
  await fast?.close()
  await manual?.close()
})

afterEach(async () => {
  // Cancels pending retries before the servers they aim at go away.
  await call(fast, 'POST', '/__sandbox/reset')
  await call(manual, 'POST', '/__sandbox/reset')
  for (const s of servers.splice(0)) await s.close()
})

// ---- delivery and the retry schedule -------------------------------------------------------

describe('notification delivery at 600×', () => {
  it('500, 500, 500 then 204: exactly 4 attempts at +15 s, +30 s, +60 s, then delivered', async () => {
    const server = await notifyServer((_r, n) => (n < 3 ? { status: 500 } : { status: 204 }))
    const no = await createOrder(fast, server.notifyUrl)
    await pay(fast, no)
    const rec = await record(fast, no, (r) => r.status === 'delivered')
    expect(rec.attempts.map((a) => a.status)).toEqual([500, 500, 500, 204])
    expect(rec.attempts.map((a) => a.ok)).toEqual([false, false, false, true])
    expect(offsets(rec)).toEqual([0, 15, 30, 60])
    expect(rec.next_attempt_at).toBeUndefined()
    expect(rec.event_type).toBe('TRANSACTION.SUCCESS')
    expect(rec.version).toBe('v3')
    expect(rec.url).toBe(server.notifyUrl)

    // The merchant saw the same notification 4 times, each signed afresh.
    expect(server.received).toHaveLength(4)
    expect(new Set(server.received.map(notificationId))).toEqual(new Set([rec.id]))
    expect(server.received.every((r) => r.method === 'POST' && r.path === '/notify')).toBe(true)
    const nonces = server.received.map((r) => r.headers['wechatpay-nonce'])
    expect(new Set(nonces).size).toBe(4)

    // And no 5th: 100 ms real is a minute of sandbox time, past where the next retry would be.
    await sleep(100)
    expect(server.received).toHaveLength(4)
    const after = await record(fast, no, () => true)
    expect(after.attempts).toHaveLength(4)
  })

  it('offsets stay exact when each failing reply takes longer than an interval at this scale', async () => {
    // 40 ms real is 24 sandbox seconds at 600×: longer than the 15 s interval, well inside the
    // (real, unscaled) 5000 ms deadline. The schedule must not stretch because of it: the
    // notifier promises offsets of exactly 15 s, 30 s, 60 s in sandbox time. (Under CPU load a
    // plain local round trip can take this long too, which makes the test above flaky.)
    const server = await notifyServer((_r, n) =>
      n < 3 ? { status: 500, delayMs: 40 } : { status: 204 },
    )
    const no = await createOrder(fast, server.notifyUrl)
    await pay(fast, no)
    const rec = await record(fast, no, (r) => r.status === 'delivered')
    expect(rec.attempts.map((a) => a.status)).toEqual([500, 500, 500, 204])
    expect(rec.attempts[0]!.ms).toBeGreaterThanOrEqual(35)
    expect(offsets(rec)).toEqual([0, 15, 30, 60])
  })

  it('a 200 with a body counts as success (even {"code":"FAIL"}: WeChat judges by status)', async () => {
    const server = await notifyServer(() => ({
      status: 200,
      body: JSON.stringify({ code: 'FAIL', message: '失败' }),
    }))
    const no = await createOrder(fast, server.notifyUrl)
    await pay(fast, no)
    const rec = await record(fast, no, (r) => r.status === 'delivered')
    expect(rec.attempts).toHaveLength(1)
    expect(rec.attempts[0]).toMatchObject({ status: 200, ok: true })
    expect(rec.attempts[0]!.reply).toContain('FAIL')
    await sleep(50)
    expect(server.received).toHaveLength(1)
  })

  it('a 4xx is a failure and is retried', async () => {
    const server = await notifyServer((_r, n) =>
      n === 0
        ? { status: 401, body: JSON.stringify({ code: 'FAIL', message: '签名错误' }) }
        : { status: 200 },
    )
    const no = await createOrder(fast, server.notifyUrl)
    await pay(fast, no)
    const rec = await record(fast, no, (r) => r.status === 'delivered')
    expect(rec.attempts.map((a) => [a.status, a.ok])).toEqual([
      [401, false],
      [200, true],
    ])
    expect(rec.attempts[0]!.reply).toContain('签名错误')
  })

  it('a reply slower than the 5000 ms deadline is a failure (the next attempt follows)', async () => {
    const server = await notifyServer((_r, n) =>
      n === 0 ? { status: 204, delayMs: 6000 } : { status: 204 },
    )
    const no = await createOrder(fast, server.notifyUrl)
    await pay(fast, no)
    const rec = await record(fast, no, (r) => r.status === 'delivered', 12_000)
    expect(rec.attempts).toHaveLength(2)
    const [slow, next] = rec.attempts
    expect(slow).toMatchObject({ status: 0, ok: false })
    expect(slow!.reply).toContain('5000 ms')
    expect(slow!.ms).toBeGreaterThanOrEqual(4900)
    expect(slow!.ms).toBeLessThan(6000)
    expect(next).toMatchObject({ status: 204, ok: true })
    // The retry was due 15 s after the first attempt; it took longer, so it went at once.
    expect(offsets(rec)[1]).toBeGreaterThanOrEqual(15)
    expect(server.received).toHaveLength(2)
  }, 15_000)

  it('connection refused is a failure with status 0', async () => {
    const port = await closedPort()
    const no = await createOrder(fast, `http://127.0.0.1:${port}/notify`)
    await pay(fast, no)
    const rec = await record(fast, no, (r) => r.attempts.length >= 2 && settled(r))
    expect(rec.status).toBe('pending')
    for (const a of rec.attempts) {
      expect(a).toMatchObject({ status: 0, ok: false })
      expect(a.reply).toMatch(/ECONNREFUSED/)
    }
  })
})

describe('the whole schedule', () => {
  it('an endpoint that always fails: 16 attempts at WeChat offsets, then failed', async () => {
    const server = await notifyServer(() => ({ status: 503 }))
    const no = await createOrder(manual, server.notifyUrl)
    await pay(manual, no)
    const rec = await walkSchedule(manual, no)
    expect(rec.status).toBe('failed')
    expect(rec.next_attempt_at).toBeUndefined()
    expect(rec.attempts).toHaveLength(16)
    expect(offsets(rec)).toEqual(V3_OFFSETS)
    expect(rec.attempts.every((a) => a.status === 503 && !a.ok)).toBe(true)
    expect(server.received).toHaveLength(16)
    // Nothing more, however long one waits.
    await advance(manual, 7 * 24 * 3600)
    await sleep(50)
    expect(server.received).toHaveLength(16)
  })

  it('at 100000× the whole schedule runs out in about a second of real time', async () => {
    const turbo = await startSandbox({ keys, port: 0, timeScale: 100_000 })
    try {
      const server = await notifyServer(() => ({ status: 500 }))
      const no = await createOrder(turbo, server.notifyUrl)
      const started = Date.now()
      await pay(turbo, no)
      const rec = await record(turbo, no, (r) => r.status === 'failed', 8000)
      expect(Date.now() - started).toBeLessThan(8000)
      expect(rec.attempts).toHaveLength(16)
      expect(server.received).toHaveLength(16)
      // At this scale an attempt can outlast a 15 s interval, so the next one then goes at once:
      // each gap is at least its interval, and the schedule is never cut short.
      const at = rec.attempts.map((a) => seconds(a.at))
      for (let k = 1; k < 16; k++) {
        expect(at[k]! - at[k - 1]!).toBeGreaterThanOrEqual(V3_OFFSETS[k]! - V3_OFFSETS[k - 1]!)
      }
    } finally {
      await turbo.close()
    }
  })
})

// ---- faults ----------------------------------------------------------------------------------

async function armNotificationFault(
  sb: RunningSandbox,
  kind: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const r = await call(sb, 'POST', '/__sandbox/faults', { target: 'notifications', kind, ...extra })
  expect(r.status).toBe(200)
  expect(r.body.armed).toEqual([
    expect.objectContaining({ target: 'notifications', kind, remaining: 1 }),
  ])
}

describe('notification faults', () => {
  it('drop: the notification is recorded as dropped and never sent', async () => {
    const server = await notifyServer(() => ({ status: 204 }))
    const dropped = await createOrder(manual, server.notifyUrl)
    const normal = await createOrder(manual, server.notifyUrl)
    await armNotificationFault(manual, 'drop')
    await pay(manual, dropped)
    const rec = await record(manual, dropped, () => true)
    expect(rec.status).toBe('dropped')
    expect(rec.attempts).toEqual([])
    expect(rec.next_attempt_at).toBeUndefined()
    // The fault was used up: the next notification goes out as usual.
    expect((await call(manual, 'GET', '/__sandbox/faults')).body).toEqual([])
    await pay(manual, normal)
    const ok = await record(manual, normal, (r) => r.status === 'delivered')
    await advance(manual, 2 * 24 * 3600)
    await sleep(50)
    expect(server.received.map(notificationId)).toEqual([ok.id])
    expect((await record(manual, dropped, () => true)).attempts).toEqual([])
  })

  it('duplicate: the first attempt is delivered twice, with the same notification id', async () => {
    const server = await notifyServer(() => ({ status: 204 }))
    const no = await createOrder(manual, server.notifyUrl)
    await armNotificationFault(manual, 'duplicate')
    await pay(manual, no)
    const rec = await record(manual, no, (r) => r.status === 'delivered' && r.attempts.length === 2)
    expect(server.received).toHaveLength(2)
    expect(server.received.map(notificationId)).toEqual([rec.id, rec.id])
    expect(rec.attempts.map((a) => [a.status, a.ok])).toEqual([
      [204, true],
      [204, true],
    ])
    expect(rec.attempts[0]!.at).toBe(rec.attempts[1]!.at)
    await advance(manual, 3600)
    await sleep(50)
    expect(server.received).toHaveLength(2)
  })

  it('delay 30 s: nothing is sent until the sandbox clock passes 30 s', async () => {
    const server = await notifyServer(() => ({ status: 204 }))
    const no = await createOrder(manual, server.notifyUrl)
    await armNotificationFault(manual, 'delay', { seconds: 30 })
    const tx = await pay(manual, no)
    const pending = await record(manual, no, () => true)
    expect(pending.status).toBe('pending')
    expect(pending.attempts).toEqual([])
    const due = seconds(pending.next_attempt_at!) - seconds(tx.success_time)
    expect(due).toBeGreaterThanOrEqual(30)
    expect(due).toBeLessThanOrEqual(31)
    await sleep(100)
    expect(server.received).toHaveLength(0)
    await advance(manual, 29)
    await sleep(100)
    expect(server.received).toHaveLength(0)
    await advance(manual, 2)
    const rec = await record(manual, no, (r) => r.status === 'delivered')
    expect(server.received).toHaveLength(1)
    expect(rec.attempts).toHaveLength(1)
    expect(seconds(rec.attempts[0]!.at)).toBe(seconds(pending.next_attempt_at!))
  })

  it('reorder: the held notification goes out after the next one', async () => {
    const server = await notifyServer(() => ({ status: 204 }))
    const first = await createOrder(manual, server.notifyUrl)
    const second = await createOrder(manual, server.notifyUrl)
    await armNotificationFault(manual, 'reorder')
    await pay(manual, first)
    const held = await record(manual, first, () => true)
    expect(held.status).toBe('pending')
    expect(held.attempts).toEqual([])
    await sleep(100)
    expect(server.received).toHaveLength(0)
    await pay(manual, second)
    const a = await record(manual, first, (r) => r.status === 'delivered')
    const b = await record(manual, second, (r) => r.status === 'delivered')
    expect(server.received.map(notificationId)).toEqual([b.id, a.id])
    expect(seconds(a.attempts[0]!.at)).toBeGreaterThanOrEqual(seconds(b.attempts[0]!.at))
  })

  it('reorder with nothing following: the held notification goes out after 60 s', async () => {
    const server = await notifyServer(() => ({ status: 204 }))
    const no = await createOrder(manual, server.notifyUrl)
    await armNotificationFault(manual, 'reorder')
    await pay(manual, no)
    await sleep(50)
    expect(server.received).toHaveLength(0)
    await advance(manual, 61)
    await record(manual, no, (r) => r.status === 'delivered')
    expect(server.received).toHaveLength(1)
  })

  it('probe: a WECHATPAY/SIGNTEST/ attempt first, never counted as delivery; the real one 15 s later', async () => {
    const server = await notifyServer(() => ({ status: 204 }))
    const wxpay = merchantClient(manual)
    const no = await createOrder(manual, server.notifyUrl)
    await armNotificationFault(manual, 'probe')
    await pay(manual, no)
    const probed = await record(manual, no, (r) => r.attempts.length === 1 && settled(r))
    expect(probed.status).toBe('pending')
    expect(probed.attempts[0]).toMatchObject({ probe: true, status: 204, ok: false })
    expect(server.received).toHaveLength(1)
    const probe = server.received[0]!
    expect(String(probe.headers['wechatpay-signature'])).toMatch(/^WECHATPAY\/SIGNTEST\//)
    expect(String(probe.headers['wechatpay-signature']).startsWith(SIGNTEST_PREFIX)).toBe(true)
    await expect(
      wxpay.parseNotification(probe.headers as Record<string, string>, probe.body),
    ).rejects.toThrow()
    expect(seconds(probed.next_attempt_at!) - seconds(probed.attempts[0]!.at)).toBe(15)

    await advance(manual, 16)
    const rec = await record(manual, no, (r) => r.status === 'delivered')
    expect(rec.attempts).toHaveLength(2)
    expect(rec.attempts[1]).toMatchObject({ status: 204, ok: true })
    expect(rec.attempts[1]!.probe).toBeUndefined()
    expect(offsets(rec)).toEqual([0, 15])
    const real = server.received[1]!
    expect(String(real.headers['wechatpay-signature'])).not.toMatch(/SIGNTEST/)
    const event = await wxpay.parseNotification(real.headers as Record<string, string>, real.body)
    expect(event.type).toBe('transaction')
    if (event.type === 'transaction') expect(event.transaction.out_trade_no).toBe(no)
    expect(event.id).toBe(rec.id)
    expect(notificationId(probe)).toBe(rec.id)
  })
})

// ---- resend -------------------------------------------------------------------------------

describe('POST /__sandbox/notifications/:id/resend', () => {
  it('delivers a delivered notification again and returns the record', async () => {
    const server = await notifyServer(() => ({ status: 204 }))
    const no = await createOrder(manual, server.notifyUrl)
    await pay(manual, no)
    const rec = await record(manual, no, (r) => r.status === 'delivered')
    const r = await call(manual, 'POST', `/__sandbox/notifications/${rec.id}/resend`)
    expect(r.status).toBe(200)
    const resent = r.body as NotificationRecord
    expect(resent.id).toBe(rec.id)
    expect(resent.status).toBe('delivered')
    expect(resent.attempts).toHaveLength(2)
    expect(resent.attempts[1]).toMatchObject({ status: 204, ok: true })
    expect(server.received.map(notificationId)).toEqual([rec.id, rec.id])
  })

  it('a successful resend of a pending notification ends its retries', async () => {
    let up = false
    const server = await notifyServer(() => ({ status: up ? 204 : 500 }))
    const no = await createOrder(manual, server.notifyUrl)
    await pay(manual, no)
    const failing = await record(manual, no, (r) => r.attempts.length === 1 && settled(r))
    expect(failing.status).toBe('pending')
    up = true
    const r = await call(manual, 'POST', `/__sandbox/notifications/${failing.id}/resend`)
    expect(r.status).toBe(200)
    expect(r.body.status).toBe('delivered')
    expect(r.body.next_attempt_at).toBeUndefined()
    expect(r.body.attempts.map((a: { status: number }) => a.status)).toEqual([500, 204])
    await advance(manual, 3600)
    await sleep(50)
    expect(server.received).toHaveLength(2)
  })

  it('an unknown id → 404', async () => {
    const r = await call(manual, 'POST', '/__sandbox/notifications/no-such-id/resend')
    expect(r.status).toBe(404)
    expect(r.body).toEqual({ code: 'NOT_FOUND', message: expect.any(String) })
  })
})

// ---- APIv2 ---------------------------------------------------------------------------------

async function createV2Order(sb: RunningSandbox, notifyUrl: string): Promise<string> {
  const outTradeNo = newOutTradeNo()
  const v2 = new WechatPayV2({
    mchid: sb.merchant.mchid,
    appid: sb.merchant.appid,
    apiV2Key: sb.merchant.apiV2Key,
    baseUrl: sb.url,
  })
  const r = await v2.unifiedOrder({
    body: 'v2 notifier test',
    out_trade_no: outTradeNo,
    total_fee: 88,
    spbill_create_ip: '127.0.0.1',
    notify_url: notifyUrl,
    trade_type: 'NATIVE',
    product_id: 'P1',
  })
  expect(r.prepay_id).toBeTruthy()
  return outTradeNo
}

const xmlReply = (ok: boolean): Reply => ({
  status: 200,
  body: v2NotificationReply(ok),
  contentType: 'text/xml',
})

describe('APIv2 notifications', () => {
  it('a v2 order pays → a signed XML notification', async () => {
    const server = await notifyServer(() => xmlReply(true))
    const no = await createV2Order(manual, server.notifyUrl)
    await pay(manual, no)
    const rec = await record(manual, no, (r) => r.status === 'delivered')
    expect(rec.version).toBe('v2')
    expect(rec.attempts).toHaveLength(1)
    expect(server.received).toHaveLength(1)
    const got = server.received[0]!
    expect(got.headers['content-type']).toMatch(/xml/)
    expect(got.body.startsWith('<xml>')).toBe(true)
    const fields = await parseXml(got.body)
    expect(fields).toMatchObject({
      return_code: 'SUCCESS',
      result_code: 'SUCCESS',
      out_trade_no: no,
      total_fee: '88',
      mch_id: manual.merchant.mchid,
      appid: manual.merchant.appid,
    })
    expect(fields.transaction_id).toMatch(/^\d+$/)
    expect(verifyV2(fields, manual.merchant.apiV2Key, 'MD5')).toBe(true)
    const parsed = await new WechatPayV2({
      mchid: manual.merchant.mchid,
      appid: manual.merchant.appid,
      apiV2Key: manual.merchant.apiV2Key,
    }).parseNotification(got.body)
    expect(parsed.out_trade_no).toBe(no)
  })

  it('return_code FAIL (and a bodiless 204) count as failures; then SUCCESS delivers', async () => {
    const server = await notifyServer((_r, n) =>
      n === 0 ? xmlReply(false) : n === 1 ? { status: 204 } : xmlReply(true),
    )
    const no = await createV2Order(manual, server.notifyUrl)
    await pay(manual, no)
    const rec = await walkSchedule(manual, no)
    expect(rec.status).toBe('delivered')
    expect(rec.attempts.map((a) => [a.status, a.ok])).toEqual([
      [200, false],
      [204, false],
      [200, true],
    ])
    expect(rec.attempts[0]!.reply).toContain('FAIL')
    expect(offsets(rec)).toEqual([0, 15, 30])
  })

  it('the v2 schedule (15, 15, 30, 180, 1800, …): 10 attempts, then failed', async () => {
    const server = await notifyServer(() => xmlReply(false))
    const no = await createV2Order(manual, server.notifyUrl)
    await pay(manual, no)
    const rec = await walkSchedule(manual, no)
    expect(rec.status).toBe('failed')
    expect(offsets(rec)).toEqual(V2_OFFSETS)
    expect(server.received).toHaveLength(10)
  })

  it('probe: the first v2 message carries a wrong sign and never counts, even answered SUCCESS', async () => {
    const server = await notifyServer(() => xmlReply(true))
    const no = await createV2Order(manual, server.notifyUrl)
    await armNotificationFault(manual, 'probe')
    await pay(manual, no)
    const probed = await record(manual, no, (r) => r.attempts.length === 1 && settled(r))
    expect(probed.status).toBe('pending')
    expect(probed.attempts[0]).toMatchObject({ probe: true, status: 200, ok: false })
    const probeFields = await parseXml(server.received[0]!.body)
    expect(probeFields.sign).toBe('WECHATPAY/SIGNTEST/0')
    expect(verifyV2(probeFields, manual.merchant.apiV2Key, 'MD5')).toBe(false)
    await advance(manual, 16)
    const rec = await record(manual, no, (r) => r.status === 'delivered')
    expect(offsets(rec)).toEqual([0, 15])
    const real = await parseXml(server.received[1]!.body)
    expect(verifyV2(real, manual.merchant.apiV2Key, 'MD5')).toBe(true)
    expect(real.out_trade_no).toBe(no)
  })
})

// ---- reset ---------------------------------------------------------------------------------

describe('POST /__sandbox/reset and notifications', () => {
  it('cancels pending retries', async () => {
    const server = await notifyServer(() => ({ status: 500 }))
    const no = await createOrder(manual, server.notifyUrl)
    await pay(manual, no)
    await record(manual, no, (r) => r.attempts.length === 1 && settled(r))
    expect((await call(manual, 'POST', '/__sandbox/reset')).status).toBe(204)
    expect(await records(manual, no)).toEqual([])
    await advance(manual, 24 * 3600)
    await sleep(100)
    expect(server.received).toHaveLength(1)
  })

  it('an attempt in flight during reset does not keep retrying afterwards', async () => {
    // The merchant answers 500, slowly: the reset lands while the first attempt waits for it.
    const server = await notifyServer(() => ({ status: 500, delayMs: 300 }))
    const no = await createOrder(manual, server.notifyUrl)
    await pay(manual, no)
    await until(
      () => server.received.length,
      (n) => n === 1,
    )
    expect((await call(manual, 'POST', '/__sandbox/reset')).status).toBe(204)
    await sleep(400) // the 500 arrives after the reset
    expect((await call(manual, 'GET', '/__sandbox/notifications')).body).toEqual([])
    // Past every retry the forgotten notification could have had: nothing more reaches the merchant.
    for (let i = 0; i < 4; i++) {
      await advance(manual, 6 * 3600)
      await sleep(30)
    }
    expect(server.received).toHaveLength(1)
    expect((await call(manual, 'GET', '/__sandbox/notifications')).body).toEqual([])
  })
})
