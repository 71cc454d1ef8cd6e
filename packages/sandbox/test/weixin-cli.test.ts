import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatBeijingTime } from '@fen/wechatpay'
import { startSandbox, type RunningSandbox } from '../src/server'
import { jsonLines, runToEnd } from './support/cli'
import { sandboxKeys } from './support/keys'
import { control, miniProgram, paidJsapiOrder } from './support/weixin'

/** `fen-sandbox confirm-receipt` against an in-process sandbox. */

let sb: RunningSandbox

beforeAll(async () => {
  sb = await startSandbox({ keys: await sandboxKeys(), port: 0 })
})
afterAll(async () => {
  await sb?.close()
})

describe('fen-sandbox confirm-receipt', () => {
  it('confirms a shipped order (exit 0), and exits 1 with the reason when it is not awaiting receipt', async () => {
    const o = await paidJsapiOrder(sb)
    const early = await runToEnd(['confirm-receipt', o.outTradeNo, '--url', sb.url, '--json'])
    expect(early.code).toBe(1)
    expect(JSON.parse(early.err)).toEqual({
      error: { code: 'CANCEL', message: 'confirm-receipt: cancel' },
    })
    await miniProgram(sb).shipping.uploadShippingInfo({
      order_key: { order_number_type: 2, transaction_id: o.transactionId },
      logistics_type: 4,
      delivery_mode: 1,
      shipping_list: [{ item_desc: '到店自提' }],
      upload_time: formatBeijingTime(sb.sandbox.clock.now(), { milliseconds: true }),
      payer: { openid: o.openid },
    })
    const done = await runToEnd(['confirm-receipt', o.outTradeNo, '--url', sb.url, '--json'], {})
    expect(done.code).toBe(0)
    expect(jsonLines(done.out)[0]).toMatchObject({ status: 'success', order: { order_state: 4 } })
    const view = (await control(sb, 'GET', `/__sandbox/shipping?out_trade_no=${o.outTradeNo}`))
      .body[0]
    expect(view.order_state).toBe(4)
  }, 60_000)
})
