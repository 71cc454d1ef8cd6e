/**
 * Issue #24: WeChat's shipping management covers mini-program (JSAPI) payments only — `get_order`
 * answers 10060001 for a Native one. So an order paid by Native QR (every H5 payment) is shipped
 * without a report to WeChat, and its receipt is the shop's: the shopper's 确认收货 in the shop, or
 * `ORDER_AUTO_RECEIVE_DAYS` after shipping. Before, the server re-sent its report forever and the
 * shopper's 确认收货 did nothing.
 */
import type { AdminOrderDetail, DeliveryCompanyList, ErrorBody, Order } from '@fen/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './harness'

let h: Harness
let shopper: string

beforeAll(async () => {
  h = await startHarness({ env: { ORDER_AUTO_RECEIVE_DAYS: '10' } })
  shopper = await h.login()
})
afterAll(() => h?.close())

/** An order paid by Native QR (the H5 shop's way), with an address for express unless `pickup`. */
async function nativeOrder(pickup = false): Promise<Order> {
  const address = {
    name: '林小满',
    phone: '13800138000',
    province: '浙江省',
    city: '杭州市',
    district: '西湖区',
    detail: '文三路 90 号',
  }
  const created = await h.api<Order>('POST', '/api/orders', {
    token: shopper,
    body: {
      items: [{ productId: 3, quantity: 1 }],
      ...(pickup ? { deliveryMethod: 'pickup' } : { deliveryMethod: 'express', address }),
    },
  })
  expect(created.status).toBe(201)
  const no = created.body.orderNo
  const pay = await h.api<{ codeUrl: string }>('POST', `/api/orders/${no}/pay`, {
    token: shopper,
    body: { channel: 'native' },
  })
  expect(pay.status).toBe(200)
  await h.control('POST', '/__sandbox/pay', { code_url: pay.body.codeUrl, result: 'SUCCESS' })
  return h.until(async () => {
    const o = await h.api<Order>('GET', `/api/orders/${no}`, { token: shopper })
    return o.body.status === 'PAID' && o.body
  })
}

const detail = async (no: string) =>
  (await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${no}`)).body
const uploadsOf = async (no: string) =>
  (
    await h.control<{ path: string; request_body?: string }[]>('GET', '/__sandbox/calls')
  ).body.filter(
    (c) => c.path.startsWith('/wxa/sec/order/upload_shipping_info') && c.request_body?.includes(no),
  ).length
const pendingUploads = async () =>
  Number(
    /fen_shipping_uploads_pending (\d+)/.exec((await h.admin<string>('GET', '/metrics')).body)?.[1],
  )

describe('a Native payment is shipped and received by the shop, never reported to WeChat', () => {
  it('ships to pickup: nothing reported, nothing pending; the shopper confirms in the shop', async () => {
    const o = await nativeOrder()
    expect(o.channel).toBe('native')
    const shipped = await h.admin<AdminOrderDetail>('POST', `/api/admin/orders/${o.orderNo}/ship`, {
      logisticsType: 'pickup',
    })
    expect(shipped.status).toBe(200)
    expect(shipped.body.delivery?.wechatReport).toBe('not_required')
    await h.shipJob()
    expect(await uploadsOf(o.orderNo)).toBe(0)
    expect(await pendingUploads()).toBe(0)

    // WeChat's sheet has nothing to show for it; the shop's own button completes it.
    const sheet = await h.api<ErrorBody>('GET', `/api/orders/${o.orderNo}/confirm-receipt`, {
      token: shopper,
    })
    expect(sheet.status).toBe(409)
    const mine = await h.api<Order>('GET', `/api/orders/${o.orderNo}`, { token: shopper })
    expect(mine.body.actions).toContain('confirm_receipt')
    const confirmed = await h.api<Order>('POST', `/api/orders/${o.orderNo}/confirm-receipt`, {
      token: shopper,
    })
    expect(confirmed.status).toBe(200)
    expect(confirmed.body).toMatchObject({ status: 'COMPLETED', fulfilment: 'received' })
    expect(confirmed.body.actions).not.toContain('confirm_receipt')
    await h.dispatch()
    const completed = h.delivered.find(
      (e) => e.orderNo === o.orderNo && e.type === 'order.completed',
    )
    expect(completed?.payload).toMatchObject({ source: 'shop_confirm' })
    // Again: the same answer, no second event.
    const again = await h.api<Order>('POST', `/api/orders/${o.orderNo}/confirm-receipt`, {
      token: shopper,
    })
    expect(again.body.status).toBe('COMPLETED')
    await h.dispatch()
    expect(
      h.delivered.filter((e) => e.orderNo === o.orderNo && e.type === 'order.completed'),
    ).toHaveLength(1)
    expect(await uploadsOf(o.orderNo)).toBe(0)
  })

  it("ships by express with a carrier from WeChat's list, and is received by itself after the set days", async () => {
    const carriers = await h.admin<DeliveryCompanyList>('GET', '/api/admin/delivery-companies')
    const sf = carriers.body.items.find((c) => c.deliveryId === 'SF')!
    const o = await nativeOrder()
    const unknown = await h.admin<ErrorBody>('POST', `/api/admin/orders/${o.orderNo}/ship`, {
      logisticsType: 'express',
      expressCompany: 'SHUNFENG',
      trackingNo: 'SF1234567890',
    })
    expect(unknown.status).toBe(400)
    expect(unknown.body.code).toBe('INVALID_INPUT')
    const shipped = await h.admin<AdminOrderDetail>('POST', `/api/admin/orders/${o.orderNo}/ship`, {
      logisticsType: 'express',
      expressCompany: sf.deliveryId,
      trackingNo: 'SF1234567890',
    })
    expect(shipped.status).toBe(200)
    expect(shipped.body.delivery).toMatchObject({
      expressCompany: 'SF',
      expressCompanyName: sf.name,
      wechatReport: 'not_required',
    })

    h.advance(9 * 86_400)
    await h.shipJob()
    expect((await detail(o.orderNo)).status).toBe('SHIPPED')
    h.advance(2 * 86_400)
    const run = await h.shipJob()
    expect(run.autoReceived).toBeGreaterThanOrEqual(1)
    const done = await detail(o.orderNo)
    expect(done).toMatchObject({ status: 'COMPLETED', fulfilment: 'received' })
    await h.dispatch()
    expect(
      h.delivered.find((e) => e.orderNo === o.orderNo && e.type === 'order.completed')?.payload,
    ).toMatchObject({ source: 'auto_receive' })
    expect(await uploadsOf(o.orderNo)).toBe(0)
  })

  it('an SF parcel needs no contact when WeChat is not told of it (no address on the order)', async () => {
    shopper = await h.login() // the clock moved 11 days above: the earlier token has expired
    const o = await nativeOrder(true)
    const shipped = await h.admin<AdminOrderDetail>('POST', `/api/admin/orders/${o.orderNo}/ship`, {
      logisticsType: 'express',
      expressCompany: 'SF',
      trackingNo: 'SF0000000001',
    })
    expect(shipped.status).toBe(200)
    expect(shipped.body.delivery).toMatchObject({
      expressCompany: 'SF',
      wechatReport: 'not_required',
    })
    expect(shipped.body.delivery?.contactMasked).toBeUndefined()
  })
})
