/**
 * Issue #6: the database restarts (or crashes) mid-run, while WeChat's payment notifications are in
 * flight — and no notification the server acknowledged is lost.
 *
 * The promise under test (docs/api.md, `POST /api/pay/notify`): the server answers 2xx only once
 * the payment is committed, and 500 when it could not write it, so WeChat retries. So after the
 * database is back, every notification answered 2xx must be in the database (order PAID,
 * notification row stored), every attempt that was not answered 2xx must have been answered 5xx
 * (never a 4xx that would tell WeChat to give up, never a hang), and once WeChat's retries have run
 * every paid order is PAID exactly once, with exactly one `order.paid` event, delivered once.
 *
 * The database here is a PostgreSQL server of this file's own (./pg-cluster.ts), because the shared
 * one at 127.0.0.1:5432 serves other suites at the same time. `process.env.DATABASE_URL` is pointed
 * at it before the harness starts: vitest runs each test file in its own child process (pool
 * `forks`, `isolate` on: test/vitest.config.ts sets neither), so the change stays in this file.
 *
 * The sandbox runs at TIME_SCALE × real time, so WeChat's retry schedule (15 s, 15 s, 30 s, 3 min,
 * …) plays out in a few real seconds; orders live 7 days (server time) so that the sandbox's
 * faster clock never sees them expire.
 */
import type { NotificationRecord } from '@fen/sandbox'
import type { AdminOrderDetail, Order } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminOrder, prepayNative, sandboxPay } from '../api/support'
import { scaled, soakTimeout } from '../support/soak'
import { startPgCluster, type PgCluster, type ShutdownMode } from './pg-cluster'
import { inParallel } from './support'

/**
 * Sandbox seconds per real second: WeChat's retries 15 s, 30 s, 1 min, 4 min, 14 min, 34 min, … after
 * the first attempt come 25 ms, 50 ms, 100 ms, 0.4 s, 1.4 s, 3.4 s, … after it; the whole 24 h
 * schedule takes 144 s. (Login codes, which live 5 sandbox minutes, would then live 0.5 s: the
 * suite makes them while the clock runs at real speed.)
 */
const TIME_SCALE = 600
/** Orders per scenario: paid a third before, a third during and a third after the outage. */
const ORDERS = scaled(30, 1000)
/**
 * The first third is paid as a stream lasting longer than PostgreSQL takes to go down (100–600 ms
 * here), so that the outage begins while notifications are arriving.
 */
const STREAM_GAP_MS = 40
/** Requests in flight at once while creating, paying and checking orders. */
const CONCURRENCY = 8
/** The body of the server's 500 to a notification (docs/api.md). */
const FAIL_REPLY = JSON.stringify({ code: 'FAIL', message: '系统错误' })
/** The 1-fen product: 10,000 in stock, enough for every scenario at soak size. */
const PRODUCT_ID = 5
/**
 * How often a wait re-reads the sandbox's notifications: every 200 ms, not `h.until`'s 20 — reading
 * every notification of a thousand orders is work for the process that also runs the server.
 */
const READ_INTERVAL_MS = 200

let cluster: PgCluster | undefined
let h: Harness
let token: string

beforeAll(async () => {
  cluster = await startPgCluster()
  process.env.DATABASE_URL = cluster.url
  h = await startHarness({ env: { ORDER_TTL_SECONDS: String(7 * 86400) } })
  // Logged in on a real-time clock: at TIME_SCALE a login code lives 0.5 s, which a busy machine
  // can spend before the server calls code2Session.
  token = await h.login()
  await setSandboxScale(TIME_SCALE)
}, 60_000)

async function setSandboxScale(scale: number): Promise<void> {
  const res = await h.control('POST', '/__sandbox/clock', { scale })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
}

afterAll(async () => {
  let closed = true
  try {
    // Drops the suite's database (the cluster is up unless a test failed midway). Bounded: a pool
    // that never drains (clients lost while the database was down) must not keep the cluster up.
    if (h) {
      closed = false
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 20_000))
      await Promise.race([h.close().then(() => (closed = true)), timeout])
    }
  } finally {
    await cluster?.destroy()
  }
  if (!closed) throw new Error("the server's database pool did not close within 20 s")
}, 60_000)

interface PrepaidOrder {
  orderNo: string
  totalFen: number
  codeUrl: string
}

/** Creates `count` orders and prepays each (Native), while the database is up. */
function prepaidOrders(count: number): Promise<PrepaidOrder[]> {
  return inParallel(Array.from({ length: count }), CONCURRENCY, async () => {
    const created = await h.api<Order>('POST', '/api/orders', {
      token,
      body: { items: [{ productId: PRODUCT_ID, quantity: 1 }] },
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    return {
      orderNo: created.body.orderNo,
      totalFen: created.body.totalFen,
      codeUrl: await prepayNative(h, token, created.body.orderNo),
    }
  })
}

/**
 * The shoppers pay at WeChat, `limit` at once, each waiting `gapMs` after paying; each payment's
 * notification sets off at once.
 */
function payAll(orders: readonly PrepaidOrder[], limit = CONCURRENCY, gapMs = 0): Promise<unknown> {
  return inParallel(orders, limit, async (o) => {
    await sandboxPay(h, { code_url: o.codeUrl })
    if (gapMs) await new Promise((resolve) => setTimeout(resolve, gapMs))
  })
}

/** What WeChat (the sandbox) recorded of its notifications about these orders, by order. */
async function notificationsOf(
  orders: readonly PrepaidOrder[],
): Promise<Map<string, NotificationRecord[]>> {
  // All of them, as `GET /__sandbox/state` lists them, without the orders.
  const res = await h.control<NotificationRecord[]>('GET', '/__sandbox/notifications')
  const wanted = new Set(orders.map((o) => o.orderNo))
  const byOrder = new Map<string, NotificationRecord[]>()
  for (const n of res.body) {
    if (!wanted.has(n.out_trade_no)) continue
    byOrder.set(n.out_trade_no, [...(byOrder.get(n.out_trade_no) ?? []), n])
  }
  return byOrder
}

/** The notifications the server answered 2xx, by id, with their order. */
function acknowledged(byOrder: Map<string, NotificationRecord[]>): Map<string, string> {
  const acked = new Map<string, string>()
  for (const [orderNo, list] of byOrder) {
    for (const n of list) if (n.attempts.some((a) => a.ok)) acked.set(n.id, orderNo)
  }
  return acked
}

/** For a failure message: the notifications not delivered, with their attempts. */
function undelivered(
  byOrder: Map<string, NotificationRecord[]>,
  orders: readonly PrepaidOrder[],
): string {
  const missing = orders.filter((o) => !byOrder.has(o.orderNo)).map((o) => o.orderNo)
  const pending = [...byOrder.values()].flat().filter((n) => n.status !== 'delivered')
  const sample = pending.slice(0, 5).map((n) => ({
    order: n.out_trade_no,
    status: n.status,
    next: n.next_attempt_at,
    attempts: n.attempts.map((a) => `${a.at.slice(11, 19)} ${a.status} ${a.ms}ms ${a.reply}`),
  }))
  return JSON.stringify({ missing, undelivered: pending.length, sample }, null, 1)
}

/** The sandbox's clock (it runs TIME_SCALE times faster than real time), in ms. */
async function sandboxNow(): Promise<number> {
  return Date.parse((await h.control<{ now: string }>('GET', '/__sandbox/clock')).body.now)
}

async function readyz(): Promise<number> {
  return (await h.api('GET', '/readyz')).status
}

/** While the database is down: the server stays up and says so; API calls fail with a code. */
async function checkServerWhileDown(sample: PrepaidOrder): Promise<void> {
  const health = await h.api('GET', '/healthz')
  expect(health.status).toBe(200)
  expect(health.body).toEqual({ ok: true })
  const ready = await h.api('GET', '/readyz')
  expect(ready.status).toBe(503)
  expect(ready.body).toEqual({ ok: false, database: 'unreachable' })

  // docs/api.md: a failure on our side is 500 INTERNAL, without details, nothing half-written.
  // The login code on a real-time clock, so it is still valid when the server presents it however
  // slow the machine (at TIME_SCALE it would live 0.5 s); the scale is back once the calls answer.
  await setSandboxScale(1)
  const code = await h.control<{ code: string }>('POST', '/__sandbox/login-codes', {})
  const calls = [
    h.api('GET', '/api/products'),
    h.api('POST', '/api/auth/login', { body: { code: code.body.code } }),
    h.api('POST', '/api/orders', {
      token,
      body: { items: [{ productId: PRODUCT_ID, quantity: 1 }] },
    }),
    h.api('GET', `/api/orders/${sample.orderNo}`, { token }),
    h.api('POST', `/api/orders/${sample.orderNo}/pay`, { token, body: { channel: 'native' } }),
    h.admin('GET', '/api/admin/orders'),
  ]
  const answers = await Promise.all(calls)
  await setSandboxScale(TIME_SCALE)
  for (const res of answers) {
    expect(res.status, JSON.stringify(res.body)).toBe(500)
    expect(res.body).toEqual({ code: 'INTERNAL', message: expect.any(String) })
  }
}

interface Scenario {
  name: string
  /** How PostgreSQL goes down: `fast` ends sessions cleanly; `immediate` is a crash. */
  mode: ShutdownMode
  /**
   * `restart`: one `pg_ctl restart -m <mode>`, while payments go on. `hold`: `pg_ctl stop -m
   * <mode>`, then the middle third is paid and the API probed while the database is down, then
   * `pg_ctl start` — so at least a third of the notifications meet the outage for sure.
   */
  how: 'restart' | 'hold'
}

// Names under 40 characters: vitest cuts longer `$name` values short in test names.
const scenarios: Scenario[] = [
  { name: 'pg_ctl restart -m fast', mode: 'fast', how: 'restart' },
  { name: 'pg_ctl restart -m immediate (a crash)', mode: 'immediate', how: 'restart' },
  { name: 'a crash held down: stop -m immediate', mode: 'immediate', how: 'hold' },
]

describe.each(scenarios)('the database goes down mid-run: $name', ({ mode, how }) => {
  it(
    'loses no acknowledged notification; every failed write was answered 5xx and retried; each order is PAID once',
    async () => {
      const db = cluster!
      // WeChat forgets the previous scenario's orders and notifications: less to read back.
      expect((await h.control('POST', '/__sandbox/reset')).status).toBe(204)
      const orders = await prepaidOrders(ORDERS)
      const third = Math.ceil(ORDERS / 3)
      const before = orders.slice(0, third)
      const during = orders.slice(third, 2 * third)
      const after = orders.slice(2 * third)

      // 1. A steady stream of payments (two every STREAM_GAP_MS), so notifications keep reaching
      //    the server; the database goes down once a quarter of them are answered, with the rest
      //    of the stream in flight.
      const stream = payAll(before, 2, STREAM_GAP_MS)
      await h.until(
        async () => acknowledged(await notificationsOf(before)).size >= before.length / 4,
        10_000,
      )
      let ackedBeforeDown = acknowledged(await notificationsOf(before))
      const downAt = performance.now()
      const sandboxDownAt = await sandboxNow()
      let upAt = 0
      let readyAt = 0
      // 2. The server recovers by itself: its pool reconnects, /readyz is ready again.
      const backUp = async () => {
        upAt = performance.now()
        await h.until(async () => (await readyz()) === 200, 10_000)
        readyAt = performance.now()
      }
      if (how === 'restart') {
        await Promise.all([db.restart(mode).then(backUp), stream, payAll(during)])
      } else {
        await db.stop(mode)
        // Read once the database is gone: each of these was answered 2xx before it went.
        ackedBeforeDown = acknowledged(await notificationsOf(before))
        await stream
        await payAll(during)
        // WeChat tried each of these at least once, and the server could store none of them.
        await h.until(
          async () => {
            const seen = await notificationsOf(during)
            return during.every((o) => (seen.get(o.orderNo)?.[0]?.attempts.length ?? 0) > 0)
          },
          10_000,
          READ_INTERVAL_MS,
        )
        await checkServerWhileDown(during[0]!)
        await db.start()
        await backUp()
      }
      await payAll(after)

      // 3. WeChat's retries run (sped up by the time scale) until every notification is delivered.
      const delivered = await h
        .until(
          async () => {
            const byOrder = await notificationsOf(orders)
            const all = [...byOrder.values()].flat()
            return (
              all.length === orders.length && all.every((n) => n.status === 'delivered') && byOrder
            )
          },
          soakTimeout(20_000, 120_000),
          READ_INTERVAL_MS,
        )
        .catch(async (e: Error) => {
          throw new Error(`${e.message}: ${undelivered(await notificationsOf(orders), orders)}`)
        })
      const notificationOf = (orderNo: string) => delivered.get(orderNo)![0]!

      // 4. What WeChat saw: one notification per order, answered 2xx exactly once (its last
      //    attempt); every attempt before that answered 500 with the documented FAIL body — never
      //    a 4xx that would stop WeChat's retries, never a timeout.
      let failedAttempts = 0
      let retried = 0
      const unexpected: string[] = []
      for (const o of orders) {
        expect(delivered.get(o.orderNo), o.orderNo).toHaveLength(1)
        const { attempts } = notificationOf(o.orderNo)
        const last = attempts.at(-1)!
        expect(last.ok).toBe(true)
        expect([200, 204]).toContain(last.status)
        for (const a of attempts.slice(0, -1)) {
          if (a.ok || a.status !== 500 || a.reply !== FAIL_REPLY) {
            // Where it fell, in real ms from the moment the database went down.
            const at = Math.round((Date.parse(a.at) - sandboxDownAt) / TIME_SCALE)
            unexpected.push(`${o.orderNo} at ${at} ms: ${a.status} in ${a.ms} ms, ${a.reply}`)
          }
        }
        failedAttempts += attempts.length - 1
        if (attempts.length > 1) retried++
      }
      expect(unexpected).toEqual([])
      // Sent while the database was down: none of these could be answered 2xx the first time.
      if (how === 'hold') {
        for (const o of during) {
          expect(notificationOf(o.orderNo).attempts[0]!.status, o.orderNo).toBe(500)
        }
      }
      const streamHit = before.filter((o) => notificationOf(o.orderNo).attempts.length > 1).length

      // 5. What the database holds: every notification answered 2xx — before the database went
      //    down, and since — is stored, its order PAID once by it, with one `order.paid` event.
      const details = await inParallel(orders, CONCURRENCY, (o) => adminOrder(h, o.orderNo))
      const detailOf = new Map<string, AdminOrderDetail>(details.map((d) => [d.orderNo, d]))
      const acked = new Map(ackedBeforeDown)
      for (const o of orders) acked.set(notificationOf(o.orderNo).id, o.orderNo)
      const lost = [...acked].filter(([id, orderNo]) => {
        const d = detailOf.get(orderNo)!
        return d.status !== 'PAID' || !d.notifications.some((n) => n.id === id)
      })
      expect(lost).toEqual([])
      for (const d of details) {
        expect(d.status, d.orderNo).toBe('PAID')
        expect(d.payments).toEqual([expect.objectContaining({ source: 'notify' })])
        expect(d.payments[0]!.transactionId).toBe(d.transactionId)
        expect(d.notifications).toEqual([
          expect.objectContaining({ id: notificationOf(d.orderNo).id, outcome: 'applied' }),
        ])
        expect(d.events.filter((e) => e.type === 'order.paid')).toHaveLength(1)
      }

      // 6. Fulfilment: the outbox delivers one `order.paid` per order.
      for (;;) {
        const run = await h.dispatch()
        expect(run.failed).toBe(0)
        if (run.delivered === 0) break
      }
      const ours = new Set(orders.map((o) => o.orderNo))
      const paidEvents = h.delivered.filter((e) => ours.has(e.orderNo) && e.type === 'order.paid')
      expect(paidEvents).toHaveLength(orders.length)
      expect(new Set(paidEvents.map((e) => e.orderNo)).size).toBe(orders.length)

      console.info(
        `[db-restart] ${how} -m ${mode}: ${orders.length} orders, ${orders.length} notifications ` +
          `(${ackedBeforeDown.size} answered 2xx before the database went down), ` +
          `${failedAttempts} attempts answered 500 (${retried} notifications retried, ` +
          `${streamHit} of them from the stream in flight), database down ` +
          `${Math.round(upAt - downAt)} ms, ready again after ${Math.round(readyAt - downAt)} ms, ` +
          `lost: ${lost.length}`,
      )
    },
    soakTimeout(30_000, 600_000),
  )
})
