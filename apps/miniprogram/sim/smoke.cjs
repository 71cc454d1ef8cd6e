// Smoke test of the built weapp bundle (dist/weapp) in miniprogram-simulate.
//
// The real bundle runs under jsdom with a `wx` mock that answers like the Fen server. It checks
// that the app logs in at launch, that the tab pages (首页, 购物车, 我的) render, and that the way
// a shopper buys — a product card, a spec, 加入购物车, 去结算, 提交订单, 微信支付 — runs through Taro
// and Vue down to wx.request / wx.requestPayment / wx.redirectTo.
// It is not WeChat DevTools: native components are plain `wx-*` elements and nothing is laid out.
//
//   pnpm build:weapp && pnpm test:sim        (SIM_ROOT=<dir> to test another build)
//
// Three things it takes: `compiler: 'official'` (the wcc binary; the default 'simulate' compiler
// renders nothing for Taro's <import>/<template is>/<wxs> pages), a Page→Component shim, and async
// wx APIs that return a Promise when given no callbacks.
'use strict'

const fs = require('node:fs')
const path = require('node:path')
const { JSDOM } = require('jsdom')

const root = path.resolve(process.env.SIM_ROOT || path.join(__dirname, '../dist/weapp'))
const API_BASE = 'http://127.0.0.1:3000' // the weapp build's default FEN_API_BASE
const WAIT_MS = 3000

// ---- checks ---------------------------------------------------------------------------------

const results = []
function check(name, ok, detail) {
  results.push({ name, ok: Boolean(ok) })
  console.log(
    `  ${ok ? '✓' : '✗'} ${name}${!ok && detail !== undefined ? `\n      ${detail}` : ''}`,
  )
  return Boolean(ok)
}
function section(title) {
  console.log(`\n ${title}`)
}
const errors = []
process.on('unhandledRejection', (e) =>
  errors.push(`unhandled rejection: ${(e && e.stack) || JSON.stringify(e)}`),
)
process.on('uncaughtException', (e) => errors.push(`uncaught exception: ${(e && e.stack) || e}`))

function finish() {
  const failed = results.filter((r) => !r.ok).length
  const passed = results.length - failed
  console.log('')
  console.log(
    failed
      ? `      Tests  ${failed} failed | ${passed} passed (${results.length})`
      : `      Tests  ${passed} passed (${results.length})`,
  )
  process.exit(failed || !results.length ? 1 : 0)
}

if (!fs.existsSync(path.join(root, 'app.json'))) {
  console.error(`no bundle at ${root}: run \`pnpm build:weapp\` first`)
  check('the weapp bundle exists', false, `${root}/app.json is missing`)
  finish()
}

// ---- jsdom globals (miniprogram-simulate renders into a DOM) ---------------------------------

const dom = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true })
for (const k of [
  'window',
  'document',
  'navigator',
  'Node',
  'Event',
  'CustomEvent',
  'HTMLElement',
  'getComputedStyle',
  'requestAnimationFrame',
]) {
  global[k] = k === 'window' ? dom.window : dom.window[k]
}
const simulate = require('miniprogram-simulate')

// ---- the Fen server, in memory ----------------------------------------------------------------

const TOKEN = 'sim-token-1'
const LOGIN_CODE = 'sim-code'
const PRODUCTS = [
  {
    id: 1,
    title: '燕麦拿铁',
    priceFen: 2990,
    stock: 10,
    purchaseLimit: 20,
    imageUrl: '/static/products/oat-latte.svg',
    images: ['/static/products/oat-latte.svg'],
    category: 'coffee',
    description: '浓缩咖啡与燕麦奶',
    specs: [{ name: '温度', options: ['热', '冰'] }],
  },
  {
    id: 2,
    title: '挂耳咖啡 10 包',
    priceFen: 1500,
    stock: 5,
    purchaseLimit: 20,
    imageUrl: '/static/products/drip-bags.svg',
    images: ['/static/products/drip-bags.svg'],
    category: 'beans',
    description: '中深烘焙',
  },
]
const HOME = {
  banners: [
    { id: 1, title: '燕麦拿铁上新', imageUrl: '/static/products/banner.svg', productId: 1 },
  ],
  categories: [
    { id: 'coffee', name: '咖啡' },
    { id: 'beans', name: '咖啡豆' },
  ],
  products: PRODUCTS,
}
const PAY_PARAMS = {
  appId: 'wx0000000000sim01',
  timeStamp: '1795000000',
  nonceStr: 'simNonce5K2b9',
  package: 'prepay_id=wx2611215250sim0001',
  signType: 'RSA',
  paySign: 'c2ltLXBheS1zaWduYXR1cmU=',
}
const orders = new Map()
/** Every wx.request, as the server saw it. */
const requests = []

function serve(method, url, header, body) {
  const u = new URL(url)
  if (`${u.protocol}//${u.host}` !== API_BASE)
    return { statusCode: 404, data: { code: 'NOT_FOUND', message: url } }
  const p = u.pathname
  const authed = header.authorization === `Bearer ${TOKEN}`
  const unauthorized = { statusCode: 401, data: { code: 'UNAUTHORIZED', message: '请先登录' } }
  let m
  if (method === 'POST' && p === '/api/auth/login') {
    if (!body || typeof body.code !== 'string')
      return { statusCode: 400, data: { code: 'INVALID_INPUT', message: 'code' } }
    const expiresAt = new Date(Date.now() + 7 * 86400e3).toISOString()
    return { statusCode: 200, data: { token: TOKEN, expiresAt, user: { id: 1 } } }
  }
  if (method === 'GET' && p === '/api/products') return { statusCode: 200, data: PRODUCTS }
  if (method === 'GET' && p === '/api/home') return { statusCode: 200, data: HOME }
  if (method === 'POST' && p === '/api/orders') {
    if (!authed) return unauthorized
    const items = (body && body.items) || []
    const lines = items.map((i) => {
      const prod = PRODUCTS.find((x) => x.id === i.productId)
      return {
        productId: i.productId,
        title: prod.title,
        quantity: i.quantity,
        unitPriceFen: prod.priceFen,
      }
    })
    const now = new Date()
    const order = {
      orderNo: `FEN2026112200${String(orders.size + 1).padStart(4, '0')}`,
      status: 'PENDING',
      totalFen: lines.reduce((s, l) => s + l.unitPriceFen * l.quantity, 0),
      refundedFen: 0,
      items: lines,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 30 * 60e3).toISOString(),
      deliveryMethod: body.deliveryMethod,
      timeline: [{ kind: 'created', at: now.toISOString() }],
      // What the server's lifecycle rules say of a new order (packages/shared/src/lifecycle.ts).
      actions: ['pay', 'cancel'],
      refundableFen: 0,
      fulfilment: 'unpaid',
    }
    orders.set(order.orderNo, order)
    return { statusCode: 201, data: order }
  }
  if (method === 'POST' && (m = p.match(/^\/api\/orders\/([^/]+)\/pay$/))) {
    if (!authed) return unauthorized
    if (!orders.has(decodeURIComponent(m[1])))
      return { statusCode: 404, data: { code: 'ORDER_NOT_FOUND', message: '订单不存在' } }
    return { statusCode: 200, data: { channel: 'jsapi', params: { ...PAY_PARAMS } } }
  }
  if (method === 'GET' && (m = p.match(/^\/api\/orders\/([^/]+)$/))) {
    if (!authed) return unauthorized
    const order = orders.get(decodeURIComponent(m[1]))
    if (!order) return { statusCode: 404, data: { code: 'ORDER_NOT_FOUND', message: '订单不存在' } }
    // WeChat's notification has arrived by the time the result page asks.
    const paid = {
      ...order,
      status: 'PAID',
      paidAt: new Date().toISOString(),
      actions: ['request_refund'],
      refundableFen: order.totalFen,
      fulfilment: 'to_ship',
    }
    return { statusCode: 200, data: paid }
  }
  if (method === 'GET' && p === '/api/orders') {
    if (!authed) return unauthorized
    return { statusCode: 200, data: [...orders.values()].reverse() }
  }
  return { statusCode: 404, data: { code: 'NOT_FOUND', message: `${method} ${p}` } }
}

// ---- the wx mock --------------------------------------------------------------------------------

/** Every wx API call made by the bundle: {api, options}. */
const calls = []
const callsOf = (api) => calls.filter((c) => c.api === api)
const storage = new Map()

/**
 * An async wx API: calls success/fail/complete (asynchronously, like WeChat) when given any of
 * them, or else returns a Promise. `impl` returns the result fields or throws for a `:fail`.
 * `task` is what WeChat returns alongside callbacks (a RequestTask for wx.request).
 */
function wxAsync(api, impl, task) {
  return (options = {}) => {
    calls.push({ api, options })
    let res
    try {
      res = { errMsg: `${api}:ok`, ...(impl ? impl(options) : {}) }
    } catch (e) {
      res = { errMsg: `${api}:fail ${e.message}` }
    }
    const ok = !res.errMsg.includes(':fail')
    const { success, fail, complete } = options
    if (!success && !fail && !complete) {
      return new Promise((resolve, reject) =>
        setTimeout(() => (ok ? resolve(res) : reject(res)), 0),
      )
    }
    setTimeout(() => {
      if (ok) success?.(res)
      else fail?.(res)
      complete?.(res)
    }, 0)
    return task ? task() : undefined
  }
}
const requestTask = () => ({
  abort() {},
  onHeadersReceived() {},
  offHeadersReceived() {},
  onChunkReceived() {},
  offChunkReceived() {},
})
const parseBody = (data) => {
  if (typeof data !== 'string') return data
  try {
    return JSON.parse(data)
  } catch {
    return data
  }
}
const navigate = (api) =>
  wxAsync(api, (o) => {
    if (api !== 'navigateBack' && !o.url) throw new Error('url is required')
    return {}
  })

global.wx = Object.assign({}, require('miniprogram-simulate/src/api'), {
  login: wxAsync('login', () => ({ code: LOGIN_CODE })),
  request: wxAsync(
    'request',
    (o) => {
      const method = (o.method || 'GET').toUpperCase()
      const header = Object.fromEntries(
        Object.entries(o.header || {}).map(([k, v]) => [k.toLowerCase(), v]),
      )
      const body = parseBody(o.data)
      const u = new URL(o.url)
      requests.push({ method, path: u.pathname, url: o.url, header, body })
      const { statusCode, data } = serve(method, o.url, header, body)
      // dataType 'json' (the default): WeChat hands the parsed body over
      return {
        statusCode,
        data: o.dataType === 'text' ? JSON.stringify(data) : data,
        header: {},
        cookies: [],
      }
    },
    requestTask,
  ),
  requestPayment: wxAsync('requestPayment'),
  navigateTo: navigate('navigateTo'),
  redirectTo: navigate('redirectTo'),
  navigateBack: navigate('navigateBack'),
  reLaunch: navigate('reLaunch'),
  switchTab: navigate('switchTab'),
  setTabBarBadge: wxAsync('setTabBarBadge'),
  removeTabBarBadge: wxAsync('removeTabBarBadge'),
  showToast: wxAsync('showToast'),
  showModal: wxAsync('showModal', () => ({ confirm: true, cancel: false })),
  showLoading: wxAsync('showLoading'),
  hideLoading: wxAsync('hideLoading'),
  setStorageSync: (k, v) => void storage.set(k, v),
  getStorageSync: (k) => (storage.has(k) ? storage.get(k) : ''),
  removeStorageSync: (k) => void storage.delete(k),
  clearStorageSync: () => storage.clear(),
  setStorage: wxAsync('setStorage', (o) => void storage.set(o.key, o.data)),
  getStorage: wxAsync('getStorage', (o) => {
    if (!storage.has(o.key)) throw new Error('data not found')
    return { data: storage.get(o.key) }
  }),
  removeStorage: wxAsync('removeStorage', (o) => void storage.delete(o.key)),
  clearStorage: wxAsync('clearStorage', () => void storage.clear()),
})

/** The URL of the last navigation call of that kind (what the app asked for). */
const lastUrl = (api) => {
  const c = callsOf(api).at(-1)
  return c && c.options.url
}

// ---- App / getApp / getCurrentPages / Page -------------------------------------------------------

let app
global.App = (cfg) => {
  app = cfg
}
global.getApp = () => app
const pageStack = []
global.getCurrentPages = () => pageStack.slice()
/** The page miniprogram-simulate is loading: its route and query (what WeChat passes to onLoad). */
let loading = { route: '', query: {} }
/** Each route's Page() config: WeChat registers a page once and makes an instance per visit. */
const pageConfigs = new Map()
// Taro pages call Page(config); miniprogram-simulate only has Component(). Map the page's hooks
// onto the component's methods and lifetimes, and run onLoad/onShow/onReady in WeChat's order.
global.Page = (cfg) => {
  const { route, query } = loading
  pageConfigs.set(route, cfg)
  const methods = {}
  for (const [k, v] of Object.entries(cfg)) if (typeof v === 'function') methods[k] = v
  global.Component({
    data: cfg.data,
    methods,
    lifetimes: {
      attached() {
        this.route = this.__route__ = route
        this.options = query
        pageStack.push(this)
        this.onLoad?.({ ...query })
        this.onShow?.()
      },
      ready() {
        this.onReady?.()
      },
      detached() {
        const i = pageStack.indexOf(this)
        if (i >= 0) pageStack.splice(i, 1)
      },
    },
  })
}

/** Opens a page the way WeChat would for `url` (`/pages/x/index?a=b`): load, render, attach. */
function openPage(url) {
  const u = new URL(url, 'wxpage://app/')
  const route = u.pathname.replace(/^\//, '')
  const query = Object.fromEntries(u.searchParams)
  loading = { route, query }
  // A second visit of a route (确认订单, then its pay step): the page's chunk is already in the
  // bundle's module registry and would not call Page() again, so register its config once more.
  const file = path.join(root, route) + '.js'
  const known = pageConfigs.get(route)
  const loadJs = require.extensions['.js']
  if (known)
    require.extensions['.js'] = (m, filename) =>
      filename === file ? global.Page(known) : loadJs(m, filename)
  let id
  try {
    id = simulate.load(path.join(root, route), { compiler: 'official', rootPath: root })
  } finally {
    require.extensions['.js'] = loadJs
  }
  const page = simulate.render(id)
  page.attach(dom.window.document.createElement('parent-wrapper'))
  return page
}
/** navigateTo: the current page is hidden and stays on the stack. */
function hideTop() {
  const top = pageStack.at(-1)
  top?.onHide?.()
}
/** redirectTo: the current page is unloaded. */
function unloadTop(page) {
  const top = pageStack.at(-1)
  top?.onUnload?.()
  page.detach()
}

// ---- helpers ---------------------------------------------------------------------------------

async function waitFor(fn, ms = WAIT_MS) {
  const end = Date.now() + ms
  for (;;) {
    let v
    try {
      v = fn()
    } catch {
      v = undefined
    }
    if (v || Date.now() > end) return v
    await simulate.sleep(10)
  }
}
const text = (page) => (page.dom.textContent || '').replace(/\s+/g, ' ').trim()
const textOf = (page, sel) => {
  const el = page.querySelector(sel)
  return el ? el.dom.textContent.trim() : undefined
}
const all = (page, sel) => page.querySelectorAll(sel) || []
const tap = (el) => el.dispatchEvent('tap')
/** Keys anywhere in a request body that look like money (the client never sends an amount). */
function moneyKeys(v, at = '') {
  if (!v || typeof v !== 'object') return []
  return Object.entries(v).flatMap(([k, x]) => [
    ...(/amount|price|total|fen/i.test(k) ? [`${at}${k}`] : []),
    ...moneyKeys(x, `${at}${k}.`),
  ])
}
const show = (v) => JSON.stringify(v) ?? String(v)

// ---- the run -----------------------------------------------------------------------------------

async function main() {
  console.log(`\n miniprogram-simulate smoke test of ${path.relative(process.cwd(), root) || root}`)

  section('launch')
  require(path.join(root, 'app.js'))
  if (!check('app.js registers the app with App()', app && typeof app.onLaunch === 'function'))
    return
  app.onLaunch({ path: 'pages/index/index', query: {}, scene: 1001 })
  app.onShow?.({ path: 'pages/index/index', query: {}, scene: 1001 })
  const loginReq = await waitFor(() => requests.find((r) => r.path === '/api/auth/login'))
  check(
    'onLaunch calls wx.login',
    callsOf('login').length === 1,
    `wx.login calls: ${callsOf('login').length}`,
  )
  check(
    `onLaunch POSTs /api/auth/login with the wx.login code`,
    loginReq && loginReq.method === 'POST' && show(loginReq.body) === show({ code: LOGIN_CODE }),
    show(loginReq),
  )
  check(
    'the token is kept in storage',
    await waitFor(() => storage.get('fen.token') === TOKEN),
    show([...storage]),
  )

  section('首页 (pages/index/index, a tab)')
  const appJson = JSON.parse(fs.readFileSync(path.join(root, 'app.json'), 'utf8'))
  const tabs = (appJson.tabBar && appJson.tabBar.list) || []
  check(
    'app.json has the tab bar 首页 / 购物车 / 我的',
    show(tabs.map((t) => [t.pagePath, t.text])) ===
      show([
        ['pages/index/index', '首页'],
        ['pages/cart/index', '购物车'],
        ['pages/mine/index', '我的'],
      ]),
    show(tabs),
  )
  check(
    'app.json declares chooseAddress in requiredPrivateInfos (WeChat refuses the call otherwise)',
    (appJson.requiredPrivateInfos || []).includes('chooseAddress'),
    show(appJson.requiredPrivateInfos),
  )
  check(
    'every tab icon is a PNG in the bundle',
    tabs.length > 0 &&
      tabs.every((t) =>
        [t.iconPath, t.selectedIconPath].every(
          (f) =>
            /\.png$/.test(f) &&
            fs.readFileSync(path.join(root, f)).subarray(1, 4).toString() === 'PNG',
        ),
      ),
    show(tabs.map((t) => [t.iconPath, t.selectedIconPath])),
  )
  let index
  try {
    index = openPage('/pages/index/index')
  } catch (e) {
    check('pages/index/index loads in the simulator', false, e.stack)
    return
  }
  const cards = await waitFor(
    () => all(index, '.product').length === PRODUCTS.length && all(index, '.product'),
  )
  check(
    'GET /api/home',
    requests.some((r) => r.method === 'GET' && r.path === '/api/home'),
  )
  check(
    `renders ${PRODUCTS.length} product cards`,
    cards,
    `.product count: ${all(index, '.product').length}; page text: ${text(index).slice(0, 300)}`,
  )
  const pageText = text(index)
  check(
    'shows the categories and the product titles',
    ['全部', '咖啡', '咖啡豆'].every((c) => pageText.includes(c)) &&
      PRODUCTS.every((p) => pageText.includes(p.title)),
    pageText.slice(0, 300),
  )
  const prices = all(index, '.product .price').map((e) => e.dom.textContent.trim())
  check(
    'shows the prices as ¥ yuan (¥29.90, ¥15.00)',
    show(prices) === show(['¥29.90', '¥15.00']),
    show(prices),
  )
  // Built-in components keep their props in Taro's setData tree, not as DOM attributes.
  const rendered = JSON.stringify(index.data)
  const pictures = [...HOME.banners, ...PRODUCTS].map((p) => API_BASE + p.imageUrl)
  check(
    "loads the banner's and the cards' pictures from the server (FEN_API_BASE + imageUrl)",
    pictures.every((src) => rendered.includes(`"${src}"`)),
    show(pictures),
  )
  if (!cards) return

  tap(cards[0])
  const toProduct = await waitFor(() => lastUrl('navigateTo'))
  check(
    "tapping a card navigates to '/pages/product/index?id=1'",
    toProduct === '/pages/product/index?id=1',
    `navigateTo: ${show(callsOf('navigateTo').map((c) => c.options.url))}`,
  )
  if (!toProduct) return

  section('商品详情 (pages/product/index)')
  hideTop()
  const product = openPage(toProduct)
  const options = await waitFor(
    () => all(product, '.option').length === 2 && all(product, '.option'),
  )
  check(
    'shows the product, its price and its spec (温度 热 / 冰, 热 chosen)',
    options &&
      text(product).includes(PRODUCTS[0].title) &&
      textOf(product, '.head .price') === '¥29.90' &&
      textOf(product, '.option.on') === '热',
    text(product).slice(0, 300),
  )
  if (!options) return
  tap(options[1])
  await waitFor(() => textOf(product, '.option.on') === '冰')
  tap(product.querySelector('.add-to-cart'))
  const toast = await waitFor(() => callsOf('showToast')[0])
  check(
    '加入购物车 says 已加入购物车 and badges the 购物车 tab with 1',
    toast &&
      toast.options.title === '已加入购物车' &&
      callsOf('setTabBarBadge').some((c) => c.options.index === 1 && c.options.text === '1'),
    show(calls.filter((c) => /Toast|Badge/.test(c.api)).map((c) => [c.api, c.options])),
  )
  tap(product.querySelector('.to-cart'))
  const toCart = await waitFor(() => lastUrl('switchTab'))
  check(
    "购物车 switches to the tab '/pages/cart/index'",
    toCart === '/pages/cart/index',
    show(callsOf('switchTab').map((c) => c.options.url)),
  )
  if (!toCart) return

  section('购物车 (pages/cart/index, a tab)')
  unloadTop(product)
  const cartPage = openPage(toCart)
  // The cart lives in a module shared by the pages (one webpack registry in wx.webpackJsonp).
  const cartLine = await waitFor(() => cartPage.querySelector('.cart-line'))
  check(
    'shows the line added on 商品详情 with its spec (shared cart state)',
    cartLine &&
      cartLine.dom.textContent.includes(PRODUCTS[0].title) &&
      cartLine.dom.textContent.includes('冰') &&
      textOf(cartPage, '.cart-line .qty') === '1',
    `cart text: ${text(cartPage).slice(0, 300)}`,
  )
  if (!cartLine) return
  tap(cartPage.querySelector('.cart-line .plus'))
  const sum = await waitFor(() => textOf(cartPage, '.cart-bar .sum') === '¥59.80')
  check('+ makes it 2 and the total follows (¥59.80)', sum, textOf(cartPage, '.cart-bar .sum'))
  tap(cartPage.querySelector('.cart-line .minus'))
  await waitFor(() => textOf(cartPage, '.cart-line .qty') === '1')

  tap(cartPage.querySelector('.checkout'))
  const toCheckout = await waitFor(
    () => lastUrl('navigateTo') === '/pages/checkout/index' && lastUrl('navigateTo'),
  )
  check(
    "tapping 去结算 navigates to '/pages/checkout/index'",
    toCheckout === '/pages/checkout/index',
    `navigateTo: ${show(callsOf('navigateTo').map((c) => c.options.url))}`,
  )
  if (!toCheckout) return

  section('确认订单 (pages/checkout/index)')
  hideTop()
  const checkout = openPage(toCheckout)
  const line = await waitFor(() => checkout.querySelector('.line'))
  check(
    'shows the line from the cart',
    line &&
      line.dom.textContent.includes(PRODUCTS[0].title) &&
      textOf(checkout, '.line .qty') === '×1',
    `checkout text: ${text(checkout).slice(0, 300)}`,
  )
  const submit = checkout.querySelector('.submit')
  if (
    !check('has a 提交订单 button (.submit)', submit && submit.dom.textContent.includes('提交订单'))
  )
    return

  const before = requests.length
  tap(submit)
  const orderReq = await waitFor(() =>
    requests.slice(before).find((r) => r.method === 'POST' && r.path === '/api/orders'),
  )
  check(
    'tapping 提交订单 POSTs /api/orders with the line, its spec and 到店自取',
    orderReq &&
      show(orderReq.body) ===
        show({
          items: [{ productId: 1, quantity: 1, spec: { 温度: '冰' } }],
          deliveryMethod: 'pickup',
        }),
    show(orderReq && orderReq.body),
  )
  check(
    '…with no amount in the body',
    orderReq && moneyKeys(orderReq.body).length === 0,
    show(orderReq && moneyKeys(orderReq.body)),
  )
  check(
    '…with the login token and an Idempotency-Key',
    orderReq &&
      orderReq.header.authorization === `Bearer ${TOKEN}` &&
      /^co-/.test(orderReq.header['idempotency-key'] || ''),
    show(orderReq && orderReq.header),
  )
  const order = [...orders.values()].at(-1)
  const toPayStep = await waitFor(() => lastUrl('redirectTo'))
  check(
    `then redirectTo('/pages/checkout/index?orderNo=${order && order.orderNo}'): the pay step, addressed by its order`,
    order && toPayStep === `/pages/checkout/index?orderNo=${order.orderNo}`,
    `redirectTo: ${show(callsOf('redirectTo').map((c) => c.options.url))}`,
  )
  if (!order || !toPayStep) return
  unloadTop(checkout)
  const payStep = openPage(toPayStep)
  const priced = await waitFor(
    () => textOf(payStep, '.order-no') === order.orderNo && payStep.querySelector('.pay-jsapi'),
  )
  check(
    "shows the server's order (order no, ¥29.90) and the 微信支付 button",
    priced &&
      textOf(payStep, '.total') === '¥29.90' &&
      textOf(payStep, '.pay-jsapi') === '微信支付',
    `pay step text: ${text(payStep).slice(0, 300)}`,
  )
  if (!priced) return

  tap(payStep.querySelector('.pay-jsapi'))
  const payReq = await waitFor(() =>
    requests.find((r) => r.method === 'POST' && /\/pay$/.test(r.path)),
  )
  check(
    `tapping 微信支付 POSTs /api/orders/${order.orderNo}/pay {channel:'jsapi'}`,
    payReq &&
      payReq.path === `/api/orders/${order.orderNo}/pay` &&
      show(payReq.body) === show({ channel: 'jsapi' }),
    show(payReq),
  )
  const payCall = await waitFor(() => callsOf('requestPayment')[0])
  const { appId: _appId, ...signed } = PAY_PARAMS
  const passed =
    payCall && Object.fromEntries(Object.keys(signed).map((k) => [k, payCall.options[k]]))
  check(
    "wx.requestPayment gets the server's timeStamp/nonceStr/package/signType/paySign",
    payCall && show(passed) === show(signed),
    show(payCall && payCall.options),
  )
  const toResult = await waitFor(() => lastUrl('redirectTo') !== toPayStep && lastUrl('redirectTo'))
  check(
    `then redirectTo('/pages/result/index?orderNo=${order.orderNo}')`,
    toResult === `/pages/result/index?orderNo=${order.orderNo}`,
    `redirectTo: ${show(callsOf('redirectTo').map((c) => c.options.url))}`,
  )
  check(
    'no error message on 确认订单',
    !payStep.querySelector('.message'),
    textOf(payStep, '.message'),
  )
  if (!toResult) return

  section('支付结果 (pages/result/index)')
  unloadTop(payStep)
  const result = openPage(toResult)
  const ok = await waitFor(() => textOf(result, '.ok'))
  check(
    `asks the server (GET /api/orders/${order.orderNo}) and shows 支付成功`,
    ok === '支付成功' &&
      requests.some((r) => r.method === 'GET' && r.path === `/api/orders/${order.orderNo}`),
    `result text: ${text(result).slice(0, 300)}`,
  )
  tap(result.querySelector('.to-home'))
  const home = await waitFor(() => lastUrl('switchTab') === '/pages/index/index')
  check("返回首页 switches to the tab '/pages/index/index'", home, lastUrl('switchTab'))
  unloadTop(result)

  section('我的 (pages/mine/index, a tab)')
  let mine
  try {
    mine = openPage('/pages/mine/index')
  } catch (e) {
    check('pages/mine/index loads in the simulator', false, e.stack)
    return
  }
  const mineText = await waitFor(() => text(mine).includes('我的订单') && text(mine))
  check('renders, with the way to 我的订单', mineText, text(mine).slice(0, 300))
}

main()
  .catch((e) => check('the run completes', false, (e && e.stack) || show(e)))
  .then(() => simulate.sleep(20))
  .then(() => {
    check(
      'no uncaught errors or unhandled rejections',
      errors.length === 0,
      errors.join('\n      '),
    )
    finish()
  })
