/**
 * `jsapi` and `native` prepay for one order at the same moment: WeChat takes the first and refuses
 * the other (same out_trade_no, other trade_type); the loser is told 409 PAY_CHANNEL_LOCKED, as a
 * later second channel is — not 502 WECHAT_ERROR.
 */
import type { PayResponse } from '@fen/shared'
import { startHarness, type Harness, type PayGateway } from '@fen/server/test/harness'
import { afterAll, describe, expect, it } from 'vitest'
import { createOrder } from './support'

let h: Harness | undefined
afterAll(() => h?.close())

/** While set, the JSAPI prepay waits for it before it reaches WeChat. */
let holdJsapi: { arrived: () => void; open: Promise<void> } | undefined

function delayJsapi(gateway: PayGateway): PayGateway {
  const prepayJsapi = gateway.prepayJsapi.bind(gateway)
  gateway.prepayJsapi = async (input) => {
    const g = holdJsapi
    holdJsapi = undefined
    if (g) {
      g.arrived()
      await g.open
    }
    return prepayJsapi(input)
  }
  return gateway
}

describe.each(['v3', 'v2'] as const)('APIv%s', (apiVersion) => {
  it('the loser of a jsapi/native race gets 409 PAY_CHANNEL_LOCKED', async () => {
    await h?.close()
    h = await startHarness({ apiVersion, wrapGateway: delayJsapi })
    const hh = h
    const token = await hh.login()
    const order = await createOrder(hh, token, [{ productId: 2, quantity: 1 }])
    const pay = (channel: string) =>
      hh.api<PayResponse & { code?: string }>('POST', `/api/orders/${order.orderNo}/pay`, {
        token,
        body: { channel },
      })
    let open!: () => void
    let arrived!: () => void
    const held = new Promise<void>((r) => (arrived = r))
    holdJsapi = { arrived, open: new Promise<void>((r) => (open = r)) }

    const jsapi = pay('jsapi')
    await held // jsapi has passed every check of ours and is about to ask WeChat
    const native = await pay('native')
    open()
    const loser = await jsapi

    expect(native.status, JSON.stringify(native.body)).toBe(200)
    expect(loser.status, JSON.stringify(loser.body)).toBe(409)
    expect(loser.body.code).toBe('PAY_CHANNEL_LOCKED')
  })
})
