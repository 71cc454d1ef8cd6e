import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { join, resolve, sep } from 'node:path'
import type Koa from 'koa'
import { contentTypeOf } from './content-types'

/**
 * The console's Content-Security-Policy: its own scripts only (Vite's build has no inline script),
 * its own API, no framing by any page (clickjacking the sign-in). Element Plus styles its poppers
 * and dialogs inline; style-src allows 'unsafe-inline' so no view breaks on that (styles run no
 * code).
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ')

/**
 * Serves the operator's console (`pnpm --filter @fen/admin build` → apps/admin/dist) under
 * `/admin/`. Files are served as they are; any other path under /admin/ is the app's own route
 * (it uses history URLs) and gets index.html. Vite names its assets by content hash, so those are
 * cached for a year; index.html never is, so a new build shows at the next load.
 *
 * The page itself is public (it holds no data); everything it shows comes from /api/admin with
 * the token the operator types in.
 */
export function adminStatic(dir: string): Koa.Middleware {
  const root = resolve(dir)
  if (!existsSync(join(root, 'index.html'))) {
    throw new Error(
      `ADMIN_STATIC_DIR: no index.html in ${root} (run pnpm --filter @fen/admin build)`,
    )
  }
  return async (ctx, next) => {
    if (ctx.path === '/admin') return ctx.redirect('/admin/')
    if (!ctx.path.startsWith('/admin/') || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) {
      return next()
    }
    let file = resolve(root, `.${decodeURIComponentSafe(ctx.path.slice('/admin'.length))}`)
    // Outside the build (`..`, an encoded slash): not ours to serve.
    if (file !== root && !file.startsWith(root + sep)) return next()
    const isFile = await stat(file).then(
      (s) => s.isFile(),
      () => false,
    )
    if (!isFile) {
      // A missing asset is a 404 (a stale page asking for an old build's chunk), not the app.
      if (ctx.path.startsWith('/admin/assets/')) return next()
      file = join(root, 'index.html')
    }
    ctx.type = contentTypeOf(file) ?? 'application/octet-stream'
    // The other security headers are every answer's (app.ts).
    ctx.set('Content-Security-Policy', CONSOLE_CSP)
    ctx.set(
      'cache-control',
      ctx.path.startsWith('/admin/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    )
    ctx.body = await readFile(file)
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
