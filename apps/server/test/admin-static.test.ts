/** ADMIN_STATIC_DIR: the console's build under /admin/, history routes falling back to index.html. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './harness'

let h: Harness
const dir = mkdtempSync(join(tmpdir(), 'fen-admin-static-'))

beforeAll(async () => {
  mkdirSync(join(dir, 'assets'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>')
  writeFileSync(join(dir, 'assets', 'app-abc123.js'), 'console.log(1)')
  writeFileSync(join(dir, '..', 'fen-admin-secret.txt'), 'not served')
  h = await startHarness({ env: { ADMIN_STATIC_DIR: dir } })
})
afterAll(async () => {
  await h.close()
  rmSync(dir, { recursive: true, force: true })
  rmSync(join(dir, '..', 'fen-admin-secret.txt'), { force: true })
})

const get = (path: string) => fetch(`${h.url}${path}`, { redirect: 'manual' })

describe('the console under /admin/', () => {
  it('serves index.html, uncached, at /admin/ and at any app route', async () => {
    for (const path of ['/admin/', '/admin/orders', '/admin/orders/FEN2025061020000012345678']) {
      const res = await get(path)
      expect([path, res.status, res.headers.get('content-type')]).toEqual([
        path,
        200,
        'text/html; charset=utf-8',
      ])
      expect(res.headers.get('cache-control')).toBe('no-cache')
      expect(await res.text()).toContain('<title>console</title>')
    }
    const bare = await get('/admin')
    expect([bare.status, bare.headers.get('location')]).toEqual([302, '/admin/'])
  })

  it('serves hashed assets cached for good; a missing asset is a 404, not the page', async () => {
    const js = await get('/admin/assets/app-abc123.js')
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(js.headers.get('cache-control')).toContain('immutable')
    expect(await js.text()).toBe('console.log(1)')
    const missing = await get('/admin/assets/old-build.js')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ code: 'NOT_FOUND' })
  })

  it('never serves a file outside the build', async () => {
    for (const path of [
      '/admin/../fen-admin-secret.txt',
      '/admin/%2e%2e/fen-admin-secret.txt',
      '/admin/..%2ffen-admin-secret.txt',
    ]) {
      const res = await get(path)
      expect(await res.text()).not.toContain('not served')
    }
  })

  it('forbids framing, sniffing and referrers, and runs only its own scripts (CSP)', async () => {
    for (const path of ['/admin/', '/admin/orders', '/admin/assets/app-abc123.js']) {
      const res = await get(path)
      expect([path, res.status]).toEqual([path, 200])
      expect({
        csp: res.headers.get('content-security-policy'),
        frame: res.headers.get('x-frame-options'),
        sniff: res.headers.get('x-content-type-options'),
        referrer: res.headers.get('referrer-policy'),
      }).toEqual({
        // Element Plus positions its popups with inline styles: style-src needs 'unsafe-inline'.
        csp: "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        frame: 'DENY',
        sniff: 'nosniff',
        referrer: 'no-referrer',
      })
    }
  })

  it('leaves the API alone', async () => {
    expect((await get('/api/admin/summary')).status).toBe(401)
    expect((await get('/healthz')).status).toBe(200)
  })
})
