// The browse-and-buy pages: 首页, 商品详情, 购物车, 确认订单, 支付结果 — and the cart they share.
import { describe, expect, it, vi } from 'vitest'
import type { Component } from 'vue'
import { type DOMWrapper, flushPromises, mount } from '@vue/test-utils'
import HomePage from '@/pages/index/index.vue'
import ProductPage from '@/pages/product/index.vue'
import CartPage from '@/pages/cart/index.vue'
import CheckoutPage from '@/pages/checkout/index.vue'
import ResultPage from '@/pages/result/index.vue'
import { cart } from '@/stores/cart'
import { NETWORK_ERROR, taro } from './taro-mock'
import {
  TOKEN_KEY,
  catalogue,
  fail,
  home,
  jsapiAnswer,
  loginAnswer,
  nativeAnswer,
  ok,
  order,
  routes,
  withStatus,
} from './fixtures'

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

/** Types into a Taro input: its events carry the text in `detail.value`. */
async function type(el: DOMWrapper<Element>, value: string) {
  el.element.dispatchEvent(Object.assign(new Event('input'), { detail: { value } }))
  await flushPromises()
}

const lastToast = () => vi.mocked(Taro.showToast).mock.calls.at(-1)?.[0]

describe('cart store', () => {
  it('one line per product and spec choice; quantities stay within the stock', () => {
    cart.setProducts(catalogue)
    expect(cart.add(1, 2, { 温度: '冰', 杯型: '中杯' })).toBe(2)
    expect(cart.add(1, 1, { 杯型: '中杯', 温度: '冰' })).toBe(1) // same choice, other key order
    expect(cart.add(1, 5, { 温度: '去冰', 杯型: '大杯' })).toBe(2) // stock 5: 3 in the cart
    expect(cart.state.lines.map((l) => [l.productId, l.quantity])).toEqual([
      [1, 3],
      [1, 2],
    ])
    expect(cart.add(3, 1)).toBe(0) // sold out
    expect(cart.units.value).toBe(5)
  })

  it('keeps the lines in storage and the 购物车 badge at the units', async () => {
    cart.setProducts(catalogue)
    cart.add(2, 2)
    await flushPromises()
    expect(taro.storage.get('fen.cart')).toEqual([{ productId: 2, quantity: 2, selected: true }])
    expect(Taro.setTabBarBadge).toHaveBeenLastCalledWith({ index: 1, text: '2' })
    cart.remove(cart.state.lines[0]!)
    await flushPromises()
    expect(Taro.removeTabBarBadge).toHaveBeenLastCalledWith({ index: 1 })
  })

  it("quantities stay within the server's 限购 (purchaseLimit) too, across a product's lines", () => {
    cart.setProducts([{ ...catalogue[0]!, stock: 50, purchaseLimit: 3 }])
    expect(cart.add(1, 2, { 温度: '冰', 杯型: '中杯' })).toBe(2)
    expect(cart.add(1, 5, { 温度: '去冰', 杯型: '大杯' })).toBe(1)
    expect(cart.limitedOf(1)).toBe(true)
    cart.setQuantity(cart.state.lines[0]!, 10)
    expect(cart.state.lines.map((l) => l.quantity)).toEqual([2, 1])
    // A lower limit from the server lowers what the cart holds.
    cart.setProducts([{ ...catalogue[0]!, stock: 50, purchaseLimit: 1 }])
    expect(cart.state.lines.map((l) => l.quantity)).toEqual([1, 1])
  })

  it('a product taken off sale leaves the cart; a smaller stock lowers the quantity', () => {
    cart.setProducts(catalogue)
    cart.add(1, 4)
    cart.add(2, 1)
    cart.setProducts([{ ...catalogue[0]!, stock: 2 }])
    expect(cart.state.lines.map((l) => [l.productId, l.quantity])).toEqual([[1, 2]])
  })
})

describe('home page (pages/index)', () => {
  it('shows the banner, the categories and the product cards with server images, without logging in', async () => {
    taro.onRequest(routes({ 'GET /api/home': ok(home) }))
    const w = await mounted(HomePage)

    expect(w.find('.banner-image').attributes('aria-label')).toBe('秋日冷萃上新')
    expect(w.find('.banner-image').attributes('src')).toBe(
      'http://api.test/static/products/banner.svg',
    )
    expect(w.findAll('.category').map((c) => c.text())).toEqual(['全部', '咖啡', '咖啡豆', '烘焙'])
    const cards = w.findAll('.product')
    expect(cards.map((c) => c.find('.title').text())).toEqual([
      '冷萃咖啡',
      '挂耳咖啡 10 包',
      '可颂',
    ])
    expect(cards.map((c) => c.find('.price').text())).toEqual(['¥28.00', '¥29.90', '¥12.00'])
    expect(cards[0]!.find('.cover').attributes('src')).toBe(
      'http://api.test/static/products/cold-brew.svg',
    )
    expect(cards[0]!.find('.add').text()).toBe('选规格')
    expect(cards[2]!.find('.sold-out').text()).toBe('已售罄')
    expect(taro.requests[0]!.header.authorization).toBeUndefined()
    expect(Taro.login).not.toHaveBeenCalled()
  })

  it('a category shows its products only', async () => {
    taro.onRequest(routes({ 'GET /api/home': ok(home) }))
    const w = await mounted(HomePage)
    await tap(w.find('.category[data-id="beans"]'))
    expect(w.findAll('.product .title').map((t) => t.text())).toEqual(['挂耳咖啡 10 包'])
  })

  it('a card and a banner open the product', async () => {
    taro.onRequest(routes({ 'GET /api/home': ok(home) }))
    const w = await mounted(HomePage)
    await tap(w.findAll('.product')[1]!)
    expect(Taro.navigateTo).toHaveBeenLastCalledWith({ url: '/pages/product/index?id=2' })
    await tap(w.find('.banner'))
    expect(Taro.navigateTo).toHaveBeenLastCalledWith({ url: '/pages/product/index?id=1' })
  })

  it('placeholders while loading; a failed load offers 重试, which clears the error', async () => {
    let answer!: (a: ReturnType<typeof ok>) => void
    taro.answer(() => new Promise((r) => (answer = r)))
    const w = mount(HomePage)
    await flushPromises()
    expect(w.find('.skeleton').exists()).toBe(true)
    answer(fail('INTERNAL', '服务暂时不可用'))
    await flushPromises()
    expect(w.find('.retry-message').text()).toBe('服务暂时不可用')

    taro.answer(ok(home))
    await tap(w.find('.retry'))
    expect(w.find('.retry-block').exists()).toBe(false)
    expect(w.findAll('.product')).toHaveLength(3)
  })
})

describe('product page (pages/product)', () => {
  function open(id: number) {
    taro.routerParams({ id: String(id) })
    cart.setProducts(catalogue)
  }

  it('shows the images, price and description, the first option of each spec chosen', async () => {
    open(1)
    const w = await mounted(ProductPage)
    expect(w.findAll('.gallery-image').map((i) => i.attributes('src'))).toEqual([
      'http://api.test/static/products/cold-brew.svg',
      'http://api.test/static/products/cold-brew-2.svg',
    ])
    expect(w.find('.head .price').text()).toBe('¥28.00')
    expect(w.find('.desc').text()).toBe('低温慢萃 12 小时')
    expect(w.findAll('.option.on').map((o) => o.text())).toEqual(['冰', '中杯'])
    expect(taro.requests).toHaveLength(0) // known from the home page: no request
  })

  it('加入购物车 adds the chosen spec and quantity and says so', async () => {
    open(1)
    const w = await mounted(ProductPage)
    await tap(w.findAll('.spec[data-spec="杯型"] .option')[1]!)
    await tap(w.find('.amount .plus'))
    await tap(w.find('.add-to-cart'))

    expect(cart.state.lines).toEqual([
      { productId: 1, quantity: 2, selected: true, spec: { 温度: '冰', 杯型: '大杯' } },
    ])
    expect(lastToast()).toEqual({ title: '已加入购物车', icon: 'success' })
    expect(w.find('.to-cart-badge').text()).toBe('2')
  })

  it('立即购买 goes to checkout with that line only, the cart untouched', async () => {
    open(2)
    const w = await mounted(ProductPage)
    await tap(w.find('.buy-now'))
    expect(cart.state.checkout).toEqual([{ productId: 2, quantity: 1 }])
    expect(cart.state.lines).toEqual([])
    expect(Taro.navigateTo).toHaveBeenLastCalledWith({ url: '/pages/checkout/index' })
  })

  it('opened directly, it loads the catalogue; a sold-out product cannot be bought', async () => {
    taro.routerParams({ id: '3' })
    taro.onRequest(routes({ 'GET /api/products': ok(catalogue) }))
    const w = await mounted(ProductPage)
    expect(w.find('.head .title').text()).toBe('可颂')
    expect(w.find('.sold-out').exists()).toBe(true)
    await tap(w.find('.add-to-cart'))
    await tap(w.find('.buy-now'))
    expect(cart.state.lines).toEqual([])
    expect(Taro.navigateTo).not.toHaveBeenCalled()
  })

  it('限购: the stepper stops at the limit and says 限购 N 件; adding more says why', async () => {
    taro.routerParams({ id: '1' })
    cart.setProducts([{ ...catalogue[0]!, stock: 50, purchaseLimit: 3 }])
    const w = await mounted(ProductPage)
    expect(w.find('.amount .limit').text()).toBe('限购 3 件')
    for (let i = 0; i < 5; i++) await tap(w.find('.amount .plus'))
    expect(w.find('.amount .qty').text()).toBe('3')
    expect(w.find('.amount .plus').classes()).toContain('off')
    await tap(w.find('.add-to-cart'))
    expect(cart.units.value).toBe(3)
    await tap(w.find('.add-to-cart'))
    expect(lastToast()).toEqual({ title: '限购 3 件，购物车里已是最多', icon: 'none' })
    expect(cart.units.value).toBe(3)
  })

  it('no 限购 shown where the stock stops the stepper first', async () => {
    open(2)
    const w = await mounted(ProductPage)
    expect(w.find('.amount .limit').exists()).toBe(false)
  })

  it('a product no longer listed says so', async () => {
    taro.routerParams({ id: '99' })
    taro.onRequest(routes({ 'GET /api/products': ok(catalogue) }))
    const w = await mounted(ProductPage)
    expect(w.find('.empty-text').text()).toBe('这件商品已下架，看看别的吧')
    expect(w.find('.retry-block').exists()).toBe(false)
  })
})

describe('cart page (pages/cart)', () => {
  function serve() {
    taro.onRequest(routes({ 'GET /api/products': ok(catalogue) }))
    cart.setProducts(catalogue)
  }

  it('empty: says so and leads back to 首页', async () => {
    serve()
    const w = await mounted(CartPage)
    expect(w.find('.empty-text').text()).toBe('购物车还是空的，挑一杯喜欢的咖啡吧')
    await tap(w.find('.go-shopping'))
    expect(Taro.switchTab).toHaveBeenCalledWith({ url: '/pages/index/index' })
  })

  it('select, change the quantity and remove; the total follows the ticked lines', async () => {
    serve()
    cart.add(1, 1, { 温度: '冰', 杯型: '大杯' })
    cart.add(2, 1)
    const w = await mounted(CartPage)
    const total = () => w.find('.cart-bar .sum').text()
    expect(w.find('.cart-line .spec').text()).toBe('冰/大杯')
    expect(total()).toBe('¥57.90')

    await tap(w.findAll('.cart-line')[1]!.find('.plus'))
    expect(total()).toBe('¥87.80')
    await tap(w.findAll('.cart-line')[1]!.find('.plus')) // stock 2: stays at 2
    expect(w.findAll('.cart-line')[1]!.find('.qty').text()).toBe('2')

    await tap(w.findAll('.cart-line')[0]!.find('.tick'))
    expect(total()).toBe('¥59.80')
    expect(w.find('.checkout').text()).toBe('去结算（2）')

    await tap(w.findAll('.cart-line')[1]!.find('.remove'))
    expect(vi.mocked(Taro.showModal).mock.calls[0]![0]).toMatchObject({ confirmText: '删除' })
    expect(w.findAll('.cart-line')).toHaveLength(1)
    expect(total()).toBe('¥0.00')
    expect(w.find('.checkout').classes()).toContain('disabled')
  })

  it("a line's spec reads in the product's order of specs, however it was stored (冰/大杯)", async () => {
    serve()
    cart.add(1, 1, { 杯型: '大杯', 温度: '冰' })
    const w = await mounted(CartPage)
    expect(w.find('.cart-line .spec').text()).toBe('冰/大杯')
  })

  it('a line at 限购 says so and its + is off', async () => {
    const limited = [{ ...catalogue[0]!, stock: 50, purchaseLimit: 2 }, catalogue[1]!]
    taro.onRequest(routes({ 'GET /api/products': ok(limited) }))
    cart.setProducts(limited)
    cart.add(1, 1, { 温度: '冰', 杯型: '大杯' })
    const w = await mounted(CartPage)
    const line = () => w.findAll('.cart-line')[0]!
    expect(line().find('.limit').exists()).toBe(false)
    await tap(line().find('.plus'))
    await tap(line().find('.plus'))
    expect(line().find('.qty').text()).toBe('2')
    expect(line().find('.plus').classes()).toContain('off')
    expect(line().find('.limit').text()).toBe('限购 2 件')
  })

  it('去结算 hands the ticked lines to checkout', async () => {
    serve()
    cart.add(1, 2, { 温度: '冰', 杯型: '中杯' })
    cart.add(2, 1)
    cart.state.lines[1]!.selected = false
    const w = await mounted(CartPage)
    await tap(w.find('.checkout'))
    expect(cart.state.checkout).toEqual([
      { productId: 1, quantity: 2, spec: { 温度: '冰', 杯型: '中杯' } },
    ])
    expect(Taro.navigateTo).toHaveBeenCalledWith({ url: '/pages/checkout/index' })
  })
})

describe('checkout page (pages/checkout)', () => {
  // The server's price; still payable (the countdown test sets its own clock).
  const created = order({
    orderNo: 'FENCHK000001',
    totalFen: 5600,
    expiresAt: '2099-01-01T00:00:00.000Z',
  })
  const address = {
    name: '林小满',
    phone: '13800138000',
    province: '浙江省',
    city: '杭州市',
    district: '西湖区',
    detail: '文三路 90 号',
  }

  function fromCart() {
    cart.setProducts(catalogue)
    cart.add(1, 2, { 温度: '冰', 杯型: '中杯' })
    cart.add(2, 1)
    cart.state.lines[1]!.selected = false
    cart.checkoutSelected()
    taro.storage.set(TOKEN_KEY, 'tok')
  }

  /** After 提交订单 the page is replaced by the pay step, addressed by the order: open it as Taro would. */
  async function payStep(no = 'FENCHK000001') {
    expect(Taro.redirectTo).toHaveBeenLastCalledWith({
      url: `/pages/checkout/index?orderNo=${no}`,
    })
    taro.routerParams({ orderNo: no })
    return mounted(CheckoutPage)
  }

  it('shows the lines, the delivery choice and the estimate', async () => {
    fromCart()
    const w = await mounted(CheckoutPage)
    expect(w.findAll('.line .title').map((t) => t.text())).toEqual(['冷萃咖啡'])
    expect(w.find('.line-spec').text()).toBe('冰/中杯')
    expect(w.find('.line .qty').text()).toBe('×2')
    expect(w.find('.estimate').text()).toBe('¥56.00')
    expect(w.find('.method.on').text()).toBe('到店自取')
    expect(w.find('.address').exists()).toBe(false)
  })

  it("提交订单 (到店自取) POSTs the lines with their spec, no amount, then shows the server's total and the countdown", async () => {
    fromCart()
    taro.onRequest(routes({ 'POST /api/orders': ok(created) }))
    const w = await mounted(CheckoutPage)
    await type(w.find('.remark-input'), ' 少冰 ')
    await tap(w.find('.submit'))

    const posts = taro.requestsTo('/api/orders', 'POST')
    expect(posts[0]!.body).toStrictEqual({
      items: [{ productId: 1, quantity: 2, spec: { 温度: '冰', 杯型: '中杯' } }],
      deliveryMethod: 'pickup',
      remark: '少冰',
    })
    expect(String(posts[0]!.data)).not.toMatch(/fen|price|amount|total/i)
    expect(posts[0]!.header['idempotency-key']).toMatch(/^co-[0-9a-z]+-[0-9a-z]+$/)
    const pay = await payStep()
    expect(pay.find('.total').text()).toBe('¥56.00')
    expect(pay.find('.order-no').text()).toBe('FENCHK000001')
    expect(pay.find('.pay-jsapi').text()).toBe('微信支付')
    // Handed over by the form: shown without asking the server again.
    expect(taro.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/orders'])
    // The ordered line left the cart; the unticked one stays; nothing is left to check out.
    expect(cart.state.lines.map((l) => l.productId)).toEqual([2])
    await flushPromises()
    expect(taro.storage.has('fen.checkout')).toBe(false)
    expect(taro.storage.has('fen.checkout.draft')).toBe(false)
  })

  it('the countdown runs to the expiry, then paying is off', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    try {
      vi.setSystemTime(new Date('2026-11-22T08:00:00.000Z'))
      fromCart()
      const expiring = { ...created, expiresAt: '2026-11-22T08:30:00.000Z' }
      taro.onRequest(routes({ 'POST /api/orders': ok(expiring) }))
      await tap((await mounted(CheckoutPage)).find('.submit'))
      const w = await payStep()
      expect(w.find('.countdown').text()).toBe('请在 30:00 内完成支付')
      vi.advanceTimersByTime(61_000)
      await flushPromises()
      expect(w.find('.countdown').text()).toBe('请在 28:59 内完成支付')
      vi.advanceTimersByTime(29 * 60_000)
      await flushPromises()
      expect(w.find('.countdown').text()).toBe('订单已超时，请重新下单')
      expect(w.find('.pay-jsapi').classes()).toContain('disabled')
    } finally {
      vi.useRealTimers()
    }
  })

  it("快递配送 with WeChat's address book (weapp): the address goes with the order and is kept", async () => {
    fromCart()
    taro.address({
      userName: address.name,
      telNumber: address.phone,
      provinceName: address.province,
      cityName: address.city,
      countyName: address.district,
      detailInfo: address.detail,
      postalCode: '310000',
    })
    taro.onRequest(routes({ 'POST /api/orders': ok(created) }))
    const w = await mounted(CheckoutPage)
    await tap(w.find('.method-express'))

    await tap(w.find('.submit'))
    expect(w.find('.form-error').text()).toBe('请选择收货地址')
    expect(taro.requestsTo('/api/orders', 'POST')).toHaveLength(0)

    await tap(w.find('.choose-address'))
    expect(w.find('.form-error').exists()).toBe(false)
    expect(w.find('.chosen').text()).toContain('浙江省杭州市西湖区 文三路 90 号')
    await tap(w.find('.submit'))

    const body = taro.requestsTo('/api/orders', 'POST')[0]!.body as Record<string, unknown>
    expect(body.deliveryMethod).toBe('express')
    expect(body.address).toEqual({ ...address, postalCode: '310000' })
    expect(taro.storage.get('fen.address')).toEqual({ ...address, postalCode: '310000' })
  })

  it('backing out of the address book changes nothing', async () => {
    fromCart()
    const w = await mounted(CheckoutPage)
    await tap(w.find('.method-express'))
    await tap(w.find('.choose-address'))
    expect(Taro.chooseAddress).toHaveBeenCalledTimes(1)
    expect(w.find('.chosen').exists()).toBe(false)
    expect(w.find('.message').exists()).toBe(false)
  })

  it("a server error shows the server's message; a retry reuses the idempotency-key and clears it", async () => {
    fromCart()
    taro.answer(fail('OUT_OF_STOCK', '冷萃咖啡库存不足，仅剩 1 件'), ok(created))
    const w = await mounted(CheckoutPage)
    await tap(w.find('.submit'))
    expect(w.find('.message').text()).toBe('冷萃咖啡库存不足，仅剩 1 件')
    expect(cart.state.lines).toHaveLength(2)

    await tap(w.find('.submit'))
    const [first, second] = taro.requestsTo('/api/orders', 'POST')
    expect(second!.header['idempotency-key']).toBe(first!.header['idempotency-key'])
    const pay = await payStep()
    expect(pay.find('.message').exists()).toBe(false)
    expect(pay.find('.total').text()).toBe('¥56.00')
  })

  it("限购 refused by the server (unpaid orders hold some): the server's message is shown", async () => {
    fromCart()
    const message = '「冷萃咖啡」每人限购 20 件，未支付的订单里已有 18 件，请先支付或取消'
    taro.answer(fail('PURCHASE_LIMIT_EXCEEDED', message))
    const w = await mounted(CheckoutPage)
    await tap(w.find('.submit'))
    expect(w.find('.message').text()).toBe(message)
    expect(cart.state.lines).toHaveLength(2)
  })

  it('logs in first when there is no token', async () => {
    fromCart()
    taro.storage.delete(TOKEN_KEY)
    taro.onRequest(
      routes({ 'POST /api/auth/login': loginAnswer('tok-new'), 'POST /api/orders': ok(created) }),
    )
    const w = await mounted(CheckoutPage)
    await tap(w.find('.submit'))
    expect(taro.requests.map((r) => r.path)).toEqual(['/api/auth/login', '/api/orders'])
    expect((await payStep()).find('.total').text()).toBe('¥56.00')
  })

  it('nothing to check out: says so, leads to the cart and sends nothing', async () => {
    const w = await mounted(CheckoutPage)
    expect(w.find('.empty-text').text()).toBe('还没有要结算的商品')
    expect(w.find('.submit').exists()).toBe(false)
    await tap(w.find('.to-cart'))
    expect(Taro.switchTab).toHaveBeenCalledWith({ url: '/pages/cart/index' })
    expect(taro.requests).toHaveLength(0)
  })

  it('微信支付 pays the order and goes to the result page; a failure says why and the buttons stay', async () => {
    fromCart()
    taro.onRequest(
      routes({
        'POST /api/orders': ok(created),
        'POST /api/orders/FENCHK000001/pay': ok(jsapiAnswer),
      }),
    )
    await tap((await mounted(CheckoutPage)).find('.submit'))
    const w = await payStep()

    taro.payment('fail 余额不足')
    await tap(w.find('.pay-jsapi'))
    expect(w.find('.message').text()).toBe('支付失败：余额不足。订单已保留，可重新支付')
    expect(Taro.redirectTo).toHaveBeenCalledTimes(1) // to the pay step only

    taro.payment('ok')
    await tap(w.find('.pay-jsapi'))
    expect(w.find('.message').exists()).toBe(false)
    expect(Taro.redirectTo).toHaveBeenCalledWith({
      url: '/pages/result/index?orderNo=FENCHK000001',
    })
  })

  it('the pay step reloaded (?orderNo=): the order is read from the server, payable, with its countdown', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ orderNo: 'FENCHK000001' })
    taro.onRequest(routes({ 'GET /api/orders/FENCHK000001': ok(created) }))
    const w = await mounted(CheckoutPage)
    expect(taro.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/orders/FENCHK000001',
    ])
    expect(w.find('.empty-state').exists()).toBe(false)
    expect(w.find('.order-no').text()).toBe('FENCHK000001')
    expect(w.find('.total').text()).toBe('¥56.00')
    expect(w.find('.countdown').text()).toMatch(/^请在 \d+:\d\d 内完成支付$/)
    expect(w.find('.pay-jsapi').classes()).not.toContain('disabled')
    expect(w.find('.submit').exists()).toBe(false)
  })

  it('the pay step of an order no longer payable says so, leads to the order, and pays nothing', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ orderNo: 'FENCHK000001' })
    taro.onRequest(
      routes({
        'GET /api/orders/FENCHK000001': ok(
          withStatus('PAID', { orderNo: 'FENCHK000001', expiresAt: created.expiresAt }),
        ),
      }),
    )
    const w = await mounted(CheckoutPage)
    expect(w.find('.countdown').text()).toBe('订单已支付')
    expect(w.find('.pay-jsapi').classes()).toContain('disabled')
    await tap(w.find('.pay-jsapi'))
    expect(taro.requestsTo('/api/orders/FENCHK000001/pay')).toHaveLength(0)
    await tap(w.find('.to-order'))
    expect(Taro.redirectTo).toHaveBeenCalledWith({
      url: '/pages/order/index?orderNo=FENCHK000001',
    })
  })

  it('back from a reloaded cashier (payOutcome=failed): says why, the order still payable', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({
      orderNo: 'FENCHK000001',
      payOutcome: 'failed',
      reason: encodeURIComponent('余额不足'),
    })
    taro.onRequest(routes({ 'GET /api/orders/FENCHK000001': ok(created) }))
    const w = await mounted(CheckoutPage)
    expect(w.find('.message').text()).toBe('支付失败：余额不足。订单已保留，可重新支付')
    expect(w.find('.pay-jsapi').classes()).not.toContain('disabled')
  })

  it('a failed read of the pay step offers 重试', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({ orderNo: 'FENCHK000001' })
    taro.answer(NETWORK_ERROR, ok(created))
    const w = await mounted(CheckoutPage)
    expect(w.find('.retry-message').text()).toBe('网络连接失败，请检查网络后重试')
    await tap(w.find('.retry'))
    expect(w.find('.total').text()).toBe('¥56.00')
  })

  it('what is being checked out, and the form as filled in, are kept until the order is made', async () => {
    fromCart()
    await flushPromises()
    expect(taro.storage.get('fen.checkout')).toEqual({
      lines: [{ productId: 1, quantity: 2, spec: { 温度: '冰', 杯型: '中杯' } }],
      fromCart: true,
    })
    taro.address({
      userName: address.name,
      telNumber: address.phone,
      provinceName: address.province,
      cityName: address.city,
      countyName: address.district,
      detailInfo: address.detail,
    })
    const first = await mounted(CheckoutPage)
    await tap(first.find('.method-express'))
    await tap(first.find('.choose-address'))
    await type(first.find('.remark-input'), '少冰')
    first.unmount()

    // A reload: the catalogue is gone (read again); the lines and the form are found again.
    cart.setProducts([])
    taro.onRequest(routes({ 'GET /api/products': ok(catalogue) }))
    const again = await mounted(CheckoutPage)
    expect(taro.requestsTo('/api/products')).toHaveLength(1)
    expect(again.findAll('.line .title').map((t) => t.text())).toEqual(['冷萃咖啡'])
    expect(again.find('.method.on').text()).toBe('快递配送')
    expect(again.find('.chosen').text()).toContain('浙江省杭州市西湖区 文三路 90 号')
    expect(again.find('.remark-input').attributes('value')).toBe('少冰')
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

  it('支付成功 with 查看订单 and 返回首页', async () => {
    serve(ok(withStatus('PAID', { orderNo: NO, totalFen: 6980 })))
    const w = await mounted(ResultPage)
    expect(taro.requestsTo(PATH, 'GET')).toHaveLength(1)
    expect(w.find('.ok').text()).toBe('支付成功')
    expect(w.find('.next-step').text()).toBe('门店正在准备，请凭订单号到店取货') // 到店自取
    expect(w.find('.price').text()).toBe('¥69.80')
    expect(w.find('.refresh').exists()).toBe(false)

    await tap(w.find('.to-order'))
    expect(Taro.redirectTo).toHaveBeenCalledWith({ url: `/pages/order/index?orderNo=${NO}` })
    await tap(w.find('.to-home'))
    expect(Taro.switchTab).toHaveBeenCalledWith({ url: '/pages/index/index' })
  })

  it('shows 支付成功 for a paid order already shipped or refunded', async () => {
    serve(ok(withStatus('REFUNDED', { orderNo: NO, refundedFen: 7480 })))
    const w = await mounted(ResultPage)
    expect(w.find('.ok').text()).toBe('支付成功')
  })

  it('shows 已关闭 for CLOSED, with the way home', async () => {
    serve(ok(withStatus('CLOSED', { orderNo: NO })))
    const w = await mounted(ResultPage)
    expect(w.find('.closed').text()).toBe('已关闭')
    expect(w.find('.ok').exists()).toBe(false)
    expect(w.find('.to-home').exists()).toBe(true)
  })

  it('刷新 while waiting asks again; a failed 刷新 shows why, the next one clears it', async () => {
    serve(ok(withStatus('PENDING', { orderNo: NO })))
    taro.answer(NETWORK_ERROR, ok(withStatus('PAID', { orderNo: NO })))
    const w = await mounted(ResultPage)
    expect(w.find('.waiting').exists()).toBe(true)

    await tap(w.find('.refresh'))
    expect(w.find('.message').text()).toBe('网络连接失败，请检查网络后重试')
    await tap(w.find('.refresh'))
    expect(w.find('.message').exists()).toBe(false)
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
    expect(Taro.requestPayment).not.toHaveBeenCalled()
    expect(w.find('.ok').text()).toBe('支付成功')
  })

  it('without an orderNo it says so at once and asks the server nothing', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.routerParams({})
    const w = await mounted(ResultPage)
    expect(w.find('.message').text()).toBe('缺少订单号，请从「我的订单」进入')
    expect(taro.requests).toHaveLength(0)
  })
})
