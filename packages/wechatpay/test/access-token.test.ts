import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ConfigError,
  MemoryAccessTokenStore,
  MiniProgramError,
  isMiniProgramError,
  type AccessToken,
  type AccessTokenStore,
  type MiniProgramClientOptions,
} from '../src'
import { caught } from './support/caught'
import { startFakeWeixinApi, weixinError, type FakeWeixinApi } from './support/fake-weixin-api'

const APPID = 'wx4f4bc4dec97d474b'
/** Recognisable, so a leak into an error message is easy to spot. */
const SECRET = 'f3c8a1d2e9b74c5aSECRETb0d6e2f4a9'
const PING = '/wxa/sec/order/is_trade_managed'

let now = Date.UTC(2026, 11, 2, 8, 0, 0)
const clock = () => now
let api: FakeWeixinApi

beforeEach(async () => {
  now = Date.UTC(2026, 11, 2, 8, 0, 0)
  api = await startFakeWeixinApi({ appid: APPID, secret: SECRET, clock })
  api.route(PING, () => ({ errcode: 0, errmsg: 'ok', is_trade_managed: true }))
})
afterEach(() => api.close())

const client = (extra: Partial<MiniProgramClientOptions> = {}) => api.client(extra)

const tokenCalls = () => api.callsTo('/cgi-bin/stable_token')

describe('access_token from /cgi-bin/stable_token', () => {
  it('POSTs grant_type, appid and secret as JSON to /cgi-bin/stable_token, never /cgi-bin/token', async () => {
    const token = await client().accessToken.get()
    expect(token).toBe(api.currentToken)
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /cgi-bin/stable_token'])
    const [call] = tokenCalls()
    expect(call!.contentType).toBe('application/json')
    expect(call!.json()).toEqual({ grant_type: 'client_credential', appid: APPID, secret: SECRET })
    expect([...call!.query.keys()]).toEqual([]) // the secret is never in a URL
  })

  it('adds the token to each call as ?access_token= and reuses it', async () => {
    const mp = client()
    await mp.shipping.isTradeManaged()
    await mp.shipping.isTradeManaged()
    expect(tokenCalls()).toHaveLength(1)
    const pings = api.callsTo(PING)
    expect(pings.map((c) => c.query.get('access_token'))).toEqual([
      api.currentToken,
      api.currentToken,
    ])
  })

  it('renews the token 120 s before it expires, not earlier', async () => {
    const mp = client()
    const first = await mp.accessToken.get()
    now += (7200 - 121) * 1000
    expect(await mp.accessToken.get()).toBe(first)
    expect(tokenCalls()).toHaveLength(1)
    now += 2000 // 119 s left: WeChat is in its last 5 minutes and issues a new token
    const second = await mp.accessToken.get()
    expect(tokenCalls()).toHaveLength(2)
    expect(second).not.toBe(first)
  })

  it('refuses a refresh margin WeChat cannot honour (300 s or more)', () => {
    expect(() => client({ tokenRefreshMarginSeconds: 300 })).toThrow(ConfigError)
  })

  it('collapses concurrent refreshes in one process into one request (single-flight)', async () => {
    const mp = client()
    const tokens = await Promise.all(Array.from({ length: 8 }, () => mp.accessToken.get()))
    expect(new Set(tokens).size).toBe(1)
    expect(tokenCalls()).toHaveLength(1)
  })

  it('shares one token between instances through the store (read-through)', async () => {
    const store = new MemoryAccessTokenStore()
    const a = client({ tokenStore: store })
    const b = client({ tokenStore: store })
    const token = await a.accessToken.get()
    expect(await b.accessToken.get()).toBe(token)
    expect(tokenCalls()).toHaveLength(1)
  })

  it('sends force_refresh only when asked, and the new token replaces the old one', async () => {
    const mp = client()
    const old = await mp.accessToken.get()
    const fresh = await mp.accessToken.refresh({ forceRefresh: true })
    expect(tokenCalls().map((c) => c.json().force_refresh)).toEqual([undefined, true])
    expect(fresh).not.toBe(old)
    expect(await mp.accessToken.get()).toBe(fresh)
  })
})

describe('a call refused with 40001 / 42001', () => {
  it.each([
    ['42001 (expired)', 'expired' as const],
    ['40001 (superseded)', 'invalid' as const],
  ])('%s refreshes the token once and repeats the call', async (_name, how) => {
    const mp = client()
    const old = await mp.accessToken.get()
    api.spoil(old, how)
    expect(await mp.shipping.isTradeManaged()).toBe(true)
    const pings = api.callsTo(PING)
    expect(pings).toHaveLength(2)
    expect(pings[0]!.query.get('access_token')).toBe(old)
    expect(pings[1]!.query.get('access_token')).toBe(api.currentToken)
    expect(api.currentToken).not.toBe(old)
    // Normal mode: a refresh never burns one of the 20 daily force_refresh calls.
    expect(tokenCalls().map((c) => c.json().force_refresh)).toEqual([undefined, undefined])
  })

  it('repeats the call only once: a second 40001 is thrown', async () => {
    const mp = client()
    api.replyOnce(
      PING,
      weixinError(40001, 'invalid credential'),
      weixinError(40001, 'invalid credential'),
    )
    const e = await caught(mp.shipping.isTradeManaged())
    expect(isMiniProgramError(e, 40001)).toBe(true)
    expect(api.callsTo(PING)).toHaveLength(2)
  })

  it('uses the token another instance already renewed instead of asking WeChat', async () => {
    const store = new MemoryAccessTokenStore()
    const a = client({ tokenStore: store })
    const b = client({ tokenStore: store })
    const old = await a.accessToken.get()
    await b.accessToken.get()
    api.spoil(old, 'expired')
    await b.shipping.isTradeManaged() // b renews and stores the new token
    expect(tokenCalls()).toHaveLength(2)
    await a.shipping.isTradeManaged() // a is refused with its cached token, then reads b's
    expect(tokenCalls()).toHaveLength(2)
    expect(api.callsTo(PING).at(-1)!.query.get('access_token')).toBe(api.currentToken)
  })

  it('collapses the refreshes of concurrent refused calls into one', async () => {
    const mp = client()
    api.spoil(await mp.accessToken.get(), 'expired')
    const answers = await Promise.all(Array.from({ length: 5 }, () => mp.shipping.isTradeManaged()))
    expect(answers).toEqual([true, true, true, true, true])
    expect(tokenCalls()).toHaveLength(2)
  })
})

describe('AccessTokenStore contract: newest wins', () => {
  it('keeps the token that expires later, whichever order the saves come in', async () => {
    const store = new MemoryAccessTokenStore()
    const older: AccessToken = { accessToken: 'OLD', expiresAt: 1_000 }
    const newer: AccessToken = { accessToken: 'NEW', expiresAt: 2_000 }
    expect(await store.save(APPID, newer)).toEqual(newer)
    expect(await store.save(APPID, older)).toEqual(newer) // a slow instance cannot roll it back
    expect(await store.get(APPID)).toEqual(newer)
    expect(await store.get('wx-other-app')).toBeUndefined()
  })

  it('an instance whose save lost uses the winning token', async () => {
    const winner: AccessToken = { accessToken: 'WINNER', expiresAt: now + 9_000_000 }
    // A store where another instance always got there first.
    const store: AccessTokenStore = {
      get: async () => undefined,
      save: async () => winner,
    }
    expect(await client({ tokenStore: store }).accessToken.get()).toBe('WINNER')
  })
})

describe('stable_token errors', () => {
  it.each([
    [40013, 'invalid appid'],
    [40125, 'invalid appsecret'],
    [40164, 'invalid ip 203.0.113.9 ipv6 ::ffff:203.0.113.9, not in whitelist'],
    [40243, 'AppSecret已被冻结，请登录小程序平台解冻后再次调用'],
    [45009, 'reach max api daily quota limit'],
  ])('%i is a MiniProgramError with errcode, errmsg and rid', async (errcode, errmsg) => {
    api.failTokens(weixinError(errcode, errmsg))
    const e = await caught(client().accessToken.get())
    expect(e).toBeInstanceOf(MiniProgramError)
    const err = e as MiniProgramError
    expect(err.errcode).toBe(errcode)
    expect(err.errmsg).toContain(errmsg)
    expect(err.rid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/)
    expect(err.api).toBe('/cgi-bin/stable_token')
    expect(isMiniProgramError(e, errcode)).toBe(true)
    expect(isMiniProgramError(e, 1)).toBe(false)
    expect(JSON.stringify({ ...err, message: err.message, stack: err.stack })).not.toContain(SECRET)
  })

  it('a wrong secret is refused by the fake exactly as by WeChat, and never retried', async () => {
    const mp = client({ secret: 'wrong' })
    const e = await caught(mp.shipping.isTradeManaged())
    expect(isMiniProgramError(e, 40125)).toBe(true)
    expect(tokenCalls()).toHaveLength(1)
    expect(api.callsTo(PING)).toHaveLength(0)
  })

  it('a failed refresh leaves nothing cached: the next call asks again', async () => {
    api.failTokens(weixinError(-1, 'system error'))
    const mp = client()
    await caught(mp.accessToken.get())
    api.failTokens(undefined)
    expect(await mp.accessToken.get()).toBe(api.currentToken)
    expect(tokenCalls()).toHaveLength(2)
  })
})
