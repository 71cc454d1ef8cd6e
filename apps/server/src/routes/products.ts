import type Router from '@koa/router'
import type { HomeResponse } from '@fen/shared'
import type { Db } from '../db/client'
import { listBanners, listCategories } from '../repositories/catalogue'
import { listActiveProducts } from '../repositories/products'
import { bannerView, categoryView, productView } from '../services/views'
import { apiRouter } from './http'

/**
 * The catalogue, public (no login): the product list and the home page. `purchaseLimit`: 限购 of
 * every product (services/orders.ts).
 */
export function productRoutes(db: Db, purchaseLimit: number): Router {
  const r = apiRouter()
  r.get('/api/products', async (ctx) => {
    ctx.body = (await listActiveProducts(db)).map((p) => productView(p, purchaseLimit))
  })
  r.get('/api/home', async (ctx) => {
    const [banners, categories, products] = await Promise.all([
      listBanners(db),
      listCategories(db),
      listActiveProducts(db),
    ])
    const onSale = new Set(products.map((p) => p.id))
    const home: HomeResponse = {
      banners: banners
        .filter((b) => b.productId === null || onSale.has(b.productId))
        .map(bannerView),
      categories: categories.map(categoryView),
      products: products.map((p) => productView(p, purchaseLimit)),
    }
    ctx.body = home
  })
  return r
}
