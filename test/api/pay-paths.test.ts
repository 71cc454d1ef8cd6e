/**
 * Issue #24: a payment reaches the server two ways — WeChat's notification (the one-statement path
 * of repositories/notified-payments.ts) or our own query (the domain's `pay()` in a transaction) —
 * and both must leave the same order behind: the same columns on the order, the same payment
 * record but for how we learned of it, and the same `order.paid` event, which passes the event
 * contract. One order is paid each way; every row is compared.
 */
import { FenEvent, type Order } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOrder, fault, prepayNative, sandboxPay, untilStatus } from './support'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h?.close())

/** Every column of a table's rows for one order, as JSON (the same on PGlite and PostgreSQL). */
async function rowsOf(table: string, orderNo: string): Promise<Record<string, unknown>[]> {
  // The order number is ours (FEN + digits): safe to put in the text.
  const res = await h.database.db.execute(
    `select row_to_json(t) as r from ${table} t where order_no = '${orderNo}' order by 1::int`,
  )
  return (res as unknown as { rows: { r: Record<string, unknown> }[] }).rows.map((x) => x.r)
}

/** A row with the fields that name the order, its transaction or a moment taken out. */
function shape(row: Record<string, unknown>, own: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) {
    if (own.includes(k)) out[k] = v === null ? null : '<own>'
    else out[k] = v
  }
  return out
}

describe('a payment by notification and one by query leave the same order', () => {
  it('orders, payments and outbox events agree, and the events pass the contract', async () => {
    const token = await h.login()
    const items = [{ productId: 3, quantity: 2 }]
    const byNotify = await createOrder(h, token, items)
    const byQuery = await createOrder(h, token, items)

    // By notification: WeChat tells us.
    await sandboxPay(h, { code_url: await prepayNative(h, token, byNotify.orderNo) })
    await untilStatus(h, byNotify.orderNo, 'PAID')
    // By query: the notification is lost; the shopper's GET asks WeChat.
    await fault(h, { target: 'notifications', kind: 'drop' })
    await sandboxPay(h, { code_url: await prepayNative(h, token, byQuery.orderNo) })
    const got = await h.until(async () => {
      const o = await h.api<Order>('GET', `/api/orders/${byQuery.orderNo}`, { token })
      return o.body.status === 'PAID' && o.body
    })
    expect(got.status).toBe('PAID')

    const ownOrder = [
      'order_no',
      'transaction_id',
      'created_at',
      'expires_at',
      'paid_at',
      'prepay_expires_at',
      'code_url',
      'request_hash',
    ]
    const [a] = await rowsOf('orders', byNotify.orderNo)
    const [b] = await rowsOf('orders', byQuery.orderNo)
    // How we learned of it, as with the payment's source: only a query marks the order synced.
    expect([a!.last_synced_at, b!.last_synced_at === null]).toEqual([null, false])
    const without = (row: Record<string, unknown>) => ({ ...row, last_synced_at: undefined })
    expect(shape(without(a!), ownOrder)).toEqual(shape(without(b!), ownOrder))
    expect(a!.status).toBe('PAID')

    // A Native payment's payer is whoever scanned the code (the sandbox draws one per payment).
    const ownPayment = [
      'order_no',
      'transaction_id',
      'paid_at',
      'created_at',
      'source',
      'payer_openid',
    ]
    const [pa] = await rowsOf('payments', byNotify.orderNo)
    const [pb] = await rowsOf('payments', byQuery.orderNo)
    expect(shape(pa!, ownPayment)).toEqual(shape(pb!, ownPayment))
    expect([pa!.source, pb!.source]).toEqual(['notify', 'query'])

    const ownEvent = ['id', 'order_no', 'dedupe_key', 'created_at', 'next_attempt_at']
    const [ea] = await rowsOf('outbox_events', byNotify.orderNo)
    const [eb] = await rowsOf('outbox_events', byQuery.orderNo)
    expect(shape(ea!, [...ownEvent, 'payload'])).toEqual(shape(eb!, [...ownEvent, 'payload']))
    for (const [e, order] of [
      [ea!, a!],
      [eb!, b!],
    ] as const) {
      expect(e.type).toBe('order.paid')
      expect(e.payload).toEqual({
        orderNo: order.order_no,
        userId: order.user_id,
        totalFen: order.total_fen,
        transactionId: order.transaction_id,
      })
      const envelope = {
        id: Number(e.id),
        type: e.type,
        orderNo: e.order_no,
        createdAt: new Date(e.created_at as string).toISOString(),
        payload: e.payload,
      }
      expect(FenEvent.safeParse(envelope).success).toBe(true)
    }
  })
})
