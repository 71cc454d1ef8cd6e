/**
 * Issue #23, item 7: message push (`GET|POST /api/wechat/push`), attacked with pushes that are
 * genuinely signed and encrypted with the server's Token and EncodingAESKey — what someone holding
 * one captured push, or a leaked Token, can send. Each attack and what it must (not) change:
 * - an old push (a year, or 6 minutes) is refused: no freshness window let it through;
 * - one push replayed 10 times is processed once, also when the replays go to another instance on
 *   the same database;
 * - settlement pushes refused (unknown order, another merchant, another transaction) are recorded
 *   as `rejected`, not `applied`;
 * - a settlement without `transaction_id` completes nothing;
 * - times that are not whole Unix seconds (1e300, ±9e15, "1e3") are refused before anything is
 *   stored (they answered 500 after storing a row, or completed an order in 1970);
 * - the URL check echoes `echostr` only when fresh, once, as text/plain with nosniff.
 */
import type { AdminOrderDetail } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { buildPush, pushSignature } from '@fen/wechatpay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminOrder,
  createOrder,
  metric,
  prepayNative,
  sandboxPay,
  untilStatus,
} from '../api/support'
import { expectAlive } from './support'

let h: Harness
let token: string

beforeAll(async () => {
  h = await startHarness()
  token = await h.login()
})
afterAll(() => h?.close())

const now = () => Math.floor(Date.now() / 1000)

async function shippedOrder(): Promise<AdminOrderDetail> {
  const order = await createOrder(h, token, [{ productId: 3, quantity: 1 }])
  await sandboxPay(h, { code_url: await prepayNative(h, token, order.orderNo) })
  await untilStatus(h, order.orderNo, 'PAID')
  const shipped = await h.admin<AdminOrderDetail>(
    'POST',
    `/api/admin/orders/${order.orderNo}/ship`,
    { logisticsType: 'pickup' },
  )
  expect(shipped.status).toBe(200)
  return adminOrder(h, order.orderNo)
}

/** The settlement push (receipt confirmed) for `o`, as WeChat words it. */
function settled(o: AdminOrderDetail, extra: Record<string, string | number> = {}) {
  return {
    Event: 'trade_manage_order_settlement',
    transaction_id: o.transactionId!,
    merchant_id: h.config.wechatpay.mchid,
    merchant_trade_no: o.orderNo,
    pay_time: Math.floor(Date.parse(o.paidAt!) / 1000),
    confirm_receive_method: 1,
    confirm_receive_time: now(),
    settlement_time: now(),
    ...extra,
  }
}

/** A push signed and encrypted with the server's own settings (安全模式), built once. */
function signedPush(
  message: Record<string, string | number>,
  opts: { timestamp?: number; format?: 'json' | 'xml' } = {},
) {
  const push = h.config.wechat.push!
  const built = buildPush({
    token: push.token,
    message: {
      ToUserName: 'gh_fen',
      FromUserName: 'o_wechat_system',
      CreateTime: opts.timestamp ?? now(),
      MsgType: 'event',
      ...message,
    },
    format: opts.format ?? 'json',
    crypto: { encodingAESKey: push.aesKey, appid: h.config.wechat.appid },
    ...(opts.timestamp === undefined ? {} : { timestamp: String(opts.timestamp) }),
  })
  return { path: `/api/wechat/push?${new URLSearchParams(built.query)}`, built }
}

/** Sends a built push (again) to `target`. */
function send(p: ReturnType<typeof signedPush>, target: Harness = h) {
  return target.api<string>('POST', p.path, {
    raw: p.built.body,
    headers: { 'content-type': p.built.contentType },
  })
}

/** The rows of the notifications table that record pushes (not WeChat Pay's notifications). */
const allRows = async () =>
  (await h.database.db.query.notifications.findMany()).filter((r) =>
    r.eventType.startsWith('push.'),
  )
const rowsOf = async (orderNo: string) => (await allRows()).filter((r) => r.orderNo === orderNo)

const completedEvents = async (orderNo: string) =>
  (await adminOrder(h, orderNo)).events.filter((e) => e.type === 'order.completed').length

const pushes = (event: string, outcome: string) =>
  metric(h, `fen_wechat_pushes_total{event="${event}",outcome="${outcome}"}`)

describe('freshness', () => {
  it('a settlement push signed a year ago → 401; the order stays SHIPPED, nothing stored', async () => {
    const o = await shippedOrder()
    const yearAgo = now() - 365 * 86400
    const res = await send(
      signedPush(settled(o, { confirm_receive_time: yearAgo, settlement_time: yearAgo }), {
        timestamp: yearAgo,
      }),
    )
    expect(res.status).toBe(401)
    expect((await adminOrder(h, o.orderNo)).status).toBe('SHIPPED')
    expect(await rowsOf(o.orderNo)).toEqual([])
  })

  it('6 minutes old or 6 minutes ahead → 401; 4 minutes → applied', async () => {
    const o = await shippedOrder()
    for (const skew of [-360, 360]) {
      expect((await send(signedPush(settled(o), { timestamp: now() + skew }))).status).toBe(401)
    }
    expect((await adminOrder(h, o.orderNo)).status).toBe('SHIPPED')
    const res = await send(signedPush(settled(o), { timestamp: now() - 240 }))
    expect(res.status).toBe(200)
    expect((await adminOrder(h, o.orderNo)).status).toBe('COMPLETED')
  })
})

describe('replays', () => {
  it('one push sent 11 times (10 replays) is processed once; the replays are counted, not applied', async () => {
    const o = await shippedOrder()
    const before = await pushes('trade_manage_order_settlement', 'replayed')
    const push = signedPush(settled(o))
    const answers: number[] = []
    for (let i = 0; i < 11; i++) answers.push((await send(push)).status)
    expect(answers).toEqual(Array(11).fill(200))
    expect(await pushes('trade_manage_order_settlement', 'replayed')).toBe(before + 10)
    expect(await rowsOf(o.orderNo)).toHaveLength(1)
    expect(await completedEvents(o.orderNo)).toBe(1)
  })

  it('replays sent to a second instance on the same database are caught there too', async () => {
    const second = await startHarness({ shareDatabaseWith: h })
    try {
      const before = await pushes('trade_manage_remind_access_api', 'applied')
      const push = signedPush({ Event: 'trade_manage_remind_access_api', msg: '请接入' })
      expect((await send(push)).status).toBe(200)
      for (let i = 0; i < 5; i++) expect((await send(push, second)).status).toBe(200)
      // One instance applied it; the other saw 5 replays.
      expect(await pushes('trade_manage_remind_access_api', 'applied')).toBe(before + 1)
      const text = (await second.admin<string>('GET', '/metrics')).body
      expect(text).toMatch(/event="trade_manage_remind_access_api",outcome="replayed"\} 5/)
      expect(text).not.toMatch(/event="trade_manage_remind_access_api",outcome="applied"/)
    } finally {
      await second.close()
    }
  })
})

describe('settlement pushes refused are recorded as such', () => {
  it('unknown order, another merchant, another transaction → rejected with why; none applied', async () => {
    const o = await shippedOrder()
    const cases: [string, Record<string, string | number>][] = [
      ['unknown order', { merchant_trade_no: `${o.orderNo.slice(0, -4)}0000` }],
      ['another merchant', { merchant_id: '1900000000' }],
      ['another transaction', { transaction_id: '4200000000202612020000000000' }],
    ]
    for (const [, extra] of cases) {
      const res = await send(signedPush(settled(o, extra)))
      expect(res.status).toBe(200)
    }
    const rows = await allRows()
    const refused = rows.filter((r) => r.outcome === 'rejected')
    expect(refused.map((r) => r.detail)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/unknown order/),
        expect.stringMatching(/merchant_id 1900000000/),
        expect.stringMatching(/transaction 4200000000202612020000000000/),
      ]),
    )
    expect(rows.filter((r) => r.orderNo === o.orderNo && r.outcome === 'applied')).toEqual([])
    expect((await adminOrder(h, o.orderNo)).status).toBe('SHIPPED')
  })

  it('a settlement push without transaction_id completes nothing and stores nothing', async () => {
    const o = await shippedOrder()
    const { transaction_id: _none, ...noTransaction } = settled(o)
    const res = await send(signedPush(noTransaction))
    expect(res.status).toBe(400)
    expect((await adminOrder(h, o.orderNo)).status).toBe('SHIPPED')
    expect(await rowsOf(o.orderNo)).toEqual([])
  })
})

describe('every field checked before anything is stored', () => {
  it('confirm_receive_time 1e300, ±9e15, "1e3", 1.5, 1000 → 400, no row, no completion, no 500', async () => {
    const o = await shippedOrder()
    for (const bad of [1e300, 9e15, -9e15, '1e3', 1.5, 1000, 'tomorrow']) {
      for (const format of ['json', 'xml'] as const) {
        const res = await send(signedPush(settled(o, { confirm_receive_time: bad }), { format }))
        expect(res.status, `${format} ${bad}`).toBe(400)
      }
    }
    expect(await rowsOf(o.orderNo)).toEqual([])
    const d = await adminOrder(h, o.orderNo)
    expect(d.status).toBe('SHIPPED')
    expect(d.completedAt).toBeUndefined()
    await expectAlive(h)
  })

  it('merchant_trade_no or transaction_id that no order could have → 400, nothing stored', async () => {
    const o = await shippedOrder()
    const before = (await allRows()).length
    const extras: Record<string, string>[] = [
      { merchant_trade_no: 'x'.repeat(300) },
      { transaction_id: 'y'.repeat(300) },
      { merchant_id: 'not digits' },
    ]
    for (const extra of extras) {
      expect((await send(signedPush(settled(o, extra)))).status).toBe(400)
    }
    expect((await allRows()).length).toBe(before)
  })
})

describe('the URL check (GET, echostr)', () => {
  const check = (timestamp: number, nonce: string, echostr: string) => {
    const signature = pushSignature(h.config.wechat.push!.token, String(timestamp), nonce)
    return h.api<string>(
      'GET',
      `/api/wechat/push?${new URLSearchParams({ signature, timestamp: String(timestamp), nonce, echostr })}`,
    )
  }

  it('fresh: echostr as text/plain with nosniff; a year old → 401, nothing echoed', async () => {
    const ok = await check(now(), '1001', 'fen-echo-5123')
    expect(ok.status).toBe(200)
    expect(ok.body).toBe('fen-echo-5123')
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff')

    const old = await check(now() - 365 * 86400, '1002', '<script>alert(1)</script>')
    expect(old.status).toBe(401)
    expect(old.body).not.toContain('<script>')
  })

  it('one signed check replayed with another echostr → refused, the text not reflected', async () => {
    const t = now()
    expect((await check(t, '2001', 'first')).status).toBe(200)
    const replay = await check(t, '2001', '<h1>anything</h1>')
    expect(replay.status).toBe(401)
    expect(replay.body).not.toContain('<h1>')
  })
})
