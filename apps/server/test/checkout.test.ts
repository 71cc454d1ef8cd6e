/**
 * Checkout (issue #13): the address, delivery method, remark and per-line spec of POST
 * /api/orders, validated by the server (bad input → 400 and nothing written, no stock taken); the
 * order views that carry them with pictures and a timeline; the address's phone, masked, as the
 * express shipment's contact at WeChat; the timeline through payment, shipping and a refund.
 */
import type {
  AdminOrder,
  AdminOrderDetail,
  AdminOrderPage,
  ErrorBody,
  Order,
  PayResponse,
} from '@fen/shared'
import { count } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { orderItems, orders, products } from '../src/db/schema'
import { startHarness, type ApiResponse, type Harness } from './harness'

let h: Harness
let shopper: string

beforeAll(async () => {
  h = await startHarness()
  shopper = await h.login('o-checkout-shopper')
})
afterAll(() => h?.close())

const ADDRESS = {
  name: '林小满',
  phone: '13800138000',
  province: '广东省',
  city: '广州市',
  district: '天河区',
  detail: '体育西路 191 号 中石化大厦 B 座 12 楼',
  postalCode: '510620',
}

function create(
  body: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse<Order & ErrorBody>> {
  return h.api('POST', '/api/orders', { token: shopper, body, headers })
}

/** What a refused request must leave as it was: orders, their lines, every product's stock. */
async function snapshot() {
  const db = h.database.db
  const [o] = await db.select({ n: count() }).from(orders)
  const [i] = await db.select({ n: count() }).from(orderItems)
  const stock = await db.select({ id: products.id, stock: products.stock }).from(products)
  return { orders: o!.n, items: i!.n, stock: stock.sort((a, b) => a.id - b.id) }
}

/** Pays an order through JSAPI at the sandbox and waits until it is PAID here. */
async function pay(orderNo: string): Promise<Order> {
  const res = await h.api<PayResponse>('POST', `/api/orders/${orderNo}/pay`, {
    token: shopper,
    body: { channel: 'jsapi' },
  })
  if (res.body.channel !== 'jsapi') throw new Error(`pay: ${res.status}`)
  await h.control('POST', '/__sandbox/request-payment', res.body.params)
  return h.until(async () => {
    const o = await h.api<Order>('GET', `/api/orders/${orderNo}`, { token: shopper })
    return o.body.status === 'PAID' && o.body
  })
}

describe('POST /api/orders with checkout details', () => {
  it('express with an address, a remark and specs: stored and shown, defaults filled in', async () => {
    const res = await create({
      items: [
        { productId: 6, quantity: 2, spec: { 温度: '冰', 杯型: '大杯' } },
        { productId: 10, quantity: 1 },
      ],
      address: { ...ADDRESS, name: '  林小满 ' },
      deliveryMethod: 'express',
      remark: ' 少冰，不要吸管 ',
    })
    expect(res.status).toBe(201)
    const o = res.body
    expect(o).toMatchObject({
      totalFen: 2 * 2800 + 1600,
      address: ADDRESS, // trimmed
      deliveryMethod: 'express',
      remark: '少冰，不要吸管',
      timeline: [{ kind: 'created', at: o.createdAt }],
    })
    expect(o.items).toEqual([
      {
        productId: 6,
        title: '经典拿铁',
        quantity: 2,
        unitPriceFen: 2800,
        imageUrl: '/static/products/latte.svg',
        spec: { 温度: '冰', 杯型: '大杯' },
        // In the product's order of specs, whatever order jsonb keeps the keys in.
        specLabel: '冰/大杯',
      },
      {
        productId: 10,
        title: '黄油可颂',
        quantity: 1,
        unitPriceFen: 1600,
        imageUrl: '/static/products/croissant.svg',
        spec: { 加热: '加热' },
        specLabel: '加热',
      },
    ])
    // The same everywhere the order is read.
    const got = await h.api<Order>('GET', `/api/orders/${o.orderNo}`, { token: shopper })
    expect(got.body).toEqual(o)
    const list = await h.api<Order[]>('GET', '/api/orders', { token: shopper })
    expect(list.body.find((x) => x.orderNo === o.orderNo)).toEqual(o)
    const admin = await h.admin<AdminOrder>('GET', `/api/admin/orders/${o.orderNo}`)
    expect(admin.body).toMatchObject({ address: ADDRESS, remark: o.remark, items: o.items })
  })

  it('pickup by default; a blank remark is none; a product without specs has no spec', async () => {
    const res = await create({ items: [{ productId: 2, quantity: 1 }], remark: '   ' })
    expect(res.status).toBe(201)
    expect(res.body.deliveryMethod).toBe('pickup')
    expect(res.body).not.toHaveProperty('remark')
    expect(res.body).not.toHaveProperty('address')
    expect(res.body.items[0]).not.toHaveProperty('spec')
  })

  it('a hot and an iced latte are two lines of one product; a landline is a phone', async () => {
    const res = await create({
      items: [
        { productId: 6, quantity: 1, spec: { 温度: '热' } },
        { productId: 6, quantity: 1, spec: { 温度: '冰' } },
      ],
      address: { ...ADDRESS, phone: '020-81167888' },
      deliveryMethod: 'pickup',
    })
    expect(res.status).toBe(201)
    expect(res.body.items.map((i) => i.spec)).toEqual([
      { 温度: '热', 杯型: '中杯' },
      { 温度: '冰', 杯型: '中杯' },
    ])
    expect(res.body.address?.phone).toBe('020-81167888')
  })

  it('an Idempotency-Key replays the same order; the same key with another address → 409', async () => {
    const body = {
      items: [{ productId: 7, quantity: 1 }],
      address: ADDRESS,
      deliveryMethod: 'express',
    }
    const key = { 'idempotency-key': 'checkout-key-1' }
    const first = await create(body, key)
    expect(first.status).toBe(201)
    const again = await create(body, key)
    expect(again.status).toBe(201)
    expect(again.body).toEqual(first.body)
    const other = await create({ ...body, address: { ...ADDRESS, detail: '另一个地址' } }, key)
    expect({ status: other.status, code: other.body.code }).toEqual({
      status: 409,
      code: 'IDEMPOTENCY_KEY_REUSED',
    })
  })

  const line = { productId: 6, quantity: 1 }
  const express = (address: unknown) => ({ items: [line], address, deliveryMethod: 'express' })
  const refused: [string, unknown][] = [
    ['express without an address', { items: [line], deliveryMethod: 'express' }],
    ['an unknown delivery method', { items: [line], deliveryMethod: 'drone' }],
    ['an empty name', express({ ...ADDRESS, name: '' })],
    ['a blank name', express({ ...ADDRESS, name: '   ' })],
    ['a 21-character name', express({ ...ADDRESS, name: '林'.repeat(21) })],
    ['a 10-digit mobile', express({ ...ADDRESS, phone: '1380013800' })],
    ['a mobile starting 12', express({ ...ADDRESS, phone: '12800138000' })],
    ['letters for a phone', express({ ...ADDRESS, phone: 'call me' })],
    ['a landline without its area code', express({ ...ADDRESS, phone: '81167888' })],
    ['a phone as a number', express({ ...ADDRESS, phone: 13800138000 })],
    ['no province', express({ ...ADDRESS, province: undefined })],
    ['an empty city', express({ ...ADDRESS, city: '' })],
    ['an empty district', express({ ...ADDRESS, district: ' ' })],
    ['a 121-character detail', express({ ...ADDRESS, detail: '路'.repeat(121) })],
    ['NUL in the detail', express({ ...ADDRESS, detail: '体育西路\u0000' })],
    ['a 5-digit postal code', express({ ...ADDRESS, postalCode: '51062' })],
    ['a 201-character remark', { items: [line], remark: '备'.repeat(201) }],
    ['a remark that is a number', { items: [line], remark: 42 }],
    ['a spec the product lacks', { items: [{ ...line, spec: { 甜度: '少糖' } }] }],
    ['an option the spec lacks', { items: [{ ...line, spec: { 杯型: '超大杯' } }] }],
    [
      'a spec on a product without specs',
      { items: [{ productId: 2, quantity: 1, spec: { 颜色: '红' } }] },
    ],
    ['a spec value that is a number', { items: [{ ...line, spec: { 杯型: 1 } }] }],
    ['a spec that is a string', { items: [{ ...line, spec: '大杯' }] }],
    [
      'one product and spec on two lines',
      {
        items: [
          { ...line, spec: { 温度: '冰' } },
          { ...line, quantity: 2, spec: { 温度: '冰' } },
        ],
      },
    ],
    [
      'the default spec on one line and left out on another',
      { items: [line, { ...line, spec: { 温度: '热', 杯型: '中杯' } }] },
    ],
    [
      'a good line, then a bad spec (stock of the first goes back)',
      {
        items: [
          { productId: 1, quantity: 3 },
          { ...line, spec: { 杯型: '超大杯' } },
        ],
      },
    ],
  ]
  it.each(refused)('%s → 400 INVALID_INPUT, nothing written, no stock taken', async (_, body) => {
    const before = await snapshot()
    const res = await create(body)
    expect({ status: res.status, code: res.body.code }).toEqual({
      status: 400,
      code: 'INVALID_INPUT',
    })
    expect(res.body.message.length).toBeGreaterThan(0)
    expect(await snapshot()).toEqual(before)
  })
})

describe('after checkout', () => {
  it("express with SF: WeChat gets the address's phone masked; the timeline follows the order to a refund", async () => {
    const created = await create({
      items: [{ productId: 3, quantity: 1, spec: { 颜色: '墨绿' } }],
      address: ADDRESS,
      deliveryMethod: 'express',
    })
    expect(created.status).toBe(201)
    const no = created.body.orderNo
    const paid = await pay(no)
    expect(paid.timeline.map((t) => t.kind)).toEqual(['created', 'paid'])
    expect(paid.timeline[1]!.at).toBe(paid.paidAt)

    const shipped = await h.admin<AdminOrder>('POST', `/api/admin/orders/${no}/ship`, {
      logisticsType: 'express',
      expressCompany: 'SF',
      trackingNo: 'SF1400000000042',
    })
    expect(shipped.status).toBe(200)
    expect(shipped.body.delivery?.contactMasked).toBe('138****8000')
    expect(shipped.body.timeline.map((t) => t.kind)).toEqual(['created', 'paid', 'shipped'])
    const atWechat = await h.control<{ shipping_list: { contact?: unknown }[] }[]>(
      'GET',
      `/__sandbox/shipping?out_trade_no=${no}`,
    )
    expect(atWechat.body[0]!.shipping_list[0]!.contact).toEqual({
      receiver_contact: '138****8000',
    })
    // The full number is nowhere in what WeChat was told.
    expect(JSON.stringify(atWechat.body)).not.toContain('13800138000')

    const refund = await h.admin('POST', `/api/admin/orders/${no}/refunds`, {
      amountFen: 1000,
      reason: '杯子有划痕',
    })
    expect(refund.status).toBe(201)
    await h.control('POST', `/__sandbox/refunds/${no}-R1`, { status: 'SUCCESS' })
    const refunded = await h.until(async () => {
      const d = (await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${no}`)).body
      return d.status === 'PARTIALLY_REFUNDED' && d
    })
    expect(refunded.timeline.map((t) => t.kind)).toEqual(['created', 'paid', 'shipped', 'refunded'])
    expect(refunded.timeline[3]!.at).toBe(refunded.refunds[0]!.settledAt)
    const mine = await h.api<Order>('GET', `/api/orders/${no}`, { token: shopper })
    expect(mine.body.timeline).toEqual(refunded.timeline)
    const list = await h.admin<AdminOrderPage>('GET', `/api/admin/orders?orderNo=${no}`)
    expect(list.body.items.map((o) => o.timeline)).toEqual([refunded.timeline])
  })

  it('a cancelled order: created, then closed', async () => {
    const created = await create({ items: [{ productId: 5, quantity: 1 }] })
    const cancelled = await h.api<Order>('POST', `/api/orders/${created.body.orderNo}/cancel`, {
      token: shopper,
    })
    expect(cancelled.body.timeline).toEqual([
      { kind: 'created', at: cancelled.body.createdAt },
      { kind: 'closed', at: cancelled.body.closedAt },
    ])
  })
})
