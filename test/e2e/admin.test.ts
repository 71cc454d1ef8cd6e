/**
 * The operator's console in a real browser: apps/admin's build (apps/admin/dist), served by a real
 * Fen server under /admin/ (ADMIN_STATIC_DIR) on its own database, with the sandbox as WeChat,
 * driven by this machine's Chromium through playwright-core (./support/browser.ts). Screenshots go
 * to test/e2e/screenshots (git-ignored).
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AdminOrderDetail, CreateOrderRequest, Order, ReconciliationResult } from '@fen/shared'
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

/** Where the express orders go. */
const ADDRESS = {
  name: '林小满',
  phone: '13800138000',
  province: '广东省',
  city: '广州市',
  district: '天河区',
  detail: '体育西路 191 号 12 楼',
}

/**
 * An order paid at the sandbox (native), PAID here: one of product `order` picked up at the shop,
 * or the order described (lines with specs, express to an address).
 */
async function paidOrder(order: number | CreateOrderRequest): Promise<string> {
  const created = await h.api<Order>('POST', '/api/orders', {
    token: shopper,
    body: typeof order === 'number' ? { items: [{ productId: order, quantity: 1 }] } : order,
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

/** Signs in and opens the order's page. */
async function openOrder(orderNo: string) {
  await signIn()
  await page.getByText('今日订单').waitFor()
  await page.goto(`${h.url}/admin/orders/${orderNo}`)
  await page.locator('[data-test=detail-orderNo]').waitFor()
}

/** The texts of the operator's buttons on the order page (发货 / 退款 appear only when allowed). */
const orderButtons = () => page.locator('[data-test=actions] button').allTextContents()

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

    // A page gone stale: another refund was made meanwhile, so what the page offers is more than
    // is left. The server refuses, and the console shows its reason.
    const other = await h.admin('POST', `/api/admin/orders/${orderNo}/refunds`, {
      amountFen: 100,
      reason: '另一位同事退了运费',
    })
    expect(other.status).toBe(201)
    await page.locator('[data-test=refund]').click()
    expect(await page.locator('[data-test=refund-amount]').inputValue()).toBe('48.50')
    await page.locator('[data-test=refund-submit]').click()
    await confirm()
    await page.locator('.el-message--error').getByText('最多可退 ¥47.50').waitFor()
    await shot('refund-refused')
    expect((await adminOrder(orderNo)).refunds).toHaveLength(2)
  })

  it('refuses an amount over what is refundable (or 0, or malformed) in the dialog, before asking', async () => {
    const orderNo = await paidOrder(2) // 89.00
    const part = await h.admin('POST', `/api/admin/orders/${orderNo}/refunds`, {
      amountFen: 900,
      reason: '少发滤纸',
    })
    expect(part.status).toBe(201)
    await openOrder(orderNo)
    await page.locator('[data-test=refund]').click()
    // Pre-filled with what is left (89.00 − 9.00 under way), not the total.
    expect(await page.locator('[data-test=refund-amount]').inputValue()).toBe('80.00')
    expect(await page.locator('[data-test=refund-refundable]').textContent()).toContain('¥80.00')
    const refused: [string, string][] = [
      ['80.01', '退款金额超过可退金额，最多可退 ¥80.00'],
      ['89', '退款金额超过可退金额，最多可退 ¥80.00'],
      ['0', '退款金额必须大于 0'],
      ['1.234', '请输入正确的金额（最多两位小数）'],
      ['abc', '请输入正确的金额（最多两位小数）'],
    ]
    for (const [typed, reason] of refused) {
      await page.locator('[data-test=refund-amount]').fill(typed)
      await page.locator('[data-test=refund-submit]').click({ force: true })
      await expect
        .poll(() => page.locator('[data-test=refund-error]').textContent(), { timeout: 3000 })
        .toBe(reason)
      // Nothing was asked: no confirm box opened.
      expect([typed, await page.locator('.el-message-box').count()]).toEqual([typed, 0])
    }
    await shot('refund-over')
    expect((await adminOrder(orderNo)).refunds).toHaveLength(1)
  })

  it('shows each line’s spec and the order’s delivery method, with the address for express', async () => {
    const express = await paidOrder({
      items: [
        { productId: 6, quantity: 2, spec: { 杯型: '大杯', 温度: '冰' } },
        { productId: 10, quantity: 1 },
      ],
      deliveryMethod: 'express',
      address: ADDRESS,
    })
    await openOrder(express)
    await expect
      .poll(() => page.locator('[data-test=item-spec]').allTextContents())
      .toEqual(['冰/大杯', '加热']) // in the product's order of specs; the default filled in
    expect(await page.locator('[data-test=delivery-method]').textContent()).toBe('快递配送')
    const address = await page.locator('[data-test=address]').textContent()
    expect(address).toContain('林小满')
    expect(address).toContain('13800138000')
    expect(address).toContain('广东省广州市天河区')
    expect(address).toContain('体育西路 191 号 12 楼')
    await shot('order-express')

    const pickup = await paidOrder(1)
    await page.goto(`${h.url}/admin/orders/${pickup}`)
    await expect
      .poll(() => page.locator('[data-test=delivery-method]').textContent())
      .toBe('到店自取')
    expect(await page.locator('[data-test=address]').count()).toBe(0)
  })

  it('ships an order by express, the courier picked from WeChat’s list', async () => {
    const orderNo = await paidOrder({
      items: [{ productId: 3, quantity: 1, spec: { 颜色: '墨绿' } }],
      deliveryMethod: 'express',
      address: ADDRESS,
    })
    await openOrder(orderNo)
    expect(await orderButtons()).toEqual(['同步', '退款', '发货'])
    await page.locator('[data-test=ship]').click()
    // An express order: the dialog starts at 快递; the courier is picked by name from the list.
    await page.locator('[data-test=ship-carrier]').click()
    await page.keyboard.type('中通')
    const options = page.locator('.el-select-dropdown__item:visible')
    await expect.poll(() => options.allTextContents()).toEqual(['中通快递'])
    await options.first().click()
    await page.locator('[data-test=ship-tracking]').fill('ZT7788990011')
    await shot('ship-dialog')
    await page.locator('[data-test=ship-submit]').click()
    await confirm()
    await page.locator('[data-test=delivery]').getByText('ZT7788990011').waitFor()
    expect(await page.locator('[data-test=delivery]').textContent()).toContain('中通快递')
    // A Native payment: WeChat's shipping management does not cover it.
    expect(await page.locator('[data-test=wechat-report]').textContent()).toBe('无需上报')
    expect(await page.locator('[data-test=detail-status]').textContent()).toBe('已发货')
    expect(await orderButtons()).toEqual(['同步', '退款'])
    const detail = await adminOrder(orderNo)
    expect(detail.status).toBe('SHIPPED')
    expect(detail.delivery).toMatchObject({
      logisticsType: 'express',
      expressCompany: 'ZTO',
      expressCompanyName: '中通快递',
      trackingNo: 'ZT7788990011',
      wechatReport: 'not_required',
    })
    await shot('order-shipped')
  })

  it('ships a partly refunded order (its refund settled, or still under way)', async () => {
    const settled = await paidOrder(4) // 29.90
    const r = await h.admin<{ outRefundNo: string }>(
      'POST',
      `/api/admin/orders/${settled}/refunds`,
      { amountFen: 990, reason: '少发一包' },
    )
    expect(r.status).toBe(201)
    await h.control('POST', `/__sandbox/refunds/${r.body.outRefundNo}`, { status: 'SUCCESS' })
    await h.until(async () => (await adminOrder(settled)).status === 'PARTIALLY_REFUNDED')

    await signIn()
    await page.getByText('今日订单').waitFor()
    // The list says it waits for the shop, whatever its refund status.
    await page.goto(`${h.url}/admin/orders?orderNo=${settled}`)
    const row = page.locator('[data-test=orders] .el-table__body tr').filter({ hasText: settled })
    await row.waitFor()
    expect(await row.locator('[data-test=fulfilment]').textContent()).toBe('待发货')

    await page.goto(`${h.url}/admin/orders/${settled}`)
    await page.locator('[data-test=detail-orderNo]').waitFor()
    expect(await page.locator('[data-test=detail-status]').textContent()).toBe('部分退款')
    expect(await orderButtons()).toEqual(['同步', '退款', '发货'])
    await page.locator('[data-test=ship]').click()
    // 到店自取: the dialog starts there, nothing else to fill in.
    await page.locator('[data-test=ship-submit]').click()
    await confirm()
    await page.locator('[data-test=delivery]').waitFor()
    expect(await page.locator('[data-test=detail-status]').textContent()).toBe('部分退款')
    expect(await orderButtons()).toEqual(['同步', '退款'])
    expect(await adminOrder(settled)).toMatchObject({
      status: 'PARTIALLY_REFUNDED',
      fulfilment: 'shipped',
      delivery: { logisticsType: 'pickup' },
    })

    // A part refund still under way (REFUNDING) does not hold the rest back either.
    const open = await paidOrder(4)
    expect(
      (
        await h.admin('POST', `/api/admin/orders/${open}/refunds`, {
          amountFen: 990,
          reason: '少发一包',
        })
      ).status,
    ).toBe(201)
    await page.goto(`${h.url}/admin/orders/${open}`)
    await page.locator('[data-test=detail-orderNo]').waitFor()
    expect(await page.locator('[data-test=detail-status]').textContent()).toBe('退款中')
    expect(await orderButtons()).toEqual(['同步', '退款', '发货'])
    await page.locator('[data-test=ship]').click()
    await page.locator('[data-test=ship-submit]').click()
    await confirm()
    await page.locator('[data-test=delivery]').waitFor()
    expect((await adminOrder(open)).fulfilment).toBe('shipped')

    // Refunded in full: neither 发货 nor 退款 is offered.
    const full = await paidOrder(5)
    const all = await h.admin<{ outRefundNo: string }>(
      'POST',
      `/api/admin/orders/${full}/refunds`,
      {
        amountFen: 1,
        reason: '缺货',
      },
    )
    await h.control('POST', `/__sandbox/refunds/${all.body.outRefundNo}`, { status: 'SUCCESS' })
    await h.until(async () => (await adminOrder(full)).status === 'REFUNDED')
    await page.goto(`${h.url}/admin/orders/${full}`)
    await page.locator('[data-test=detail-orderNo]').waitFor()
    expect(await orderButtons()).toEqual(['同步'])
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

  it('rejects a refund request from the order’s page, with the reason the shopper sees', async () => {
    const orderNo = await paidOrder(3)
    const asked = await h.api<{ id: number }>('POST', `/api/orders/${orderNo}/refund-requests`, {
      token: shopper,
      body: { reason: '颜色不喜欢' },
    })
    expect(asked.status).toBe(201)
    await openOrder(orderNo)
    const row = page.locator('[data-test=requests] .el-table__body tr')
    await expect.poll(() => row.allTextContents()).toEqual([expect.stringContaining('待审核')])
    await row.locator('[data-test=reject]').click()
    const prompt = page.locator('.el-message-box', { hasText: '拒绝售后申请' })
    await prompt.locator('input').fill('定制商品不支持退款')
    await prompt.getByRole('button', { name: '下一步' }).click()
    await page
      .locator('.el-message-box', { hasText: '请确认' })
      .getByRole('button', { name: '确定' })
      .click()
    await expect.poll(() => row.textContent()).toContain('已拒绝')
    expect(await row.textContent()).toContain('定制商品不支持退款')
    const detail = await adminOrder(orderNo)
    expect(detail.refundRequests).toMatchObject([
      { id: asked.body.id, status: 'rejected', rejectReason: '定制商品不支持退款' },
    ])
    expect(detail.refunds).toEqual([])
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
