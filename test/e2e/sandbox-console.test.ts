/**
 * The sandbox's developer console (/__sandbox/, packages/sandbox/console) in Chromium, against a
 * real sandbox driven by the real SDK: orders prepaid and refunded through signed API calls,
 * notifications POSTed to a merchant endpoint here that verifies and decrypts them with the SDK.
 * The page must never open a dialog (alert/confirm), and never lose a text selection to a live
 * update. Screenshots go to test/e2e/screenshots (git-ignored) for a person to look at.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiError, WechatPay, isApiError, type NotificationEvent } from '@fen/wechatpay'
import { startSandbox, type RunningSandbox } from '@fen/sandbox'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { describeInBrowser, launchChromium } from './support/browser'

const here = path.dirname(fileURLToPath(import.meta.url))
const CONSOLE_BUILD = path.resolve(here, '../../packages/sandbox/console/dist/index.html')
const SHOTS = path.join(here, 'screenshots')
/** How long the page may take to show something on a busy machine (polls run once a second). */
const SHOWN = { timeout: 20_000 }

let sb: RunningSandbox
let wxpay: WechatPay
let merchant: Server
let notifyUrl: string
let browser: Browser
let page: Page
const dialogs: string[] = []
const problems: string[] = []

/** What the merchant endpoint got: each notification it verified and decrypted. */
const received: NotificationEvent[] = []
/** The merchant endpoint answers 500 to this many notifications before it accepts them again. */
let refuseNext = 0

async function merchantEndpoint(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  if (refuseNext > 0) {
    refuseNext -= 1
    res.writeHead(500, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ code: 'FAIL', message: 'database busy, try later' }))
    return
  }
  try {
    received.push(await wxpay.parseNotification(req.headers, Buffer.concat(chunks)))
    res.writeHead(204).end()
  } catch (e) {
    res.writeHead(400, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ code: 'FAIL', message: (e as Error).message }))
  }
}

// Everything below needs a browser: skipped without one, failed with FEN_REQUIRE_BROWSER=1.
describeInBrowser('the sandbox console in a browser', () => {
  beforeAll(async () => {
    if (!existsSync(CONSOLE_BUILD)) {
      throw new Error('the console is not built: run `pnpm --filter @fen/sandbox build:console`')
    }
    mkdirSync(SHOTS, { recursive: true })
    // Refunds settle only by hand here, so the settle buttons can be pressed.
    sb = await startSandbox({ port: 0, refundSettleSeconds: false })
    const m = sb.merchant
    wxpay = new WechatPay({
      baseUrl: sb.url,
      mchid: m.mchid,
      appid: m.appid,
      serialNo: m.merchantSerialNo,
      privateKey: m.merchantPrivateKey,
      apiV3Key: m.apiV3Key,
      platform: { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
      // A fault armed in the page must reach the test as it is, not retried away.
      maxRetries: 0,
    })
    merchant = createServer((req, res) => void merchantEndpoint(req, res))
    await new Promise<void>((resolve) => merchant.listen(0, '127.0.0.1', resolve))
    notifyUrl = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}/pay/notify`
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await new Promise((resolve) => (merchant ? merchant.close(resolve) : resolve(undefined)))
    await sb?.close()
  })

  beforeEach(async () => {
    await control('POST', 'reset')
    received.length = 0
    refuseNext = 0
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`)
      void d.dismiss()
    })
    page.on('pageerror', (e) => problems.push(e.message))
  })
  afterEach(async () => {
    await page?.close()
    expect(dialogs, 'the page opened a dialog').toEqual([])
    expect(problems, 'uncaught errors in the page').toEqual([])
  })

  // ---- helpers --------------------------------------------------------------------------------

  async function control<T = unknown>(method: string, p: string, body?: unknown): Promise<T> {
    const res = await fetch(`${sb.url}/__sandbox/${p}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`)
    return (text ? JSON.parse(text) : undefined) as T
  }

  let seq = 0
  /** A Native order prepaid through the SDK; returns its out_trade_no. */
  async function prepay(description = '挂耳咖啡 10 包', total = 5900): Promise<string> {
    const no = `FENC${Date.now().toString(36)}${(seq++).toString(36)}`.toUpperCase()
    await wxpay.transactions.native({
      description,
      out_trade_no: no,
      notify_url: notifyUrl,
      amount: { total },
    })
    return no
  }

  const open = (hash: string) => page.goto(`${sb.url}/__sandbox/${hash}`)
  const shot = (name: string) =>
    page.screenshot({ path: path.join(SHOTS, `console-${name}.png`), fullPage: true })
  const rowOf = (no: string) => page.locator(`[data-test=orders] tr[data-order="${no}"]`)
  /** The page's text selection. */
  const selection = () => page.evaluate('String(getSelection())')
  const callRows = () => page.locator('[data-test=calls] tbody tr')
  /** The notification of that type about that order the merchant endpoint verified, if any. */
  function eventOf(no: string, type: 'TRANSACTION.SUCCESS' | 'REFUND.SUCCESS') {
    return received.find(
      (e) =>
        e.eventType === type &&
        (e.type === 'transaction'
          ? e.transaction.out_trade_no
          : e.type === 'refund'
            ? e.refund.out_trade_no
            : undefined) === no,
    )
  }

  // ---- the suite --------------------------------------------------------------------------------

  describe('the sandbox console, in Chromium', () => {
    it('lists orders, pays one from the page, and shows its notification attempts with headers, raw body and decrypted resource', async () => {
      const paid = await prepay('挂耳咖啡 10 包', 5900)
      const other = await prepay('手冲滤杯', 8800)
      await open('#/orders')
      await rowOf(other).waitFor(SHOWN)
      expect(await rowOf(paid).locator('td').nth(1).textContent()).toBe('挂耳咖啡 10 包')
      expect(await rowOf(paid).locator('td.num').textContent()).toBe('¥59.00')
      // Every time on the page is Beijing time: the order was created "now" in UTC+08:00.
      const created = (await rowOf(paid).locator('td.time').textContent())!.trim()
      const beijingNow = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)
      expect(created.startsWith(beijingNow)).toBe(true)
      await shot('1-orders')

      await rowOf(paid).locator('[data-test=pay]').click()
      await expect.poll(() => eventOf(paid, 'TRANSACTION.SUCCESS'), SHOWN).toBeTruthy()
      await rowOf(paid).locator('[data-test=details]').click()
      expect(await page.locator('[data-test=order-no]').textContent()).toBe(paid)

      const attempt = page.locator('[data-test=attempt]').first()
      await attempt.waitFor(SHOWN)
      await attempt.locator('summary').click()
      const headers = await attempt.locator('[data-test=attempt-headers]').textContent()
      for (const name of [
        'Wechatpay-Serial',
        'Wechatpay-Signature',
        'Wechatpay-Timestamp',
        'Wechatpay-Nonce',
      ]) {
        expect(headers).toContain(name)
      }
      expect(headers).toContain(sb.merchant.platformPublicKeyId)
      const raw = JSON.parse((await attempt.locator('[data-test=attempt-body]').textContent())!)
      expect(raw.event_type).toBe('TRANSACTION.SUCCESS')
      expect(raw.resource.algorithm).toBe('AEAD_AES_256_GCM')
      const resource = JSON.parse(
        (await attempt.locator('[data-test=attempt-resource]').textContent())!,
      )
      // What the page decrypted is what the merchant's SDK decrypted.
      const event = eventOf(paid, 'TRANSACTION.SUCCESS')
      expect(event?.type === 'transaction' && resource).toEqual(
        event?.type === 'transaction' && event.transaction,
      )
      expect(resource).toMatchObject({ out_trade_no: paid, trade_state: 'SUCCESS' })
      expect(await attempt.locator('summary .badge').first().textContent()).toBe('204')
      // Its calls: the prepay the SDK made.
      expect(await callRows().count()).toBe(1)
      expect(await callRows().first().textContent()).toContain('/v3/pay/transactions/native')
      await shot('2-order-detail')
    })

    it('filters the call log by search, method, path, status and order', async () => {
      const a = await prepay()
      const b = await prepay()
      await wxpay.transactions.queryByOutTradeNo(a)
      await wxpay.transactions.close(b)
      const missing = await wxpay.transactions.queryByOutTradeNo('FENNOSUCHORDER').catch((e) => e)
      expect(isApiError(missing, 'ORDER_NOT_EXIST')).toBe(true)

      await open('#/calls')
      await expect.poll(() => callRows().count(), SHOWN).toBe(5)
      const texts = () => callRows().allTextContents()

      await page.locator('[data-test=calls-method]').selectOption('GET')
      await expect.poll(() => callRows().count(), SHOWN).toBe(2)
      await page.locator('[data-test=calls-status]').selectOption('4xx')
      await expect.poll(texts, SHOWN).toEqual([expect.stringContaining('FENNOSUCHORDER')])
      expect((await texts())[0]).toContain('404')
      await shot('3-calls-filtered')

      await page.locator('[data-test=calls-method]').selectOption('')
      await page.locator('[data-test=calls-status]').selectOption('')
      await page.locator('[data-test=calls-order]').fill(b)
      await expect.poll(() => callRows().count(), SHOWN).toBe(2)
      await page.locator('[data-test=calls-path]').fill('/close')
      await expect.poll(texts, SHOWN).toEqual([expect.stringContaining(`/${b}/close`)])

      await page.locator('[data-test=calls-order]').fill('')
      await page.locator('[data-test=calls-path]').fill('')
      await page.locator('[data-test=calls-search]').fill(a)
      await expect.poll(() => callRows().count(), SHOWN).toBe(2)
      expect(await page.locator('[data-test=calls-count]').textContent()).toContain('2 of 5')
    })

    it('keeps a selected out_trade_no selected while live updates arrive', async () => {
      const no = await prepay('选中我 select me')
      await open('#/orders')
      const id = rowOf(no).locator('code.id')
      await id.waitFor(SHOWN)
      // (Strings, not functions: this file is type-checked without the DOM's types.)
      await page.evaluate(
        `getSelection().selectAllChildren(document.querySelector('tr[data-order="${no}"] code.id'))`,
      )
      expect(await selection()).toBe(no)

      // Two live updates: a new order above it, and its own row changing state.
      const newer = await prepay('新订单 a newer order')
      await control('POST', 'pay', { out_trade_no: no })
      await rowOf(newer).waitFor(SHOWN)
      await rowOf(no).locator('.badge', { hasText: 'SUCCESS' }).waitFor(SHOWN)
      expect(await selection()).toBe(no)
      expect(await page.evaluate('getSelection().anchorNode.isConnected')).toBe(true)
    })

    it('arms a fault from the page that answers the next call, then clears faults', async () => {
      await open('#/controls')
      await page.locator('[data-test=fault-path]').fill('/v3/pay/transactions')
      await page.locator('[data-test=fault-kind]').selectOption('error500')
      await page.locator('[data-test=fault-count]').fill('1')
      await page.locator('[data-test=fault-add]').click()
      await page.locator('[data-test=faults] li').first().waitFor(SHOWN)
      expect(await page.locator('[data-test=faults]').textContent()).toContain('error500')
      await shot('4-controls')

      const failed = await prepay().catch((e: unknown) => e)
      expect(failed).toBeInstanceOf(ApiError)
      expect((failed as ApiError).status).toBe(500)
      expect((failed as ApiError).code).toBe('SYSTEM_ERROR')
      // Counted: it answered one call, and is gone from the page.
      await page.locator('[data-test=faults-none]').waitFor(SHOWN)
      const no = await prepay()
      expect(no).toMatch(/^FENC/)

      // A rate fault stays armed until cleared.
      await page.locator('input[value=rate]').check()
      await page.locator('[data-test=fault-add]').click()
      await page.locator('[data-test=faults] li').first().waitFor(SHOWN)
      await page.locator('[data-test=faults-clear]').click()
      await page.locator('[data-test=faults-none]').waitFor(SHOWN)
      expect(await control('GET', 'faults')).toEqual([])

      // The call log shows the call the fault answered.
      await open('#/calls')
      await page.locator('[data-test=call-fault]').first().waitFor(SHOWN)
      expect(await page.locator('[data-test=call-fault]').allTextContents()).toEqual(['error500'])
    })

    it('shows a refused input inline and as a message, never as a dialog', async () => {
      await open('#/controls')
      await page.locator('[data-test=fault-path]').fill('v3/no-leading-slash')
      await page.locator('[data-test=fault-add]').click()
      const inline = page.locator('[data-test=fault-form] [role=alert]')
      await inline.waitFor(SHOWN)
      expect(await inline.textContent()).toContain('path prefix starting with /')
      expect(await page.locator('.toast.error').first().textContent()).toContain('INVALID_INPUT')
      expect(await control('GET', 'faults')).toEqual([])
    })

    it('advances the clock from the page: a refused notification is retried at once', async () => {
      refuseNext = 1
      const no = await prepay()
      await control('POST', 'pay', { out_trade_no: no })
      await open(`#/orders/${no}`)
      const attempts = page.locator('[data-test=attempt]')
      await attempts.first().waitFor(SHOWN)
      expect(await attempts.first().locator('summary .badge').first().textContent()).toBe('500')
      expect(eventOf(no, 'TRANSACTION.SUCCESS')).toBeUndefined()

      const before = Date.parse((await control<{ now: string }>('GET', 'clock')).now)
      await open('#/controls')
      await page.locator('[data-test=advance-60]').click()
      // The retry was due 15 s after the first attempt: advancing a minute sends it now.
      await expect.poll(() => eventOf(no, 'TRANSACTION.SUCCESS'), SHOWN).toBeTruthy()
      const after = Date.parse((await control<{ now: string }>('GET', 'clock')).now)
      expect(after - before).toBeGreaterThanOrEqual(60_000)

      await page.locator('[data-test=scale]').fill('60')
      await page.locator('[data-test=scale-set]').click()
      await expect
        .poll(async () => (await control<{ scale: number }>('GET', 'clock')).scale, SHOWN)
        .toBe(60)
      await page.locator('[data-test=scale]').fill('1')
      await page.locator('[data-test=scale-set]').click()
      await expect
        .poll(async () => (await control<{ scale: number }>('GET', 'clock')).scale, SHOWN)
        .toBe(1)

      await open(`#/orders/${no}`)
      await expect.poll(() => attempts.count(), SHOWN).toBe(2)
      expect(await attempts.nth(1).locator('summary .badge').first().textContent()).toBe('204')
      await attempts.first().locator('summary').click()
      await shot('5-retried-notification')
    })

    it('settles a pending refund by hand from the page', async () => {
      const no = await prepay('退款测试', 3000)
      await control('POST', 'pay', { out_trade_no: no })
      await expect.poll(() => eventOf(no, 'TRANSACTION.SUCCESS'), SHOWN).toBeTruthy()
      const refundNo = `R${no}`
      await wxpay.refunds.create({
        out_trade_no: no,
        out_refund_no: refundNo,
        reason: '商品缺货',
        amount: { refund: 1000, total: 3000, currency: 'CNY' },
      })
      await open('#/refunds')
      const row = page.locator(`tr[data-refund="${refundNo}"]`)
      await row.waitFor(SHOWN)
      expect(await row.textContent()).toContain('PROCESSING')
      expect(await page.locator('[data-test=settle-mode]').textContent()).toContain(
        'settle them here',
      )
      await shot('6-refunds')
      await row.locator('[data-test=settle-success]').click()
      // The status badge, not the button of the same name.
      await row.locator('.badge', { hasText: 'SUCCESS' }).waitFor(SHOWN)
      await expect.poll(() => eventOf(no, 'REFUND.SUCCESS'), SHOWN).toBeTruthy()
      await expect.poll(() => row.locator('[data-test=settle-success]').count(), SHOWN).toBe(0)
      const refund = await wxpay.refunds.query(refundNo)
      expect(refund.status).toBe('SUCCESS')
    })

    it('resets the sandbox after an inline confirmation', async () => {
      const no = await prepay()
      await open('#/orders')
      await rowOf(no).waitFor(SHOWN)
      await page.locator('[data-test=reset]').click()
      await page.locator('[data-test=reset-confirm]').click()
      await page.getByText('No orders yet', { exact: false }).waitFor(SHOWN)
      const state = await control<{ orders: unknown[]; notifications: unknown[] }>('GET', 'state')
      expect(state.orders).toEqual([])
      expect(await (await fetch(`${sb.url}/__sandbox/calls`)).json()).toEqual([])
    })

    it('is the cashier a scanned code_url leads to', async () => {
      const no = `FENC${Date.now().toString(36)}Q`.toUpperCase()
      const { code_url } = await wxpay.transactions.native({
        description: '扫码支付测试',
        out_trade_no: no,
        notify_url: notifyUrl,
        amount: { total: 1990 },
      })
      await page.goto(`${sb.url}/__sandbox/scan?code_url=${encodeURIComponent(code_url)}`)
      await page.locator('[data-test=cashier-amount]').waitFor(SHOWN)
      expect(await page.locator('[data-test=cashier-amount]').textContent()).toBe('¥19.90')
      await shot('7-cashier')
      await page.locator('[data-test=cashier-pay]').click()
      await page.getByText('支付成功', { exact: false }).waitFor(SHOWN)
      expect((await wxpay.transactions.queryByOutTradeNo(no)).trade_state).toBe('SUCCESS')
    })
  })
})
