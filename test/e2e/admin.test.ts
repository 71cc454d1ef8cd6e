/**
 * The operator's console in a real browser: apps/admin's build (apps/admin/dist), served by a real
 * Fen server under /admin/ (ADMIN_STATIC_DIR) on its own database, with the sandbox as WeChat,
 * driven by this machine's Chromium through playwright-core (./support/browser.ts). Screenshots go
 * to test/e2e/screenshots (git-ignored).
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AdminOrderDetail, Order, ReconciliationResult } from '@fen/shared'
import { formatBeijingTime } from '@fen/wechatpay'
import { ADMIN_TOKEN, startHarness, type Harness } from '@fen/server/test/harness'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest'
import { describeInBrowser, launchChromium } from './support/browser'

const here = path.dirname(fileURLToPath(import.meta.url))
const ADMIN_BUILD = path.resolve(here, '../../apps/admin/dist')
const SHOTS = path.join(here, 'screenshots')

let h: Harness
let shopper: string
let browser: Browser
let page: Page
const problems: string[] = []

/** A picture for a person to look at (after Element Plus's fade-ins; nothing waits on it). */
const shot = async (name: string) => {
  await page.waitForTimeout(500)
  await page.screenshot({ path: path.join(SHOTS, `admin-${name}.png`), fullPage: true })
}

/** What the console keeps of the token (an expression run in the page). */
const STORED_TOKEN = "sessionStorage.getItem('fen-admin-token')"

const adminOrder = async (no: string) =>
  (await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${no}`)).body

/** An order of `productId` paid at the sandbox (native), PAID here. */
async function paidOrder(productId: number): Promise<string> {
  const created = await h.api<Order>('POST', '/api/orders', {
    token: shopper,
    body: { items: [{ productId, quantity: 1 }] },
  })
  expect(created.status).toBe(201)
  const { orderNo } = created.body
  const pay = await h.api('POST', `/api/orders/${orderNo}/pay`, {
    token: shopper,
    body: { channel: 'native' },
  })
  expect(pay.status).toBe(200)
  await h.control('POST', '/__sandbox/pay', { out_trade_no: orderNo })
  await h.until(async () => (await adminOrder(orderNo)).status === 'PAID')
  return orderNo
}

async function signIn(token = ADMIN_TOKEN) {
  await page.goto(`${h.url}/admin/`)
  await page.locator('[data-test=token]').fill(token)
  await page.locator('[data-test=signin]').click()
}

/** Answers the console's 请确认 box with 确定. */
async function confirm() {
  const box = page.locator('.el-message-box')
  await box.waitFor()
  await box.getByRole('button', { name: '确定' }).click()
}

describeInBrowser('the operator console, in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    h = await startHarness({ env: { ADMIN_STATIC_DIR: ADMIN_BUILD } })
    shopper = await h.login('o-console-shopper-7f3a')
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await h?.close()
  })

  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    page.on('pageerror', (e) => problems.push(e.message))
  })
  afterEach(async () => {
    await page?.close()
    expect(problems, 'uncaught errors in the page').toEqual([])
  })

  it('refuses a wrong token with a clear message, and keeps nothing', async () => {
    await signIn(`${ADMIN_TOKEN}-wrong`)
    await expect
      .poll(() => page.locator('[data-test=signin-error]').textContent())
      .toContain('管理令牌错误，登录被拒绝')
    await shot('wrong-token')
    expect(page.url()).toContain('/admin/login')
    expect(page.url()).not.toContain(ADMIN_TOKEN)
    expect(await page.evaluate(STORED_TOKEN)).toBeNull()
    // A page of the console without signing in goes to the sign-in page.
    await page.goto(`${h.url}/admin/orders`)
    await page.locator('[data-test=token]').waitFor()
    expect(page.url()).toContain('/admin/login')
  })

  it('signs in with the admin token (kept in sessionStorage, not the URL) and shows the dashboard', async () => {
    await paidOrder(1)
    await signIn()
    await page.getByText('今日订单').waitFor()
    expect(page.url()).toMatch(/\/admin\/dashboard$/)
    expect(await page.evaluate(STORED_TOKEN)).toBe(ADMIN_TOKEN)
    await expect.poll(() => page.locator('[data-test=today-paid]').textContent()).toBe('¥59.00')
    await shot('dashboard')
  })

  it('finds an order by its number, refunds part of it, and sees the refund settle', async () => {
    const orderNo = await paidOrder(1) // 59.00
    await paidOrder(2) // another order, which the search must leave out
    await signIn()
    await page.getByText('今日订单').waitFor()
    await page.goto(`${h.url}/admin/orders`)
    await page.locator('[data-test=filter-orderNo]').fill(orderNo)
    await page.locator('[data-test=search]').click()
    await expect
      .poll(() => page.locator('[data-test=order-link]').allTextContents())
      .toEqual([orderNo])
    expect(page.url()).toContain(`orderNo=${orderNo}`)
    await shot('orders-search')

    await page.locator('[data-test=order-link]').click()
    await page.locator('[data-test=detail-orderNo]').waitFor()
    expect(await page.locator('[data-test=refundable]').textContent()).toBe('¥59.00')
    await page.locator('[data-test=refund]').click()
    await page.locator('[data-test=refund-amount]').fill('10.50')
    await page.locator('[data-test=refund-reason]').fill('少发一件，部分退款')
    await page.locator('[data-test=refund-submit]').click()
    await confirm()
    await expect
      .poll(() => page.locator('[data-test=refund-status]').allTextContents())
      .toEqual(['退款处理中'])
    expect(await page.locator('[data-test=refundable]').textContent()).toBe('¥48.50')

    // WeChat settles it and notifies the server; 同步 shows what the server now knows.
    const [refund] = (await adminOrder(orderNo)).refunds
    expect(refund).toMatchObject({ amountFen: 1050, status: 'PROCESSING' })
    await h.control('POST', `/__sandbox/refunds/${refund!.outRefundNo}`, { status: 'SUCCESS' })
    await h.until(async () => (await adminOrder(orderNo)).refunds[0]?.status === 'SUCCESS')
    await page.locator('[data-test=sync]').click()
    await confirm()
    await expect
      .poll(() => page.locator('[data-test=refund-status]').allTextContents())
      .toEqual(['退款成功'])
    expect(await page.locator('[data-test=refunded]').textContent()).toBe('¥10.50')
    expect(await page.locator('[data-test=detail-status]').textContent()).toBe('部分退款')
    await shot('order-refunded')

    // More than is left: the server refuses, and the console shows its reason.
    await page.locator('[data-test=refund]').click()
    await page.locator('[data-test=refund-amount]').fill('48.51')
    await page.locator('[data-test=refund-submit]').click()
    await confirm()
    await page.locator('.el-message--error').getByText('最多可退').waitFor()
    await shot('refund-refused')
    expect((await adminOrder(orderNo)).refunds).toHaveLength(1)
  })

  it('ships an order with a carrier and tracking number', async () => {
    const orderNo = await paidOrder(3)
    await signIn()
    await page.getByText('今日订单').waitFor()
    await page.goto(`${h.url}/admin/orders/${orderNo}`)
    await page.locator('[data-test=ship]').click()
    // The order is 到店自提 (the default delivery method), so the dialog starts there: pick 快递.
    await page.locator('[data-test=ship-type]').click()
    await page.locator('.el-select-dropdown__item', { hasText: '快递' }).click()
    await page.locator('[data-test=ship-carrier]').fill('ZTO')
    await page.locator('[data-test=ship-tracking]').fill('ZT7788990011')
    await page.locator('[data-test=ship-submit]').click()
    await confirm()
    await page.locator('[data-test=delivery]').getByText('ZT7788990011').waitFor()
    expect(await page.locator('[data-test=detail-status]').textContent()).toBe('已发货')
    const detail = await adminOrder(orderNo)
    expect(detail.status).toBe('SHIPPED')
    expect(detail.delivery).toMatchObject({
      logisticsType: 'express',
      expressCompany: 'ZTO',
      trackingNo: 'ZT7788990011',
    })
    await shot('order-shipped')
  })

  it('approves a shopper’s refund request; the refund starts', async () => {
    const orderNo = await paidOrder(4)
    const asked = await h.api<{ id: number; status: string; amountFen: number }>(
      'POST',
      `/api/orders/${orderNo}/refund-requests`,
      { token: shopper, body: { reason: '不想要了' } },
    )
    expect(asked.status).toBe(201)
    expect(asked.body.status).toBe('pending')
    await signIn()
    await page.getByText('今日订单').waitFor()
    await page.goto(`${h.url}/admin/refund-requests`)
    const row = page
      .locator('[data-test=request-list] .el-table__body tr')
      .filter({ hasText: orderNo })
    await row.waitFor()
    await shot('refund-requests')
    await row.locator('[data-test=approve]').click()
    await confirm()
    await expect.poll(() => row.count()).toBe(0) // gone from 待审核
    await h.until(async () => (await adminOrder(orderNo)).refunds.length === 1)
    const detail = await adminOrder(orderNo)
    expect(detail.refunds[0]).toMatchObject({ amountFen: asked.body.amountFen, automatic: false })
    await page.locator('.el-radio-button', { hasText: '已同意' }).click()
    await page
      .locator('[data-test=request-list] .el-table__body tr')
      .filter({ hasText: orderNo })
      .waitFor()
  })

  // Last: it moves the clocks to the next morning (WeChat's bill of a day is ready from 10:00).
  it('shows a planted discrepancy on the reconciliation page after 重新对账', async () => {
    const day = formatBeijingTime(h.now()).slice(0, 10)
    const orderNo = await paidOrder(2)
    const { totalFen } = await adminOrder(orderNo)
    // WeChat's bill says this order was paid 1.00 yuan more than it was.
    const plant = await h.control('POST', '/__sandbox/bill-edits', {
      bill_date: day,
      kind: 'amount',
      out_trade_no: orderNo,
      amount: totalFen + 100,
    })
    expect(plant.status).toBe(201)
    // And a line no parser can read, shown with its kind and its text.
    const odd = '这不是账单行,,,'
    expect(
      (await h.control('POST', '/__sandbox/bill-edits', { bill_date: day, kind: 'raw', line: odd }))
        .status,
    ).toBe(201)
    const seconds = (Date.parse(`${day}T10:05:00+08:00`) + 86_400_000 - h.now().getTime()) / 1000
    h.advance(seconds)
    expect((await h.control('POST', '/__sandbox/clock', { advanceSeconds: seconds })).status).toBe(
      200,
    )

    await signIn()
    await page.getByText('今日订单').waitFor()
    await page.goto(`${h.url}/admin/reconciliation?date=${day}`)
    await expect.poll(() => page.locator('[data-test=recon-status]').textContent()).toBe('尚未对账')
    await page.locator('[data-test=rerun]').click()
    await confirm()
    await expect.poll(() => page.locator('[data-test=recon-status]').textContent()).toBe('存在差异')
    const row = page
      .locator('[data-test=discrepancies] .el-table__body tr')
      .filter({ hasText: orderNo })
    await row.waitFor()
    expect(await row.textContent()).toContain('金额不一致')
    expect(await row.textContent()).toContain(`¥${((totalFen + 100) / 100).toFixed(2)}`)
    const oddRow = page
      .locator('[data-test=discrepancies] .el-table__body tr')
      .filter({ hasText: '账单行无法解析' })
    expect(await oddRow.locator('[data-test=raw-line]').textContent()).toContain(odd)
    await shot('reconciliation')
    const stored = await h.admin<ReconciliationResult>(
      'GET',
      `/api/admin/reconciliation?date=${day}`,
    )
    expect(stored.body.discrepancies.map((d) => [d.kind, d.outTradeNo])).toContainEqual([
      'amount_differs',
      orderNo,
    ])
  })
})
