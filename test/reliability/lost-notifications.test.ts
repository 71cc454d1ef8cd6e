/**
 * Issue #6: every payment notification lost, at scale. The sandbox drops every notification
 * (fault `drop`), so the server hears of no payment from WeChat; the shopper's
 * `GET /api/orders/:orderNo` (half the orders) and the sweeper after expiry (the other half) must
 * still find every payment by asking WeChat: each order PAID with one payment and one `order.paid`,
 * none left PENDING, none CLOSED, and WeChat's orders still paid (the sweeper closed none).
 * (test/api/lost-notifications.test.ts shows both paths for one order.)
 *
 * Size: ORDERS = 100 in CI (50 found by GET, 50 by the sweeper), 2,000 under FEN_SOAK=1.
 */
import type { Order } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createOrder,
  fault,
  prepayJsapi,
  prepayNative,
  sandboxOrders,
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
  sweepUntilDone,
  tally,
} from './support'

const ORDERS = scaled(100, 2000)
const CONCURRENCY = 8
/** The 1-fen product: 10,000 in stock. */
const PRODUCT_ID = 5

let h: Harness
beforeAll(async () => {
  h = await startHarness({ wechatTimeoutMs: PATIENT_WECHAT_TIMEOUT_MS })
})
afterAll(() => h?.close())

describe('every notification lost', () => {
  it(
    `${ORDERS} paid orders: half found by GET, half by the sweeper; all PAID once, none closed`,
    async () => {
      // Far more than the notifications this test causes: every one is dropped.
      await fault(h, { target: 'notifications', kind: 'drop', count: 1_000_000 })
      const tokens = await shoppers([h], 10)

      const orders = await inParallel(range(ORDERS), CONCURRENCY, async (i) => {
        const token = tokens[i % tokens.length]!
        const order = await createOrder(h, token, [{ productId: PRODUCT_ID, quantity: 1 }])
        // Half JSAPI, half Native; in each half, some polled by the shopper, some never looked at.
        if (i % 2 === 0) {
          await sandboxPay(h, { code_url: await prepayNative(h, token, order.orderNo) })
        } else {
          await prepayJsapi(h, token, order.orderNo)
          await sandboxPay(h, { out_trade_no: order.orderNo })
        }
        return { order, token, byGet: i % 4 < 2 }
      })

      // Every notification was dropped: WeChat never called the server.
      const notes = await h.control<SandboxNotification[]>('GET', '/__sandbox/notifications')
      expect(notes.body).toHaveLength(ORDERS)
      expect(notes.body.every((n) => n.status === 'dropped' && n.attempts.length === 0)).toBe(true)
      const orderNos = orders.map(({ order }) => order.orderNo)
      const before = await orderDetails(h, orderNos)
      for (const no of orderNos) expect(before.get(no)?.status).toBe('PENDING')

      // The shopper's page polls: the first GET of a prepaid order asks WeChat.
      const byGet = orders.filter((o) => o.byGet)
      const seen = await inParallel(byGet, CONCURRENCY, ({ order, token }) =>
        h.api<Order>('GET', `/api/orders/${order.orderNo}`, { token }),
      )
      expect(seen.map((r) => r.status)).toEqual(byGet.map(() => 200))
      expect(tally(seen.map((r) => r.body.status))).toEqual({ PAID: byGet.length })

      // The others pass their expiry unseen; the sweeper asks WeChat before closing anything.
      const bySweeper = orders.filter((o) => !o.byGet)
      const mid = await orderDetails(
        h,
        bySweeper.map(({ order }) => order.orderNo),
      )
      for (const d of mid.values()) expect(d.status).toBe('PENDING')
      h.advance(h.config.orderTtlSeconds + 60)
      const sweeps = await sweepUntilDone(h)
      expect(sweeps.errors).toBe(0)

      const after = await orderDetails(h, orderNos)
      const wechat = await sandboxOrders(h)
      expect(tally([...after.values()].map((d) => d.status))).toEqual({ PAID: ORDERS })
      for (const no of orderNos) {
        const d = after.get(no)!
        expect(d.closedAt, no).toBeUndefined()
        expect(wechat.get(no)?.trade_state, no).toBe('SUCCESS')
        expect(d.transactionId, no).toBe(wechat.get(no)?.transaction_id)
        // Learnt by asking WeChat: one payment, no notification; one order.paid.
        expect(
          d.payments.map((p) => p.source),
          no,
        ).toEqual(['query'])
        expect(d.notifications, no).toEqual([])
        expect(eventTypes(d), no).toEqual(['order.paid'])
      }

      // Each order.paid delivered once.
      await dispatchAll([h])
      const delivered = h.delivered.map((e) => `${e.orderNo} ${e.type}`)
      expect(delivered.sort()).toEqual(
        orders.map(({ order }) => `${order.orderNo} order.paid`).sort(),
      )

      // Nothing left: a later sweep and more GETs change nothing.
      h.advance(3600)
      expect(await h.sweep()).toMatchObject({ orders: 0, errors: 0 })
      const again = await h.api<Order>('GET', `/api/orders/${orders[0]!.order.orderNo}`, {
        token: orders[0]!.token,
      })
      expect(again.body.status).toBe('PAID')
      const first = await orderDetails(h, [orders[0]!.order.orderNo])
      expect(eventTypes(first.get(orders[0]!.order.orderNo)!)).toEqual(['order.paid'])

      console.log(
        `lost-notifications: ${ORDERS} orders paid, ${notes.body.length} notifications dropped; ` +
          `${byGet.length} found by GET, ${bySweeper.length} by the sweeper in ${sweeps.runs} runs; ` +
          `PAID ${ORDERS}, PENDING 0, CLOSED 0, order.paid ${h.delivered.length}`,
      )
    },
    soakTimeout(30_000, 600_000),
  )
})
