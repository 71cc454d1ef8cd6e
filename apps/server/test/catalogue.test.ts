/**
 * The demo catalogue: products with pictures, categories and specs (GET /api/products, GET
 * /api/home), the pictures served from the repository under /static/products/ (types, caching,
 * no path out of the folder), the seed (idempotent; brings the earlier demo rows up to date and
 * leaves other rows alone), and the virtual gift card shipping itself once paid.
 */
import { request, type IncomingHttpHeaders } from 'node:http'
import { readdirSync } from 'node:fs'
import { schemas, type AdminOrder, type ErrorBody, type Order, type PayResponse } from '@fen/shared'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { products } from '../src/db/schema'
import { seedDemoCatalogue } from '../src/repositories/catalogue'
import { PRODUCT_IMAGES_DIR } from '../src/routes/static'
import { startHarness, type Harness } from './harness'

let h: Harness

beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h?.close())

async function catalogue() {
  const res = await h.api('GET', '/api/products')
  expect(res.status).toBe(200)
  return schemas.ProductList.parse(res.body)
}

/**
 * A GET with the path and headers sent exactly as written (fetch would resolve `..` first, and adds
 * `Cache-Control: no-cache` to a conditional request).
 */
function rawGet(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  const { hostname, port } = new URL(h.url)
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET', headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('the catalogue', () => {
  it('12 products in 4 categories, each with a picture, a description, prices in fen', async () => {
    const list = await catalogue()
    expect(list.map((p) => p.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    // The prices and stock of 1–5 are what the other suites are written against.
    expect(list.slice(0, 5).map((p) => [p.priceFen, p.stock])).toEqual([
      [5900, 100],
      [8900, 50],
      [3900, 200],
      [2990, 300],
      [1, 10000],
    ])
    const home = schemas.HomeResponse.parse((await h.api('GET', '/api/home')).body)
    const categoryIds = home.categories.map((c) => c.id)
    expect(home.categories.map((c) => c.name)).toEqual(['咖啡', '茶饮', '轻食', '周边'])
    for (const p of list) {
      expect(Number.isInteger(p.priceFen) && p.priceFen > 0).toBe(true)
      expect(categoryIds).toContain(p.category)
      expect(p.description.length).toBeGreaterThan(10)
      expect(p.imageUrl).toMatch(/^\/static\/products\/[a-z0-9-]+\.svg$/)
      expect(p.images[0]).toBe(p.imageUrl)
      // No developer copy reaches the shop.
      expect(`${p.title}${p.description}`).not.toMatch(/测试|库存|test/i)
    }
    for (const id of categoryIds) expect(list.some((p) => p.category === id)).toBe(true)
  })

  it('drinks carry their specs; only the gift card is virtual', async () => {
    const list = await catalogue()
    const latte = list.find((p) => p.title === '经典拿铁')!
    expect(latte.specs).toEqual([
      { name: '温度', options: ['热', '冰'] },
      { name: '杯型', options: ['中杯', '大杯'] },
    ])
    expect(list.find((p) => p.id === 2)!.specs).toBeUndefined()
    expect(list.filter((p) => p.virtual).map((p) => p.title)).toEqual(['电子礼品卡 ¥100'])
  })

  it('GET /api/home: banners leading to products on sale, the categories, the products', async () => {
    const home = schemas.HomeResponse.parse((await h.api('GET', '/api/home')).body)
    expect(home.products).toEqual(await catalogue())
    expect(home.banners.map((b) => b.productId)).toEqual([8, 12])
    for (const b of home.banners) expect(b.imageUrl).toMatch(/^\/static\/products\/banner-/)

    // A banner whose product is off sale is left out, and the product too.
    await h.database.db.update(products).set({ active: false }).where(eq(products.id, 8))
    try {
      const without = schemas.HomeResponse.parse((await h.api('GET', '/api/home')).body)
      expect(without.banners.map((b) => b.productId)).toEqual([12])
      expect(without.products.map((p) => p.id)).not.toContain(8)
    } finally {
      await h.database.db.update(products).set({ active: true }).where(eq(products.id, 8))
    }
  })
})

describe('the pictures (/static/products/)', () => {
  it('every picture the catalogue names is served as an SVG, cached, with an ETag', async () => {
    const home = schemas.HomeResponse.parse((await h.api('GET', '/api/home')).body)
    const urls = [...home.products.flatMap((p) => p.images), ...home.banners.map((b) => b.imageUrl)]
    for (const url of new Set(urls)) {
      const res = await fetch(h.url + url)
      expect(res.status, url).toBe(200)
      expect(res.headers.get('content-type')).toBe('image/svg+xml')
      expect(res.headers.get('cache-control')).toBe('public, max-age=86400')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
      expect(res.headers.get('etag')).toMatch(/^"[\w-]{22}"$/)
      const svg = await res.text()
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/)
      // Small, and nothing fetched from elsewhere.
      expect(svg.length).toBeLessThan(4096)
      expect(svg).not.toMatch(/href=|<script|url\(/)
    }
    // Every file in the folder is one the catalogue uses.
    expect(readdirSync(PRODUCT_IMAGES_DIR).sort()).toEqual(
      [...new Set(urls)].map((u) => u.slice('/static/products/'.length)).sort(),
    )
  })

  it('If-None-Match with the ETag → 304 without a body; HEAD → the headers only', async () => {
    const first = await fetch(`${h.url}/static/products/latte.svg`)
    const etag = first.headers.get('etag')!
    const again = await rawGet('/static/products/latte.svg', { 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(again.body).toBe('')
    expect(again.headers['cache-control']).toBe('public, max-age=86400')
    const changed = await rawGet('/static/products/latte.svg', { 'if-none-match': '"other"' })
    expect(changed.status).toBe(200)
    expect(changed.body).toMatch(/^<svg/)
    const head = await fetch(`${h.url}/static/products/latte.svg`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-type')).toBe('image/svg+xml')
    expect(await head.text()).toBe('')
  })

  it('an unknown file, or any path out of the folder → 404 NOT_FOUND, never another file', async () => {
    for (const path of [
      '/static/products/nope.svg',
      '/static/products/',
      '/static/products/../../package.json',
      '/static/products/..%2F..%2Fpackage.json',
      '/static/products/%2e%2e%2f%2e%2e%2fsrc%2fapp.ts',
      '/static/products/..%5C..%5Cpackage.json',
      '/static/products/latte.svg%00.png',
      '/static/products/LATTE.SVG',
      '/static/../package.json',
      '/static/products/%2Fetc%2Fpasswd',
    ]) {
      const res = await rawGet(path)
      expect(res.status, path).toBe(404)
      expect((JSON.parse(res.body) as ErrorBody).code, path).toBe('NOT_FOUND')
    }
  })

  it('POST → 405 METHOD_NOT_ALLOWED', async () => {
    const res = await fetch(`${h.url}/static/products/latte.svg`, { method: 'POST' })
    expect(res.status).toBe(405)
    expect(((await res.json()) as ErrorBody).code).toBe('METHOD_NOT_ALLOWED')
  })
})

describe('the seed', () => {
  it('runs again without changing anything', async () => {
    const before = await h.database.db.select().from(products).orderBy(products.id)
    await seedDemoCatalogue(h.database.db)
    expect(await h.database.db.select().from(products).orderBy(products.id)).toEqual(before)
  })

  it("brings a row of the earlier demo seed up to date, keeping its price and stock; leaves an operator's row alone", async () => {
    const [was5] = await h.database.db.select().from(products).where(eq(products.id, 5))
    const [was6] = await h.database.db.select().from(products).where(eq(products.id, 6))
    // Product 5 as the seed before the pictures wrote it (and sold since); 6 renamed by the shop.
    await h.database.db
      .update(products)
      .set({
        title: '一分钱测试商品',
        category: null,
        images: [],
        imageUrl: null,
        description: '',
        stock: 7,
      })
      .where(eq(products.id, 5))
    await h.database.db
      .update(products)
      .set({ title: '店长特调', category: null })
      .where(eq(products.id, 6))
    try {
      await seedDemoCatalogue(h.database.db)
      const [now5] = await h.database.db.select().from(products).where(eq(products.id, 5))
      expect(now5).toEqual({ ...was5, stock: 7 })
      const [now6] = await h.database.db.select().from(products).where(eq(products.id, 6))
      expect(now6).toEqual({ ...was6, title: '店长特调', category: null })
    } finally {
      await h.database.db.update(products).set(was5!).where(eq(products.id, 5))
      await h.database.db.update(products).set(was6!).where(eq(products.id, 6))
    }
  })
})

describe('the virtual gift card', () => {
  it('paid → shipped by the shipping job as virtual goods', async () => {
    const shopper = await h.login()
    const created = await h.api<Order>('POST', '/api/orders', {
      token: shopper,
      body: { items: [{ productId: 12, quantity: 1 }] },
    })
    expect(created.status).toBe(201)
    const no = created.body.orderNo
    const pay = await h.api<PayResponse>('POST', `/api/orders/${no}/pay`, {
      token: shopper,
      body: { channel: 'jsapi' },
    })
    if (pay.body.channel !== 'jsapi') throw new Error('expected jsapi')
    await h.control('POST', '/__sandbox/request-payment', pay.body.params)
    await h.until(async () => {
      const o = await h.api<Order>('GET', `/api/orders/${no}`, { token: shopper })
      return o.body.status === 'PAID'
    })
    expect(await h.shipJob()).toMatchObject({ virtualShipped: 1, errors: 0 })
    const order = (await h.admin<AdminOrder>('GET', `/api/admin/orders/${no}`)).body
    expect(order.status).toBe('SHIPPED')
    expect(order.delivery).toMatchObject({ logisticsType: 'virtual', itemDesc: '电子礼品卡 ¥100' })
  })
})
