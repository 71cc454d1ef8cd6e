import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminOrder,
  createOrder,
  deliveredTypes,
  fault,
  metric,
  newTransactionId,
  paidTransaction,
  postNotify,
  prepayNative,
  sandboxNotifications,
  sandboxPay,
  signedNotification,
  untilNotificationsDelivered,
  untilStatus,
  type SandboxNotification,
  WAIT_MS,
} from './support'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h?.close())

describe('duplicate notifications', () => {
  it("WeChat's first attempt sent twice at once: one transition, one event", async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [{ productId: 4, quantity: 1 }])
    const codeUrl = await prepayNative(h, token, order.orderNo)

    await fault(h, { target: 'notifications', kind: 'duplicate' })
    await sandboxPay(h, { code_url: codeUrl })

    const [n] = await untilNotificationsDelivered(h, order.orderNo)
    // Both copies reached the server and both were answered with success.
    await h.until(async () => {
      const [x] = await sandboxNotifications(h, order.orderNo)
      return x!.attempts.length === 2
    }, WAIT_MS)
    const [both] = await sandboxNotifications(h, order.orderNo)
    expect(both!.attempts.map((a) => a.status)).toEqual([204, 204])

    const detail = await untilStatus(h, order.orderNo, 'PAID')
    expect(detail.payments).toHaveLength(1)
    expect(detail.notifications).toEqual([
      expect.objectContaining({ id: n!.id, eventType: 'TRANSACTION.SUCCESS', outcome: 'applied' }),
    ])
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])
  })

  it('the same notification resent 5 times: still one event', async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [{ productId: 3, quantity: 1 }])
    const codeUrl = await prepayNative(h, token, order.orderNo)
    await sandboxPay(h, { code_url: codeUrl })
    const [n] = await untilNotificationsDelivered(h, order.orderNo)
    await untilStatus(h, order.orderNo, 'PAID')
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])
    const duplicatesBefore = await metric(
      h,
      'fen_notifications_total{api="v3",outcome="duplicate"}',
    )

    for (let i = 0; i < 5; i++) {
      const res = await h.control<SandboxNotification>(
        'POST',
        `/__sandbox/notifications/${n!.id}/resend`,
      )
      expect(res.status).toBe(200)
      expect(res.body.attempts).toHaveLength(2 + i)
      expect(res.body.attempts.at(-1)).toMatchObject({ status: 204, ok: true })
    }

    const detail = await adminOrder(h, order.orderNo)
    expect(detail.status).toBe('PAID')
    expect(detail.payments).toHaveLength(1)
    expect(detail.notifications).toHaveLength(1)
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])
    expect(detail.events.map((e) => e.type)).toEqual(['order.paid'])
    expect(await metric(h, 'fen_notifications_total{api="v3",outcome="duplicate"}')).toBe(
      duplicatesBefore + 5,
    )
  })

  it('a retry of a notification already applied writes nothing: no row is inserted or changed', async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [{ productId: 5, quantity: 1 }])
    const notification = signedNotification(h, paidTransaction(h, order), {
      id: 'e2e-retry-no-write',
    })
    expect((await postNotify(h, notification)).status).toBe(204)
    await untilStatus(h, order.orderNo, 'PAID')
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])
    // Each row's xmin is the transaction that last wrote it: unchanged means not rewritten.
    const rowVersions = async () => {
      // The order number is ours (FEN + digits): safe to put in the text.
      const of = (table: string, what: string) =>
        `(select ${what} from ${table} where order_no = '${order.orderNo}')`
      const result = await h.database.db.execute(`select
        ${of('orders', 'xmin::text')} as "order",
        ${of('notifications', 'xmin::text')} as notification,
        ${of('payments', 'xmin::text')} as payment,
        ${of('outbox_events', 'xmin::text')} as event,
        ${of('notifications', 'count(*)::int')} as notifications,
        ${of('payments', 'count(*)::int')} as payments,
        ${of('outbox_events', 'count(*)::int')} as events`)
      return (result as unknown as { rows: Record<string, string | number>[] }).rows[0]!
    }
    const before = await rowVersions()
    expect(before).toMatchObject({ notifications: 1, payments: 1, events: 1 })

    for (let i = 0; i < 3; i++) expect((await postNotify(h, notification)).status).toBe(204)

    expect(await rowVersions()).toEqual(before)
  })

  it('10 concurrent POSTs of one signed notification: all 204, one payment, one order.paid', async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [{ productId: 1, quantity: 1 }])
    const transactionId = newTransactionId()
    const notification = signedNotification(h, paidTransaction(h, order, { transactionId }), {
      id: 'e2e-concurrent-0001',
    })

    const replies = await Promise.all(Array.from({ length: 10 }, () => postNotify(h, notification)))
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(204))

    const detail = await adminOrder(h, order.orderNo)
    expect(detail.status).toBe('PAID')
    expect(detail.transactionId).toBe(transactionId)
    expect(detail.payments).toEqual([
      expect.objectContaining({ transactionId, amountFen: order.totalFen, source: 'notify' }),
    ])
    expect(detail.notifications).toEqual([
      expect.objectContaining({ id: 'e2e-concurrent-0001', outcome: 'applied' }),
    ])
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])
  })

  it('two notifications with different ids for one transaction: one order.paid', async () => {
    const token = await h.login()
    const order = await createOrder(h, token, [{ productId: 2, quantity: 1 }])
    const resource = paidTransaction(h, order)
    const first = signedNotification(h, resource, { id: 'e2e-same-tx-A' })
    const second = signedNotification(h, resource, { id: 'e2e-same-tx-B' })

    const replies = await Promise.all([postNotify(h, first), postNotify(h, second)])
    expect(replies.map((r) => r.status)).toEqual([204, 204])
    // And once more each, one after the other.
    expect((await postNotify(h, second)).status).toBe(204)
    expect((await postNotify(h, first)).status).toBe(204)

    const detail = await adminOrder(h, order.orderNo)
    expect(detail.status).toBe('PAID')
    expect(detail.payments).toHaveLength(1)
    expect(detail.notifications.map((n) => n.id).sort()).toEqual(['e2e-same-tx-A', 'e2e-same-tx-B'])
    expect(await deliveredTypes(h, order.orderNo)).toEqual(['order.paid'])
    expect(detail.events.map((e) => e.type)).toEqual(['order.paid'])
  })
})
