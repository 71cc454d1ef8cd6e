/**
 * Behind a proxy, the client's address is the one the trusted proxy appended to X-Forwarded-For
 * (the rightmost `TRUST_PROXY` entries), never the leftmost, which the client writes itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './harness'

let h: Harness
beforeAll(async () => {
  h = await startHarness({ env: { TRUST_PROXY: '1' } })
})
afterAll(() => h?.close())

const login = (xff: string) =>
  h.api<{ code: string }>('POST', '/api/auth/login', {
    body: { code: 'not-a-real-code' },
    headers: { 'x-forwarded-for': xff },
  })

describe('TRUST_PROXY=1 (one proxy in front)', () => {
  it('a client that writes its own X-Forwarded-For entries is still one client: the 31st login is 429', async () => {
    for (let i = 0; i < 30; i++) {
      const res = await login(`198.51.100.${i}, 203.0.113.5`)
      expect(res.status, `attempt ${i + 1}`).toBe(400)
    }
    const res = await login('198.51.100.200, 203.0.113.5')
    expect(res.status).toBe(429)
    expect(res.body.code).toBe('RATE_LIMITED')
  })

  it('another address the proxy appended is another client', async () => {
    const res = await login('198.51.100.1, 203.0.113.6')
    expect(res.status).toBe(400)
  })
})

describe('TRUST_PROXY=2 (two proxies: a CDN, then the load balancer)', () => {
  let h2: Harness
  beforeAll(async () => {
    h2 = await startHarness({ env: { TRUST_PROXY: '2' } })
  })
  afterAll(() => h2?.close())

  it('keys on the second entry from the right', async () => {
    const at = (xff: string) =>
      h2.api<{ code: string }>('POST', '/api/auth/login', {
        body: { code: 'not-a-real-code' },
        headers: { 'x-forwarded-for': xff },
      })
    for (let i = 0; i < 30; i++)
      expect((await at(`10.9.9.${i}, 203.0.113.9, 10.0.0.1`)).status).toBe(400)
    expect((await at('10.9.9.99, 203.0.113.9, 10.0.0.2')).status).toBe(429)
  })
})
