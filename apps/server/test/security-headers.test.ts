/**
 * Security headers on every answer of the JSON API (issue #23 item 5): no page may frame it, no
 * browser may sniff a JSON answer into HTML or script, no URL leaks through a Referer — error
 * answers included. (The console's own headers: admin-static.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, startHarness, type Harness } from './harness'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h.close())

const EXPECTED = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

function headersOf(res: Response): Record<string, string | null> {
  return Object.fromEntries(Object.keys(EXPECTED).map((name) => [name, res.headers.get(name)]))
}

describe('the JSON API', () => {
  it.each([
    ['GET', '/api/products', 200, {}, undefined],
    ['GET', '/api/admin/orders', 200, { authorization: `Bearer ${ADMIN_TOKEN}` }, undefined],
    ['GET', '/api/admin/orders', 401, {}, undefined],
    ['GET', '/api/no-such-thing', 404, {}, undefined],
    ['DELETE', '/api/products', 405, {}, undefined],
    ['POST', '/api/orders', 400, { 'content-type': 'application/json' }, '{not json'],
    ['POST', '/api/auth/login', 413, { 'content-type': 'application/json' }, 'x'.repeat(100_000)],
    ['GET', '/healthz', 200, {}, undefined],
    ['GET', '/metrics', 401, {}, undefined],
  ] as const)('%s %s → %i carries them', async (method, path, status, headers, body) => {
    const res = await fetch(h.url + path, { method, headers, body })
    await res.arrayBuffer()
    expect(res.status).toBe(status)
    expect(headersOf(res)).toEqual(EXPECTED)
  })

  it('a product picture keeps its own CSP (an SVG may run nothing)', async () => {
    const picture = await fetch(`${h.url}/static/products/beans.svg`)
    await picture.arrayBuffer()
    expect(picture.status).toBe(200)
    expect(picture.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    )
    expect(picture.headers.get('x-frame-options')).toBe('DENY')
  })
})
