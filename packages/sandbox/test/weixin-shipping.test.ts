import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  formatBeijingTime,
  isMiniProgramError,
  type MiniProgramClient,
  type UploadShippingInfoRequest,
} from '@fen/wechatpay'
import { startSandbox, type RunningSandbox } from '../src/server'
import { sandboxKeys } from './support/keys'
import { until } from './support/until'
import {
  advance,
  control,
  merchantClient,
  miniProgram,
  paidJsapiOrder,
  weixin,
  type Json,
} from './support/weixin'

/**
 * 发货信息管理 (wechat-ops-api.md §1) through the SDK's MiniProgramClient and raw calls: the state
 * machine 1 → 2 → 3 → 4 (and 5 for refunds), the one re-ship, every upload errcode of the table,
 * the 10060001 fault, lists, reminders, receipt confirmation by the shopper and by the clock.
 */

let sb: RunningSandbox
let mp: MiniProgramClient
let sleeps: number[]

beforeAll(async () => {
  sb = await startSandbox({ keys: await sandboxKeys(), port: 0, refundSettleSeconds: false })
  sleeps = []
  mp = miniProgram(sb, { sleeps })
})
afterAll(async () => {
  await sb?.close()
})
afterEach(async () => {
  await control(sb, 'POST', '/__sandbox/reset')
  await control(sb, 'POST', '/__sandbox/settings', {
    autoConfirmDays: null,
    settlementDelaySeconds: 0,
    shippingIngestSeconds: 0,
  })
  sleeps.length = 0
})

/** Upload times must rise: each call gets a later one (sandbox time plus a counter). */
let tick = 0
const uploadTime = () =>
  formatBeijingTime(sb.sandbox.clock.now() + ++tick * 1000, { milliseconds: true })

function express(
  o: { outTradeNo: string; openid: string },
  overrides: Partial<UploadShippingInfoRequest> = {},
): UploadShippingInfoRequest {
  return {
    order_key: { order_number_type: 1, mchid: sb.merchant.mchid, out_trade_no: o.outTradeNo },
    logistics_type: 1,
    delivery_mode: 1,
    shipping_list: [{ tracking_no: 'ZT0001', express_company: 'ZTO', item_desc: '测试商品×1' }],
    upload_time: uploadTime(),
    payer: { openid: o.openid },
    ...overrides,
  }
}

const getOrder = (o: { outTradeNo: string }) =>
  mp.shipping.getOrder({ merchant_id: sb.merchant.mchid, merchant_trade_no: o.outTradeNo })

/** A raw call with the SDK's current token (for bodies the SDK itself would refuse to send). */
async function raw(path: string, body: unknown): Promise<Json> {
  return weixin(sb, `/wxa/sec/order/${path}`, body, await mp.accessToken.get())
}

const errcodeOf = async (p: Promise<unknown>): Promise<number | undefined> => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  return isMiniProgramError(e) ? e.errcode : undefined
}

describe('the shipping state machine', () => {
  it('待发货 1 → 已发货 2 → (the shopper confirms) → 交易完成 4, as get_order and /__sandbox/state show it', async () => {
    const o = await paidJsapiOrder(sb, { description: '一杯咖啡', total: 2500 })
    const before = await getOrder(o)
    expect(before).toMatchObject({
      transaction_id: o.transactionId,
      merchant_id: sb.merchant.mchid,
      merchant_trade_no: o.outTradeNo,
      description: '一杯咖啡',
      paid_amount: 2500,
      openid: o.openid,
      order_state: 1,
      in_complaint: false,
      shipping: {},
    })
    expect(before.pay_time).toBeGreaterThan(1_600_000_000)

    await mp.shipping.uploadShippingInfo(express(o))
    const shipped = await mp.shipping.getOrder({ transaction_id: o.transactionId })
    expect(shipped.order_state).toBe(2)
    expect(shipped.shipping).toMatchObject({
      delivery_mode: 1,
      logistics_type: 1,
      finish_shipping: true,
      finish_shipping_count: 1,
      goods_desc: '测试商品×1',
      shipping_list: [{ tracking_no: 'ZT0001', express_company: 'ZTO', goods_desc: '测试商品×1' }],
    })
    expect(typeof shipped.shipping.shipping_list![0]!.upload_time).toBe('number')

    const confirmed = await control(sb, 'POST', '/__sandbox/confirm-receipt', {
      out_trade_no: o.outTradeNo,
    })
    expect(confirmed.status).toBe(200)
    expect(confirmed.body).toMatchObject({
      status: 'success',
      req_extradata: { merchant_id: sb.merchant.mchid, merchant_trade_no: o.outTradeNo },
      order: { order_state: 4 },
    })
    expect((await getOrder(o)).order_state).toBe(4)

    const state = (await control(sb, 'GET', '/__sandbox/state')).body
    const view = state.orders.find((x: Json) => x.out_trade_no === o.outTradeNo)
    expect(view.shipping).toMatchObject({
      order_state: 4,
      logistics_type: 1,
      confirm_receive_method: 2,
      uploads: 1,
    })
    expect(view.shipping.confirmed_at).toBe(view.shipping.settled_at)
  })

  it('with a settlement delay: 确认收货 3 until the clock reaches settlement, then 4', async () => {
    await control(sb, 'POST', '/__sandbox/settings', { settlementDelaySeconds: 3600 })
    const o = await paidJsapiOrder(sb)
    await mp.shipping.uploadShippingInfo(express(o))
    await control(sb, 'POST', '/__sandbox/confirm-receipt', { transaction_id: o.transactionId })
    expect((await getOrder(o)).order_state).toBe(3)
    await advance(sb, 3600)
    await until(
      () => getOrder(o),
      (x) => x.order_state === 4,
    )
  })

  it('allows one re-ship: the second upload updates (count 2), a third is 10060003; unchanged is 10060023', async () => {
    const o = await paidJsapiOrder(sb)
    const first = express(o)
    await mp.shipping.uploadShippingInfo(first)
    // The same content again (even with a later time) is a no-op.
    expect(
      await errcodeOf(mp.shipping.uploadShippingInfo({ ...first, upload_time: uploadTime() })),
    ).toBe(10060023)
    await mp.shipping.uploadShippingInfo(
      express(o, {
        shipping_list: [
          {
            tracking_no: 'SF0002',
            express_company: 'SF',
            item_desc: '测试商品×1',
            contact: { receiver_contact: '189****1234' },
          },
        ],
      }),
    )
    const after = await getOrder(o)
    expect(after.order_state).toBe(2)
    expect(after.shipping).toMatchObject({
      finish_shipping_count: 2,
      shipping_list: [
        {
          tracking_no: 'SF0002',
          express_company: 'SF',
          contact: { receiver_contact: '189****1234' },
        },
      ],
    })
    const third = express(o, {
      shipping_list: [{ tracking_no: 'YT0003', express_company: 'YTO', item_desc: '测试商品×1' }],
    })
    expect(await errcodeOf(mp.shipping.uploadShippingInfo(third, { retry: false }))).toBe(10060003)
    expect((await getOrder(o)).shipping.shipping_list![0]!.tracking_no).toBe('SF0002')
  })

  it('a change of logistics type counts as the re-ship', async () => {
    const o = await paidJsapiOrder(sb)
    await mp.shipping.uploadShippingInfo(express(o))
    await mp.shipping.uploadShippingInfo(
      express(o, { logistics_type: 2, shipping_list: [{ item_desc: '同城配送' }] }),
    )
    expect((await getOrder(o)).shipping).toMatchObject({
      logistics_type: 2,
      finish_shipping_count: 2,
    })
    expect(await errcodeOf(mp.shipping.uploadShippingInfo(express(o), { retry: false }))).toBe(
      10060003,
    )
  })

  it('refuses an upload_time not later than the previous upload (10060014)', async () => {
    const o = await paidJsapiOrder(sb)
    const first = express(o)
    await mp.shipping.uploadShippingInfo(first)
    const e = await raw('upload_shipping_info', {
      ...express(o, {
        shipping_list: [{ tracking_no: 'X9', express_company: 'YTO', item_desc: 'a' }],
      }),
      upload_time: first.upload_time,
    })
    expect(e.errcode).toBe(10060014)
    expect(e.errmsg).toContain('upload_time must be later')
  })

  it('split delivery: parcels while is_all_delivered is false keep it 待发货; true ships it', async () => {
    const o = await paidJsapiOrder(sb)
    const parcel = (n: number) => ({
      tracking_no: `YT${n}`,
      express_company: 'YTO',
      item_desc: `包裹${n}`,
    })
    await mp.shipping.uploadShippingInfo(
      express(o, { delivery_mode: 2, is_all_delivered: false, shipping_list: [parcel(1)] }),
    )
    const partial = await getOrder(o)
    expect(partial.order_state).toBe(1)
    expect(partial.shipping).toMatchObject({
      delivery_mode: 2,
      finish_shipping: false,
      finish_shipping_count: 0,
    })
    await mp.shipping.uploadShippingInfo(
      express(o, {
        delivery_mode: 2,
        is_all_delivered: true,
        shipping_list: [parcel(1), parcel(2)],
      }),
    )
    const done = await getOrder(o)
    expect(done.order_state).toBe(2)
    expect(done.shipping).toMatchObject({
      finish_shipping: true,
      finish_shipping_count: 1,
      goods_desc: '包裹1;包裹2',
    })
    expect(done.shipping.shipping_list).toHaveLength(2)
    // Shipped: no going back to a delivery still under way.
    expect(
      (
        await raw('upload_shipping_info', {
          ...express(o, { delivery_mode: 2, is_all_delivered: false, shipping_list: [parcel(3)] }),
        })
      ).errcode,
    ).toBe(10060002)
  })

  for (const [type, name] of [
    [2, 'same-city'],
    [3, 'virtual'],
    [4, 'pickup'],
  ] as const) {
    it(`ships ${name} goods (logistics_type ${type}) without carrier or tracking number`, async () => {
      const o = await paidJsapiOrder(sb)
      await mp.shipping.uploadShippingInfo(
        express(o, { logistics_type: type, shipping_list: [{ item_desc: '会员月卡' }] }),
      )
      expect(await getOrder(o)).toMatchObject({
        order_state: 2,
        shipping: { logistics_type: type, shipping_list: [{ goods_desc: '会员月卡' }] },
      })
    })
  }

  it('by transaction_id (order_number_type 2) too', async () => {
    const o = await paidJsapiOrder(sb)
    await mp.shipping.uploadShippingInfo(
      express(o, { order_key: { order_number_type: 2, transaction_id: o.transactionId } }),
    )
    expect((await getOrder(o)).order_state).toBe(2)
  })
})

describe('orders the shipping system does not take', () => {
  it('10060001 for an unpaid order, a Native payment, an unknown one', async () => {
    const unpaid = await paidJsapiOrder(sb, { pay: false })
    expect(await errcodeOf(getOrder(unpaid).catch((e: unknown) => Promise.reject(e)))).toBe(
      10060001,
    )
    expect(sleeps.length).toBeGreaterThan(0) // the SDK retried 10060001 as transient
    const no = `N${Date.now()}`
    await merchantClient(sb).transactions.native({
      appid: sb.merchant.appid,
      description: 'native',
      out_trade_no: no,
      notify_url: 'http://127.0.0.1:9/notify',
      amount: { total: 1 },
    })
    await control(sb, 'POST', '/__sandbox/pay', { out_trade_no: no })
    expect(
      (await raw('get_order', { merchant_id: sb.merchant.mchid, merchant_trade_no: no })).errcode,
    ).toBe(10060001)
    expect(
      (await raw('get_order', { transaction_id: '4200000000000000000000000000' })).errcode,
    ).toBe(10060001)
    expect(
      (await raw('get_order', { merchant_id: '1900000000', merchant_trade_no: unpaid.outTradeNo }))
        .errcode,
    ).toBe(10060001)
    expect((await raw('get_order', {})).errcode).toBe(10060014)
  })

  it('10060031 when payer.openid is not the payer', async () => {
    const o = await paidJsapiOrder(sb)
    const e = await raw(
      'upload_shipping_info',
      express({ ...o, openid: 'oSomeoneElse000000000000001' }),
    )
    expect(e.errcode).toBe(10060031)
  })

  it('a fully refunded payment is 已退款 5 and cannot ship (10060004); a partial refund can', async () => {
    const full = await paidJsapiOrder(sb, { total: 300 })
    const part = await paidJsapiOrder(sb, { total: 300 })
    const refund = (no: string, amount: number) =>
      merchantClient(sb).refunds.create({
        out_trade_no: no,
        out_refund_no: `R${no}`,
        amount: { refund: amount, total: 300, currency: 'CNY' },
      })
    await refund(full.outTradeNo, 300)
    await refund(part.outTradeNo, 100)
    expect((await getOrder(full)).order_state).toBe(5)
    expect((await raw('upload_shipping_info', express(full))).errcode).toBe(10060004)
    expect((await getOrder(part)).order_state).toBe(1)
    await mp.shipping.uploadShippingInfo(express(part))
  })

  it('a completed payment cannot ship again (10060004)', async () => {
    const o = await paidJsapiOrder(sb)
    await mp.shipping.uploadShippingInfo(express(o))
    await control(sb, 'POST', '/__sandbox/confirm-receipt', { out_trade_no: o.outTradeNo })
    expect(
      (
        await raw(
          'upload_shipping_info',
          express(o, {
            shipping_list: [{ tracking_no: 'N2', express_company: 'EMS', item_desc: 'x' }],
          }),
        )
      ).errcode,
    ).toBe(10060004)
  })

  it('the errcode fault answers 10060001 N times (right after payment); the SDK retries through it', async () => {
    const o = await paidJsapiOrder(sb)
    const armed = await control(sb, 'POST', '/__sandbox/faults', {
      target: '/wxa/sec/order/upload_shipping_info',
      kind: 'errcode',
      errcode: 10060001,
      count: 2,
    })
    expect(armed.status).toBe(200)
    await mp.shipping.uploadShippingInfo(express(o))
    expect(sleeps).toEqual([1000, 2000])
    expect((await getOrder(o)).order_state).toBe(2)
    // errcode faults are for the mini-program APIs only.
    const refused = await control(sb, 'POST', '/__sandbox/faults', {
      target: '/v3/pay',
      kind: 'errcode',
    })
    expect(refused.status).toBe(400)
  })

  it('shippingIngestSeconds: 10060001 until that long after payment', async () => {
    await control(sb, 'POST', '/__sandbox/settings', { shippingIngestSeconds: 30 })
    const o = await paidJsapiOrder(sb)
    expect((await raw('get_order', { transaction_id: o.transactionId })).errcode).toBe(10060001)
    await advance(sb, 30)
    expect((await raw('get_order', { transaction_id: o.transactionId })).errcode).toBe(0)
  })
})

describe('upload_shipping_info checks (the errcodes of the table)', () => {
  const cases: [string, (b: Json) => Json, number][] = [
    [
      'bad order_number_type',
      (b) => ({ ...b, order_key: { ...b.order_key, order_number_type: 3 } }),
      268485194,
    ],
    [
      'type 2 without transaction_id',
      (b) => ({ ...b, order_key: { order_number_type: 2 } }),
      268485195,
    ],
    [
      'type 1 without mchid',
      (b) => ({ ...b, order_key: { order_number_type: 1, out_trade_no: 'x' } }),
      268485196,
    ],
    [
      'type 1 without out_trade_no',
      (b) => ({ ...b, order_key: { order_number_type: 1, mchid: 'x' } }),
      268485197,
    ],
    ['bad logistics_type', (b) => ({ ...b, logistics_type: 5 }), 10060005],
    ['delivery_mode as a string', (b) => ({ ...b, delivery_mode: 'UNIFIED_DELIVERY' }), 268485224],
    ['shipping_list an object', (b) => ({ ...b, shipping_list: b.shipping_list[0] }), 47001],
    [
      '16 entries',
      (b) => ({
        ...b,
        delivery_mode: 2,
        is_all_delivered: true,
        shipping_list: Array(16).fill(b.shipping_list[0]),
      }),
      10060024,
    ],
    [
      'unified with 2 entries',
      (b) => ({ ...b, shipping_list: [b.shipping_list[0], b.shipping_list[0]] }),
      268485228,
    ],
    [
      'split for same-city',
      (b) => ({ ...b, logistics_type: 2, delivery_mode: 2, is_all_delivered: true }),
      10060006,
    ],
    ['split without is_all_delivered', (b) => ({ ...b, delivery_mode: 2 }), 10060007],
    [
      'empty item_desc',
      (b) => ({ ...b, shipping_list: [{ ...b.shipping_list[0], item_desc: '' }] }),
      10060008,
    ],
    [
      'item_desc of 121 characters',
      (b) => ({ ...b, shipping_list: [{ ...b.shipping_list[0], item_desc: '货'.repeat(121) }] }),
      10060009,
    ],
    [
      'express without tracking_no',
      (b) => ({ ...b, shipping_list: [{ express_company: 'ZTO', item_desc: 'a' }] }),
      268485226,
    ],
    [
      'express without express_company',
      (b) => ({ ...b, shipping_list: [{ tracking_no: 'T1', item_desc: 'a' }] }),
      268485227,
    ],
    [
      'express_company over 128 bytes',
      (b) => ({
        ...b,
        shipping_list: [{ ...b.shipping_list[0], express_company: 'Z'.repeat(129) }],
      }),
      10060025,
    ],
    [
      'tracking_no over 128 bytes',
      (b) => ({ ...b, shipping_list: [{ ...b.shipping_list[0], tracking_no: '1'.repeat(129) }] }),
      10060026,
    ],
    [
      'an unknown carrier',
      (b) => ({ ...b, shipping_list: [{ ...b.shipping_list[0], express_company: 'NOPE' }] }),
      10060014,
    ],
    [
      'SF without a contact',
      (b) => ({ ...b, shipping_list: [{ ...b.shipping_list[0], express_company: 'SF' }] }),
      10060014,
    ],
    [
      'upload_time with a space for the +',
      (b) => ({ ...b, upload_time: b.upload_time.replace('+', ' ') }),
      268485216,
    ],
    ['no payer', (b) => ({ ...b, payer: {} }), 10060014],
  ]
  for (const [name, change, errcode] of cases) {
    it(`${name} → ${errcode}`, async () => {
      const o = await paidJsapiOrder(sb)
      const answer = await raw('upload_shipping_info', change(express(o)))
      expect(answer.errcode).toBe(errcode)
      expect(answer.errmsg).toMatch(/ rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/)
      expect((await getOrder(o)).order_state).toBe(1)
    })
  }

  it('a body that is not JSON → 47001', async () => {
    expect((await raw('upload_shipping_info', '{nope')).errcode).toBe(47001)
  })
})

describe('get_order_list, notify_confirm_receive, and the app-level APIs', () => {
  it('lists payments oldest first, filtered, in pages joined by last_index', async () => {
    const a = await paidJsapiOrder(sb, { openid: 'oListA00000000000000000000001' })
    await advance(sb, 2)
    const b = await paidJsapiOrder(sb, { openid: 'oListB00000000000000000000001' })
    await advance(sb, 2)
    const c = await paidJsapiOrder(sb, { openid: 'oListA00000000000000000000001' })
    await mp.shipping.uploadShippingInfo(express(b))
    const page1 = await mp.shipping.getOrderList({ page_size: 2 })
    expect(page1.order_list.map((x) => x.merchant_trade_no)).toEqual([a.outTradeNo, b.outTradeNo])
    expect(page1.has_more).toBe(true)
    const page2 = await mp.shipping.getOrderList({ page_size: 2, last_index: page1.last_index })
    expect(page2.order_list.map((x) => x.merchant_trade_no)).toEqual([c.outTradeNo])
    expect(page2.has_more).toBe(false)
    expect(
      (await mp.shipping.getOrderList({ order_state: 2 })).order_list.map(
        (x) => x.merchant_trade_no,
      ),
    ).toEqual([b.outTradeNo])
    expect(
      (await mp.shipping.getOrderList({ openid: 'oListA00000000000000000000001' })).order_list,
    ).toHaveLength(2)
    const bPay = (await getOrder(b)).pay_time
    const ranged = await mp.shipping.getOrderList({
      pay_time_range: { begin_time: bPay, end_time: bPay },
    })
    expect(ranged.order_list.map((x) => x.merchant_trade_no)).toEqual([b.outTradeNo])
    expect((await raw('get_order_list', { last_index: 'bogus' })).errcode).toBe(10060011)
  })

  it('notify_confirm_receive: express only, after shipping, after the ship time, once', async () => {
    const o = await paidJsapiOrder(sb)
    const lookup = { transaction_id: o.transactionId }
    const now = () => Math.floor(sb.sandbox.clock.now() / 1000)
    const notify = (received_time: number) =>
      errcodeOf(mp.shipping.notifyConfirmReceive({ ...lookup, received_time }, { retry: false }))
    expect(await notify(now() + 10)).toBe(10060028)
    await mp.shipping.uploadShippingInfo(express(o))
    expect(await notify(now() - 100)).toBe(10060029)
    expect(await notify(now() + 10)).toBeUndefined()
    expect(await notify(now() + 20)).toBe(10060030)
    const city = await paidJsapiOrder(sb)
    await mp.shipping.uploadShippingInfo(
      express(city, { logistics_type: 2, shipping_list: [{ item_desc: 'x' }] }),
    )
    expect(
      await errcodeOf(
        mp.shipping.notifyConfirmReceive(
          { transaction_id: city.transactionId, received_time: now() + 10 },
          { retry: false },
        ),
      ),
    ).toBe(10060032)
  })

  it('is_trade_managed follows the setting; bad appid 40013; get_delivery_list names the carriers', async () => {
    expect(await mp.shipping.isTradeManaged()).toBe(true)
    await control(sb, 'POST', '/__sandbox/settings', { tradeManaged: false })
    expect(await mp.shipping.isTradeManaged()).toBe(false)
    await control(sb, 'POST', '/__sandbox/settings', { tradeManaged: true })
    expect(
      await errcodeOf(mp.shipping.isTradeManaged('wx0000000000000000', { retry: false })),
    ).toBe(40013)
    expect(
      (await raw('is_trade_management_confirmation_completed', { appid: sb.merchant.appid }))
        .completed,
    ).toBe(true)
    const list = await mp.shipping.getDeliveryList()
    expect(list.count).toBe(list.delivery_list.length)
    expect(list.delivery_list).toContainEqual({ delivery_id: 'SF', delivery_name: '顺丰速运' })
  })
})

describe('receipt confirmation', () => {
  it('the shopper: cancel before shipping, fail for another openid, success once shipped', async () => {
    const o = await paidJsapiOrder(sb)
    const confirm = (body: object) =>
      control(sb, 'POST', '/__sandbox/confirm-receipt', { out_trade_no: o.outTradeNo, ...body })
    expect((await confirm({})).body.status).toBe('cancel')
    await mp.shipping.uploadShippingInfo(express(o))
    expect((await confirm({ openid: 'oSomeoneElse000000000000001' })).body.status).toBe('fail')
    expect((await confirm({ openid: o.openid })).body.status).toBe('success')
    expect((await confirm({})).body.status).toBe('cancel')
    expect(
      (await control(sb, 'POST', '/__sandbox/confirm-receipt', { out_trade_no: 'NOPE' })).status,
    ).toBe(404)
  })

  it('automatically 10 days after shipping for express, 2 for same-city (the defaults), by the test clock', async () => {
    const e = await paidJsapiOrder(sb)
    const c = await paidJsapiOrder(sb)
    await mp.shipping.uploadShippingInfo(express(e))
    await mp.shipping.uploadShippingInfo(
      express(c, { logistics_type: 2, shipping_list: [{ item_desc: '外卖' }] }),
    )
    await advance(sb, 2 * 86400 - 60)
    expect((await getOrder(c)).order_state).toBe(2)
    await advance(sb, 60)
    await until(
      () => getOrder(c),
      (x) => x.order_state === 4,
    )
    expect((await getOrder(e)).order_state).toBe(2)
    await advance(sb, 8 * 86400)
    await until(
      () => getOrder(e),
      (x) => x.order_state === 4,
    )
    const view = (await control(sb, 'GET', `/__sandbox/shipping?out_trade_no=${e.outTradeNo}`))
      .body[0]
    expect(view.confirm_receive_method).toBe(1)
  })

  it('autoConfirmDays moves pending confirmations to the new period', async () => {
    const o = await paidJsapiOrder(sb)
    await mp.shipping.uploadShippingInfo(express(o))
    const set = await control(sb, 'POST', '/__sandbox/settings', { autoConfirmDays: 1 })
    expect(set.body.autoConfirmDays).toBe(1)
    const shipped = (await control(sb, 'GET', `/__sandbox/shipping?out_trade_no=${o.outTradeNo}`))
      .body[0]
    expect(Date.parse(shipped.auto_confirm_at) - Date.parse(shipped.shipped_at)).toBe(86_400_000)
    await advance(sb, 86400)
    await until(
      () => getOrder(o),
      (x) => x.order_state === 4,
    )
  })

  it('the control API can force 资金待结算 6 or a complaint', async () => {
    const o = await paidJsapiOrder(sb)
    const forced = await control(sb, 'POST', `/__sandbox/shipping/${o.outTradeNo}`, {
      order_state: 6,
      in_complaint: true,
    })
    expect(forced.status).toBe(200)
    expect(await getOrder(o)).toMatchObject({ order_state: 6, in_complaint: true })
  })
})
