/**
 * The operator console under its security headers (issue #23 item 5), in this machine's Chromium:
 * apps/admin's build served by a real Fen server (ADMIN_STATIC_DIR). Under its
 * Content-Security-Policy the console still signs in and renders — dialogs and Element Plus's
 * positioned dropdowns included — with no violation reported; and a page of another origin that
 * frames /admin/ gets a blocked frame, not the sign-in form (clickjacking).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Order } from '@fen/shared'
import { ADMIN_TOKEN, startHarness, type Harness } from '@fen/server/test/harness'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest'
import { describeInBrowser, launchChromium } from './support/browser'

const here = path.dirname(fileURLToPath(import.meta.url))
const ADMIN_BUILD = path.resolve(here, '../../apps/admin/dist')

let h: Harness
let browser: Browser
let page: Page
/**
 * A page on another origin that frames /admin/: another port of 127.0.0.1, same site, so without
 * the headers the console would render in the frame (sessionStorage works there) — as it did.
 */
let framer: Server
let framerUrl: string
/** What the page reported: CSP violations (the DOM event and the console line) and errors. */
let violations: string[]
let errors: string[]

/** An order paid at the sandbox (native), PAID here: one the console can open and ship. */
async function paidOrder(): Promise<string> {
  const shopper = await h.login('o-console-csp')
  const created = await h.api<Order>('POST', '/api/orders', {
    token: shopper,
    body: { items: [{ productId: 1, quantity: 1 }] },
  })
  expect(created.status).toBe(201)
  const { orderNo } = created.body
  const pay = await h.api('POST', `/api/orders/${orderNo}/pay`, {
    token: shopper,
    body: { channel: 'native' },
  })
  expect(pay.status).toBe(200)
  await h.control('POST', '/__sandbox/pay', { out_trade_no: orderNo })
  await h.until(async () => {
    const res = await h.admin<{ status: string }>('GET', `/api/admin/orders/${orderNo}`)
    return res.body.status === 'PAID'
  })
  return orderNo
}

describeInBrowser('the console under its security headers, in Chromium', () => {
  beforeAll(async () => {
    h = await startHarness({ env: { ADMIN_STATIC_DIR: ADMIN_BUILD } })
    framer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(
        `<!doctype html><title>framer</title>` +
          `<iframe id="console" src="${h.url}/admin/" width="800" height="600"` +
          ` onload="document.title = 'frame loaded'"></iframe>`,
      )
    })
    await new Promise<void>((resolve) => framer.listen(0, '127.0.0.1', resolve))
    framerUrl = `http://127.0.0.1:${(framer.address() as AddressInfo).port}/`
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await new Promise((resolve) => framer?.close(resolve))
    await h?.close()
  })

  beforeEach(async () => {
    violations = []
    errors = []
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    await page.exposeFunction('fenReportViolation', (v: string) => void violations.push(v))
    // A string: this package's TypeScript knows no DOM.
    await page.addInitScript(
      "document.addEventListener('securitypolicyviolation', (e) => fenReportViolation(e.violatedDirective + ' ' + e.blockedURI))",
    )
    page.on('console', (m) => {
      if (m.text().includes('Content Security Policy')) violations.push(m.text())
    })
    page.on('pageerror', (e) => errors.push(e.message))
  })
  afterEach(async () => {
    await page?.close()
  })

  it('signs in and renders pages, dialogs and dropdowns with no CSP violation', async () => {
    const orderNo = await paidOrder()

    const res = await page.goto(`${h.url}/admin/`)
    // The policy is in force (else "no violation" would prove nothing).
    expect(res!.headers()['content-security-policy']).toContain("script-src 'self'")
    await page.locator('[data-test=token]').fill(ADMIN_TOKEN)
    await page.locator('[data-test=signin]').click()
    await page.getByText('今日订单').waitFor()

    await page.goto(`${h.url}/admin/orders`)
    await page.locator('[data-test=order-link]').first().waitFor()
    await page.goto(`${h.url}/admin/orders/${orderNo}`)
    await page.locator('[data-test=detail-orderNo]').waitFor()
    // A dialog, and a select's dropdown: Element Plus positions its poppers with inline styles.
    await page.locator('[data-test=ship]').click()
    await page.locator('[data-test=ship-type]').click()
    await page.locator('.el-select-dropdown__item', { hasText: '快递' }).waitFor()
    for (const view of ['events', 'refund-requests', 'reconciliation']) {
      await page.goto(`${h.url}/admin/${view}`)
      await page.waitForLoadState('networkidle')
    }

    expect(violations).toEqual([])
    expect(errors).toEqual([])
  })

  it('a page of another origin cannot frame it: the frame is blocked, no sign-in form', async () => {
    await page.goto(framerUrl)
    await page.waitForFunction("document.title === 'frame loaded'")
    const frame = page.frames().find((f) => f !== page.mainFrame())!
    expect(frame.url()).not.toContain('/admin/')
    expect(violations.join('\n')).toContain("frame-ancestors 'none'")
    // Whatever the frame shows is not the console.
    expect(await page.frameLocator('#console').locator('[data-test=token]').count()).toBe(0)
  })
})
