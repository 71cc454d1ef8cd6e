/**
 * The shop in a real browser: the mini-program's H5 build in sandbox mode (dist/h5-sandbox), served
 * with /api and /__sandbox proxied to a real Fen server (its own database) and a real sandbox,
 * driven by this machine's Chromium through playwright-core (./support/browser.ts: skipped without
 * one, failed with FEN_REQUIRE_BROWSER=1). Screenshots go to test/e2e/screenshots (git-ignored) for
 * a person to look at.
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AdminOrderDetail } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest'
import { describeInBrowser, launchChromium } from './support/browser'
import { serveH5 } from './support/serve'

const here = path.dirname(fileURLToPath(import.meta.url))
const H5_BUILD = path.resolve(here, '../../apps/miniprogram/dist/h5-sandbox')
const SHOTS = path.join(here, 'screenshots')

let h: Harness
let web: Awaited<ReturnType<typeof serveH5>>
let browser: Browser
let page: Page
const problems: string[] = []

/** Taro's page transitions: let them finish before looking or screenshotting. */
const settle = () => page.waitForTimeout(600)
const shot = async (name: string) => {
  await settle()
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) })
}

/** 首页 is showing its product cards. */
const atHome = () => page.locator('.product').first().waitFor({ timeout: 20_000 })

/** Opens a product's detail page from 首页 (its card). */
async function openProduct(id: number) {
  await page.locator(`.product[data-id="${id}"]`).click()
  await page.locator('.detail .buy-now').waitFor({ timeout: 10_000 })
  await settle()
}

/** The order number on the checkout page once 提交订单 has made the order. */
async function submitted(): Promise<string> {
  await page.locator('.submit').click()
  const orderNo = (await page.locator('.order-no').textContent({ timeout: 10_000 }))?.trim() ?? ''
  expect(orderNo).toMatch(/^FEN\d{22}$/)
  return orderNo
}

/** 立即购买 of one product (its default spec) from 首页, 到店自取: the order's number. */
async function buyNow(id: number): Promise<string> {
  await openProduct(id)
  await page.locator('.detail .buy-now').click()
  await page.locator('.submit').waitFor()
  await settle()
  return submitted()
}

/** The H5 tab bar's entry (Taro draws it in the page). */
const tab = (text: string) => page.locator('.weui-tabbar__item', { hasText: text })

const adminOrder = async (no: string) =>
  (await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${no}`)).body

describeInBrowser('the H5 shop against the sandbox, in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    h = await startHarness()
    web = await serveH5(H5_BUILD, { api: h.url, sandbox: h.sandbox.url })
    // The shop's pages call the sandbox (login codes, the cashier) with their own Origin.
    h.sandbox.allowOrigin(web.url)
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await web?.close()
    await h?.close()
  })

  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2 })
    page.on('pageerror', (e) => problems.push(e.message))
    await page.goto(`${web.url}/`)
    await atHome()
  })
  afterEach(async () => {
    await page?.close()
    expect(problems, 'uncaught errors in the page').toEqual([])
  })

  it('browse → detail (spec) → cart → checkout with an address → the sandbox cashier → 支付成功', async () => {
    expect(await page.locator('.banner').count()).toBeGreaterThan(0)
    expect(await page.locator('.category').allTextContents()).toEqual([
      '全部',
      '咖啡',
      '茶饮',
      '轻食',
      '周边',
    ])
    // Every card's picture loads from the server (through the H5 server's /static proxy): the
    // first two, in view (the rest load lazily).
    const firstCovers =
      "[...document.querySelectorAll('.product .cover img')].slice(0, 2).filter((i) => i.complete && i.naturalWidth > 0).length"
    await page.waitForFunction(`${firstCovers} === 2`, null, { timeout: 10_000 })
    expect(await page.evaluate(firstCovers)).toBe(2)
    await shot('1-home')

    await openProduct(6) // 经典拿铁: 温度 热/冰, 杯型 中杯/大杯
    expect(await page.locator('.detail .head .title').textContent()).toBe('经典拿铁')
    await page.locator('.spec[data-spec="温度"] .option', { hasText: '冰' }).click()
    await page.locator('.amount .plus').click()
    expect(await page.locator('.option.on').allTextContents()).toEqual(['冰', '中杯'])
    await shot('2-detail')
    await page.locator('.add-to-cart').click()
    await page.getByText('已加入购物车').waitFor()
    expect(await page.locator('.to-cart-badge').textContent()).toBe('2')

    await page.goBack()
    await page.locator('.detail').waitFor({ state: 'detached', timeout: 10_000 })
    await atHome()
    await openProduct(4) // 挂耳咖啡 10 包: no spec
    await page.locator('.add-to-cart').click()
    await page.locator('.to-cart').click()

    const lines = page.locator('.cart-line')
    await lines.nth(1).waitFor({ timeout: 10_000 })
    expect(await lines.nth(0).locator('.spec').textContent()).toBe('冰/中杯')
    expect(await page.locator('.cart-bar .sum').textContent()).toBe('¥85.90') // 2 × 28 + 29.90
    expect(await tab('购物车').locator('.weui-badge').textContent()).toBe('3')
    await lines.nth(1).locator('.plus').click()
    expect(await page.locator('.cart-bar .sum').textContent()).toBe('¥115.80')
    // The bar stands above the tab bar (H5 draws it in the window).
    const bar = await page.locator('.cart-bar').boundingBox()
    const tabs = await page.locator('.weui-tabbar').boundingBox()
    expect(bar!.y + bar!.height).toBeLessThanOrEqual(tabs!.y + 1)
    await shot('3-cart')
    await page.locator('.cart-bar .checkout').click()

    await page.locator('.method-express').click()
    await page.locator('.submit').click()
    expect(await page.locator('.field-error-name').textContent()).toBe('请填写收货人')
    const address: Record<string, string> = {
      name: '林小满',
      phone: '13800138000',
      province: '浙江省',
      city: '杭州市',
      district: '西湖区',
      detail: '文三路 90 号 3 幢',
    }
    for (const [field, value] of Object.entries(address))
      await page.locator(`.addr-${field} input`).fill(value)
    expect(await page.locator('.field-error').count()).toBe(0)
    await page.locator('.remark-input textarea').fill('拿铁少冰')
    await shot('4-checkout')
    const orderNo = await submitted()
    expect(await page.locator('.total').textContent()).toBe('¥115.80') // priced by the server
    expect(await page.locator('.countdown').textContent()).toMatch(/^请在 \d\d:\d\d 内完成支付$/)
    await shot('5-checkout-submitted')

    await page.locator('.pay-jsapi').click()
    await page.locator('.cashier .confirm').waitFor()
    expect(await page.locator('.cashier .amount').textContent()).toBe('¥115.80')
    await shot('6-sandbox-cashier')
    await page.locator('.cashier .confirm').click()

    await page.getByText('支付成功', { exact: true }).waitFor({ timeout: 15_000 })
    expect(await page.locator('.next-step').textContent()).toContain('发货')
    await shot('7-paid')
    const detail = await adminOrder(orderNo)
    expect(detail.status).toBe('PAID')
    expect(detail.totalFen).toBe(11580)
    expect(detail.items.map((i) => [i.productId, i.quantity]).sort()).toEqual([
      [4, 2],
      [6, 2],
    ])
    // What the shopper chose went with the order: the address, 配送方式, 备注 and the latte's spec.
    expect(detail.deliveryMethod).toBe('express')
    expect(detail.address).toEqual(address)
    expect(detail.remark).toBe('拿铁少冰')
    expect(detail.items.find((i) => i.productId === 6)?.spec).toEqual({ 温度: '冰', 杯型: '中杯' })

    // Bug 2: the browser's back button after 支付成功 showed a blank page (every page hidden).
    await page.goBack()
    await settle()
    await page.locator('.cart-page').waitFor({ state: 'visible', timeout: 10_000 })
    // The ordered lines left the cart.
    await page.getByText('购物车还是空的', { exact: false }).waitFor({ timeout: 10_000 })
    await shot('10-cart-empty')
  }, 90_000)

  it('立即购买 → 扫码支付 while the test scans the QR through the sandbox → 支付成功 → 查看订单', async () => {
    const orderNo = await buyNow(7) // 美式咖啡, 冰 / 中杯 by default
    await page.locator('.pay-native').click()
    const qr = page.locator('.qr-image')
    await qr.waitFor({ timeout: 15_000 })
    const codeUrl = await page.locator('.code-url').getAttribute('data-code-url')
    expect(codeUrl).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/)
    await shot('8-native-qr')

    // The shopper scans the code with WeChat: the sandbox plays that part.
    const scanned = await h.control<{ trade_state: string }>('POST', '/__sandbox/pay', {
      code_url: codeUrl,
    })
    expect(scanned.body.trade_state).toBe('SUCCESS')

    await page.getByText('支付成功', { exact: true }).waitFor({ timeout: 15_000 })
    await shot('9-native-paid')
    expect((await adminOrder(orderNo)).status).toBe('PAID')
    expect((await adminOrder(orderNo)).totalFen).toBe(2200)

    await page.locator('.to-order').click()
    await page.waitForURL(new RegExp(`/pages/order/index\\?orderNo=${orderNo}`))
  })

  it('shipped → 确认收货 in the sandbox stand-in of wx.openBusinessView → 已完成', async () => {
    const orderNo = await buyNow(4)
    await page.locator('.pay-jsapi').click()
    await page.locator('.cashier .confirm').waitFor()
    await settle()
    await page.locator('.cashier .confirm').click()
    await page.getByText('支付成功', { exact: true }).waitFor({ timeout: 15_000 })
    const shipped = await h.admin('POST', `/api/admin/orders/${orderNo}/ship`, {
      logisticsType: 'express',
      expressCompany: 'ZTO',
      trackingNo: 'ZT1234567890123',
    })
    expect(shipped.status).toBe(200)

    await page.goto(`${web.url}/#/pages/order/index?orderNo=${orderNo}`)
    await page.locator('.confirm-receipt').waitFor({ timeout: 15_000 })
    await page.locator('.confirm-receipt').click()
    expect(await page.locator('.taro-modal__title').textContent()).toBe('模拟确认收货')
    await page.locator('.taro-model__confirm').click()
    await page.locator('[data-status="COMPLETED"]').waitFor({ timeout: 15_000 })
    expect(await page.locator('.big-status').textContent()).toBe('已完成')
    expect((await adminOrder(orderNo)).status).toBe('COMPLETED')
  })

  it('a reload keeps the sandbox shopper; 切换用户 makes a new one (bug 1)', async () => {
    const orderNo = await buyNow(4)
    await page.reload()
    await page.goto(`${web.url}/#/pages/orders/index`)
    await page.locator(`.order[data-order-no="${orderNo}"]`).waitFor({ timeout: 15_000 })

    await page.goto(`${web.url}/#/pages/mine/index`)
    await page.locator('.switch-user').click()
    await page.getByText('已切换为新用户', { exact: true }).waitFor({ timeout: 15_000 })
    await page.goto(`${web.url}/#/pages/orders/index`)
    await page.getByText('还没有订单', { exact: true }).waitFor({ timeout: 15_000 })
    expect(await page.locator(`.order[data-order-no="${orderNo}"]`).count()).toBe(0)
  })

  it('模拟支付失败 then 模拟扫码支付: the failure is gone under 支付成功 (bug 3)', async () => {
    const orderNo = await buyNow(3)
    await page.locator('.pay-native').click()
    await page.locator('.scan-fail').waitFor({ timeout: 15_000 })
    await page.locator('.scan-fail').click()
    await page.locator('.pay-failure').waitFor({ timeout: 10_000 })
    expect(await page.locator('.pay-failure').textContent()).toContain('支付失败')

    await page.locator('.scan-pay').click()
    await page.getByText('支付成功', { exact: true }).waitFor({ timeout: 15_000 })
    expect(await page.locator('.message.error').count()).toBe(0)
    expect((await adminOrder(orderNo)).status).toBe('PAID')

    // 返回首页 from a page outside the tab bar.
    await page.locator('.to-home').click()
    await atHome()
    expect(page.url()).toContain('/pages/index/index')
  })

  it('a cancelled payment leaves the order payable; cancelling the order → 已关闭', async () => {
    const orderNo = await buyNow(2)
    await page.locator('.pay-jsapi').click()
    await page.locator('.cashier .cancel').waitFor()
    await settle()
    await page.locator('.cashier .cancel').click()
    await page.getByText('已取消支付', { exact: false }).waitFor({ timeout: 10_000 })
    expect((await adminOrder(orderNo)).status).toBe('PENDING')

    await page.goto(`${web.url}/#/pages/orders/index`)
    const card = page.locator(`.order[data-order-no="${orderNo}"]`)
    await card.waitFor({ timeout: 10_000 })
    expect(await card.locator('.status').textContent()).toBe('待付款')
    await card.locator('.cancel').click()
    // The modal says what each button does (bug 5: 取消 / 确定 read as "cancel the cancelling").
    expect(await page.locator('.taro-model__cancel').textContent()).toBe('暂不取消')
    await page.locator('.taro-model__confirm').click()
    await page
      .locator(`.order[data-order-no="${orderNo}"][data-status="CLOSED"]`)
      .waitFor({ timeout: 10_000 })
    expect(await card.locator('.status').textContent()).toBe('已关闭')
    expect(await page.locator('.message.error').count()).toBe(0)
    await shot('11-closed')
    const detail = await adminOrder(orderNo)
    expect(detail.status).toBe('CLOSED')
    expect(detail.events.map((e) => e.type)).toContain('order.closed')
  })

  it('a failed payment shows why, and the order can still be paid', async () => {
    const orderNo = await buyNow(1)
    await page.locator('.pay-jsapi').click()
    await page.locator('.cashier .fail').waitFor()
    await settle()
    await page.locator('.cashier .fail').click()
    const message = page.locator('.message')
    await message.waitFor({ timeout: 10_000 })
    expect(await message.textContent()).toMatch(/^支付失败：.+/)
    await shot('12-pay-failed')
    expect((await adminOrder(orderNo)).status).toBe('PENDING')

    // 继续支付 from the order page, through the cashier again.
    await page.goto(`${web.url}/#/pages/order/index?orderNo=${orderNo}`)
    await page.locator('.order-detail .pay').click()
    await page.locator('.cashier .confirm').waitFor()
    await settle()
    await page.locator('.cashier .confirm').click()
    await page.getByText('支付成功', { exact: true }).waitFor({ timeout: 15_000 })
    expect((await adminOrder(orderNo)).status).toBe('PAID')
  })
  // ---- issue #24: a reload anywhere in checkout keeps the shopper where they were ------------

  it('a reload in the cart and on 确认订单 keeps the lines, the typed address, 备注 and 配送方式', async () => {
    await openProduct(6) // 经典拿铁: 温度 热/冰, 杯型 中杯/大杯
    await page.locator('.spec[data-spec="温度"] .option', { hasText: '冰' }).click()
    await page.locator('.spec[data-spec="杯型"] .option', { hasText: '大杯' }).click()
    await page.locator('.add-to-cart').click()
    await page.locator('.to-cart').click()
    await page.locator('.cart-line').first().waitFor({ timeout: 10_000 })

    await page.reload()
    const line = page.locator('.cart-line').first()
    await line.waitFor({ timeout: 15_000 })
    expect(await line.locator('.spec').textContent()).toBe('冰/大杯') // the product's spec order
    await page.locator('.cart-bar .checkout').click()

    await page.locator('.method-express').click()
    await page.locator('.addr-name input').fill('林小满')
    await page.locator('.addr-phone input').fill('13800138000')
    await page.locator('.addr-detail input').fill('文三路 90 号')
    await page.locator('.remark-input textarea').fill('少冰，不要吸管')
    await settle()
    await page.reload()

    await page.locator('.line .title').waitFor({ timeout: 15_000 })
    expect(await page.locator('.empty-state').count()).toBe(0)
    expect(await page.locator('.line .title').allTextContents()).toEqual(['经典拿铁'])
    expect(await page.locator('.line-spec').textContent()).toBe('冰/大杯')
    expect(await page.locator('.method.on').textContent()).toBe('快递配送')
    expect(await page.locator('.addr-name input').inputValue()).toBe('林小满')
    expect(await page.locator('.addr-phone input').inputValue()).toBe('13800138000')
    expect(await page.locator('.addr-detail input').inputValue()).toBe('文三路 90 号')
    expect(await page.locator('.remark-input textarea').inputValue()).toBe('少冰，不要吸管')
    await shot('13-checkout-reloaded')

    // Finished after the reload, the order carries what was typed before it.
    await page.locator('.addr-province input').fill('浙江省')
    await page.locator('.addr-city input').fill('杭州市')
    await page.locator('.addr-district input').fill('西湖区')
    const orderNo = await submitted()
    const detail = await adminOrder(orderNo)
    expect(detail.remark).toBe('少冰，不要吸管')
    expect(detail.address).toMatchObject({ name: '林小满', detail: '文三路 90 号' })
    expect(detail.items[0]).toMatchObject({ productId: 6, spec: { 温度: '冰', 杯型: '大杯' } })
  })

  it('a reload of the pay step after 提交订单 shows the same order, payable', async () => {
    const orderNo = await buyNow(4)
    const total = await page.locator('.total').textContent()
    expect(page.url()).toContain(`orderNo=${orderNo}`)

    await page.reload()
    await page.locator('.order-no').waitFor({ timeout: 15_000 })
    expect(await page.locator('.empty-state').count()).toBe(0)
    expect(await page.locator('.order-no').textContent()).toBe(orderNo)
    expect(await page.locator('.total').textContent()).toBe(total)
    expect(await page.locator('.countdown').textContent()).toMatch(/^请在 \d\d:\d\d 内完成支付$/)
    expect(await page.locator('.pay-jsapi').getAttribute('class')).not.toContain('disabled')
    await shot('14-pay-step-reloaded')

    // And it pays from there.
    await page.locator('.pay-native').click()
    const codeUrl = page.locator('.code-url')
    await codeUrl.waitFor({ timeout: 15_000 })
    await h.control('POST', '/__sandbox/pay', {
      code_url: await codeUrl.getAttribute('data-code-url'),
    })
    await page.getByText('支付成功', { exact: true }).waitFor({ timeout: 15_000 })
    expect((await adminOrder(orderNo)).status).toBe('PAID')
  })

  it('a reload of the simulated cashier keeps its amount, order number and working buttons', async () => {
    const orderNo = await buyNow(4)
    const total = await page.locator('.total').textContent()
    await page.locator('.pay-jsapi').click()
    await page.locator('.cashier .confirm').waitFor()
    await settle()

    await page.reload()
    await page.locator('.cashier .confirm').waitFor({ timeout: 15_000 })
    await expect.poll(() => page.locator('.cashier .amount').textContent()).toBe(total)
    expect(await page.locator('.cashier-order-no').textContent()).toBe(orderNo)
    expect(await page.locator('.cashier .confirm').getAttribute('class')).not.toContain('disabled')
    await shot('15-cashier-reloaded')

    await page.locator('.cashier .confirm').click()
    await page.getByText('支付成功', { exact: true }).waitFor({ timeout: 15_000 })
    expect((await adminOrder(orderNo)).status).toBe('PAID')
  })

  it('a reloaded cashier cancelled goes back to the pay step, the order still payable', async () => {
    const orderNo = await buyNow(3)
    await page.locator('.pay-jsapi').click()
    await page.locator('.cashier .cancel').waitFor()
    await settle()
    await page.reload()
    await page.locator('.cashier .cancel').waitFor({ timeout: 15_000 })
    await expect.poll(() => page.locator('.cashier .amount').textContent()).toMatch(/^¥/)
    await page.locator('.cashier .cancel').click()

    await page.getByText('已取消支付', { exact: false }).waitFor({ timeout: 15_000 })
    expect(await page.locator('.order-no').textContent()).toBe(orderNo)
    expect(await page.locator('.pay-jsapi').getAttribute('class')).not.toContain('disabled')
    expect((await adminOrder(orderNo)).status).toBe('PENDING')
  })

  it('a wrong field shows its message beside that field, and nothing is ordered', async () => {
    await openProduct(4)
    await page.locator('.detail .buy-now').click()
    await page.locator('.submit').waitFor()
    await settle()
    await page.locator('.method-express').click()
    const address: Record<string, string> = {
      name: '林小满',
      phone: '12345',
      province: '浙江省',
      city: '杭州市',
      district: '西湖区',
      detail: '文三路 90 号',
    }
    for (const [field, value] of Object.entries(address))
      await page.locator(`.addr-${field} input`).fill(value)
    await page.locator('.submit').click()

    const error = page.locator('.field-error-phone')
    await error.waitFor({ timeout: 10_000 })
    expect(await error.textContent()).toBe('请填写正确的手机号或固定电话')
    expect(await page.locator('.field-error').count()).toBe(1)
    expect(await page.locator('.message').count()).toBe(0)
    // Beside its field: under the phone input, above the next field.
    const phone = (await page.locator('.addr-phone').boundingBox())!
    const below = (await error.boundingBox())!
    const next = (await page.locator('.addr-province').boundingBox())!
    expect(below.y).toBeGreaterThanOrEqual(phone.y + phone.height - 1)
    expect(below.y + below.height).toBeLessThanOrEqual(next.y + 1)
    await shot('16-field-error')
    expect(await page.locator('.order-no').count()).toBe(0)

    // Corrected, it goes through and the message is gone.
    await page.locator('.addr-phone input').fill('0571-88888888')
    expect(await page.locator('.field-error').count()).toBe(0)
    const orderNo = await submitted()
    expect((await adminOrder(orderNo)).address?.phone).toBe('0571-88888888')
  })
})
