/**
 * Issue #6: exactly once with two server instances on one database. WeChat delivers each payment
 * notification three times, concurrently, to both instances (six copies at once), and both
 * instances' outbox dispatchers run at the same time: every order is PAID once, with exactly one
 * `order.paid` event, written once and delivered once — none lost, none doubled.
 *
 * The two instances share one database: the same PGlite object (in-process, one connection), or,
 * with DATABASE_URL, two separate pools on the same PostgreSQL database — two server processes.
 * The notifications are WeChat's own: the sandbox signs and encrypts them and delivers them to a
 * capture endpoint (PUBLIC_BASE_URL points there), and the test replays the exact bytes and
 * headers to both instances.
 *
 * Size: ORDERS = 60 in CI (360 notification POSTs; more than one outbox batch of 50, so both
 * dispatchers get work), 1,000 under FEN_SOAK=1 (6,000 POSTs).
 */
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createOrder,
  metric,
  prepayJsapi,
  prepayNative,
  sandboxPay,
  type SandboxNotification,
} from '../api/support'
import { scaled, soakTimeout } from '../support/soak'
import {
  dispatchAll,
  eventTypes,
  inParallel,
  PATIENT_WECHAT_TIMEOUT_MS,
  orderDetails,
  range,
  shoppers,
  startNotificationCapture,
  type CapturedNotification,
} from './support'

const ORDERS = scaled(60, 1000)
/** Copies of each notification sent to each instance, all at once. */
const COPIES = 3
/** Orders whose notifications are replayed at the same time (× 2 instances × 3 copies POSTs). */
const REPLAY_CONCURRENCY = 8
/** The 1-fen product: 10,000 in stock. */
const PRODUCT_ID = 5

let capture: Awaited<ReturnType<typeof startNotificationCapture>>
let h1: Harness
let h2: Harness
let instances: Harness[]

beforeAll(async () => {
  capture = await startNotificationCapture()
  const env = { PUBLIC_BASE_URL: capture.url }
  const wechatTimeoutMs = PATIENT_WECHAT_TIMEOUT_MS
  h1 = await startHarness({ env, wechatTimeoutMs })
  h2 = await startHarness({ env, wechatTimeoutMs, shareDatabaseWith: h1 })
  instances = [h1, h2]
})
afterAll(async () => {
  await h2?.close()
  await h1?.close()
  await capture?.close()
})

describe('two instances, one database', () => {
  it('share the data: an order made on one is read, paid and listed on the other', async () => {
    expect(h2.url).not.toBe(h1.url)
    expect(h2.sandbox).toBe(h1.sandbox)
    if (h1.databaseUrl) {
      // Two pools on one PostgreSQL database, as two server processes would have.
      expect(h2.database).not.toBe(h1.database)
      expect(h2.databaseUrl).toBe(h1.databaseUrl)
    } else {
      expect(h2.database).toBe(h1.database)
    }
    const [token] = await shoppers([h1], 1)
    const order = await createOrder(h1, token!, [{ productId: PRODUCT_ID, quantity: 1 }])
    const seen = await h2.api<{ status: string }>('GET', `/api/orders/${order.orderNo}`, {
      token: token!,
    })
    expect(seen.status).toBe(200)
    expect(seen.body.status).toBe('PENDING')
    // One clock for both.
    const before = h2.now().getTime()
    h1.advance(1)
    expect(h2.now().getTime()).toBeGreaterThanOrEqual(before + 1000)
    // Close it so the exactly-once test below counts only its own orders.
    const cancelled = await h2.api<{ status: string }>(
      'POST',
      `/api/orders/${order.orderNo}/cancel`,
      { token: token! },
    )
    expect(cancelled.body.status).toBe('CLOSED')
  })

  it(
    `${ORDERS} orders, each notification ${COPIES}× to both instances at once: PAID once, one order.paid each, delivered once`,
    async () => {
      const tokens = await shoppers(instances, 10)

      // Orders made, prepaid and paid through either instance; every notification goes to the
      // capture endpoint, so nothing has reached a server yet.
      const orders = await inParallel(range(ORDERS), 8, async (i) => {
        const h = instances[i % 2]!
        const token = tokens[i % tokens.length]!
        const order = await createOrder(h, token, [{ productId: PRODUCT_ID, quantity: 1 }])
        if (i % 4 < 2) {
          await sandboxPay(h, { code_url: await prepayNative(h, token, order.orderNo) })
        } else {
          await prepayJsapi(h, token, order.orderNo)
          await sandboxPay(h, { out_trade_no: order.orderNo })
        }
        return order
      })
      const captured = await h1.until(
        async () => capture.received.length >= ORDERS && capture.received,
        soakTimeout(10_000, 120_000),
      )
      expect(captured).toHaveLength(ORDERS)
      expect(captured.every((n) => n.path === '/api/pay/notify')).toBe(true)

      // Which order each notification is about, from the sandbox's own record of it.
      const records = await h1.control<SandboxNotification[]>('GET', '/__sandbox/notifications')
      const orderOf = new Map(records.body.map((n) => [n.id, n.out_trade_no]))
      const byOrder = new Map<string, CapturedNotification>()
      for (const n of captured) {
        const id = (JSON.parse(n.body.toString('utf8')) as { id: string }).id
        byOrder.set(orderOf.get(id)!, n)
      }
      expect([...byOrder.keys()].sort()).toEqual(orders.map((o) => o.orderNo).sort())
      const orderNos = orders.map((o) => o.orderNo)
      const pending = await orderDetails(h1, orderNos)
      for (const no of orderNos) expect(pending.get(no)?.status).toBe('PENDING')

      // The replay: for each order, 3 copies to each instance, all in flight together.
      const replies = await inParallel(orders, REPLAY_CONCURRENCY, (o) => {
        const n = byOrder.get(o.orderNo)!
        return Promise.all(
          instances.flatMap((h) =>
            range(COPIES).map(async () => {
              const res = await fetch(h.url + n.path, {
                method: 'POST',
                headers: n.headers,
                body: n.body,
              })
              return res.status
            }),
          ),
        )
      })
      // Every copy acknowledged (WeChat would stop retrying): none refused, none a 500.
      expect(replies.flat().filter((s) => s !== 204)).toEqual([])

      // Exactly once: one applied notification, the other 2 × 3 - 1 copies duplicates.
      const metrics = await Promise.all(
        instances.map(async (h) => ({
          applied: await metric(h, 'fen_notifications_total{api="v3",outcome="applied"}'),
          duplicate: await metric(h, 'fen_notifications_total{api="v3",outcome="duplicate"}'),
        })),
      )
      expect(metrics[0]!.applied + metrics[1]!.applied).toBe(ORDERS)
      expect(metrics[0]!.duplicate + metrics[1]!.duplicate).toBe(ORDERS * (2 * COPIES - 1))

      // Every order: PAID, one payment, one notification applied, one order.paid.
      const after = await orderDetails(h2, orderNos)
      for (const no of orderNos) {
        const d = after.get(no)!
        expect(d.status, no).toBe('PAID')
        expect(d.payments, no).toHaveLength(1)
        expect(
          d.notifications.map((n) => n.outcome),
          no,
        ).toEqual(['applied'])
        expect(eventTypes(d), no).toEqual(['order.paid'])
      }

      // Both dispatchers at once, until nothing is due: each event delivered by exactly one.
      const rounds = await dispatchAll(instances)
      const all = [...h1.delivered, ...h2.delivered]
      const ids = all.map((e) => e.id)
      expect(new Set(ids).size).toBe(ids.length)
      const paid = all.filter((e) => e.type === 'order.paid')
      expect(paid.map((e) => e.orderNo).sort()).toEqual([...orderNos].sort())
      const paidBy = (h: Harness) => h.delivered.filter((e) => e.type === 'order.paid').length
      // Both dispatchers had work (more events than one batch): they really ran side by side.
      expect(paidBy(h1)).toBeGreaterThan(0)
      expect(paidBy(h2)).toBeGreaterThan(0)
      const settled = await orderDetails(h1, orderNos)
      for (const no of orderNos) {
        expect(
          settled.get(no)!.events.filter((e) => !e.deliveredAt),
          no,
        ).toEqual([])
      }

      console.log(
        `exactly-once: ${ORDERS} orders, ${replies.flat().length} notification POSTs ` +
          `(${COPIES} copies × 2 instances each), ${ORDERS} applied, ` +
          `${metrics[0]!.duplicate + metrics[1]!.duplicate} duplicates; ` +
          `${paid.length} order.paid delivered (by h1 ${paidBy(h1)}, by h2 ${paidBy(h2)}) ` +
          `in ${rounds} dispatch rounds; lost 0, doubled 0`,
      )
    },
    // Generous: on a busy 2-core machine this run has taken over 30 s (9 s when quiet).
    soakTimeout(90_000, 600_000),
  )
})
