import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { MiniProgramError } from '@fen/wechatpay'
import { MemoryAccessTokenStore, isMiniProgramError } from '@fen/wechatpay'
import { startSandbox, type RunningSandbox } from '../src/server'
import { sandboxKeys } from './support/keys'
import { advance, callsTo, control, miniProgram, weixin, type Json } from './support/weixin'

/**
 * access_token as WeChat issues it (wechat-ops-api.md §2), driven through the SDK's
 * MiniProgramClient and raw calls: 7200 s on the sandbox clock, the same token in normal mode, a
 * new one in the last 5 minutes, force_refresh's limits, 40001/42001 and the SDK's one refresh.
 */

let sb: RunningSandbox

beforeAll(async () => {
  sb = await startSandbox({ keys: await sandboxKeys(), port: 0 })
})
afterAll(async () => {
  await sb?.close()
})
afterEach(() => {
  // Tokens survive a reset (they are the app's credentials): start each test from none.
  sb.sandbox.weixin.tokens.clear()
})

const stable = (body: object = {}): Promise<Json> =>
  weixin(sb, '/cgi-bin/stable_token', {
    grant_type: 'client_credential',
    appid: sb.merchant.appid,
    secret: sb.merchant.appSecret,
    ...body,
  })

const managed = (token: string): Promise<Json> =>
  weixin(sb, '/wxa/sec/order/is_trade_managed', { appid: sb.merchant.appid }, token)

describe('POST /cgi-bin/stable_token', () => {
  it('issues a token for 7200 s of sandbox time and hands the same one back while it is valid', async () => {
    const first = await stable()
    expect(first.expires_in).toBe(7200)
    expect(first.access_token.length).toBeGreaterThan(100)
    expect(first.errcode).toBeUndefined()
    await advance(sb, 1000)
    const again = await stable()
    expect(again.access_token).toBe(first.access_token)
    expect(again.expires_in).toBeLessThanOrEqual(6200)
    expect(again.expires_in).toBeGreaterThan(6100)
    expect((await managed(first.access_token)).errcode).toBe(0)
  })

  it('renews in the last 5 minutes; the old token keeps working until it expires, then 42001', async () => {
    const first = await stable()
    await advance(sb, 7200 - 200) // 200 s left
    const renewed = await stable()
    expect(renewed.access_token).not.toBe(first.access_token)
    expect(renewed.expires_in).toBe(7200)
    expect((await managed(first.access_token)).errcode).toBe(0)
    await advance(sb, 200)
    const old = await managed(first.access_token)
    expect(old.errcode).toBe(42001)
    expect(old.errmsg).toMatch(/access_token expired rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/)
    expect((await managed(renewed.access_token)).errcode).toBe(0)
  })

  it('answers the documented errcodes for bad credentials', async () => {
    expect((await stable({ appid: 'wx0000000000000000' })).errcode).toBe(40013)
    expect((await stable({ secret: 'not-the-secret' })).errcode).toBe(40125)
    expect((await stable({ grant_type: 'authorization_code' })).errcode).toBe(40002)
    expect((await stable({ appid: '' })).errcode).toBe(41002)
    expect((await stable({ secret: '' })).errcode).toBe(41004)
    expect((await weixin(sb, '/cgi-bin/stable_token', 'not json')).errcode).toBe(47001)
    // The SDK turns them into MiniProgramError.
    const wrong = miniProgram(sb, { secret: 'not-the-secret' })
    const e = await wrong.accessToken.get().catch((x: unknown) => x)
    expect(isMiniProgramError(e, 40125)).toBe(true)
    expect((e as MiniProgramError).rid).toMatch(/^[0-9a-f-]{26}$/)
  })

  it('answers 41001 without a token, 40001 for an unknown one', async () => {
    const none = await weixin(sb, '/wxa/sec/order/is_trade_managed', { appid: sb.merchant.appid })
    expect(none.errcode).toBe(41001)
    expect((await managed('90_not-a-token')).errcode).toBe(40001)
  })

  it('force_refresh revokes the current token at once (40001) and issues a new one', async () => {
    const first = await stable()
    const forced = await stable({ force_refresh: true })
    expect(forced.access_token).not.toBe(first.access_token)
    expect(forced.expires_in).toBe(7200)
    const old = await managed(first.access_token)
    expect(old.errcode).toBe(40001)
    expect(old.errmsg).toContain('not latest')
    expect((await managed(forced.access_token)).errcode).toBe(0)
  })

  it('force_refresh within 30 s of the last one does not refresh (the current token comes back)', async () => {
    const forced = await stable({ force_refresh: true })
    await advance(sb, 29)
    const tooSoon = await stable({ force_refresh: true })
    expect(tooSoon.access_token).toBe(forced.access_token)
    expect((await managed(forced.access_token)).errcode).toBe(0)
    await advance(sb, 1)
    const later = await stable({ force_refresh: true })
    expect(later.access_token).not.toBe(forced.access_token)
  })

  it('force_refresh works 20 times a Beijing day; the 21st does not refresh; the next day it works again', async () => {
    // Start just after a Beijing midnight so the 20 (31 s apart) fit in one day.
    const now = sb.sandbox.clock.now()
    const dayMs = 86_400_000
    const sinceMidnight = (now + 8 * 3600_000) % dayMs
    await advance(sb, Math.ceil((dayMs - sinceMidnight) / 1000) + 1)
    const tokens = new Set<string>()
    for (let i = 0; i < 20; i++) {
      tokens.add((await stable({ force_refresh: true })).access_token)
      await advance(sb, 31)
    }
    expect(tokens.size).toBe(20)
    const overview = (await control(sb, 'GET', '/__sandbox/access-token')).body
    expect(overview.force_refreshes_today).toBe(20)
    expect(overview.force_refreshes_left_today).toBe(0)
    const last = [...tokens].at(-1)
    expect((await stable({ force_refresh: true })).access_token).toBe(last)
    await advance(sb, 86_400)
    expect((await stable({ force_refresh: true })).access_token).not.toBe(last)
  })

  it('GET /cgi-bin/token is a separate family: a new token per call, the previous one works 5 more minutes', async () => {
    const get = async () =>
      (
        await fetch(
          `${sb.url}/cgi-bin/token?grant_type=client_credential&appid=${sb.merchant.appid}&secret=${sb.merchant.appSecret}`,
        )
      ).json() as Promise<Json>
    const s = await stable()
    const a = await get()
    const b = await get()
    expect(a.access_token).not.toBe(b.access_token)
    expect((await managed(a.access_token)).errcode).toBe(0)
    await advance(sb, 300)
    expect((await managed(a.access_token)).errcode).toBe(40001)
    expect((await managed(b.access_token)).errcode).toBe(0)
    // The stable token was not touched by either.
    expect((await managed(s.access_token)).errcode).toBe(0)
  })

  it('answers a GET to a POST-only API with 43002', async () => {
    const r = (await (await fetch(`${sb.url}/wxa/sec/order/get_order`)).json()) as Json
    expect(r.errcode).toBe(43002)
  })
})

describe('the SDK against expiring tokens', () => {
  it('caches the token: many calls, one stable_token request', async () => {
    const mp = miniProgram(sb)
    const before = (await callsTo(sb, '/cgi-bin/stable_token')).length
    for (let i = 0; i < 3; i++) expect(await mp.shipping.isTradeManaged()).toBe(true)
    expect((await callsTo(sb, '/cgi-bin/stable_token')).length - before).toBe(1)
  })

  for (const how of ['expired', 'invalid'] as const) {
    it(`a token made ${how} mid-run (POST /__sandbox/access-token/expire) → ${how === 'expired' ? 42001 : 40001} → the SDK refreshes once and repeats the call`, async () => {
      const mp = miniProgram(sb)
      expect(await mp.shipping.isTradeManaged()).toBe(true)
      const first = await mp.accessToken.get()
      const spoiled = await control(sb, 'POST', '/__sandbox/access-token/expire', { how })
      expect(spoiled.status).toBe(200)
      expect(spoiled.body).toMatchObject({ access_token: first, status: how })
      const tokenCalls = (await callsTo(sb, '/cgi-bin/stable_token')).length
      const apiCalls = (await callsTo(sb, '/wxa/sec/order/is_trade_managed')).length
      expect(await mp.shipping.isTradeManaged()).toBe(true)
      expect((await callsTo(sb, '/cgi-bin/stable_token')).length - tokenCalls).toBe(1)
      const calls = (await callsTo(sb, '/wxa/sec/order/is_trade_managed')).slice(apiCalls)
      expect(calls).toHaveLength(2)
      expect(calls[0].response_body).toContain(`"errcode":${how === 'expired' ? 42001 : 40001}`)
      expect(calls[1].response_body).toContain('"errcode":0')
      const second = await mp.accessToken.get()
      expect(second).not.toBe(first)
    })
  }

  it('after 7200 s of sandbox time (the SDK on the real clock still trusts its token): 42001, one refresh', async () => {
    const mp = miniProgram(sb)
    expect(await mp.shipping.isTradeManaged()).toBe(true)
    await advance(sb, 7200)
    const apiCalls = (await callsTo(sb, '/wxa/sec/order/is_trade_managed')).length
    expect(await mp.shipping.isTradeManaged()).toBe(true)
    const calls = (await callsTo(sb, '/wxa/sec/order/is_trade_managed')).slice(apiCalls)
    expect(calls.map((c: Json) => JSON.parse(c.response_body).errcode)).toEqual([42001, 0])
  })

  it('the SDK on the sandbox clock renews by itself before expiry (no 42001 at all)', async () => {
    const mp = miniProgram(sb, { clock: () => sb.sandbox.clock.now() })
    const first = await mp.accessToken.get()
    // The SDK renews 120 s early: WeChat hands out a new token in the last 300 s.
    await advance(sb, 7200 - 100)
    const apiCalls = (await callsTo(sb, '/wxa/sec/order/is_trade_managed')).length
    expect(await mp.shipping.isTradeManaged()).toBe(true)
    expect(await mp.accessToken.get()).not.toBe(first)
    const calls = (await callsTo(sb, '/wxa/sec/order/is_trade_managed')).slice(apiCalls)
    expect(calls).toHaveLength(1)
  })

  it('a forced refresh through the SDK invalidates what another instance holds; it recovers with one refresh', async () => {
    const a = miniProgram(sb)
    const b = miniProgram(sb)
    const held = await b.accessToken.get()
    expect(await a.accessToken.get()).toBe(held) // stable_token: both get the same one
    const fresh = await a.accessToken.refresh({ forceRefresh: true })
    expect(fresh).not.toBe(held)
    expect(await b.shipping.isTradeManaged()).toBe(true)
    expect(await b.accessToken.get()).toBe(fresh)
  })
})

/**
 * The SDK's forced refresh after 40001/42001 never hands back the token WeChat just rejected,
 * even when the shared store keeps it because it "expires later" (newest wins by expiry).
 */
describe('refresh({ rejected }) with a store that keeps the rejected token', () => {
  for (const how of ['expired', 'invalid'] as const) {
    it(`a token ${how} at WeChat but stored with a later expiry: the fresh one is used, the call succeeds`, async () => {
      const store = new MemoryAccessTokenStore()
      // Instance A's clock runs 60 s ahead: the token it stores "expires" 60 s after any token
      // instance B fetches later, so the store's newest-wins keeps A's.
      const ahead = miniProgram(sb, { tokenStore: store, clock: () => Date.now() + 60_000 })
      const b = miniProgram(sb, { tokenStore: store })
      expect(await ahead.shipping.isTradeManaged()).toBe(true)
      const rejected = await ahead.accessToken.get()
      expect((await control(sb, 'POST', '/__sandbox/access-token/expire', { how })).status).toBe(
        200,
      )

      const tokenCalls = (await callsTo(sb, '/cgi-bin/stable_token')).length
      const apiCalls = (await callsTo(sb, '/wxa/sec/order/is_trade_managed')).length
      expect(await b.shipping.isTradeManaged()).toBe(true)
      const calls = (await callsTo(sb, '/wxa/sec/order/is_trade_managed')).slice(apiCalls)
      expect(
        calls.map((c: { response_body: string }) => JSON.parse(c.response_body).errcode),
      ).toEqual([how === 'expired' ? 42001 : 40001, 0])
      // One refresh, and the store still holds the rejected token (it expires later).
      expect((await callsTo(sb, '/cgi-bin/stable_token')).length - tokenCalls).toBe(1)
      expect((await store.get(sb.merchant.appid))?.accessToken).toBe(rejected)

      // Directly: refresh never returns the rejected token, and B keeps using the fresh one.
      const fresh = await b.accessToken.get()
      expect(fresh).not.toBe(rejected)
      expect(await b.accessToken.refresh({ rejected })).not.toBe(rejected)
      expect(await b.shipping.isTradeManaged()).toBe(true)
    })
  }
})
