/**
 * code2Session answers a `unionid` only when the mini-program is bound to an Open Platform
 * account: a setting of the sandbox, off by default, so code relying on unionid fails here as it
 * would at WeChat.
 */
import { describe, expect, it } from 'vitest'
import { control } from './support/independent-client'
import { useFidelitySandbox } from './support/fidelity'

const f = useFidelitySandbox()

async function login(openid: string): Promise<Record<string, unknown>> {
  const code = (await control<{ code: string }>(f.sb.url, 'POST', '/login-codes', { openid })).json
    .code
  const q = new URLSearchParams({
    appid: f.m.appid,
    secret: f.m.appSecret,
    js_code: code,
    grant_type: 'authorization_code',
  })
  const res = await fetch(`${f.sb.url}/sns/jscode2session?${q}`)
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

describe('code2Session and unionid', () => {
  it('has no unionid by default', async () => {
    expect((await control(f.sb.url, 'GET', '/settings')).json).toMatchObject({
      openPlatformBound: false,
    })
    const s = await login('oOpenid_default')
    expect(s.openid).toBe('oOpenid_default')
    expect(s).not.toHaveProperty('unionid')
  })

  it('answers a stable unionid once the app is bound to an Open Platform account', async () => {
    const bound = await control(f.sb.url, 'POST', '/settings', { openPlatformBound: true })
    expect(bound.json).toMatchObject({ openPlatformBound: true })
    try {
      const a = await login('oOpenid_bound')
      expect(a.unionid).toMatch(/^oU[\w-]{26}$/)
      expect((await login('oOpenid_bound')).unionid).toBe(a.unionid)
      expect((await login('oOpenid_other')).unionid).not.toBe(a.unionid)
    } finally {
      await control(f.sb.url, 'POST', '/settings', { openPlatformBound: false })
    }
    expect(await login('oOpenid_bound')).not.toHaveProperty('unionid')
  })

  it('refuses a setting that is not a boolean', async () => {
    const r = await control<{ code: string }>(f.sb.url, 'POST', '/settings', {
      openPlatformBound: 'yes',
    })
    expect(r.status).toBe(400)
    expect(r.json.code).toBe('INVALID_INPUT')
  })
})
