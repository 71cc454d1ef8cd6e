// The order pages: 我的订单 (pages/orders) and 订单详情 (pages/order). The browse-and-buy pages are in
// shop.test.ts.
import { describe, expect, it } from 'vitest'
import type { Component } from 'vue'
import { type DOMWrapper, flushPromises, mount } from '@vue/test-utils'
import OrdersPage from '@/pages/orders/index.vue'
import OrderPage from '@/pages/order/index.vue'
import { taro } from './taro-mock'
import { TOKEN_KEY, jsapiAnswer, ok, routes, withStatus } from './fixtures'

const { Taro } = taro

/** Taps an element and lets the app's promises settle. */
async function tap(el: DOMWrapper<Element>) {
  await el.trigger('tap')
  await flushPromises()
}

async function mounted(page: Component) {
  const w = mount(page)
  await flushPromises()
  return w
}

describe('orders page (pages/orders)', () => {
  const pendingOrder = withStatus('PENDING', { orderNo: 'FENORD000001' })
  const paidOrder = withStatus('PAID', { orderNo: 'FENORD000002' })
  const closedOrder = withStatus('CLOSED', { orderNo: 'FENORD000003' })

  const card = (w: Awaited<ReturnType<typeof mounted>>, no: string) =>
    w.find(`[data-order-no="${no}"]`)

  it('shows 继续支付 / 取消订单 only for PENDING orders', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(ok([pendingOrder, paidOrder, closedOrder]))
    const w = await mounted(OrdersPage)

    expect(w.findAll('.order')).toHaveLength(3)
    const p = card(w, 'FENORD000001')
    expect(p.find('.pay').text()).toBe('继续支付')
    expect(p.find('.cancel').text()).toBe('取消订单')
    expect(p.find('.status').text()).toBe('待支付')
    expect(p.find('.price').text()).toBe('¥74.80')
    expect(p.text()).toContain('手冲咖啡豆 等3件商品')
    for (const no of ['FENORD000002', 'FENORD000003']) {
      expect(card(w, no).find('.pay').exists()).toBe(false)
      expect(card(w, no).find('.cancel').exists()).toBe(false)
    }
    expect(card(w, 'FENORD000002').find('.status').text()).toBe('已支付')
    expect(card(w, 'FENORD000003').find('.status').text()).toBe('已关闭')
    expect(w.findAll('.buttons')).toHaveLength(1)
  })

  it('取消订单 asks (showModal), POSTs /cancel and reloads the list', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    const cancelled = withStatus('CLOSED', { orderNo: 'FENORD000001' })
    taro.answer(ok([pendingOrder, paidOrder]), ok(cancelled), ok([cancelled, paidOrder]))
    const w = await mounted(OrdersPage)

    await tap(card(w, 'FENORD000001').find('.cancel'))

    expect(Taro.showModal).toHaveBeenCalledTimes(1)
    expect(Taro.showModal.mock.calls[0]![0]).toMatchObject({
      title: '取消订单',
      cancelText: '暂不取消',
      confirmText: '取消订单',
    })
    expect(taro.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/orders',
      'POST /api/orders/FENORD000001/cancel',
      'GET /api/orders',
    ])
    expect(Taro.showToast).toHaveBeenCalledWith({ title: '订单已取消', icon: 'success' })
    expect(w.find('.message').exists()).toBe(false)
    expect(card(w, 'FENORD000001').find('.cancel').exists()).toBe(false)
    expect(card(w, 'FENORD000001').find('.status').text()).toBe('已关闭')
  })

  it('declining the modal cancels nothing', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.confirm(false)
    taro.onRequest(routes({ 'GET /api/orders': ok([pendingOrder]) }))
    const w = await mounted(OrdersPage)

    await tap(card(w, 'FENORD000001').find('.cancel'))

    expect(Taro.showModal).toHaveBeenCalledTimes(1)
    expect(taro.requests.filter((r) => r.method === 'POST')).toHaveLength(0)
    expect(w.find('.message').exists()).toBe(false)
    expect(card(w, 'FENORD000001').find('.cancel').exists()).toBe(true)
  })

  it('继续支付 pays by jsapi; a cancel says the order is still pending', async () => {
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
    expect(Taro.requestPayment).toHaveBeenCalledTimes(1)
    expect(w.find('.message').text()).toBe('已取消支付，订单仍待支付')
    expect(taro.requestsTo('/api/orders', 'GET')).toHaveLength(2)
  })

  it('an order opens its detail page', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(ok([paidOrder]))
    const w = await mounted(OrdersPage)
    await tap(card(w, 'FENORD000002').find('.row'))
    expect(Taro.navigateTo).toHaveBeenCalledWith({ url: '/pages/order/index?orderNo=FENORD000002' })
  })

  it('no orders: 还没有订单', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(ok([]))
    const w = await mounted(OrdersPage)
    expect(w.find('.empty').text()).toBe('还没有订单')
  })
})

describe('order page (pages/order)', () => {
  const NO = 'FENDET000001'

  it('loads the order from the router params; PENDING offers 继续支付 and 取消订单', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ orderNo: NO })
    taro.answer(
      ok(withStatus('PENDING', { orderNo: NO })),
      ok(withStatus('CLOSED', { orderNo: NO })),
    )
    const w = await mounted(OrderPage)

    expect(taro.requests[0]!.path).toBe(`/api/orders/${NO}`)
    expect(w.find('.big-status').text()).toBe('待支付')
    expect(w.findAll('.item')).toHaveLength(2)
    expect(w.find('.actions .pay').text()).toBe('继续支付')

    await tap(w.find('.actions .cancel'))

    expect(taro.requests[1]!.path).toBe(`/api/orders/${NO}/cancel`)
    expect(Taro.showToast).toHaveBeenCalledWith({ title: '订单已取消', icon: 'success' })
    expect(w.find('.message').exists()).toBe(false)
    expect(w.find('.big-status').text()).toBe('已关闭')
    expect(w.find('.actions').exists()).toBe(false)
  })

  it('a PAID order has no actions', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ orderNo: NO })
    taro.answer(ok(withStatus('PAID', { orderNo: NO })))
    const w = await mounted(OrderPage)
    expect(w.find('.big-status').text()).toBe('已支付')
    expect(w.find('.actions').exists()).toBe(false)
  })
})
