/**
 * The order centre in a real browser (the H5 sandbox build, a real server, database and sandbox, as
 * in ./shop.test.ts): 我的 with its counts, 我的订单's tabs and its empty state, the order page with
 * its timeline and tracking number, and 申请退款 through the operator's approval to 已退款. The
 * orders are made through the API for the browser's own sandbox shopper, so these tests do not
 * depend on the shop's product pages. Screenshots go to test/e2e/screenshots (git-ignored).
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AdminOrder, Order, Product } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest'
import { createOrder, prepayNative, sandboxPay, untilStatus } from '../api/support'
import { describeInBrowser, launchChromium } from './support/browser'
import { serveH5 } from './support/serve'

const here = path.dirname(fileURLToPath(import.meta.url))
const H5_BUILD = path.resolve(here, '../../apps/miniprogram/dist/h5-sandbox')
const SHOTS = path.join(here, 'screenshots')

let h: Harness
let web: Awaited<ReturnType<typeof serveH5>>
let browser: Browser
let page: Page
let problems: string[] = []
/** The browser's sandbox shopper, logged in through the API too. */
let token: string
let products: Product[]

/** Taro's page transitions: let them finish before looking or screenshotting. */
const settle = () => page.waitForTimeout(600)
const shot = async (name: string) => {
  await settle()
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) })
}

/** Where an express order goes (SF needs the receiver's phone). */
const SHIP_TO = {
  name: '林小满',
  phone: '13800138000',
  province: '浙江省',
  city: '杭州市',
  district: '西湖区',
  detail: '文三路 90 号',
}

/**
 * An order for the browser's shopper (到店自取, or 快递配送 to SHIP_TO with `express`), brought to
 * `status` through the API, the sandbox (a Native payment) and the operator.
 */
async function orderIn(
  status: 'PENDING' | 'PAID' | 'SHIPPED' | 'CLOSED',
  express = false,
): Promise<Order> {
  const items = [{ productId: products[0]!.id, quantity: 2 }]
  const order = express
    ? (
        await h.api<Order>('POST', '/api/orders', {
          token,
          body: { items, deliveryMethod: 'express', address: SHIP_TO },
        })
      ).body
    : await createOrder(h, token, items)
  expect(order.status, JSON.stringify(order)).toBe('PENDING')
  if (status === 'PENDING') return order
  if (status === 'CLOSED') {
    const closed = await h.api('POST', `/api/orders/${order.orderNo}/cancel`, { token })
    expect(closed.status).toBe(200)
    return order
  }
  await sandboxPay(h, { code_url: await prepayNative(h, token, order.orderNo) })
  await untilStatus(h, order.orderNo, 'PAID')
  if (status === 'SHIPPED') {
    const shipped = await h.admin('POST', `/api/admin/orders/${order.orderNo}/ship`, {
      logisticsType: 'express',
      expressCompany: 'ZTO',
      trackingNo: 'ZT1234567890123',
    })
    expect(shipped.status, JSON.stringify(shipped.body)).toBe(200)
  }
  return order
}

/** The order numbers the order centre shows, top to bottom. */
const listed = () =>
  page.locator('.order').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-order-no')))

async function openTab(label: string, expected: string[]) {
  await page.locator('.tab', { hasText: label }).click()
  await expect.poll(() => page.locator('.order').count()).toBe(expected.length)
  expect((await listed()).sort()).toEqual([...expected].sort())
}

const statusOf = (no: string) => h.admin<AdminOrder>('GET', `/api/admin/orders/${no}`)

describeInBrowser('the order centre (我的, 我的订单, the order page) in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    h = await startHarness()
    web = await serveH5(H5_BUILD, { api: h.url, sandbox: h.sandbox.url })
    // The shop's pages call the sandbox (login codes, the cashier) with their own Origin.
    h.sandbox.allowOrigin(web.url)
    browser = await launchChromium()
    products = (await h.api<Product[]>('GET', '/api/products')).body
  })
  afterAll(async () => {
    await browser?.close()
    await web?.close()
    await h?.close()
  })

  // A fresh browser context per test: a new sandbox shopper with no orders.
  beforeEach(async () => {
    problems = []
    page = await browser.newPage({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2 })
    page.on('pageerror', (e) => problems.push(e.message))
    await page.goto(`${web.url}/#/pages/mine/index`)
    await page.locator('.shopper-id').waitFor({ timeout: 20_000 })
    // Taro's H5 storage keeps each value as JSON {data}.
    const { origins } = await page.context().storageState()
    const stored = origins
      .flatMap((o) => o.localStorage)
      .find((e) => e.name === 'fen.sandbox.openid')
    const openid = (JSON.parse(stored?.value ?? '{}') as { data?: string }).data
    expect(openid).toBeTruthy()
    token = await h.login(openid)
  })
  afterEach(async () => {
    await page?.context().close()
    expect(problems, 'uncaught errors in the page').toEqual([])
  })

  it('我的 counts each tab; the order centre tabs show the right orders, goods first', async () => {
    const unpaid = await orderIn('PENDING')
    const paid = await orderIn('PAID')
    const shipped = await orderIn('SHIPPED')
    const closed = await orderIn('CLOSED')
    const refunded = await orderIn('PAID')
    const refund = await h.admin(
      'POST',
      `/api/admin/orders/${refunded.orderNo}/refunds`,
      { amountFen: 100, reason: '测试退款' },
      { 'idempotency-key': `oc-${refunded.orderNo}` },
    )
    expect(refund.status, JSON.stringify(refund.body)).toBe(201)

    await page.reload()
    await page.locator('.entry-unpaid .count.some').waitFor({ timeout: 15_000 })
    const count = (tab: string) => page.locator(`.entry-${tab} .count`).textContent()
    expect(await count('unpaid')).toBe('1')
    // The order with a partial refund under way still waits for its parcel (issue #24).
    expect(await count('unshipped')).toBe('2')
    expect(await count('shipped')).toBe('1')
    expect(await count('aftersale')).toBe('1')
    await shot('order-centre-1-mine')

    await page.locator('.entry-unshipped').click()
    await page.locator('.tab.active', { hasText: '待发货' }).waitFor({ timeout: 10_000 })
    await page.locator(`.order[data-order-no="${paid.orderNo}"]`).waitFor({ timeout: 10_000 })
    expect((await listed()).sort()).toEqual([paid.orderNo, refunded.orderNo].sort())

    await openTab(
      '全部',
      [unpaid, paid, shipped, closed, refunded].map((o) => o.orderNo),
    )
    // Goods first: the product's title and picture, not the order number.
    const card = page.locator(`.order[data-order-no="${paid.orderNo}"]`)
    expect(await card.locator('.goods-title').textContent()).toBe(products[0]!.title)
    expect(await card.textContent()).not.toContain(paid.orderNo)
    expect(await card.locator('.total').textContent()).toMatch(/^¥\d+\.\d{2}$/)
    await shot('order-centre-2-all')

    await openTab('待付款', [unpaid.orderNo])
    expect(await page.locator('.order .pay').textContent()).toBe('去支付')
    await openTab('待收货', [shipped.orderNo])
    expect(await page.locator('.order .confirm-receipt').textContent()).toBe('确认收货')
    await openTab('退款/售后', [refunded.orderNo])
    await openTab('待发货', [paid.orderNo, refunded.orderNo])
  })

  it('申请退款 on the order page → approved by the operator → 已退款, with the timeline', async () => {
    const order = await orderIn('PAID')
    await page.goto(`${web.url}/#/pages/order/index?orderNo=${order.orderNo}`)
    await page.locator('.request-refund').waitFor({ timeout: 15_000 })
    expect(await page.locator('.timeline .step.done .step-label').allTextContents()).toEqual([
      '下单',
      '支付',
    ])

    await page.locator('.request-refund').click()
    await page.locator('.refund-sheet').waitFor()
    await page.locator('.reason', { hasText: '不想要了' }).click()
    await shot('order-centre-3-refund-sheet')
    await page.locator('.submit-refund').click()
    await page.locator('.refund-stage', { hasText: '审核中' }).waitFor({ timeout: 15_000 })
    await shot('order-centre-4-refund-reviewing')

    // The operator approves it; the refund starts at WeChat (the sandbox), which then settles it.
    const asked = await h.api<{ id: number }[]>(
      'GET',
      `/api/orders/${order.orderNo}/refund-requests`,
      { token },
    )
    expect(asked.body, JSON.stringify(asked.body)).toHaveLength(1)
    const approved = await h.admin<{ status: string; refundNo?: string }>(
      'POST',
      `/api/admin/refund-requests/${asked.body[0]!.id}/approve`,
    )
    expect(approved.status, JSON.stringify(approved.body)).toBe(200)
    expect(approved.body.refundNo).toBeTruthy()

    // The page looks again while the refund moves: 审核中 → 已同意·退款中 → 已退款.
    await page.locator('.refund-stage', { hasText: '已同意·退款中' }).waitFor({ timeout: 15_000 })
    const settled = await h.control('POST', `/__sandbox/refunds/${approved.body.refundNo}`, {
      status: 'SUCCESS',
    })
    expect(settled.status, JSON.stringify(settled.body)).toBe(200)
    await page.locator('.refund-stage', { hasText: '已退款' }).waitFor({ timeout: 30_000 })
    expect((await statusOf(order.orderNo)).body.status).toBe('REFUNDED')
    expect(await page.locator('.big-status').textContent()).toBe('已退款')
    expect(await page.locator('.timeline .step-label').allTextContents()).toEqual(
      expect.arrayContaining(['下单', '支付', '申请退款', '退款']),
    )
    expect(await page.locator('.request-refund').count()).toBe(0)
    await shot('order-centre-5-refunded')
  })

  it('a shipped order shows the carrier and tracking number, and the timeline so far', async () => {
    const order = await orderIn('SHIPPED')
    await page.goto(`${web.url}/#/pages/order/index?orderNo=${order.orderNo}`)
    await page.locator('.tracking-no').waitFor({ timeout: 15_000 })
    expect(await page.locator('.big-status').textContent()).toBe('待收货')
    expect(await page.locator('.carrier').textContent()).toContain('中通快递')
    expect(await page.locator('.tracking-no').textContent()).toBe('ZT1234567890123')
    expect(await page.locator('.timeline .step.done .step-label').allTextContents()).toEqual([
      '下单',
      '支付',
      '发货',
    ])
    expect(await page.locator('.timeline .step.ahead .step-label').allTextContents()).toEqual([
      '收货',
    ])
    await shot('order-centre-6-shipped')
  })

  it('no orders: the order centre says so and leads back to 首页', async () => {
    await page.goto(`${web.url}/#/pages/orders/index`)
    await page.locator('.empty-state').waitFor({ timeout: 15_000 })
    expect(await page.locator('.empty-text').textContent()).toBe('还没有订单')
    await shot('order-centre-7-empty')
    await page.locator('.empty-action').click()
    await page.waitForURL(/pages\/index\/index/, { timeout: 10_000 })
  })
  // ---- issue #24: the shop shows what the server decided -----------------------------------

  it('a partly refunded paid order waits under 待发货 (then 待收货), its refund beside the status', async () => {
    const order = await orderIn('PAID', true)
    const refund = await h.admin<{ outRefundNo: string }>(
      'POST',
      `/api/admin/orders/${order.orderNo}/refunds`,
      { amountFen: 100, reason: '一件缺货，部分退款' },
      { 'idempotency-key': `partial-${order.orderNo}` },
    )
    expect(refund.status, JSON.stringify(refund.body)).toBe(201)
    const settled = await h.control('POST', `/__sandbox/refunds/${refund.body.outRefundNo}`, {
      status: 'SUCCESS',
    })
    expect(settled.status, JSON.stringify(settled.body)).toBe(200)
    await untilStatus(h, order.orderNo, 'PARTIALLY_REFUNDED')

    await page.goto(`${web.url}/#/pages/orders/index?tab=unshipped`)
    const card = page.locator(`.order[data-order-no="${order.orderNo}"]`)
    await card.waitFor({ timeout: 15_000 })
    expect(await listed()).toEqual([order.orderNo])
    expect(await card.locator('.status').textContent()).toBe('待发货')
    expect(await card.locator('.refund-note').textContent()).toBe('已退款 ¥1.00')
    await shot('order-centre-8-partly-refunded-to-ship')

    // The operator ships the rest: it moves to 待收货, still noting the refund.
    const shipped = await h.admin('POST', `/api/admin/orders/${order.orderNo}/ship`, {
      logisticsType: 'express',
      expressCompany: 'SF',
      trackingNo: 'SF1234567890',
    })
    expect(shipped.status, JSON.stringify(shipped.body)).toBe(200)
    await page.goto(`${web.url}/#/pages/order/index?orderNo=${order.orderNo}`)
    await page.locator('.tracking-no').waitFor({ timeout: 15_000 })
    expect(await page.locator('.big-status').textContent()).toBe('待收货')
    expect(await page.locator('.status-card .refund-note').textContent()).toBe('已退款 ¥1.00')
    expect((await statusOf(order.orderNo)).body.status).toBe('PARTIALLY_REFUNDED')

    // The shopper receives it: received and completed, the partial refund still on record.
    await page.locator('.confirm-receipt').click()
    expect(await page.locator('.taro-modal__title').textContent()).toBe('确认收货')
    await page.locator('.taro-model__confirm').click()
    await page.locator('.confirm-receipt').waitFor({ state: 'detached', timeout: 15_000 })
    expect(await page.locator('.big-status').textContent()).toBe('已完成')
    expect(await page.locator('.status-card .refund-note').textContent()).toBe('已退款 ¥1.00')
    const received = (await statusOf(order.orderNo)).body
    expect(received).toMatchObject({ status: 'PARTIALLY_REFUNDED', fulfilment: 'received' })
    expect(received.completedAt).toBeDefined()
  })

  it('a Native order shipped by the operator is confirmed received in the shop → 已完成 (pickup and express)', async () => {
    // Ready for pickup: confirmed on the order page.
    const pickup = await orderIn('PAID')
    const readied = await h.admin('POST', `/api/admin/orders/${pickup.orderNo}/ship`, {
      logisticsType: 'pickup',
    })
    expect(readied.status, JSON.stringify(readied.body)).toBe(200)
    await page.goto(`${web.url}/#/pages/order/index?orderNo=${pickup.orderNo}`)
    await page.locator('.confirm-receipt').waitFor({ timeout: 15_000 })
    expect(await page.locator('.big-status').textContent()).toBe('待收货')
    await page.locator('.confirm-receipt').click()
    // The shop's own prompt, not WeChat's page (nor the sandbox's stand-in for it).
    expect(await page.locator('.taro-modal__title').textContent()).toBe('确认收货')
    await page.locator('.taro-model__confirm').click()
    await page.locator('[data-status="COMPLETED"]').waitFor({ timeout: 15_000 })
    expect(await page.locator('.big-status').textContent()).toBe('已完成')
    expect(await page.locator('.confirm-receipt').count()).toBe(0)
    expect((await statusOf(pickup.orderNo)).body.status).toBe('COMPLETED')
    await shot('order-centre-9-native-received')

    // Sent by SF: the carrier by its name, confirmed from the list's 待收货.
    const express = await orderIn('PAID', true)
    const sent = await h.admin('POST', `/api/admin/orders/${express.orderNo}/ship`, {
      logisticsType: 'express',
      expressCompany: 'SF',
      trackingNo: 'SF1234567890',
    })
    expect(sent.status, JSON.stringify(sent.body)).toBe(200)
    await page.goto(`${web.url}/#/pages/order/index?orderNo=${express.orderNo}`)
    await page.locator('.carrier').waitFor({ timeout: 15_000 })
    expect(await page.locator('.carrier').textContent()).toContain('顺丰速运')

    await page.goto(`${web.url}/#/pages/orders/index?tab=shipped`)
    const card = page.locator(`.order[data-order-no="${express.orderNo}"]`)
    await card.waitFor({ timeout: 15_000 })
    await card.locator('.confirm-receipt').click()
    expect(await page.locator('.taro-modal__title').textContent()).toBe('确认收货')
    await page.locator('.taro-model__confirm').click()
    // Received, it leaves 待收货 and reads 已完成 under 全部.
    await card.waitFor({ state: 'detached', timeout: 15_000 })
    expect(await page.locator('.message.error').count()).toBe(0)
    await openTab('全部', [pickup.orderNo, express.orderNo])
    expect(await card.locator('.status').textContent()).toBe('已完成')
    expect((await statusOf(express.orderNo)).body.status).toBe('COMPLETED')
  })
})
