import type Router from '@koa/router'
import type { CatalogueService } from '../services/catalogue'
import { apiRouter } from './http'

/** The catalogue, public (no login): the product list and the home page. */
export function productRoutes(catalogue: CatalogueService): Router {
  const r = apiRouter()
  r.get('/api/products', async (ctx) => {
    ctx.body = await catalogue.products()
  })
  r.get('/api/home', async (ctx) => {
    ctx.body = await catalogue.home()
  })
  return r
}
