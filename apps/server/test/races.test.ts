/**
 * The races and failure cases a review of the server found, each pinned by a test. On PostgreSQL
 * (CI) the concurrent ones run truly concurrently; on PGlite they serialise, and still must end in
 * the same state.
 */
import type { AdminOrderDetail, Order, PayResponse } from '@fen/shared'
import { WechatPay } from '@fen/wechatpay'
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { outboxEvents, users } from '../src/db/schema'
import { dispatchOnce } from '../src/services/outbox'
import { enqueueEvent } from '../src/repositories/events'
import { loggable } from '../src/logger'
import { startHarness, type Harness } from './harness'

let h: Harness
let token: string
beforeAll(async () => {
  h = await startHarness()
  token = await h.login()
})
afterAll(() => h?.close())

async function order(items = [{ productId: 4, quantity: 2 }]): Promise<Order> {
  const res = await h.api<Order>('POST', '/api/orders', { token, body: { items } })
  expect(res.status).toBe(201)
  return res.body
}

async function paidOrder(): Promise<Order> {
  const o = await order()
  const pay = await h.api<PayResponse>('POST', `/api/orders/${o.orderNo}/pay`, {
    token,
    body: { channel: 'native' },
  })
  if (pay.body.channel !== 'native') throw new Error('expected native')
  await h.control('POST', '/__sandbox/pay', { code_url: pay.body.codeUrl })
  return h.until(async () => {
    const r = await h.api<Order>('GET', `/api/orders/${o.orderNo}`, { token })
    return r.body.status === 'PAID' && r.body
  })
}

const detail = async (no: string) =>
  (await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${no}`)).body

/** A WeChat Pay client of the sandbox's merchant: what an operator does by hand in 商户平台. */
function merchantPlatform(): WechatPay {
  const m = h.sandbox.merchant
  return new WechatPay({
    baseUrl: h.sandbox.url,
    mchid: m.mchid,
    appid: m.appid,
    serialNo: m.merchantSerialNo,
    privateKey: m.merchantPrivateKey,
    apiV3Key: m.apiV3Key,
    platform: { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
  })
}

describe('refunds settling at the same time', () => {
  it('two refunds of one order settled at once: both counted, PARTIALLY_REFUNDED', async () => {
    const o = await paidOrder()
    for (const amountFen of [1000, 2000]) {
      const r = await h.admin('POST', `/api/admin/orders/${o.orderNo}/refunds`, {
        amountFen,
        reason: '部分退款',
      })
      expect(r.status).toBe(201)
    }
    const [r1, r2] = (await detail(o.orderNo)).refunds
    await Promise.all(
      [r1!, r2!].map((r) =>
        h.services.refunds.applyResult({
          outRefundNo: r.outRefundNo,
          status: 'SUCCESS',
          refundId: r.refundId,
          successTime: h.now(),
        }),
      ),
    )
    const d = await detail(o.orderNo)
    expect(d.refunds.map((r) => r.status)).toEqual(['SUCCESS', 'SUCCESS'])
    expect({ status: d.status, refundedFen: d.refundedFen }).toEqual({
      status: 'PARTIALLY_REFUNDED',
      refundedFen: 3000,
    })
  })

  it('WeChat reporting SUCCESS for a refund we hold as FAILED is not applied, and is flagged', async () => {
    const o = await paidOrder()
    await h.admin('POST', `/api/admin/orders/${o.orderNo}/refunds`, {
      amountFen: 500,
      reason: '部分退款',
    })
    const [r] = (await detail(o.orderNo)).refunds
    await h.database.db.execute(
      `update refunds set status = 'FAILED' where out_refund_no = '${r!.outRefundNo}'`,
    )
    const outcome = await h.services.refunds.applyResult({
      outRefundNo: r!.outRefundNo,
      status: 'SUCCESS',
      refundId: r!.refundId,
      successTime: h.now(),
    })
    expect(outcome).toBe('rejected')
    expect((await detail(o.orderNo)).refundedFen).toBe(0)
  })
})

describe('closing an order whose prepay is being recorded', () => {
  it('a close that skipped WeChat does not close an order that was prepaid meanwhile', async () => {
    const o = await order()
    const pay = await h.api<PayResponse>('POST', `/api/orders/${o.orderNo}/pay`, {
      token,
      body: { channel: 'native' },
    })
    expect(pay.status).toBe(200)
    // The cancel read the order before the prepay was recorded, so it skipped WeChat:
    const closed = await h.services.payments.closeLocally(h.database.db, o.orderNo, 'test', {
      unprepaidOnly: true,
    })
    expect(closed).toBe(false)
    expect((await detail(o.orderNo)).status).toBe('PENDING')
    // Closing it properly goes through WeChat, so the code_url handed out can no longer be paid.
    expect(await h.services.payments.close(o.orderNo, 'test')).toBe('closed')
    const sandboxOrder = h.sandbox.sandbox.store.orders.get(o.orderNo)
    expect(sandboxOrder?.state).toBe('CLOSED')
  })
})

describe('a payment WeChat already reports refunded', () => {
  it('is recorded, never fulfilled, and flagged for a person', async () => {
    const o = await order()
    const pay = await h.api<PayResponse>('POST', `/api/orders/${o.orderNo}/pay`, {
      token,
      body: { channel: 'native' },
    })
    if (pay.body.channel !== 'native') throw new Error('expected native')
    await h.control('POST', '/__sandbox/faults', {
      target: 'notifications',
      kind: 'drop',
      count: 1,
    })
    await h.control('POST', '/__sandbox/pay', { code_url: pay.body.codeUrl })
    // Refunded by hand in 商户平台 before the shop ever saw the payment:
    await merchantPlatform().refunds.create({
      out_trade_no: o.orderNo,
      out_refund_no: `${o.orderNo}-HAND`,
      amount: { refund: o.totalFen, total: o.totalFen, currency: 'CNY' },
    })
    await h.services.payments.sync(o.orderNo)
    const d = await detail(o.orderNo)
    expect(d.status).toBe('PAID')
    expect(d.payments).toHaveLength(1)
    expect(d.events.filter((e) => e.type === 'order.paid')).toEqual([])
  })
})

describe('a late payment whose automatic refund did not go through', () => {
  it('stays REFUNDING after a partial manual refund: the shopper is still owed the rest', async () => {
    const o = await order()
    const pay = await h.api<PayResponse>('POST', `/api/orders/${o.orderNo}/pay`, {
      token,
      body: { channel: 'native' },
    })
    expect(pay.status).toBe(200)
    expect(
      (await h.api<Order>('POST', `/api/orders/${o.orderNo}/cancel`, { token })).body.status,
    ).toBe('CLOSED')
    await h.control('POST', '/__sandbox/pay', { out_trade_no: o.orderNo, afterClose: true })
    const auto = await h.until(async () =>
      (await detail(o.orderNo)).refunds.find((r) => r.automatic && r.status === 'PROCESSING'),
    )
    await h.control('POST', `/__sandbox/refunds/${auto.outRefundNo}`, { status: 'CLOSED' })
    await h.until(
      async () => (await detail(o.orderNo)).refunds.find((r) => r.automatic)?.status === 'CLOSED',
    )
    expect((await detail(o.orderNo)).status).toBe('REFUNDING')

    const part = await h.admin<{ outRefundNo: string }>(
      'POST',
      `/api/admin/orders/${o.orderNo}/refunds`,
      { amountFen: 1000, reason: '先退一部分' },
    )
    expect(part.status).toBe(201)
    await h.control('POST', `/__sandbox/refunds/${part.body.outRefundNo}`, { status: 'SUCCESS' })
    const d = await h.until(async () => {
      const x = await detail(o.orderNo)
      return x.refundedFen === 1000 && x
    })
    expect(d.status).toBe('REFUNDING')
  })
})

describe('the outbox', () => {
  it('one run delivers a backlog bigger than a batch, orders side by side, each in order', async () => {
    // 40 orders × 3 events = 120 events, more than two batches of 50.
    const orderNos = Array.from({ length: 40 }, (_, i) => `BURST${String(i).padStart(4, '0')}`)
    for (const orderNo of orderNos) {
      for (const [type, dedupeKey] of [
        ['order.paid', orderNo],
        ['order.refunded', `${orderNo}-R1`],
        ['order.refunded', `${orderNo}-R2`],
      ] as const) {
        await enqueueEvent(h.database.db, { type, orderNo, dedupeKey, payload: {}, at: h.now() })
      }
    }
    const seen = new Map<string, number[]>()
    let inFlight = 0
    let mostInFlight = 0
    const result = await dispatchOnce(h.services.ctx, async (e) => {
      if (!e.orderNo.startsWith('BURST')) return
      inFlight++
      mostInFlight = Math.max(mostInFlight, inFlight)
      await new Promise((r) => setTimeout(r, 2))
      seen.set(e.orderNo, [...(seen.get(e.orderNo) ?? []), e.id])
      inFlight--
    })

    expect(result.failed).toBe(0)
    expect(result.delivered).toBeGreaterThanOrEqual(120)
    expect([...seen.keys()].sort()).toEqual(orderNos)
    for (const ids of seen.values()) {
      expect(ids).toHaveLength(3)
      expect(ids).toEqual([...ids].sort((a, b) => a - b)) // an order's events in the order written
    }
    // Several orders at once, never more than the dispatcher's limit of 8.
    expect(mostInFlight).toBeGreaterThan(1)
    expect(mostInFlight).toBeLessThanOrEqual(8)
  })

  it('fails a handler that hangs (and retries it later), and survives one that throws undefined', async () => {
    const o = await paidOrder()
    const [paid] = await h.database.db
      .select()
      .from(outboxEvents)
      .where(eq(outboxEvents.orderNo, o.orderNo))
    expect(paid?.deliveredAt).toBeNull()
    const hang = await dispatchOnce(h.services.ctx, () => new Promise(() => undefined), {
      handlerTimeoutMs: 50,
    })
    expect(hang.failed).toBeGreaterThanOrEqual(1)
    const [afterHang] = await h.database.db
      .select()
      .from(outboxEvents)
      .where(eq(outboxEvents.id, paid!.id))
    expect(afterHang).toMatchObject({ deliveredAt: null, attempts: 1, leaseUntil: null })
    expect(afterHang!.lastError).toMatch(/longer than 50 ms/)

    h.advance(6) // past the first backoff
    const thrown = await dispatchOnce(h.services.ctx, async () => {
      throw undefined
    })
    expect(thrown.failed).toBeGreaterThanOrEqual(1)
    const [afterThrow] = await h.database.db
      .select()
      .from(outboxEvents)
      .where(eq(outboxEvents.id, paid!.id))
    expect(afterThrow).toMatchObject({ attempts: 2, lastError: 'undefined' })
  })

  it('a delivery that starts late in its batch takes its lease afresh; one taken over is skipped', async () => {
    // Two events of one order are delivered one after the other. While the first's handler runs,
    // 40 s pass: the batch's 60 s lease no longer covers the second (handler timeout 30 s + a
    // margin), so its delivery renews the lease first — and finds it gone when another dispatcher
    // has taken the event.
    const events = async (orderNo: string) =>
      h.database.db.select().from(outboxEvents).where(eq(outboxEvents.orderNo, orderNo))
    const twoEvents = async (name: string) => {
      const orderNo = `LATE${name}${Date.now()}`
      for (const type of ['order.paid', 'order.shipped'] as const)
        await enqueueEvent(h.database.db, {
          type,
          orderNo,
          dedupeKey: orderNo,
          payload: {},
          at: h.now(),
        })
      return orderNo
    }
    h.advance(3600) // everything earlier is due too, and delivered by these runs
    const renewed = await twoEvents('A')
    await dispatchOnce(h.services.ctx, async (e) => {
      if (e.orderNo === renewed && e.type === 'order.paid') h.advance(40)
    })
    expect((await events(renewed)).map((e) => e.deliveredAt !== null)).toEqual([true, true])

    const stolen = await twoEvents('B')
    const handed: string[] = []
    await dispatchOnce(h.services.ctx, async (e) => {
      if (e.orderNo === stolen) handed.push(e.type)
      if (e.orderNo !== stolen || e.type !== 'order.paid') return
      h.advance(40)
      await h.database.db
        .update(outboxEvents)
        .set({ leaseUntil: new Date(h.now().getTime() + 999_000) })
        .where(and(eq(outboxEvents.orderNo, stolen), eq(outboxEvents.type, 'order.shipped')))
    })
    const after = await events(stolen)
    expect(after.find((e) => e.type === 'order.paid')?.deliveredAt).not.toBeNull()
    expect(after.find((e) => e.type === 'order.shipped')?.deliveredAt).toBeNull()
    // The renewal found the lease gone: the handler never saw the event.
    expect(handed).toEqual(['order.paid'])
  })

  it('a dispatcher whose lease was taken over does not mark the event', async () => {
    const o = await paidOrder()
    h.advance(3600) // everything due
    let stolen = false
    await dispatchOnce(h.services.ctx, async (e) => {
      if (e.orderNo !== o.orderNo) return
      // Another instance takes the event over while this handler runs.
      await h.database.db
        .update(outboxEvents)
        .set({ leaseUntil: new Date(h.now().getTime() + 999_000) })
        .where(eq(outboxEvents.id, e.id))
      stolen = true
    })
    expect(stolen).toBe(true)
    const [row] = await h.database.db
      .select()
      .from(outboxEvents)
      .where(eq(outboxEvents.orderNo, o.orderNo))
    expect(row?.deliveredAt).toBeNull()
  })
})

describe('tokens', () => {
  it('a token whose id now belongs to another shopper (a restored database) is refused', async () => {
    const t = await h.login()
    expect((await h.api('GET', '/api/orders', { token: t })).status).toBe(200)
    const me = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { sub: string }
    await h.database.db
      .update(users)
      .set({ openid: 'o-someone-else-entirely' })
      .where(eq(users.id, Number(me.sub)))
    const res = await h.api<{ code: string }>('GET', '/api/orders', { token: t })
    expect({ status: res.status, code: res.body.code }).toEqual({
      status: 401,
      code: 'UNAUTHORIZED',
    })
  })
})

describe('logs', () => {
  it('never carry a failed query’s parameters', () => {
    const cause = Object.assign(new Error('duplicate key value violates unique constraint'), {
      code: '23505',
    })
    const wrapped = Object.assign(
      new Error(
        'Failed query: insert into "users" ("openid", "session_key") values ($1, $2)\nparams: oX,frFvvUoQ7LTr24PEXDES7g==',
      ),
      { cause },
    )
    const logged = JSON.stringify(loggable(wrapped))
    expect(logged).not.toContain('frFvvUoQ7LTr24PEXDES7g==')
    expect(logged).not.toContain('params')
    expect(loggable(wrapped)).toMatchObject({
      message: 'duplicate key value violates unique constraint',
      code: '23505',
    })
    expect(loggable('plain').message).toBe('plain')
  })
})
