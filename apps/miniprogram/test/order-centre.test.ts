import { describe, expect, it } from 'vitest'
import type { Component } from 'vue'
import { type DOMWrapper, flushPromises, mount } from '@vue/test-utils'
import type { Order, RefundRequestView } from '@fen/shared'
import MinePage from '@/pages/mine/index.vue'
import OrdersPage from '@/pages/orders/index.vue'
import OrderPage from '@/pages/order/index.vue'
import {
  inTab,
  refundNote,
  refundStage,
  shopTime,
  shopperStatus,
  tabCounts,
  timelineSteps,
} from '@/order-centre'
import { taro } from './taro-mock'
import { TOKEN_KEY, fail, jsapiAnswer, ok, routes, withStatus } from './fixtures'

const { Taro } = taro

async function tap(el: DOMWrapper<Element>) {
  await el.trigger('tap')
  await flushPromises()
}

async function mounted(page: Component) {
  const w = mount(page)
  await flushPromises()
  return w
}

const view = (o: Partial<Order> & Pick<Order, 'status'>): Order => ({
  ...withStatus(o.status),
  ...o,
})

const request = (over: Partial<RefundRequestView> = {}): RefundRequestView => ({
  id: 1,
  orderNo: 'FENDET000001',
  amountFen: 1500,
  reason: '不想要了',
  status: 'pending',
  createdAt: '2026-11-22T09:00:00.000Z',
  ...over,
})

describe('order centre rules (src/order-centre.ts)', () => {
  const unpaid = view({ status: 'PENDING', orderNo: 'FENA00000001' })
  const paid = view({ status: 'PAID', orderNo: 'FENA00000002' })
  const shipped = view({ status: 'SHIPPED', orderNo: 'FENA00000003' })
  const asked = view({
    status: 'PAID',
    orderNo: 'FENA00000004',
    timeline: [
      { kind: 'created', at: '2026-11-22T08:00:00.000Z' },
      { kind: 'refund_requested', at: '2026-11-22T09:00:00.000Z' },
    ],
  })
  const refunded = view({ status: 'REFUNDED', orderNo: 'FENA00000005', refundedFen: 7480 })
  const closed = view({ status: 'CLOSED', orderNo: 'FENA00000006' })
  const all = [unpaid, paid, shipped, asked, refunded, closed]

  it('puts each order in the tabs a shopper expects; 退款/售后 cuts across', () => {
    const tab = (t: Parameters<typeof inTab>[1]) =>
      all.filter((o) => inTab(o, t)).map((o) => o.orderNo)
    expect(tab('all')).toHaveLength(6)
    expect(tab('unpaid')).toEqual(['FENA00000001'])
    expect(tab('unshipped')).toEqual(['FENA00000002', 'FENA00000004'])
    expect(tab('shipped')).toEqual(['FENA00000003'])
    expect(tab('aftersale')).toEqual(['FENA00000004', 'FENA00000005'])
    expect(tabCounts(all)).toEqual({ unpaid: 1, unshipped: 2, shipped: 1, aftersale: 2 })
  })

  it('the timeline keeps the server order (not re-sorted by time), then the steps still to come', () => {
    const steps = timelineSteps(
      view({
        status: 'PAID',
        timeline: [
          { kind: 'created', at: '2026-11-22T08:00:00.500Z' },
          { kind: 'paid', at: '2026-11-22T08:00:00Z' },
        ],
      }),
    )
    expect(steps.map((s) => [s.label, Boolean(s.at)])).toEqual([
      ['下单', true],
      ['支付', true],
      ['发货', false],
      ['收货', false],
    ])
    const ended = timelineSteps(
      view({
        status: 'REFUNDED',
        timeline: [
          { kind: 'created', at: '2026-11-22T08:00:00.000Z' },
          { kind: 'paid', at: '2026-11-22T08:01:00.000Z' },
          { kind: 'refund_requested', at: '2026-11-22T09:00:00.000Z' },
          { kind: 'refunded', at: '2026-11-22T09:05:00.000Z' },
        ],
      }),
    )
    expect(ended.map((s) => s.label)).toEqual(['下单', '支付', '申请退款', '退款'])
  })

  it('a refund request is 审核中, then 已同意·退款中 until the refunded amount covers it, then 已退款; or 已拒绝', () => {
    const first = request({
      id: 1,
      status: 'approved',
      amountFen: 1000,
      decidedAt: '2026-11-22T09:10:00.000Z',
    })
    const second = request({
      id: 2,
      status: 'approved',
      amountFen: 500,
      decidedAt: '2026-11-22T09:20:00.000Z',
    })
    const both = [first, second]
    expect(refundStage(request(), paid, [request()])).toBe('reviewing')
    expect(refundStage(request({ status: 'rejected' }), paid, [])).toBe('rejected')
    const partly = view({ status: 'PARTIALLY_REFUNDED', refundedFen: 1000 })
    expect(refundStage(first, partly, both)).toBe('refunded')
    expect(refundStage(second, partly, both)).toBe('refunding')
    expect(
      refundStage(second, view({ status: 'PARTIALLY_REFUNDED', refundedFen: 1500 }), both),
    ).toBe('refunded')
  })

  it('shows times in Beijing time', () => {
    expect(shopTime('2026-11-22T16:30:00.000Z')).toBe('2026-11-23 00:30')
  })
})

describe("the server's fields decide (issue #24): fulfilment, actions, refundableFen", () => {
  // A paid order with ¥10 of ¥74.80 refunded (一杯缺货): the rest still goes out.
  const partlyRefunded = view({
    status: 'PARTIALLY_REFUNDED',
    orderNo: 'FENP00000001',
    refundedFen: 1000,
    refundableFen: 6480,
    fulfilment: 'to_ship',
    actions: ['request_refund'],
  })
  const partlyShipped = view({
    ...partlyRefunded,
    orderNo: 'FENP00000002',
    fulfilment: 'shipped',
    actions: ['confirm_receipt', 'request_refund'],
  })
  const partlyReceived = view({
    ...partlyRefunded,
    orderNo: 'FENP00000003',
    fulfilment: 'received',
    completedAt: '2026-11-23T08:00:00.000Z',
  })

  it('a partly refunded order waits under 待发货, then 待收货, as its fulfilment says', () => {
    expect(inTab(partlyRefunded, 'unshipped')).toBe(true)
    expect(inTab(partlyRefunded, 'aftersale')).toBe(true)
    expect(inTab(partlyShipped, 'shipped')).toBe(true)
    expect(inTab(partlyShipped, 'unshipped')).toBe(false)
    expect(tabCounts([partlyRefunded, partlyShipped, partlyReceived])).toEqual({
      unpaid: 0,
      unshipped: 1,
      shipped: 1,
      aftersale: 3,
    })
  })

  it('reads what the goods wait for, with the partial refund as a note (not 部分退款 alone)', () => {
    expect([partlyRefunded, partlyShipped, partlyReceived].map(shopperStatus)).toEqual([
      '待发货',
      '待收货',
      '已完成',
    ])
    expect(refundNote(partlyShipped)).toBe('已退款 ¥10.00')
    expect(refundNote(view({ ...partlyShipped, status: 'REFUNDING' }))).toBe(
      '已退款 ¥10.00，退款处理中',
    )
    const refunded = view({ status: 'REFUNDED', refundedFen: 7480, fulfilment: 'none' })
    expect([shopperStatus(refunded), refundNote(refunded)]).toEqual(['已退款', ''])
    expect(shopperStatus(view({ status: 'REFUNDING', fulfilment: 'none' }))).toBe('退款中')
    // A received, partly refunded order goes no further: no steps ahead.
    expect(timelineSteps(partlyReceived).every((s) => s.at)).toBe(true)
  })
})

describe('orders page (pages/orders)', () => {
  const pendingOrder = withStatus('PENDING', { orderNo: 'FENORD000001' })
  const paidOrder: Order = {
    ...withStatus('PAID', { orderNo: 'FENORD000002' }),
    items: [
      {
        productId: 1,
        title: '手冲咖啡豆',
        quantity: 1,
        unitPriceFen: 2990,
        imageUrl: '/static/products/beans.svg',
      },
    ],
    totalFen: 2990,
  }
  const closedOrder = withStatus('CLOSED', { orderNo: 'FENORD000003' })

  const card = (w: Awaited<ReturnType<typeof mounted>>, no: string) =>
    w.find(`[data-order-no="${no}"]`)

  it('leads with the goods: thumbnails from the API base, 共 N 件, the total, the status', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(ok([pendingOrder, paidOrder, closedOrder]))
    const w = await mounted(OrdersPage)

    expect(w.findAll('.order')).toHaveLength(3)
    const p = card(w, 'FENORD000002')
    expect(p.find('image.goods-thumb').attributes('src')).toBe(
      'http://api.test/static/products/beans.svg',
    )
    expect(p.find('.goods-title').text()).toBe('手冲咖啡豆')
    expect(p.find('.total').text()).toBe('¥29.90')
    expect(p.text()).not.toContain('FENORD000002')
    // Without an image: the title's first character.
    expect(card(w, 'FENORD000001').findAll('.goods-thumb.placeholder')).toHaveLength(2)
    expect(card(w, 'FENORD000001').text()).toContain('共 3 件')
    expect(card(w, 'FENORD000001').find('.status').text()).toBe('待付款')
    expect(p.find('.status').text()).toBe('待发货')
    expect(card(w, 'FENORD000003').find('.status').text()).toBe('已关闭')
  })

  it('each order has its actions: 去支付 / 取消订单 when unpaid, 申请退款 when paid, 查看详情 always', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(ok([pendingOrder, paidOrder, closedOrder]))
    const w = await mounted(OrdersPage)
    const buttons = (no: string) =>
      card(w, no)
        .findAll('.buttons .btn')
        .map((b) => b.text())
    expect(buttons('FENORD000001')).toEqual(['查看详情', '取消订单', '去支付'])
    expect(buttons('FENORD000002')).toEqual(['查看详情', '申请退款'])
    expect(buttons('FENORD000003')).toEqual(['查看详情'])

    await tap(card(w, 'FENORD000002').find('.refund'))
    expect(Taro.navigateTo).toHaveBeenCalledWith({
      url: '/pages/order/index?orderNo=FENORD000002&refund=1',
    })
    await tap(card(w, 'FENORD000003').find('.detail'))
    expect(Taro.navigateTo).toHaveBeenLastCalledWith({
      url: '/pages/order/index?orderNo=FENORD000003',
    })
  })

  it('the tabs filter the orders; ?tab= opens one', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ tab: 'unpaid' })
    taro.onRequest(routes({ 'GET /api/orders': ok([pendingOrder, paidOrder, closedOrder]) }))
    const w = await mounted(OrdersPage)
    expect(w.find('.tab.active').text()).toBe('待付款')
    expect(w.findAll('.order').map((c) => c.attributes('data-order-no'))).toEqual(['FENORD000001'])
    await tap(w.find('.tab-unshipped'))
    expect(w.findAll('.order').map((c) => c.attributes('data-order-no'))).toEqual(['FENORD000002'])
    await tap(w.find('.tab-shipped'))
    expect(w.find('.empty-state').text()).toContain('这里还没有订单')
    await tap(w.find('.tab-all'))
    expect(w.findAll('.order')).toHaveLength(3)
  })

  it('取消订单 asks, POSTs /cancel and reloads the list; success is a toast', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    const cancelled = withStatus('CLOSED', { orderNo: 'FENORD000001' })
    taro.answer(ok([pendingOrder]), ok(cancelled), ok([cancelled]))
    const w = await mounted(OrdersPage)

    await tap(card(w, 'FENORD000001').find('.cancel'))

    expect(Taro.showModal.mock.calls[0]![0]).toMatchObject({
      cancelText: '暂不取消',
      confirmText: '取消订单',
    })
    expect(taro.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/orders',
      'POST /api/orders/FENORD000001/cancel',
      'GET /api/orders',
    ])
    expect(Taro.showToast).toHaveBeenCalledWith({ title: '订单已取消', icon: 'success' })
    expect(card(w, 'FENORD000001').find('.status').text()).toBe('已关闭')
    expect(w.find('.error').exists()).toBe(false)
  })

  it('去支付 pays by jsapi; a cancelled payment is a passing toast, not a line left on screen', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.payment('fail cancel')
    taro.onRequest(
      routes({
        'GET /api/orders': ok([pendingOrder]),
        'POST /api/orders/FENORD000001/pay': ok(jsapiAnswer),
      }),
    )
    const w = await mounted(OrdersPage)

    await tap(card(w, 'FENORD000001').find('.pay'))

    expect(taro.requestsTo('/api/orders/FENORD000001/pay')[0]!.body).toEqual({ channel: 'jsapi' })
    expect(Taro.showToast).toHaveBeenCalledWith({ title: '已取消支付，订单仍待支付', icon: 'none' })
    expect(w.find('.error').exists()).toBe(false)
  })

  it('a partly refunded paid order waits under 待发货 and reads so, with its refund beside it', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    const partly = withStatus('PARTIALLY_REFUNDED', {
      orderNo: 'FENORD000004',
      refundedFen: 1000,
      refundableFen: 6480,
      fulfilment: 'to_ship',
      actions: ['request_refund'],
    })
    taro.routerParams({ tab: 'unshipped' })
    taro.onRequest(routes({ 'GET /api/orders': ok([pendingOrder, paidOrder, partly]) }))
    const w = await mounted(OrdersPage)
    expect(w.findAll('.order').map((c) => c.attributes('data-order-no'))).toEqual([
      'FENORD000002',
      'FENORD000004',
    ])
    expect(card(w, 'FENORD000004').find('.status').text()).toBe('待发货')
    expect(card(w, 'FENORD000004').find('.refund-note').text()).toBe('已退款 ¥10.00')
    expect(
      card(w, 'FENORD000004')
        .findAll('.buttons .btn')
        .map((b) => b.text()),
    ).toEqual(['查看详情', '申请退款'])
  })

  it('确认收货 on the list for a Native payment: asks, POSTs, and the card reads 已完成', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    const shipped = withStatus('SHIPPED', { orderNo: 'FENORD000005', channel: 'native' })
    const done = withStatus('COMPLETED', { orderNo: 'FENORD000005', channel: 'native' })
    let current = shipped
    taro.onRequest(
      routes({
        'GET /api/orders': () => ok([current]),
        'POST /api/orders/FENORD000005/confirm-receipt': () => ok((current = done)),
      }),
    )
    const w = await mounted(OrdersPage)
    await tap(card(w, 'FENORD000005').find('.confirm-receipt'))
    expect(Taro.showModal.mock.calls[0]![0]).toMatchObject({ title: '确认收货' })
    expect(taro.requestsTo('/api/orders/FENORD000005/confirm-receipt', 'POST')).toHaveLength(1)
    expect(card(w, 'FENORD000005').find('.status').text()).toBe('已完成')
    expect(card(w, 'FENORD000005').find('.confirm-receipt').exists()).toBe(false)
  })

  it('no orders: 还没有订单 and a way back to 首页', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(ok([]))
    const w = await mounted(OrdersPage)
    expect(w.find('.empty-text').text()).toBe('还没有订单')
    await tap(w.find('.empty-action'))
    expect(Taro.reLaunch).toHaveBeenCalledWith({ url: '/pages/index/index' })
  })

  it('a failed first load offers 重试, and the error is gone once it works', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(fail('INTERNAL', '服务器开小差了'), ok([pendingOrder]))
    const w = await mounted(OrdersPage)
    expect(w.find('.skeleton').exists()).toBe(false)
    expect(w.find('.retry-message').text()).toBe('服务器开小差了')
    await tap(w.find('.retry'))
    expect(w.find('.retry-block').exists()).toBe(false)
    expect(w.findAll('.order')).toHaveLength(1)
  })
})

describe('order page (pages/order)', () => {
  const NO = 'FENDET000001'
  const shippedView: Order = {
    ...withStatus('SHIPPED', { orderNo: NO, paidAt: '2026-11-22T08:01:00.000Z' }),
    deliveryMethod: 'express',
    address: {
      name: '张三',
      phone: '13800001234',
      province: '上海市',
      city: '上海市',
      district: '徐汇区',
      detail: '漕溪北路 1 号',
    },
    remark: '少冰',
    delivery: {
      logisticsType: 'express',
      expressCompany: 'ZTO',
      expressCompanyName: '中通快递',
      wechatReport: 'uploaded',
      trackingNo: 'ZT1234567890123',
      itemDesc: '手冲咖啡豆 等3件商品',
      shippedAt: '2026-11-22T10:00:00.000Z',
    },
    timeline: [
      { kind: 'created', at: '2026-11-22T08:00:00.000Z' },
      { kind: 'paid', at: '2026-11-22T08:01:00.000Z' },
      { kind: 'shipped', at: '2026-11-22T10:00:00.000Z' },
    ],
  }

  /** The order, carrying its refund requests as the server sends them. */
  function serve(o: Order, requests: RefundRequestView[] = []) {
    if (requests.length) o = { ...o, refundRequests: requests }
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ orderNo: NO })
    taro.onRequest(routes({ [`GET /api/orders/${NO}`]: ok(o) }))
  }

  it('shows the timeline, the carrier and tracking number, the address, 配送方式 and 备注', async () => {
    serve(shippedView)
    const w = await mounted(OrderPage)
    expect(w.find('.big-status').text()).toBe('待收货')
    expect(
      w.findAll('.timeline .step').map((s) => [s.find('.step-label').text(), s.classes()]),
    ).toEqual([
      ['下单', expect.arrayContaining(['done'])],
      ['支付', expect.arrayContaining(['done'])],
      ['发货', expect.arrayContaining(['done'])],
      ['收货', expect.arrayContaining(['ahead'])],
    ])
    expect(w.find('.step-shipped .step-at').text()).toBe('2026-11-22 18:00')
    expect(w.find('.carrier').text()).toContain('中通快递')
    expect(w.find('.tracking-no').text()).toBe('ZT1234567890123')
    expect(w.find('.delivery-method').text()).toContain('快递配送')
    expect(w.find('.address').text()).toContain('上海市上海市徐汇区漕溪北路 1 号')
    expect(w.find('.remark').text()).toContain('少冰')
    expect(w.findAll('.item')).toHaveLength(2)
    expect(w.find('.actions .request-refund').text()).toBe('申请退款')
  })

  it('申请退款 (full): sends the reason and no amount, then shows 审核中 with a toast', async () => {
    const pending = request({ orderNo: NO, amountFen: 7480, reason: '不想要了' })
    let asked: RefundRequestView[] = []
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ orderNo: NO })
    taro.onRequest(
      routes({
        // The server offers no second request while one waits (its `actions`).
        [`GET /api/orders/${NO}`]: () =>
          ok({
            ...withStatus('PAID', { orderNo: NO }),
            refundRequests: asked,
            ...(asked.length ? { actions: [] } : {}),
          }),
        [`POST /api/orders/${NO}/refund-requests`]: () => {
          asked = [pending]
          return { statusCode: 201, data: pending }
        },
      }),
    )
    const w = await mounted(OrderPage)

    await tap(w.find('.request-refund'))
    expect(w.find('.refund-full').text()).toBe('全额退款 ¥74.80')
    expect(w.find('.submit-refund').classes()).toContain('disabled')
    await tap(w.findAll('.reason')[0]!)
    await tap(w.find('.submit-refund'))

    const post = taro.requestsTo(`/api/orders/${NO}/refund-requests`, 'POST')
    expect(post).toHaveLength(1)
    expect(post[0]!.body).toEqual({ reason: '不想要了' })
    expect(post[0]!.header['idempotency-key']).toMatch(/^rr-/)
    expect(Taro.showToast).toHaveBeenCalledWith({ title: '退款申请已提交', icon: 'success' })
    expect(w.find('.refund-sheet').exists()).toBe(false)
    expect(w.find('.refund-stage').text()).toBe('审核中')
    expect(w.find('.request-refund').exists()).toBe(false)
  })

  it('申请退款 (partial): the amount is checked before it is sent, in fen', async () => {
    serve(withStatus('PAID', { orderNo: NO }))
    const w = await mounted(OrderPage)
    await tap(w.find('.request-refund'))
    await tap(w.find('.refund-partial'))
    const amount = w.find('.refund-amount')
    await amount.trigger('input', { detail: { value: '80' } })
    expect(w.find('.amount-problem').text()).toBe('退款金额超过可退金额，最多可退 ¥74.80')
    await amount.trigger('input', { detail: { value: '12.345' } })
    expect(w.find('.amount-problem').text()).toBe('请输入正确的金额（最多两位小数）')
    await amount.trigger('input', { detail: { value: '12.5' } })
    expect(w.find('.amount-problem').exists()).toBe(false)
    await tap(w.findAll('.reason')[1]!)
    taro.answer({ statusCode: 201, data: request({ orderNo: NO, amountFen: 1250 }) })
    await tap(w.find('.submit-refund'))
    expect(taro.requestsTo(`/api/orders/${NO}/refund-requests`, 'POST')[0]!.body).toEqual({
      amountFen: 1250,
      reason: '拍错/多拍了',
    })
  })

  it('a refused request says 已拒绝 and why; the shopper may ask again', async () => {
    serve(withStatus('PAID', { orderNo: NO }), [
      request({ orderNo: NO, status: 'rejected', rejectReason: '商品已制作，无法退款' }),
    ])
    const w = await mounted(OrderPage)
    expect(w.find('.refund-stage').text()).toBe('已拒绝')
    expect(w.find('.reject-reason').text()).toBe('拒绝原因：商品已制作，无法退款')
    expect(w.find('.request-refund').exists()).toBe(true)
  })

  it('?refund=1 (from the list) opens the sheet once the order is loaded', async () => {
    serve(withStatus('PAID', { orderNo: NO }))
    taro.routerParams({ orderNo: NO, refund: '1' })
    const w = await mounted(OrderPage)
    expect(w.find('.refund-sheet').exists()).toBe(true)
  })

  it('PENDING offers 去支付 and 取消订单; a cancel → 已关闭 with no actions left', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ orderNo: NO })
    let status: 'PENDING' | 'CLOSED' = 'PENDING'
    taro.onRequest(
      routes({
        [`GET /api/orders/${NO}`]: () => ok(withStatus(status, { orderNo: NO })),
        [`POST /api/orders/${NO}/cancel`]: () => {
          status = 'CLOSED'
          return ok(withStatus('CLOSED', { orderNo: NO }))
        },
      }),
    )
    const w = await mounted(OrderPage)
    expect(w.find('.big-status').text()).toBe('待付款')
    expect(w.find('.actions .pay').text()).toBe('去支付')
    await tap(w.find('.actions .cancel'))
    expect(Taro.showToast).toHaveBeenCalledWith({ title: '订单已取消', icon: 'success' })
    expect(w.find('.big-status').text()).toBe('已关闭')
    expect(w.find('.actions').exists()).toBe(false)
  })

  it('a failed load offers 重试', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ orderNo: NO })
    taro.answer(fail('ORDER_NOT_FOUND', '订单不存在'))
    const w = await mounted(OrderPage)
    expect(w.find('.retry-message').text()).toBe('订单不存在')
  })

  it("a shipped, partly refunded order reads 待收货 with its refund; the sheet's maximum is refundableFen", async () => {
    serve({
      ...shippedView,
      status: 'PARTIALLY_REFUNDED',
      refundedFen: 1000,
      refundableFen: 6480,
      fulfilment: 'shipped',
      actions: ['confirm_receipt', 'request_refund'],
    })
    const w = await mounted(OrderPage)
    expect(w.find('.big-status').text()).toBe('待收货')
    expect(w.find('.status-card .refund-note').text()).toBe('已退款 ¥10.00')
    expect(w.find('.status-card').attributes('data-fulfilment')).toBe('shipped')
    expect(w.findAll('.actions .btn').map((b) => b.text())).toEqual(['申请退款', '确认收货'])

    await tap(w.find('.request-refund'))
    expect(w.find('.refund-full').text()).toBe('全额退款 ¥64.80')
    await tap(w.find('.refund-partial'))
    await w.find('.refund-amount').trigger('input', { detail: { value: '70' } })
    expect(w.find('.amount-problem').text()).toBe('退款金额超过可退金额，最多可退 ¥64.80')
  })

  it("shows exactly the server's actions: none when it offers none, whatever the status", async () => {
    serve({ ...shippedView, actions: [] })
    const w = await mounted(OrderPage)
    expect(w.find('.big-status').text()).toBe('待收货')
    expect(w.find('.actions').exists()).toBe(false)
  })

  it("specs from the server's specLabel; the carrier by the name WeChat's list gives it", async () => {
    serve({
      ...shippedView,
      items: [
        {
          productId: 6,
          title: '经典拿铁',
          quantity: 1,
          unitPriceFen: 2800,
          spec: { 杯型: '大杯', 温度: '冰' },
          specLabel: '冰/大杯',
        },
      ],
      delivery: {
        ...shippedView.delivery!,
        expressCompany: 'HTKY',
        expressCompanyName: '百世快递',
      },
    })
    const w = await mounted(OrderPage)
    expect(w.find('.item-spec').text()).toBe('冰/大杯')
    expect(w.find('.carrier').text()).toContain('百世快递')
  })

  it('确认收货 of a Native payment (the shop confirms): asks, POSTs, and reads 已完成', async () => {
    const shipped: Order = { ...shippedView, channel: 'native' }
    const done: Order = {
      ...shipped,
      status: 'COMPLETED',
      completedAt: '2026-11-23T08:00:00.000Z',
      fulfilment: 'received',
      actions: ['request_refund'],
    }
    let current = shipped
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ orderNo: NO })
    taro.onRequest(
      routes({
        [`GET /api/orders/${NO}`]: () => ok(current),
        [`POST /api/orders/${NO}/confirm-receipt`]: () => ok((current = done)),
      }),
    )
    const w = await mounted(OrderPage)

    taro.confirm(false)
    await tap(w.find('.confirm-receipt'))
    expect(Taro.showModal.mock.calls[0]![0]).toMatchObject({
      title: '确认收货',
      confirmText: '确认收货',
      cancelText: '暂不确认',
    })
    expect(taro.requestsTo(`/api/orders/${NO}/confirm-receipt`)).toHaveLength(0)

    taro.confirm(true)
    await tap(w.find('.confirm-receipt'))
    // The shopper's word: no GET for wx.openBusinessView's parameters, no WeChat page.
    expect(taro.requestsTo(`/api/orders/${NO}/confirm-receipt`).map((r) => r.method)).toEqual([
      'POST',
    ])
    expect(Taro.openBusinessView).not.toHaveBeenCalled()
    expect(Taro.showToast).toHaveBeenCalledWith({ title: '已确认收货', icon: 'success' })
    expect(w.find('.big-status').text()).toBe('已完成')
    expect(w.find('.confirm-receipt').exists()).toBe(false)
  })

  it("确认收货 of a JSAPI payment (WeChat's): wx.openBusinessView, then the server checks", async () => {
    const shipped: Order = { ...shippedView, channel: 'jsapi' }
    const done: Order = { ...shipped, status: 'COMPLETED', fulfilment: 'received', actions: [] }
    let current = shipped
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ orderNo: NO })
    taro.onRequest(
      routes({
        [`GET /api/orders/${NO}`]: () => ok(current),
        [`GET /api/orders/${NO}/confirm-receipt`]: ok({
          businessType: 'weappOrderConfirm',
          extraData: { merchant_id: '1900000001', merchant_trade_no: NO },
        }),
        [`POST /api/orders/${NO}/confirm-receipt`]: () => ok((current = done)),
      }),
    )
    const w = await mounted(OrderPage)
    await tap(w.find('.confirm-receipt'))
    expect(Taro.showModal).not.toHaveBeenCalled()
    expect(Taro.openBusinessView).toHaveBeenCalledWith({
      businessType: 'weappOrderConfirm',
      extraData: { merchant_id: '1900000001', merchant_trade_no: NO },
    })
    expect(taro.requestsTo(`/api/orders/${NO}/confirm-receipt`).map((r) => r.method)).toEqual([
      'GET',
      'POST',
    ])
    expect(w.find('.big-status').text()).toBe('已完成')
  })
})

describe('我的 (pages/mine)', () => {
  it('counts what waits in each tab and opens the order centre on it', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(
      ok([
        withStatus('PENDING', { orderNo: 'FENM00000001' }),
        withStatus('PENDING', { orderNo: 'FENM00000002' }),
        withStatus('SHIPPED', { orderNo: 'FENM00000003' }),
      ]),
    )
    const w = await mounted(MinePage)
    const count = (tab: string) => w.find(`.entry-${tab} .count`).text()
    expect([count('unpaid'), count('unshipped'), count('shipped'), count('aftersale')]).toEqual([
      '2',
      '0',
      '1',
      '0',
    ])
    await tap(w.find('.entry-shipped'))
    expect(Taro.navigateTo).toHaveBeenCalledWith({ url: '/pages/orders/index?tab=shipped' })
    await tap(w.find('.all-orders'))
    expect(Taro.navigateTo).toHaveBeenLastCalledWith({ url: '/pages/orders/index?tab=all' })
    // Not a sandbox build: no 切换用户.
    expect(w.find('.switch-user').exists()).toBe(false)
  })
})
