/**
 * The sandbox playing both of WeChat Pay's hosts (`backupPort`): one WeChat, two ports, and the
 * `unreachable` fault that takes only the primary down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NetworkError, WechatPay } from '@fen/wechatpay'
import type { CallRecord } from '../src/calls'
import { startSandbox, type RunningSandbox } from '../src/server'
import { sandboxKeys } from './support/keys'

let sb: RunningSandbox
beforeAll(async () => {
  sb = await startSandbox({ keys: await sandboxKeys(), port: 0, backupPort: 0 })
})
afterAll(() => sb?.close())

function client(backup: boolean): WechatPay {
  const m = sb.merchant
  return new WechatPay({
    mchid: m.mchid,
    appid: m.appid,
    serialNo: m.merchantSerialNo,
    privateKey: m.merchantPrivateKey,
    apiV3Key: m.apiV3Key,
    baseUrl: sb.url,
    ...(backup ? { backupBaseUrl: sb.backupUrl! } : {}),
    maxRetries: 0,
    platform: { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
  })
}

async function control(method: string, path: string, body?: unknown) {
  const res = await fetch(sb.url + path, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

const calls = async (no: string): Promise<CallRecord[]> =>
  (await control('GET', `/__sandbox/calls?out_trade_no=${no}`)).body

let seq = 0
async function prepay(wxpay: WechatPay): Promise<string> {
  const no = `BK${Date.now()}${String(++seq).padStart(4, '0')}`
  await wxpay.transactions.native({
    description: 'backup test',
    out_trade_no: no,
    notify_url: 'http://127.0.0.1:9/notify',
    amount: { total: 1 },
  })
  return no
}

describe('the backup host', () => {
  it('is the same WeChat on a second port, named in /__sandbox/merchant', async () => {
    expect(sb.backupUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(sb.backupUrl).not.toBe(sb.url)
    expect(sb.merchant.backupBaseUrl).toBe(sb.backupUrl)
    // An order made at the primary is known at the backup (one state).
    const no = await prepay(client(false))
    const m = sb.merchant
    const viaBackup = new WechatPay({
      mchid: m.mchid,
      serialNo: m.merchantSerialNo,
      privateKey: m.merchantPrivateKey,
      apiV3Key: m.apiV3Key,
      baseUrl: sb.backupUrl!,
      platform: { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
    })
    expect((await viaBackup.transactions.queryByOutTradeNo(no)).trade_state).toBe('NOTPAY')
    expect((await calls(no)).map((c) => c.host ?? 'primary')).toEqual(['primary', 'backup'])
  })

  it('unreachable: the primary gives no HTTP answer and applies nothing; the backup serves', async () => {
    const armed = await control('POST', '/__sandbox/faults', {
      target: '/v3/pay/transactions',
      kind: 'unreachable',
      rate: 1,
    })
    expect(armed.status).toBe(200)
    try {
      // Without a backup: a network error, and the order never reached WeChat.
      const lone = client(false)
      await expect(
        lone.transactions.native({
          description: 'backup test',
          out_trade_no: 'BKNEVER0001',
          notify_url: 'http://127.0.0.1:9/notify',
          amount: { total: 1 },
        }),
      ).rejects.toBeInstanceOf(NetworkError)
      const state = await control('GET', '/__sandbox/state')
      expect(
        state.body.orders.some((o: { out_trade_no: string }) => o.out_trade_no === 'BKNEVER0001'),
      ).toBe(false)

      // With one: the same request is sent to the backup, which answers.
      const no = await prepay(client(true))
      const log = await calls(no)
      expect(log.map((c) => [c.host ?? 'primary', c.fault, c.status])).toEqual([
        ['primary', 'unreachable', undefined],
        ['backup', undefined, 200],
      ])
    } finally {
      await control('DELETE', '/__sandbox/faults')
    }
  })
})
