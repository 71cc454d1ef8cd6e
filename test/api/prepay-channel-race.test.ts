/**
 * `jsapi` and `native` prepay for one order at the same moment: WeChat takes the first and refuses
 * the other (same out_trade_no, other trade_type); the loser is told 409 PAY_CHANNEL_LOCKED, as a
 * later second channel is — not 502 WECHAT_ERROR.
 */
import type { PayResponse } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, describe, expect, it } from 'vitest'
import { createOrder, gateNextCall } from './support'

let h: Harness | undefined
afterAll(() => h?.close())

const jsapiGate = gateNextCall('prepayJsapi')

describe.each(['v3', 'v2'] as const)('APIv%s', (apiVersion) => {
  it('the loser of a jsapi/native race gets 409 PAY_CHANNEL_LOCKED', async () => {
    await h?.close()
    h = await startHarness({ apiVersion, wrapGateway: jsapiGate.wrap })
    const hh = h
    const token = await hh.login()
    const order = await createOrder(hh, token, [{ productId: 2, quantity: 1 }])
    const pay = (channel: string) =>
      hh.api<PayResponse & { code?: string }>('POST', `/api/orders/${order.orderNo}/pay`, {
        token,
        body: { channel },
      })
    const gate = jsapiGate.arm()
    const jsapi = pay('jsapi')
    await gate.arrived // jsapi has passed every check of ours and is about to ask WeChat
    const native = await pay('native')
    gate.open()
    const loser = await jsapi

    expect(native.status, JSON.stringify(native.body)).toBe(200)
    expect(loser.status, JSON.stringify(loser.body)).toBe(409)
    expect(loser.body.code).toBe('PAY_CHANNEL_LOCKED')
  })
})
