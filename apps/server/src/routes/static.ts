import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type Router from '@koa/router'
import { contentTypeOf } from './content-types'
import { apiRouter } from './http'

/** The catalogue's pictures, in the repository (apps/server/static/products). */
export const PRODUCT_IMAGES_DIR = fileURLToPath(new URL('../../static/products/', import.meta.url))

/** Pictures only: any other file in the folder is not served. */
const PICTURE = /^[a-z0-9-]+\.(svg|png)$/

/** A day: the names are not content-hashed, so a changed picture must show within a day. */
const CACHE_CONTROL = 'public, max-age=86400'

/**
 * `GET /static/products/<file>`: the product pictures. The folder is read once, when the app is
 * built, and a request is looked up by its exact file name among those read — so no path (`..`,
 * an encoded slash) can reach any other file. An SVG is served with a CSP that lets it run no
 * script and load nothing, in case one is ever opened as a page.
 */
export function staticRoutes(dir: string = PRODUCT_IMAGES_DIR): Router {
  const files = new Map<string, { body: Buffer; type: string; etag: string }>()
  for (const name of readdirSync(dir)) {
    const type = contentTypeOf(name)
    if (!type || !PICTURE.test(name)) continue
    const body = readFileSync(`${dir}/${name}`)
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
    files.set(name, { body, type, etag })
  }
  const r = apiRouter('/static/products')
  // GET answers HEAD as well.
  r.get('/:file', (ctx) => {
    const file = files.get(ctx.params.file ?? '')
    if (!file) return // → 404 NOT_FOUND (app.ts)
    ctx.set('Cache-Control', CACHE_CONTROL)
    ctx.set('X-Content-Type-Options', 'nosniff')
    if (file.type === 'image/svg+xml') {
      ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
    }
    ctx.etag = file.etag
    ctx.status = 200
    if (ctx.fresh) {
      ctx.status = 304
      return
    }
    ctx.type = file.type
    ctx.body = file.body
  })
  return r
}
