import { describe, expect, it } from 'vitest'
import type { Component } from 'vue'
import { type DOMWrapper, flushPromises, mount } from '@vue/test-utils'
import { formatFen } from '@fen/shared'
import IndexPage from '@/pages/index/index.vue'
import CheckoutPage from '@/pages/checkout/index.vue'
import ResultPage from '@/pages/result/index.vue'
import { cart } from '@/stores/cart'
import { NETWORK_ERROR, taro } from './taro-mock'
import {
  TOKEN_KEY,
  fail,
  jsapiAnswer,
  loginAnswer,
  nativeAnswer,
  ok,
  order,
  products,
  routes,
  withStatus,
} from './fixtures'

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

describe('products page (pages/index)', () => {
  function serve() {
    taro.onRequest(routes({ 'GET /api/products': ok(products) }))
  }

  it('lists the products with prices formatted by formatFen, without logging in', async () => {
    serve()
    const w = await mounted(IndexPage)

    const rows = w.findAll('.product')
    expect(rows).toHaveLength(3)
    expect(rows.map((r) => r.find('.title').text())).toEqual(['手冲咖啡豆', '马克杯', '滤纸'])
    expect(rows.map((r) => r.find('.price').text())).toEqual(['¥29.90', '¥15.00', '¥0.05'])
    expect(rows.map((r) => r.find('.price').text())).toEqual(
      products.map((p) => formatFen(p.priceFen)),
    )
    expect(rows[0]!.text()).toContain('库存 5')
    expect(taro.requests).toHaveLength(1)
    expect(taro.requests[0]!.header.authorization).toBeUndefined()
    expect(Taro.login).not.toHaveBeenCalled()
  })

  it('the + / − steppers change the cart and the 预估合计', async () => {
    serve()
    const w = await mounted(IndexPage)
    const [beans, mug] = w.findAll('.product')
    const total = () => w.find('.bar .price').text()

    expect(total()).toBe('¥0.00')
    await tap(beans!.find('.plus'))
    await tap(beans!.find('.plus'))
    await tap(mug!.find('.plus'))
    expect(beans!.find('.qty').text()).toBe('2')
    expect(mug!.find('.qty').text()).toBe('1')
    expect(total()).toBe('¥74.80')
    expect(cart.lines.value).toEqual([
      { productId: 1, quantity: 2 },
      { productId: 2, quantity: 1 },
    ])

    await tap(beans!.find('.minus'))
    expect(beans!.find('.qty').text()).toBe('1')
    expect(total()).toBe('¥44.90')

    await tap(mug!.find('.minus'))
    await tap(mug!.find('.minus'))
    expect(mug!.find('.qty').text()).toBe('0')
    expect(cart.lines.value).toEqual([{ productId: 1, quantity: 1 }])
    expect(total()).toBe('¥29.90')
  })

  it('the + stepper stops at the stock', async () => {
    serve()
    const w = await mounted(IndexPage)
    const [, mug, paper] = w.findAll('.product')

    for (let i = 0; i < 4; i++) await tap(mug!.find('.plus'))
    await tap(paper!.find('.plus'))

    expect(mug!.find('.qty').text()).toBe('2')
    expect(paper!.find('.qty').text()).toBe('0')
    expect(w.find('.bar .price').text()).toBe('¥30.00')
  })

  it('去结算 navigates to checkout only with items', async () => {
    serve()
    const w = await mounted(IndexPage)
    const checkout = w.find('.checkout')
    expect(checkout.text()).toBe('去结算')
    expect(checkout.classes()).toContain('disabled')

    await tap(checkout)
    expect(Taro.navigateTo).not.toHaveBeenCalled()

    await tap(w.findAll('.product')[0]!.find('.plus'))
    expect(w.find('.checkout').classes()).not.toContain('disabled')
    await tap(w.find('.checkout'))
    expect(Taro.navigateTo).toHaveBeenCalledTimes(1)
    expect(Taro.navigateTo).toHaveBeenCalledWith({ url: '/pages/checkout/index' })
  })

  it('我的订单 opens the orders page', async () => {
    serve()
    const w = await mounted(IndexPage)
    await tap(w.find('.orders-link'))
    expect(Taro.navigateTo).toHaveBeenCalledWith({ url: '/pages/orders/index' })
  })

  it('a failed load shows the error', async () => {
    taro.answer(NETWORK_ERROR)
    const w = await mounted(IndexPage)
    expect(w.find('.error').text()).toBe('网络连接失败，请检查网络后重试')
    expect(w.findAll('.product')).toHaveLength(0)
  })
})

describe('checkout page (pages/checkout)', () => {
  const created = order({ orderNo: 'FENCHK000001', totalFen: 6980 }) // the server's price, not the estimate

  function fillCart() {
    cart.setProducts(products)
    cart.set(1, 2)
    cart.set(2, 1)
  }

  it('shows the lines and the estimate', async () => {
    fillCart()
    const w = await mounted(CheckoutPage)
    expect(w.findAll('.line')).toHaveLength(2)
    expect(w.findAll('.line .qty').map((q) => q.text())).toEqual(['2', '1'])
    expect(w.text()).toContain('预估合计')
    expect(w.find('.price').text()).toBe('¥74.80')
    expect(w.find('.total').exists()).toBe(false)
  })

  it("提交订单 POSTs only {items:[{productId, quantity}]} with an idempotency-key, then shows the server's total", async () => {
    fillCart()
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.onRequest(routes({ 'POST /api/orders': ok(created) }))
    const w = await mounted(CheckoutPage)

    await tap(w.find('.submit'))

    const posts = taro.requestsTo('/api/orders', 'POST')
    expect(posts).toHaveLength(1)
    expect(posts[0]!.body).toStrictEqual({
      items: [
        { productId: 1, quantity: 2 },
        { productId: 2, quantity: 1 },
      ],
    })
    expect(String(posts[0]!.data)).not.toMatch(/fen|price|amount|total/i)
    expect(posts[0]!.header['idempotency-key']).toMatch(/^co-[0-9a-z]+-[0-9a-z]+$/)
    expect(posts[0]!.header.authorization).toBe('Bearer tok')

    expect(w.find('.total').text()).toBe('¥69.80')
    expect(w.find('.order-no').text()).toBe('FENCHK000001')
    expect(w.find('.submit').exists()).toBe(false)
    expect(w.find('.pay-jsapi').text()).toBe('微信支付')
    expect(cart.lines.value).toEqual([])
  })

  it('logs in first when there is no token', async () => {
    fillCart()
    taro.onRequest(
      routes({ 'POST /api/auth/login': loginAnswer('tok-new'), 'POST /api/orders': ok(created) }),
    )
    const w = await mounted(CheckoutPage)
    await tap(w.find('.submit'))

    expect(taro.requests.map((r) => r.path)).toEqual(['/api/auth/login', '/api/orders'])
    expect(taro.requests[1]!.header.authorization).toBe('Bearer tok-new')
    expect(w.find('.total').text()).toBe('¥69.80')
  })

  it("a 409 OUT_OF_STOCK shows the server's message; a retry reuses the idempotency-key", async () => {
    fillCart()
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(fail('OUT_OF_STOCK', '马克杯库存不足，仅剩 0 件'), ok(created))
    const w = await mounted(CheckoutPage)

    await tap(w.find('.submit'))
    expect(w.find('.message').text()).toBe('马克杯库存不足，仅剩 0 件')
    expect(w.find('.total').exists()).toBe(false)
    expect(cart.lines.value).toHaveLength(2)

    await tap(w.find('.submit'))
    const [first, second] = taro.requestsTo('/api/orders', 'POST')
    expect(second!.header['idempotency-key']).toBe(first!.header['idempotency-key'])
    expect(w.find('.message').exists()).toBe(false)
    expect(w.find('.total').text()).toBe('¥69.80')
  })

  // Fails on the current src (reported): the page shows `lines` (products still in the catalogue)
  // but submits `cart.lines` (every quantity ever set). A product taken off sale after it was
  // added is invisible on both pages, yet sent with every 提交订单, so the server answers
  // PRODUCT_NOT_FOUND forever and nothing in the UI can remove the line.
  it('submits exactly the lines it shows (a product gone from the catalogue is not ordered)', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    const withoutMug = products.filter((p) => p.id !== 2)
    taro.answer(ok(products), ok(withoutMug), ok(created))

    const shop = await mounted(IndexPage)
    await tap(shop.findAll('.product')[0]!.find('.plus'))
    await tap(shop.findAll('.product')[1]!.find('.plus'))
    shop.unmount()
    // The shopper comes back to the list (useDidShow reloads it): the mug is no longer for sale.
    const again = await mounted(IndexPage)
    expect(again.findAll('.product')).toHaveLength(2)
    expect(again.find('.bar .price').text()).toBe('¥29.90')
    again.unmount()

    const w = await mounted(CheckoutPage)
    expect(w.findAll('.line')).toHaveLength(1)
    await tap(w.find('.submit'))

    expect(taro.requestsTo('/api/orders', 'POST')[0]!.body).toStrictEqual({
      items: [{ productId: 1, quantity: 1 }],
    })
  })

  it('with an empty cart 提交订单 is disabled and sends nothing', async () => {
    const w = await mounted(CheckoutPage)
    expect(w.find('.submit').classes()).toContain('disabled')
    await tap(w.find('.submit'))
    expect(taro.requests).toHaveLength(0)
  })

  it('微信支付 pays the created order and goes to the result page', async () => {
    fillCart()
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.onRequest(
      routes({
        'POST /api/orders': ok(created),
        'POST /api/orders/FENCHK000001/pay': ok(jsapiAnswer),
      }),
    )
    const w = await mounted(CheckoutPage)
    await tap(w.find('.submit'))
    await tap(w.find('.pay-jsapi'))

    expect(taro.requestsTo('/api/orders/FENCHK000001/pay')[0]!.body).toEqual({ channel: 'jsapi' })
    expect(Taro.requestPayment).toHaveBeenCalledTimes(1)
    expect(Taro.redirectTo).toHaveBeenCalledWith({
      url: '/pages/result/index?orderNo=FENCHK000001',
    })
  })

  it('a cancelled payment stays on the page and says so', async () => {
    fillCart()
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.payment('fail cancel')
    taro.onRequest(
      routes({
        'POST /api/orders': ok(created),
        'POST /api/orders/FENCHK000001/pay': ok(jsapiAnswer),
      }),
    )
    const w = await mounted(CheckoutPage)
    await tap(w.find('.submit'))
    await tap(w.find('.pay-jsapi'))

    expect(w.find('.message').text()).toBe('已取消支付，订单待支付，可在「我的订单」中继续支付')
    expect(Taro.redirectTo).not.toHaveBeenCalled()
  })
})

describe('result page (pages/result)', () => {
  const NO = 'FENRES000001'
  const PATH = `/api/orders/${NO}`

  function serve(...answers: ReturnType<typeof ok>[]) {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ orderNo: NO })
    taro.answer(...answers)
  }

  it('polls the order from the router params and shows 支付成功 for PAID', async () => {
    serve(ok(withStatus('PAID', { orderNo: NO, totalFen: 6980 })))
    const w = await mounted(ResultPage)

    expect(taro.requestsTo(PATH, 'GET')).toHaveLength(1)
    expect(w.find('.state').attributes('data-status')).toBe('PAID')
    expect(w.find('.ok').text()).toBe('支付成功')
    expect(w.find('.closed').exists()).toBe(false)
    expect(w.find('.status-label').text()).toBe('已支付')
    expect(w.text()).toContain(NO)
    expect(w.find('.price').text()).toBe('¥69.80')
  })

  it('shows 已关闭 for CLOSED', async () => {
    serve(ok(withStatus('CLOSED', { orderNo: NO })))
    const w = await mounted(ResultPage)

    expect(w.find('.closed').text()).toBe('已关闭')
    expect(w.find('.ok').exists()).toBe(false)
    expect(w.find('.status-label').text()).toBe('已关闭')
  })

  it('shows 支付成功 for a paid order already being refunded', async () => {
    serve(ok(withStatus('REFUNDED', { orderNo: NO, refundedFen: 7480 })))
    const w = await mounted(ResultPage)
    expect(w.find('.ok').text()).toBe('支付成功')
  })

  it('刷新 fetches the order again', async () => {
    serve(ok(withStatus('PAID', { orderNo: NO })), ok(withStatus('REFUNDING', { orderNo: NO })))
    const w = await mounted(ResultPage)
    expect(taro.requestsTo(PATH, 'GET')).toHaveLength(1)

    await tap(w.find('.refresh'))

    expect(taro.requestsTo(PATH, 'GET')).toHaveLength(2)
    expect(w.find('.status-label').text()).toBe('退款中')
  })

  it('a failed 刷新 shows the error and keeps the order', async () => {
    serve(ok(withStatus('PAID', { orderNo: NO })))
    taro.answer(NETWORK_ERROR)
    const w = await mounted(ResultPage)

    await tap(w.find('.refresh'))

    expect(w.find('.message').text()).toBe('网络连接失败，请检查网络后重试')
    expect(w.find('.ok').text()).toBe('支付成功')
  })

  it('channel=native asks for a native payment before polling', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ orderNo: NO, channel: 'native' })
    taro.answer(ok(nativeAnswer), ok(withStatus('PAID', { orderNo: NO })))
    const w = await mounted(ResultPage)

    expect(taro.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST ${PATH}/pay`,
      `GET ${PATH}`,
    ])
    expect(taro.requests[0]!.body).toEqual({ channel: 'native' })
    expect(Taro.requestPayment).not.toHaveBeenCalled()
    expect(w.find('.ok').text()).toBe('支付成功')
  })

  it('without an orderNo it says so at once and asks the server nothing', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({})
    const w = await mounted(ResultPage)

    expect(w.find('.message').text()).toBe('缺少订单号，请从「我的订单」进入')
    expect(w.find('.waiting').exists()).toBe(false)
    expect(taro.requests).toHaveLength(0)
  })

  it('查看我的订单 redirects to the orders page', async () => {
    serve(ok(withStatus('PAID', { orderNo: NO })))
    const w = await mounted(ResultPage)
    await tap(w.find('.to-orders'))
    expect(Taro.redirectTo).toHaveBeenCalledWith({ url: '/pages/orders/index' })
  })
})
