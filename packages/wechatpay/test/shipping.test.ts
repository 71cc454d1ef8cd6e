import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { MiniProgramError } from '../src'
import {
  Code2SessionError,
  DeliveryMode,
  MemoryAccessTokenStore,
  NetworkError,
  InvalidArgumentError,
  LogisticsType,
  ShippingOrderState,
  isMiniProgramError,
  maskContact,
  type MiniProgramClientOptions,
  type UploadShippingInfoRequest,
} from '../src'
import { caught } from './support/caught'
import { startFakeWeixinApi, weixinError, type FakeWeixinApi } from './support/fake-weixin-api'

const APPID = 'wx4f4bc4dec97d474b'
const SECRET = 'f3c8a1d2e9b74c5aSECRETb0d6e2f4a9'
const UPLOAD = '/wxa/sec/order/upload_shipping_info'
const OK = { errcode: 0, errmsg: 'ok' }
/** 2026-12-02 16:30:05.120 Beijing time. */
const NOW = Date.UTC(2026, 11, 2, 8, 30, 5, 120)

let api: FakeWeixinApi
let sleeps: number[]

beforeEach(async () => {
  api = await startFakeWeixinApi({ appid: APPID, secret: SECRET, clock: () => NOW })
  sleeps = api.sleeps
})
afterEach(() => api.close())

const client = (extra: Partial<MiniProgramClientOptions> = {}) => api.client(extra)

const payer = { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' }
const byMchid = {
  order_number_type: 1 as const,
  mchid: '1230000109',
  out_trade_no: 'FEN20261202000001',
}

function express(extra: Partial<UploadShippingInfoRequest> = {}): UploadShippingInfoRequest {
  return {
    order_key: byMchid,
    logistics_type: LogisticsType.EXPRESS,
    delivery_mode: DeliveryMode.UNIFIED,
    shipping_list: [
      {
        tracking_no: 'SF1234567890123',
        express_company: 'SF',
        item_desc: 'Fen 演示商品 ×2',
        contact: { receiver_contact: maskContact('18912341234', { keepFirst: 3 }) },
      },
    ],
    payer,
    ...extra,
  }
}

describe('upload_shipping_info', () => {
  it('POSTs the body WeChat expects, with the token and a Beijing RFC 3339 upload_time', async () => {
    api.route(UPLOAD, () => OK)
    await client().shipping.uploadShippingInfo(express())
    const [call] = api.callsTo(UPLOAD)
    expect(call!.query.get('access_token')).toBe(api.currentToken)
    expect(call!.json()).toEqual({
      order_key: { order_number_type: 1, mchid: '1230000109', out_trade_no: 'FEN20261202000001' },
      logistics_type: 1,
      delivery_mode: 1, // an integer: the string "UNIFIED_DELIVERY" is refused by WeChat
      shipping_list: [
        {
          tracking_no: 'SF1234567890123',
          express_company: 'SF',
          item_desc: 'Fen 演示商品 ×2',
          contact: { receiver_contact: '189****1234' },
        },
      ],
      upload_time: '2026-12-02T16:30:05.120+08:00',
      payer,
    })
  })

  it.each([
    ['same-city', LogisticsType.SAME_CITY, 2],
    ['virtual', LogisticsType.VIRTUAL, 3],
    ['self-pickup', LogisticsType.PICKUP, 4],
  ])('ships %s goods without a carrier', async (_name, logistics_type, wire) => {
    api.route(UPLOAD, () => OK)
    await client().shipping.uploadShippingInfo({
      order_key: { order_number_type: 2, transaction_id: '4200001460202212154976584310' },
      logistics_type,
      delivery_mode: DeliveryMode.UNIFIED,
      shipping_list: [{ item_desc: '会员月卡' }],
      upload_time: '2026-12-02T16:00:00+08:00',
      payer,
    })
    const body = api.callsTo(UPLOAD)[0]!.json()
    expect(body.logistics_type).toBe(wire)
    expect(body.order_key).toEqual({
      order_number_type: 2,
      transaction_id: '4200001460202212154976584310',
    })
    expect(body.upload_time).toBe('2026-12-02T16:00:00+08:00')
  })

  it('ships express in several parcels (split delivery) with is_all_delivered', async () => {
    api.route(UPLOAD, () => OK)
    await client().shipping.uploadShippingInfo(
      express({
        delivery_mode: DeliveryMode.SPLIT,
        is_all_delivered: false,
        shipping_list: [
          { tracking_no: 'YT001', express_company: 'YTO', item_desc: '上衣' },
          { tracking_no: 'YT002', express_company: 'YTO', item_desc: '裤子' },
        ],
      }),
    )
    const body = api
      .callsTo(UPLOAD)[0]!
      .json<{ delivery_mode: number; is_all_delivered: boolean; shipping_list: unknown[] }>()
    expect(body.delivery_mode).toBe(2)
    expect(body.is_all_delivered).toBe(false)
    expect(body.shipping_list).toHaveLength(2)
  })

  it.each<[string, Partial<UploadShippingInfoRequest>]>([
    [
      'unified with two entries',
      { shipping_list: [{ item_desc: 'a' }, { item_desc: 'b' }], logistics_type: 3 },
    ],
    [
      'split for virtual goods',
      {
        delivery_mode: 2,
        is_all_delivered: true,
        logistics_type: 3,
        shipping_list: [{ item_desc: 'a' }],
      },
    ],
    ['split without is_all_delivered', { delivery_mode: 2 }],
    [
      'express without a tracking number',
      { shipping_list: [{ express_company: 'SF', item_desc: 'a' }] },
    ],
    ['an empty list', { shipping_list: [] }],
    [
      '16 parcels',
      {
        delivery_mode: 2,
        is_all_delivered: true,
        shipping_list: Array.from({ length: 16 }, (_, i) => ({
          tracking_no: `T${i}`,
          express_company: 'SF',
          item_desc: 'x',
        })),
      },
    ],
    [
      'an item_desc of 121 characters',
      { shipping_list: [{ tracking_no: 'T', express_company: 'SF', item_desc: '货'.repeat(121) }] },
    ],
    ['no payer openid', { payer: { openid: '' } }],
    ['an upload_time without an offset', { upload_time: '2026-12-02 16:00:00' }],
    ['a URL-damaged upload_time', { upload_time: '2026-12-02T16:00:00 08:00' }],
    ['a string delivery_mode', { delivery_mode: 'UNIFIED_DELIVERY' as unknown as 1 }],
    [
      'type 1 without out_trade_no',
      { order_key: { order_number_type: 1, mchid: '1230000109', out_trade_no: '' } },
    ],
  ])('refuses %s before any network call', async (_name, change) => {
    const e = await caught(client().shipping.uploadShippingInfo(express(change)))
    expect(e).toBeInstanceOf(InvalidArgumentError)
    expect(api.requests).toHaveLength(0)
  })

  it('retries 10060001 (the order not yet known right after payment) with doubling waits', async () => {
    api.replyOnce(
      UPLOAD,
      weixinError(10060001, '支付单不存在'),
      weixinError(10060001, '支付单不存在'),
      OK,
    )
    api.route(UPLOAD, () => weixinError(10060002, 'should not be reached'))
    await client().shipping.uploadShippingInfo(express())
    expect(api.callsTo(UPLOAD)).toHaveLength(3)
    expect(sleeps).toEqual([1000, 2000])
  })

  it('gives up after the configured attempts and throws the last MiniProgramError', async () => {
    api.route(UPLOAD, () => weixinError(10060001, '支付单不存在'))
    const mp = client({ retry: { attempts: 3, delayMs: 500, maxDelayMs: 800 } })
    const e = await caught(mp.shipping.uploadShippingInfo(express()))
    expect(isMiniProgramError(e, 10060001)).toBe(true)
    expect((e as MiniProgramError).api).toBe(UPLOAD)
    expect(api.callsTo(UPLOAD)).toHaveLength(3)
    expect(sleeps).toEqual([500, 800])
  })

  it.each([-1, 10060012, 10060019])('retries %i (system busy)', async (errcode) => {
    api.replyOnce(UPLOAD, weixinError(errcode, 'system busy'), OK)
    await client().shipping.uploadShippingInfo(express())
    expect(api.callsTo(UPLOAD)).toHaveLength(2)
  })

  it.each([10060002, 10060003, 10060004, 10060031, 268485216])(
    'does not retry %i',
    async (errcode) => {
      api.route(UPLOAD, () => weixinError(errcode, 'refused'))
      const e = await caught(client().shipping.uploadShippingInfo(express()))
      expect(isMiniProgramError(e, errcode)).toBe(true)
      expect(api.callsTo(UPLOAD)).toHaveLength(1)
      expect(sleeps).toEqual([])
    },
  )

  it('retry: false turns the retries off for one call', async () => {
    api.route(UPLOAD, () => weixinError(10060001, '支付单不存在'))
    const e = await caught(client().shipping.uploadShippingInfo(express(), { retry: false }))
    expect(isMiniProgramError(e, 10060001)).toBe(true)
    expect(api.callsTo(UPLOAD)).toHaveLength(1)
  })

  it('an expired token is refreshed once and the upload repeated, outside the retry budget', async () => {
    const mp = client({ retry: { attempts: 1 } })
    api.spoil(await mp.accessToken.get(), 'expired')
    api.route(UPLOAD, () => OK)
    await mp.shipping.uploadShippingInfo(express())
    const calls = api.callsTo(UPLOAD)
    expect(calls).toHaveLength(2)
    expect(calls[1]!.query.get('access_token')).toBe(api.currentToken)
  })
})

describe('order queries and the rest', () => {
  const order = {
    transaction_id: '4200001460202212154976584310',
    merchant_id: '1230000109',
    sub_merchant_id: '0',
    merchant_trade_no: 'FEN20261202000001',
    description: 'Fen 演示商品',
    paid_amount: 2990,
    openid: payer.openid,
    trade_create_time: 1764664200,
    pay_time: 1764664205,
    order_state: 2,
    in_complaint: false,
    upload_scene: 2,
    shipping: {
      delivery_mode: 1,
      logistics_type: 1,
      finish_shipping: true,
      finish_shipping_count: 1,
      goods_desc: 'Fen 演示商品',
      shipping_list: [
        {
          tracking_no: 'SF1',
          express_company: 'SF',
          goods_desc: 'Fen 演示商品',
          upload_time: 1764664300,
        },
      ],
    },
  }

  it('get_order by merchant_id + merchant_trade_no returns the typed order', async () => {
    api.route('/wxa/sec/order/get_order', () => ({ ...OK, order }))
    const got = await client().shipping.getOrder({
      merchant_id: '1230000109',
      merchant_trade_no: 'FEN20261202000001',
    })
    expect(got.order_state).toBe(ShippingOrderState.SHIPPED)
    expect(got.shipping.shipping_list?.[0]?.tracking_no).toBe('SF1')
    expect(api.callsTo('/wxa/sec/order/get_order')[0]!.json()).toEqual({
      merchant_id: '1230000109',
      merchant_trade_no: 'FEN20261202000001',
    })
  })

  it('get_order retries 10060001 too', async () => {
    api.replyOnce('/wxa/sec/order/get_order', weixinError(10060001, '支付单不存在'))
    api.route('/wxa/sec/order/get_order', () => ({ ...OK, order }))
    const got = await client().shipping.getOrder({ transaction_id: order.transaction_id })
    expect(got.transaction_id).toBe(order.transaction_id)
    expect(sleeps).toEqual([1000])
  })

  it('get_order_list sends the filters and pages with last_index', async () => {
    api.route('/wxa/sec/order/get_order_list', (call) =>
      call.json().last_index
        ? { ...OK, order_list: [], last_index: '', has_more: false }
        : { ...OK, order_list: [order], last_index: 'IDX1', has_more: true },
    )
    const mp = client()
    const first = await mp.shipping.getOrderList({
      pay_time_range: { begin_time: 1764604800, end_time: 1764691199 },
      order_state: ShippingOrderState.AWAITING_SHIPMENT,
      page_size: 50,
    })
    expect(first).toMatchObject({ last_index: 'IDX1', has_more: true })
    expect(first.order_list).toHaveLength(1)
    const second = await mp.shipping.getOrderList({ last_index: first.last_index })
    expect(second).toEqual({ order_list: [], last_index: '', has_more: false })
    expect(api.callsTo('/wxa/sec/order/get_order_list').map((c) => c.json())).toEqual([
      {
        pay_time_range: { begin_time: 1764604800, end_time: 1764691199 },
        order_state: 1,
        page_size: 50,
      },
      { last_index: 'IDX1' },
    ])
  })

  it('get_order_list does not retry 10060011 (bad last_index)', async () => {
    api.route('/wxa/sec/order/get_order_list', () => weixinError(10060011, 'invalid last_index'))
    const e = await caught(client().shipping.getOrderList({ last_index: 'bogus' }))
    expect(isMiniProgramError(e, 10060011)).toBe(true)
    expect(sleeps).toEqual([])
  })

  it('notify_confirm_receive sends the lookup and received_time', async () => {
    api.route('/wxa/sec/order/notify_confirm_receive', () => OK)
    await client().shipping.notifyConfirmReceive({
      transaction_id: order.transaction_id,
      received_time: 1764750000,
    })
    expect(api.callsTo('/wxa/sec/order/notify_confirm_receive')[0]!.json()).toEqual({
      transaction_id: order.transaction_id,
      received_time: 1764750000,
    })
    await expect(
      client().shipping.notifyConfirmReceive({ transaction_id: 'x', received_time: 1.5 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError)
  })

  it('is_trade_managed sends the appid and returns the flag', async () => {
    api.route('/wxa/sec/order/is_trade_managed', (call) => ({
      ...OK,
      is_trade_managed: call.json().appid === APPID,
    }))
    expect(await client().shipping.isTradeManaged()).toBe(true)
    expect(await client().shipping.isTradeManaged('wx0000000000000000')).toBe(false)
  })

  it('get_delivery_list returns the carriers for express_company', async () => {
    api.route('/cgi-bin/express/delivery/open_msg/get_delivery_list', () => ({
      ...OK,
      delivery_list: [
        { delivery_id: 'SF', delivery_name: '顺丰速运' },
        { delivery_id: 'YTO', delivery_name: '圆通速递' },
      ],
      count: 2,
    }))
    const list = await client().shipping.getDeliveryList()
    expect(list.count).toBe(2)
    expect(list.delivery_list.map((d) => d.delivery_id)).toEqual(['SF', 'YTO'])
    expect(api.callsTo('/cgi-bin/express/delivery/open_msg/get_delivery_list')[0]!.json()).toEqual(
      {},
    )
  })
})

describe('errors', () => {
  it('a network error names the API, never the access_token, and is not retried', async () => {
    const store = new MemoryAccessTokenStore()
    await store.save(APPID, { accessToken: 'TOKEN-SECRET-123', expiresAt: NOW + 7_000_000 })
    const closed = await startFakeWeixinApi({ appid: APPID, secret: SECRET })
    await closed.close() // its port now refuses connections
    const mp = client({ baseUrl: closed.baseUrl, tokenStore: store })
    const e = await caught(mp.shipping.uploadShippingInfo(express()))
    expect(e).toBeInstanceOf(NetworkError)
    expect(e.message).toContain(UPLOAD)
    expect(e.message).not.toContain('TOKEN-SECRET-123')
    expect(sleeps).toEqual([])
  })

  it('Code2SessionError is a MiniProgramError too', () => {
    const e = new Code2SessionError(40029, 'invalid code, rid: 6a1b2c3d-4e5f6a7b-8c9d0e1f')
    expect(isMiniProgramError(e, 40029)).toBe(true)
    expect(e.rid).toBe('6a1b2c3d-4e5f6a7b-8c9d0e1f')
    expect(e.message).toBe(
      'code2Session failed: 40029 invalid code, rid: 6a1b2c3d-4e5f6a7b-8c9d0e1f',
    )
  })
})

describe('maskContact', () => {
  it.each([
    ['18912341234', {}, '*******1234'],
    ['18912341234', { keepFirst: 3 }, '189****1234'],
    ['021-66661234', {}, '***-****1234'],
    ['+86-17712341234', { keepFirst: 2 }, '+86-*******1234'],
    ['1234', {}, '1234'],
  ])('masks %s (%o) as %s, keeping the last 4 digits', (phone, options, masked) => {
    expect(maskContact(phone, options)).toBe(masked)
  })
})
