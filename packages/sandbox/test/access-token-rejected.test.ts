import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MemoryAccessTokenStore } from '@fen/wechatpay'
import { startSandbox, type RunningSandbox } from '../src/server'
import { sandboxKeys } from './support/keys'
import { callsTo, control, miniProgram } from './support/weixin'

/**
 * The SDK's forced refresh after 40001/42001 never hands back the token WeChat just rejected,
 * even when the shared store keeps it because it "expires later" (newest wins by expiry).
 */

let sb: RunningSandbox

beforeAll(async () => {
  sb = await startSandbox({ keys: await sandboxKeys(), port: 0 })
})
afterAll(async () => {
  await sb?.close()
})
afterEach(() => {
  sb.sandbox.weixin.tokens.clear()
})

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
