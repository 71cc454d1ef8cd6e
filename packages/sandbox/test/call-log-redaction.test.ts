import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redactBody, redactQuery } from '../src/calls'
import { startSandbox, type RunningSandbox } from '../src/server'
import { sandboxKeys } from './support/keys'
import { control, miniProgram, weixin, type Json } from './support/weixin'

/**
 * The call log (`GET /__sandbox/calls`) never shows a credential: the access_token of each
 * mini-program call, the appsecret of stable_token and jscode2session, the session_key.
 */

let sb: RunningSandbox
beforeAll(async () => {
  sb = await startSandbox({ keys: await sandboxKeys(), port: 0 })
})
afterAll(() => sb?.close())

describe('the call log redacts credentials', () => {
  it('access_token, secret and session_key never appear in a query or a body', async () => {
    const secret = sb.merchant.appSecret
    const mp = miniProgram(sb)
    expect(await mp.shipping.isTradeManaged()).toBe(true)
    const token = await mp.accessToken.get()
    // A raw call with the token in the query, and a login (secret in the query, session_key back).
    expect(
      (await weixin(sb, '/wxa/sec/order/is_trade_managed', { appid: sb.merchant.appid }, token))
        .errcode,
    ).toBe(0)
    const code = (await control(sb, 'POST', '/__sandbox/login-codes', {})).body.code as string
    const q = new URLSearchParams({
      appid: sb.merchant.appid,
      secret,
      js_code: code,
      grant_type: 'authorization_code',
    })
    const login = (await (await fetch(`${sb.url}/sns/jscode2session?${q}`)).json()) as Json
    expect(login.session_key).toEqual(expect.any(String))

    const text = JSON.stringify((await control(sb, 'GET', '/__sandbox/calls')).body)
    expect(text).not.toContain(token)
    expect(text).not.toContain(encodeURIComponent(token))
    expect(text).not.toContain(secret)
    expect(text).not.toContain(login.session_key)
    const calls = (await control(sb, 'GET', '/__sandbox/calls')).body as Json[]
    const stable = calls.find((c) => c.path === '/cgi-bin/stable_token')
    expect(stable.request_body).toContain('"secret":"[redacted]"')
    expect(stable.response_body).toContain('"access_token":"[redacted]"')
    const managed = calls.filter((c) => c.path === '/wxa/sec/order/is_trade_managed')
    expect(managed.length).toBeGreaterThanOrEqual(2)
    for (const c of managed) expect(c.query).toBe('access_token=[redacted]')
    const session = calls.find((c) => c.path === '/sns/jscode2session')
    expect(session.query).toContain('secret=[redacted]')
    expect(session.query).toContain(`appid=${sb.merchant.appid}`)
    expect(session.response_body).toContain('"session_key":"[redacted]"')
  })

  it('redacts every credential name, in queries, JSON and form bodies, and leaves the rest', () => {
    expect(redactQuery('access_token=abc&appid=wx1&secret=s3&appsecret=x')).toBe(
      'access_token=[redacted]&appid=wx1&secret=[redacted]&appsecret=[redacted]',
    )
    expect(redactQuery('my_secret=keep&token=keep')).toBe('my_secret=keep&token=keep')
    expect(redactBody('{"appid":"wx1","secret" : "s\\"3","access_token":"t"}')).toBe(
      '{"appid":"wx1","secret" : "[redacted]","access_token":"[redacted]"}',
    )
    expect(redactBody('grant_type=client_credential&secret=s3')).toBe(
      'grant_type=client_credential&secret=[redacted]',
    )
    expect(redactBody('<xml><sign>ABC</sign></xml>')).toBe('<xml><sign>ABC</sign></xml>')
  })
})
