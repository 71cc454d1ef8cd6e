import Router from '@koa/router'
import type { Product } from '@fen/shared'
import type { Db } from '../db/client'
import { listActiveProducts } from '../repositories/products'

export function productRoutes(db: Db): Router {
  const r = new Router({ prefix: '/api/products' })
  r.get('/', async (ctx) => {
    const rows = await listActiveProducts(db)
    ctx.body = rows.map((p): Product => ({
      id: p.id,
      title: p.title,
      priceFen: p.priceFen,
      stock: p.stock,
      ...(p.imageUrl ? { imageUrl: p.imageUrl } : {}),
    }))
  })
  return r
}
