import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WechatPay, WechatPayV2, type PlatformKeyOptions } from '@fen/wechatpay'
import { loadOrCreateKeys, merchantView, readKeysFile, type SandboxKeys } from '../src/keys'
import type { NotificationRecord } from '../src/notifier'
import { startSandbox, type RunningSandbox } from '../src/server'
import { sleep, until } from './support/until'
import { sandboxKeys } from './support/keys'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

let keys: SandboxKeys
let sb: RunningSandbox
/** A notify endpoint that accepts everything, recording what it got. */
let notify: { url: string; received: { headers: IncomingHttpHeaders; body: string }[] }
let closeNotify: () => Promise<void>
const tmpDirs: string[] = []

beforeAll(async () => {
  keys = await sandboxKeys()
  sb = await startSandbox({ keys, port: 0, refundSettleSeconds: 5 })
  const received: { headers: IncomingHttpHeaders; body: string }[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  notify = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`, received }
  closeNotify = async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})

afterAll(async () => {
  await sb?.close()
  await closeNotify?.()
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true })
})

afterEach(async () => {
  await call('POST', '/__sandbox/reset')
  await call('POST', '/__sandbox/platform', {
    mode: 'publicKey',
    activeCertificate: keys.platformCertificates[0]!.serialNo,
    listedCertificates: keys.platformCertificates.map((c) => c.serialNo),
    publicKeyNotificationShare: 0.5,
  })
  notify.received.length = 0
})

/** A control call; `body` a string is sent as is (for bad JSON). */
async function call(
  method: string,
  path: string,
  body?: unknown,
  target: RunningSandbox = sb,
): Promise<{ status: number; body: Json; text: string; headers: Headers }> {
  const res = await fetch(target.url + path, {
    method,
    ...(body === undefined
      ? {}
      : {
          headers: { 'Content-Type': 'application/json' },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
  })
  const text = await res.text()
  let parsed: Json
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  return { status: res.status, body: parsed, text, headers: res.headers }
}

/** A 4xx answer in the control API's shape: exactly `{code, message}`. */
function expectError(
  r: { status: number; body: Json },
  status: number,
  code: string,
  message?: RegExp,
): void {
  expect(r.status).toBe(status)
  expect(Object.keys(r.body).sort()).toEqual(['code', 'message'])
  expect(r.body.code).toBe(code)
  expect(typeof r.body.message).toBe('string')
  expect(r.body.message.length).toBeGreaterThan(0)
  if (message) expect(r.body.message).toMatch(message)
}

function merchantClient(target: RunningSandbox = sb, platform?: PlatformKeyOptions): WechatPay {
  const m = target.merchant
  return new WechatPay({
    mchid: m.mchid,
    appid: m.appid,
    serialNo: m.merchantSerialNo,
    privateKey: m.merchantPrivateKey,
    apiV3Key: m.apiV3Key,
    baseUrl: target.url,
    maxRetries: 0,
    platform: platform ?? { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
  })
}

let seq = 0
const newNo = (prefix = 'C') => `${prefix}${Date.now()}${String(++seq).padStart(4, '0')}`

async function nativeOrder(total = 100): Promise<{ no: string; codeUrl: string }> {
  const no = newNo()
  const { code_url } = await merchantClient().transactions.native({
    appid: sb.merchant.appid,
    description: 'control test',
    out_trade_no: no,
    notify_url: notify.url,
    amount: { total },
  })
  return { no, codeUrl: code_url }
}

async function jsapiOrder(): Promise<{ no: string; prepayId: string }> {
  const no = newNo('J')
  const { prepay_id } = await merchantClient().transactions.jsapi({
    appid: sb.merchant.appid,
    description: 'control test',
    out_trade_no: no,
    notify_url: notify.url,
    amount: { total: 100 },
    payer: { openid: 'oTestOpenid000000000000000001' },
  })
  return { no, prepayId: prepay_id }
}

async function paidOrder(): Promise<string> {
  const { no } = await nativeOrder()
  expect((await call('POST', '/__sandbox/pay', { out_trade_no: no })).status).toBe(200)
  return no
}

// ---- routing --------------------------------------------------------------------------------

describe('routing', () => {
  it('an unknown path → 404 NOT_FOUND', async () => {
    expectError(await call('GET', '/__sandbox/nope'), 404, 'NOT_FOUND')
    expectError(await call('POST', '/no/such/path', {}), 404, 'NOT_FOUND')
  })

  it('a known path with the wrong method → 405', async () => {
    expectError(await call('GET', '/__sandbox/pay'), 405, 'METHOD_NOT_ALLOWED')
    expectError(await call('DELETE', '/__sandbox/merchant'), 405, 'METHOD_NOT_ALLOWED')
    expectError(await call('PUT', '/__sandbox/clock', {}), 405, 'METHOD_NOT_ALLOWED')
    expectError(await call('POST', '/__sandbox/state', {}), 405, 'METHOD_NOT_ALLOWED')
  })

  it('control bodies that are not JSON → 400 INVALID_JSON', async () => {
    for (const path of [
      '/__sandbox/pay',
      '/__sandbox/clock',
      '/__sandbox/faults',
      '/__sandbox/platform',
      '/__sandbox/login-codes',
      '/__sandbox/request-payment',
      '/__sandbox/refunds/R1',
    ]) {
      expectError(await call('POST', path, '{not json'), 400, 'INVALID_JSON')
    }
  })
})

// ---- merchant ---------------------------------------------------------------------------------

describe('GET /__sandbox/merchant', () => {
  it('has exactly the merchant fields and no WeChat private key', async () => {
    const r = await call('GET', '/__sandbox/merchant')
    expect(r.status).toBe(200)
    expect(Object.keys(r.body).sort()).toEqual(
      [
        'mchid',
        'appid',
        'appSecret',
        'apiV3Key',
        'apiV2Key',
        'merchantSerialNo',
        'merchantPrivateKey',
        'merchantCertificate',
        'platformMode',
        'platformPublicKeyId',
        'platformPublicKey',
        'platformCertificates',
      ].sort(),
    )
    expect(r.body.platformCertificates).toHaveLength(2)
    for (const c of r.body.platformCertificates) {
      expect(Object.keys(c).sort()).toEqual(['certificate', 'serialNo'])
      expect(c.certificate).toContain('BEGIN CERTIFICATE')
    }
    expect(r.body).toEqual({ ...merchantView(keys), platformMode: 'publicKey' })
    // No private platform key anywhere: only the merchant's own private key is in it.
    expect(r.text).not.toContain(JSON.stringify(keys.platformPrivateKey).slice(1, -1))
    for (const c of keys.platformCertificates) {
      expect(r.text).not.toContain(JSON.stringify(c.privateKey).slice(1, -1))
    }
    expect(r.text).not.toContain('platformPrivateKey')
    expect(r.text).not.toContain('privateKey"')
    expect(r.text.match(/BEGIN (RSA )?PRIVATE KEY/g)).toHaveLength(1)
    expect(r.body.merchantPrivateKey).toBe(keys.merchantPrivateKey)
  })
})

// ---- login codes --------------------------------------------------------------------------

describe('POST /__sandbox/login-codes', () => {
  it('issues a code for a new or a given openid', async () => {
    const a = await call('POST', '/__sandbox/login-codes')
    expect(a.status).toBe(200)
    expect(a.body.code).toMatch(/^[0-9A-Za-z]{32}$/)
    expect(a.body.openid).toMatch(/^o[\w-]{27}$/)
    const b = await call('POST', '/__sandbox/login-codes', { openid: 'oMine', errcode: 40226 })
    expect(b.status).toBe(200)
    expect(b.body.openid).toBe('oMine')
    expect(b.body.code).not.toBe(a.body.code)
  })

  it('bad fields → 400 INVALID_INPUT naming the field', async () => {
    expectError(
      await call('POST', '/__sandbox/login-codes', { openid: '' }),
      400,
      'INVALID_INPUT',
      /openid/,
    )
    expectError(
      await call('POST', '/__sandbox/login-codes', { errcode: 'x' }),
      400,
      'INVALID_INPUT',
      /errcode/,
    )
    expectError(
      await call('POST', '/__sandbox/login-codes', { errcode: 1.5 }),
      400,
      'INVALID_INPUT',
      /errcode/,
    )
  })
})

// ---- pay ------------------------------------------------------------------------------------

describe('POST /__sandbox/pay', () => {
  it('pays by out_trade_no, returning the transaction, and notifies', async () => {
    const { no } = await nativeOrder(321)
    const r = await call('POST', '/__sandbox/pay', { out_trade_no: no, openid: 'oPayer' })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({
      out_trade_no: no,
      trade_state: 'SUCCESS',
      trade_type: 'NATIVE',
      amount: { total: 321, payer_total: 321 },
      payer: { openid: 'oPayer' },
    })
    expect(r.body.transaction_id).toMatch(/^4200\d{24}$/)
    const list = await until(
      async () => (await call('GET', `/__sandbox/notifications?out_trade_no=${no}`)).body,
      (l: NotificationRecord[]) => l.length === 1 && l[0]!.status === 'delivered',
    )
    expect(list[0]!.event_type).toBe('TRANSACTION.SUCCESS')
    // Paying it twice: 400 ORDERPAID.
    expectError(await call('POST', '/__sandbox/pay', { out_trade_no: no }), 400, 'ORDERPAID')
  })

  it('pays by code_url and by prepay_id; PAYERROR leaves the order payable', async () => {
    const { no, codeUrl } = await nativeOrder()
    const failed = await call('POST', '/__sandbox/pay', { code_url: codeUrl, result: 'PAYERROR' })
    expect(failed.status).toBe(200)
    expect(failed.body.trade_state).toBe('NOTPAY')
    expect(failed.body.transaction_id).toBeUndefined()
    // No notification for a failed payment.
    expect((await call('GET', `/__sandbox/notifications?out_trade_no=${no}`)).body).toEqual([])
    const ok = await call('POST', '/__sandbox/pay', { code_url: codeUrl })
    expect(ok.body.trade_state).toBe('SUCCESS')

    const j = await jsapiOrder()
    const byPrepay = await call('POST', '/__sandbox/pay', { prepay_id: j.prepayId })
    expect(byPrepay.status).toBe(200)
    expect(byPrepay.body).toMatchObject({ out_trade_no: j.no, trade_state: 'SUCCESS' })
  })

  it('secondPayment: a paid order paid once more, as its own transaction, refundable by it', async () => {
    const { no } = await nativeOrder(100)
    expectError(
      await call('POST', '/__sandbox/pay', { out_trade_no: no, secondPayment: true }),
      400,
      'ORDER_NOT_PAID',
    )
    const first = (await call('POST', '/__sandbox/pay', { out_trade_no: no })).body
    const again = await call('POST', '/__sandbox/pay', { out_trade_no: no, secondPayment: true })
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ out_trade_no: no, trade_state: 'SUCCESS' })
    expect(again.body.transaction_id).toMatch(/^4200\d{24}$/)
    expect(again.body.transaction_id).not.toBe(first.transaction_id)
    // Notified on its own; a query by out_trade_no still answers the first payment.
    await until(
      async () => (await call('GET', `/__sandbox/notifications?out_trade_no=${no}`)).body,
      (l: NotificationRecord[]) => l.length === 2 && l.every((n) => n.status === 'delivered'),
    )
    const wxpay = merchantClient()
    expect((await wxpay.transactions.queryByOutTradeNo(no)).transaction_id).toBe(
      first.transaction_id,
    )
    expect((await wxpay.transactions.queryById(again.body.transaction_id)).trade_state).toBe(
      'SUCCESS',
    )
    // Refunded in full by its transaction_id: the first payment keeps all of its amount.
    const r = await wxpay.refunds.create({
      transaction_id: again.body.transaction_id,
      out_refund_no: newNo('D'),
      amount: { refund: 100, total: 100, currency: 'CNY' },
    })
    expect(r).toMatchObject({ transaction_id: again.body.transaction_id, out_trade_no: no })
    const state = await call('GET', '/__sandbox/state')
    const view = state.body.orders.find((o: Json) => o.out_trade_no === no)
    expect(view).toMatchObject({ trade_state: 'SUCCESS', refunds: [] })
    expect(view.second_payments).toEqual([
      expect.objectContaining({
        transaction_id: again.body.transaction_id,
        trade_state: 'REFUND',
        refunds: [expect.objectContaining({ out_refund_no: r.out_refund_no })],
      }),
    ])
    expectError(
      await call('POST', '/__sandbox/pay', {
        out_trade_no: no,
        secondPayment: true,
        result: 'PAYERROR',
      }),
      400,
      'INVALID_INPUT',
      /secondPayment/,
    )
  })

  it('an unknown order → 404 ORDER_NOT_EXIST', async () => {
    expectError(
      await call('POST', '/__sandbox/pay', { out_trade_no: 'NOSUCHORDER1' }),
      404,
      'ORDER_NOT_EXIST',
    )
    expectError(
      await call('POST', '/__sandbox/pay', { code_url: 'weixin://wxpay/bizpayurl?pr=nope' }),
      404,
      'ORDER_NOT_EXIST',
    )
  })

  it('bad input → 400 INVALID_INPUT', async () => {
    expectError(await call('POST', '/__sandbox/pay', {}), 400, 'INVALID_INPUT', /out_trade_no/)
    expectError(await call('POST', '/__sandbox/pay'), 400, 'INVALID_INPUT')
    expectError(
      await call('POST', '/__sandbox/pay', { out_trade_no: 'X123456', result: 'MAYBE' }),
      400,
      'INVALID_INPUT',
      /result/,
    )
    expectError(
      await call('POST', '/__sandbox/pay', { out_trade_no: 12345678 }),
      400,
      'INVALID_INPUT',
      /out_trade_no/,
    )
    expectError(await call('POST', '/__sandbox/pay', '[]'), 400, 'INVALID_INPUT')
  })
})

// ---- request-payment ------------------------------------------------------------------------

describe('POST /__sandbox/request-payment', () => {
  it('checks paySign like the WeChat client, then pays', async () => {
    const { no, prepayId } = await jsapiOrder()
    const params = await merchantClient().requestPaymentParams(prepayId)
    const tampered = { ...params, nonceStr: params.nonceStr + 'x' }
    const bad = await call('POST', '/__sandbox/request-payment', tampered)
    expect(bad.status).toBe(400)
    expect(bad.body.errMsg).toMatch(/^requestPayment:fail /)
    const cancel = await call('POST', '/__sandbox/request-payment', { ...params, result: 'CANCEL' })
    expect(cancel.body).toEqual({ errMsg: 'requestPayment:fail cancel' })
    const ok = await call('POST', '/__sandbox/request-payment', params)
    expect(ok.status).toBe(200)
    expect(ok.body).toEqual({ errMsg: 'requestPayment:ok' })
    const state = (await call('GET', '/__sandbox/state')).body
    expect(state.orders.find((o: Json) => o.out_trade_no === no).trade_state).toBe('SUCCESS')
  })

  it('an unknown prepay_id → 400 requestPayment:fail; bad fields → 400 INVALID_INPUT', async () => {
    const { prepayId } = await jsapiOrder()
    const params = await merchantClient().requestPaymentParams(prepayId)
    const unknown = await call('POST', '/__sandbox/request-payment', {
      ...params,
      package: 'prepay_id=wx_nope',
    })
    expect(unknown.status).toBe(400)
    expect(unknown.body.errMsg).toMatch(/prepay_id/)
    const { paySign: _omit, ...unsigned } = params
    expectError(
      await call('POST', '/__sandbox/request-payment', unsigned),
      400,
      'INVALID_INPUT',
      /paySign/,
    )
    expectError(
      await call('POST', '/__sandbox/request-payment', { ...params, signType: 'SHA1' }),
      400,
      'INVALID_INPUT',
      /signType/,
    )
  })
})

// ---- notifications --------------------------------------------------------------------------

describe('GET /__sandbox/notifications and resend', () => {
  it('lists all, or one order’s; resend delivers again; unknown id → 404', async () => {
    const a = await paidOrder()
    const b = await paidOrder()
    const all = await until(
      async () => (await call('GET', '/__sandbox/notifications')).body as NotificationRecord[],
      (l) => l.length === 2 && l.every((n) => n.status === 'delivered'),
    )
    expect(all.map((n) => n.out_trade_no).sort()).toEqual([a, b].sort())
    const onlyA = (await call('GET', `/__sandbox/notifications?out_trade_no=${a}`)).body
    expect(onlyA).toHaveLength(1)
    expect(onlyA[0].out_trade_no).toBe(a)
    expect((await call('GET', '/__sandbox/notifications?out_trade_no=NOSUCHORDER1')).body).toEqual(
      [],
    )

    const before = notify.received.length
    const r = await call('POST', `/__sandbox/notifications/${onlyA[0].id}/resend`)
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ id: onlyA[0].id, status: 'delivered' })
    expect(r.body.attempts).toHaveLength(2)
    expect(notify.received.length).toBe(before + 1)

    expectError(await call('POST', '/__sandbox/notifications/nope/resend'), 404, 'NOT_FOUND')
  })
})

// ---- clock ---------------------------------------------------------------------------------

describe('/__sandbox/clock', () => {
  it('GET reads it; POST advances it', async () => {
    const g = await call('GET', '/__sandbox/clock')
    expect(g.status).toBe(200)
    expect(g.body.scale).toBe(1)
    const before = Date.parse(g.body.now)
    expect(Math.abs(before - Date.now())).toBeLessThan(24 * 3600_000 * 30) // earlier tests advanced it
    const p = await call('POST', '/__sandbox/clock', { advanceSeconds: 3600 })
    expect(p.status).toBe(200)
    expect(p.body.scale).toBe(1)
    const after = Date.parse(p.body.now)
    expect(after - before).toBeGreaterThanOrEqual(3_600_000)
    expect(after - before).toBeLessThan(3_600_000 + 2000)
    const zero = await call('POST', '/__sandbox/clock', { advanceSeconds: 0 })
    expect(zero.status).toBe(200)
  })

  it('negative, missing or non-numeric seconds → 400 INVALID_INPUT, and the clock stays', async () => {
    const before = Date.parse((await call('GET', '/__sandbox/clock')).body.now)
    for (const body of [
      { advanceSeconds: -1 },
      {},
      { advanceSeconds: '60' },
      { advanceSeconds: null },
    ]) {
      expectError(
        await call('POST', '/__sandbox/clock', body),
        400,
        'INVALID_INPUT',
        /advanceSeconds/,
      )
    }
    const after = Date.parse((await call('GET', '/__sandbox/clock')).body.now)
    expect(after - before).toBeLessThan(2000)
  })

  it('an advance beyond what a date can hold → 400, and the clock keeps working', async () => {
    // A throwaway sandbox: if the clock breaks, it breaks there.
    const other = await startSandbox({ keys, port: 0 })
    try {
      const r = await call('POST', '/__sandbox/clock', { advanceSeconds: 1e13 }, other)
      expectError(r, 400, 'INVALID_INPUT', /advanceSeconds/)
      const g = await call('GET', '/__sandbox/clock', undefined, other)
      expect(g.status).toBe(200)
      expect(Math.abs(Date.parse(g.body.now) - Date.now())).toBeLessThan(5000)
    } finally {
      await other.close()
    }
  })
})

// ---- refunds ----------------------------------------------------------------------------

describe('refunds', () => {
  async function refund(no: string, amount = 50): Promise<string> {
    const outRefundNo = newNo('R')
    const r = await merchantClient().refunds.create({
      out_trade_no: no,
      out_refund_no: outRefundNo,
      amount: { refund: amount, total: 100, currency: 'CNY' },
    })
    expect(r.status).toBe('PROCESSING')
    return outRefundNo
  }

  it('auto-settle: SUCCESS once the clock passes 5 s, with a REFUND.SUCCESS notification', async () => {
    const wxpay = merchantClient()
    const no = await paidOrder()
    const outRefundNo = await refund(no)
    await call('POST', '/__sandbox/clock', { advanceSeconds: 4 })
    await sleep(50)
    expect((await wxpay.refunds.query(outRefundNo)).status).toBe('PROCESSING')
    await call('POST', '/__sandbox/clock', { advanceSeconds: 2 })
    await until(
      async () => (await wxpay.refunds.query(outRefundNo)).status,
      (s) => s === 'SUCCESS',
    )
    const list = await until(
      async () =>
        (await call('GET', `/__sandbox/notifications?out_trade_no=${no}`))
          .body as NotificationRecord[],
      (l) => l.some((n) => n.event_type === 'REFUND.SUCCESS' && n.status === 'delivered'),
    )
    const n = list.find((x) => x.event_type === 'REFUND.SUCCESS')!
    expect(n.out_refund_no).toBe(outRefundNo)
    const got = notify.received.find((r) => JSON.parse(r.body).id === n.id)!
    const event = await wxpay.parseNotification(got.headers as Record<string, string>, got.body)
    expect(event.type).toBe('refund')
    if (event.type === 'refund') {
      expect(event.refund).toMatchObject({
        out_trade_no: no,
        out_refund_no: outRefundNo,
        refund_status: 'SUCCESS',
        amount: { refund: 50, total: 100 },
      })
    }
  })

  it('POST /__sandbox/refunds/:no settles by hand; unknown → 404; bad status → 400', async () => {
    const no = await paidOrder()
    const outRefundNo = await refund(no, 30)
    const abnormal = await call('POST', `/__sandbox/refunds/${outRefundNo}`, { status: 'ABNORMAL' })
    expect(abnormal.status).toBe(200)
    expect(abnormal.body).toMatchObject({ out_refund_no: outRefundNo, status: 'ABNORMAL' })
    const success = await call('POST', `/__sandbox/refunds/${outRefundNo}`, { status: 'SUCCESS' })
    expect(success.status).toBe(200)
    expect(success.body.status).toBe('SUCCESS')
    expect(success.body.success_time).toMatch(/\+08:00$/)
    // A settled refund cannot be settled again.
    expectError(
      await call('POST', `/__sandbox/refunds/${outRefundNo}`, { status: 'CLOSED' }),
      400,
      'INVALID_REQUEST',
    )
    const events = await until(
      async () =>
        (
          (await call('GET', `/__sandbox/notifications?out_trade_no=${no}`))
            .body as NotificationRecord[]
        )
          .map((n) => n.event_type)
          .sort(),
      (l) => l.length === 3,
    )
    expect(events).toEqual(['REFUND.ABNORMAL', 'REFUND.SUCCESS', 'TRANSACTION.SUCCESS'])

    expectError(
      await call('POST', '/__sandbox/refunds/NO_SUCH_REFUND', { status: 'SUCCESS' }),
      404,
      'RESOURCE_NOT_EXISTS',
    )
    expectError(
      await call('POST', `/__sandbox/refunds/${outRefundNo}`, { status: 'DONE' }),
      400,
      'INVALID_INPUT',
      /status/,
    )
    expectError(await call('POST', `/__sandbox/refunds/${outRefundNo}`, {}), 400, 'INVALID_INPUT')
  })

  it('a refund number that is not valid percent-encoding → 4xx, not a server error', async () => {
    const r = await call('POST', '/__sandbox/refunds/%E0%A4%A', { status: 'SUCCESS' })
    expect(r.status).toBeGreaterThanOrEqual(400)
    expect(r.status).toBeLessThan(500)
    expect(Object.keys(r.body).sort()).toEqual(['code', 'message'])
  })

  it('a CLOSED refund puts the order back to SUCCESS', async () => {
    const no = await paidOrder()
    const outRefundNo = await refund(no)
    const closed = await call('POST', `/__sandbox/refunds/${outRefundNo}`, { status: 'CLOSED' })
    expect(closed.status).toBe(200)
    expect(closed.body.status).toBe('CLOSED')
    const state = (await call('GET', '/__sandbox/state')).body
    expect(state.orders.find((o: Json) => o.out_trade_no === no).trade_state).toBe('SUCCESS')
  })

  it('reset also forgets a refund still waiting to settle: no notification after reset', async () => {
    const no = await paidOrder()
    await refund(no)
    await until(
      async () => (await call('GET', '/__sandbox/notifications')).body as NotificationRecord[],
      (l) => l.length === 1 && l[0]!.status === 'delivered',
    )
    expect((await call('POST', '/__sandbox/reset')).status).toBe(204)
    await call('POST', '/__sandbox/clock', { advanceSeconds: 10 })
    await sleep(100)
    const state = (await call('GET', '/__sandbox/state')).body
    expect(state.orders).toEqual([])
    expect(state.notifications).toEqual([])
  })
})

// ---- reset and state ------------------------------------------------------------------------

describe('POST /__sandbox/reset and GET /__sandbox/state', () => {
  it('state shows orders, notifications and faults; reset empties them all', async () => {
    const no = await paidOrder()
    await nativeOrder()
    await call('POST', '/__sandbox/faults', { target: '/v3/pay', kind: 'error500', count: 3 })
    await until(
      async () => (await call('GET', '/__sandbox/notifications')).body as NotificationRecord[],
      (l) => l.length === 1 && l[0]!.status === 'delivered',
    )
    const s = await call('GET', '/__sandbox/state')
    expect(s.status).toBe(200)
    expect(Number.isNaN(Date.parse(s.body.now))).toBe(false)
    expect(s.body.orders).toHaveLength(2)
    expect(s.body.orders.find((o: Json) => o.out_trade_no === no)).toMatchObject({
      api: 'v3',
      trade_state: 'SUCCESS',
      total: 100,
      notify_url: notify.url,
      refunds: [],
    })
    expect(s.body.notifications).toHaveLength(1)
    expect(s.body.faults).toEqual([{ target: '/v3/pay', kind: 'error500', remaining: 3 }])

    const r = await call('POST', '/__sandbox/reset')
    expect(r.status).toBe(204)
    expect(r.text).toBe('')
    const after = (await call('GET', '/__sandbox/state')).body
    expect(after.orders).toEqual([])
    expect(after.notifications).toEqual([])
    expect(after.faults).toEqual([])
    expect((await call('GET', '/__sandbox/notifications')).body).toEqual([])
    expect((await call('GET', '/__sandbox/faults')).body).toEqual([])
    // The order is gone for the API too.
    expectError(await call('POST', '/__sandbox/pay', { out_trade_no: no }), 404, 'ORDER_NOT_EXIST')
  })
})

// ---- faults ----------------------------------------------------------------------------------

describe('/__sandbox/faults', () => {
  it('arms path and notification faults, lists them, and a path fault hits the next call', async () => {
    const a = await call('POST', '/__sandbox/faults', {
      target: '/v3/pay/transactions',
      kind: 'error500',
    })
    expect(a.status).toBe(200)
    expect(a.body.armed).toEqual([
      { target: '/v3/pay/transactions', kind: 'error500', remaining: 1 },
    ])
    const b = await call('POST', '/__sandbox/faults', {
      target: 'notifications',
      kind: 'delay',
      count: 2,
      seconds: 30,
    })
    expect(b.body.armed).toHaveLength(2)
    expect((await call('GET', '/__sandbox/faults')).body).toEqual([
      { target: '/v3/pay/transactions', kind: 'error500', remaining: 1 },
      { target: 'notifications', kind: 'delay', remaining: 2, seconds: 30 },
    ])
    // The fault answers before any signature check; the next call is checked as usual.
    const path = `/v3/pay/transactions/out-trade-no/NOSUCHORDER1?mchid=${sb.merchant.mchid}`
    const first = await call('GET', path)
    expectError(first, 500, 'SYSTEM_ERROR')
    const second = await call('GET', path)
    expect(second.status).toBe(401)
    expect(second.body.code).toBe('SIGN_ERROR')
    expect((await call('GET', '/__sandbox/faults')).body).toEqual([
      { target: 'notifications', kind: 'delay', remaining: 2, seconds: 30 },
    ])
  })

  it('every documented kind is accepted for its target', async () => {
    for (const kind of ['error500', 'error429', 'timeout', 'reset', 'probe']) {
      expect((await call('POST', '/__sandbox/faults', { target: '/v3/', kind })).status).toBe(200)
    }
    for (const kind of ['drop', 'duplicate', 'delay', 'reorder', 'probe']) {
      const r = await call('POST', '/__sandbox/faults', { target: 'notifications', kind })
      expect(r.status).toBe(200)
    }
    expect((await call('GET', '/__sandbox/faults')).body).toHaveLength(10)
  })

  it('bad faults → 400 INVALID_INPUT, nothing armed', async () => {
    // A kind that exists, but not for this target.
    expectError(
      await call('POST', '/__sandbox/faults', { target: 'notifications', kind: 'error500' }),
      400,
      'INVALID_INPUT',
      /drop/,
    )
    expectError(
      await call('POST', '/__sandbox/faults', { target: '/v3/pay', kind: 'drop' }),
      400,
      'INVALID_INPUT',
      /error500/,
    )
    expectError(
      await call('POST', '/__sandbox/faults', { target: '/v3/pay', kind: 'explode' }),
      400,
      'INVALID_INPUT',
    )
    // A path target must start with '/'.
    expectError(
      await call('POST', '/__sandbox/faults', { target: 'v3/pay', kind: 'error500' }),
      400,
      'INVALID_INPUT',
      /\//,
    )
    expectError(
      await call('POST', '/__sandbox/faults', { target: '', kind: 'error500' }),
      400,
      'INVALID_INPUT',
      /target/,
    )
    for (const count of [0, -1, 1.5, '2']) {
      expectError(
        await call('POST', '/__sandbox/faults', { target: '/v3/', kind: 'reset', count }),
        400,
        'INVALID_INPUT',
        /count/,
      )
    }
    expectError(
      await call('POST', '/__sandbox/faults', {
        target: 'notifications',
        kind: 'delay',
        seconds: -5,
      }),
      400,
      'INVALID_INPUT',
      /seconds/,
    )
    expectError(await call('POST', '/__sandbox/faults', {}), 400, 'INVALID_INPUT')
    expect((await call('GET', '/__sandbox/faults')).body).toEqual([])
  })
})

// ---- rate faults ----------------------------------------------------------------------------

describe('rate faults', () => {
  const QUERY = '/v3/pay/transactions/out-trade-no/NOSUCHORDER2'
  /** 1 for a call the fault answered (500), 0 for one that reached WeChat's checks (401). */
  async function hits(n: number): Promise<number[]> {
    const out: number[] = []
    for (let i = 0; i < n; i++) {
      const r = await call('GET', `${QUERY}?mchid=${sb.merchant.mchid}`)
      expect([500, 401]).toContain(r.status)
      out.push(r.status === 500 ? 1 : 0)
    }
    return out
  }

  // ~620 calls one after another: seconds on a busy CI machine, past vitest's default 5 s.
  it('hits each matching call with probability rate, the same calls for the same seed, until cleared', async () => {
    const armed = await call('POST', '/__sandbox/faults', {
      target: '/v3/pay',
      kind: 'error500',
      rate: 0.3,
      seed: 42,
    })
    expect(armed.status).toBe(200)
    expect(armed.body.armed).toEqual([
      { target: '/v3/pay', kind: 'error500', rate: 0.3, seed: 42, hits: 0 },
    ])
    const first = await hits(200)
    const hit = first.reduce((a, b) => a + b, 0)
    // 200 draws at 0.3: 60 expected; 4 standard deviations either side is 34 … 86.
    expect(hit).toBeGreaterThan(34)
    expect(hit).toBeLessThan(86)
    // Still armed after any number of hits, and counting them.
    expect((await call('GET', '/__sandbox/faults')).body).toEqual([
      { target: '/v3/pay', kind: 'error500', rate: 0.3, seed: 42, hits: hit },
    ])

    // Armed again with the same seed, it hits the very same calls.
    expect((await call('DELETE', '/__sandbox/faults')).status).toBe(204)
    expect((await call('GET', '/__sandbox/faults')).body).toEqual([])
    await call('POST', '/__sandbox/faults', {
      target: '/v3/pay',
      kind: 'error500',
      rate: 0.3,
      seed: 42,
    })
    expect(await hits(200)).toEqual(first)
    // Another seed, other calls.
    await call('DELETE', '/__sandbox/faults')
    await call('POST', '/__sandbox/faults', {
      target: '/v3/pay',
      kind: 'error500',
      rate: 0.3,
      seed: 43,
    })
    expect(await hits(200)).not.toEqual(first)

    // Cleared: no call is hit any more.
    await call('DELETE', '/__sandbox/faults')
    expect(await hits(20)).toEqual(Array(20).fill(0))
  }, 30_000)

  it('rate 1 hits every call; without a seed one is drawn and listed', async () => {
    const r = await call('POST', '/__sandbox/faults', { target: '/v3/', kind: 'error429', rate: 1 })
    expect(r.status).toBe(200)
    const [fault] = r.body.armed
    expect(Number.isInteger(fault.seed)).toBe(true)
    expect(fault.seed).toBeGreaterThanOrEqual(0)
    expect(fault.seed).toBeLessThan(2 ** 32)
    for (let i = 0; i < 5; i++) {
      expectError(
        await call('GET', `${QUERY}?mchid=${sb.merchant.mchid}`),
        429,
        'FREQUENCY_LIMITED',
      )
    }
    expect((await call('GET', '/__sandbox/faults')).body).toMatchObject([{ hits: 5 }])
  })

  it('a miss goes on to the next armed fault; counted faults before it are taken first', async () => {
    await call('POST', '/__sandbox/faults', { target: '/v3/', kind: 'error429', count: 2 })
    // Never hits (a rate of 1e-9), so every call falls through to the rate fault after it.
    await call('POST', '/__sandbox/faults', { target: '/v3/', kind: 'reset', rate: 1e-9, seed: 1 })
    await call('POST', '/__sandbox/faults', { target: '/v3/', kind: 'error500', rate: 1, seed: 1 })
    const statuses = []
    for (let i = 0; i < 4; i++) {
      statuses.push((await call('GET', `${QUERY}?mchid=${sb.merchant.mchid}`)).status)
    }
    expect(statuses).toEqual([429, 429, 500, 500])
    expect((await call('GET', '/__sandbox/faults')).body).toEqual([
      { target: '/v3/', kind: 'reset', rate: 1e-9, seed: 1, hits: 0 },
      { target: '/v3/', kind: 'error500', rate: 1, seed: 1, hits: 2 },
    ])
  })

  it('notifications take a rate too: half of them dropped, deterministically', async () => {
    await call('POST', '/__sandbox/faults', {
      target: 'notifications',
      kind: 'drop',
      rate: 0.5,
      seed: 7,
    })
    const nos: string[] = []
    for (let i = 0; i < 12; i++) nos.push(await paidOrder())
    const dropped = await until(
      async () => (await call('GET', '/__sandbox/notifications')).body as NotificationRecord[],
      (l) => l.length === 12 && l.every((n) => n.status === 'dropped' || n.status === 'delivered'),
    )
    const count = dropped.filter((n) => n.status === 'dropped').length
    expect(count).toBe((await call('GET', '/__sandbox/faults')).body[0].hits)
    expect(count).toBeGreaterThan(0)
    expect(count).toBeLessThan(12)
    expect(notify.received).toHaveLength(12 - count)
  })

  it('bad rate faults → 400 INVALID_INPUT, nothing armed', async () => {
    for (const rate of [0, -0.1, 1.5, '0.2']) {
      expectError(
        await call('POST', '/__sandbox/faults', { target: '/v3/', kind: 'error500', rate }),
        400,
        'INVALID_INPUT',
        /rate/,
      )
    }
    for (const seed of [-1, 1.5, 2 ** 32]) {
      expectError(
        await call('POST', '/__sandbox/faults', {
          target: '/v3/',
          kind: 'error500',
          rate: 0.5,
          seed,
        }),
        400,
        'INVALID_INPUT',
        /seed/,
      )
    }
    expectError(
      await call('POST', '/__sandbox/faults', {
        target: '/v3/',
        kind: 'error500',
        rate: 0.5,
        count: 2,
      }),
      400,
      'INVALID_INPUT',
      /count or rate/,
    )
    expectError(
      await call('POST', '/__sandbox/faults', { target: '/v3/', kind: 'error500', seed: 3 }),
      400,
      'INVALID_INPUT',
      /seed/,
    )
    expect((await call('GET', '/__sandbox/faults')).body).toEqual([])
  })

  it('reset clears rate faults too', async () => {
    await call('POST', '/__sandbox/faults', { target: '/v3/', kind: 'error500', rate: 1 })
    await call('POST', '/__sandbox/reset')
    expect((await call('GET', '/__sandbox/faults')).body).toEqual([])
  })
})

// ---- the call log ---------------------------------------------------------------------------

describe('GET /__sandbox/calls', () => {
  it("lists every call to WeChat's side with its order, fault and status; control calls are not in it", async () => {
    const { no } = await nativeOrder()
    await call('POST', '/__sandbox/faults', {
      target: '/v3/pay/transactions/out-trade-no',
      kind: 'error500',
    })
    await call('POST', '/__sandbox/faults', {
      target: '/v3/pay/transactions/out-trade-no',
      kind: 'timeout',
    })
    const client = merchantClient()
    await expect(client.transactions.queryByOutTradeNo(no)).rejects.toMatchObject({ status: 500 })
    const hung = await fetch(
      `${sb.url}/v3/pay/transactions/out-trade-no/${no}?mchid=${sb.merchant.mchid}`,
      { signal: AbortSignal.timeout(200) },
    ).catch((e: Error) => e)
    expect(hung).toBeInstanceOf(Error)
    expect((await client.transactions.queryByOutTradeNo(no)).trade_state).toBe('NOTPAY')
    await client.transactions.close(no)
    const other = await nativeOrder()

    const mine = await until(
      async () => (await call('GET', `/__sandbox/calls?out_trade_no=${no}`)).body,
      (l: Json[]) => l.length === 5,
    )
    expect(mine.map((c: Json) => [c.method, c.path, c.fault, c.status])).toEqual([
      ['POST', '/v3/pay/transactions/native', undefined, 200],
      ['GET', `/v3/pay/transactions/out-trade-no/${no}`, 'error500', 500],
      ['GET', `/v3/pay/transactions/out-trade-no/${no}`, 'timeout', undefined],
      ['GET', `/v3/pay/transactions/out-trade-no/${no}`, undefined, 200],
      ['POST', `/v3/pay/transactions/out-trade-no/${no}/close`, undefined, 204],
    ])
    expect(mine.every((c: Json) => c.out_trade_no === no && typeof c.at === 'string')).toBe(true)
    const all = (await call('GET', '/__sandbox/calls')).body
    expect(all).toHaveLength(6)
    expect(all[5]).toMatchObject({ out_trade_no: other.no, status: 200 })
    await call('POST', '/__sandbox/reset')
    expect((await call('GET', '/__sandbox/calls')).body).toEqual([])
  })

  it('names the order of a refund, of a refund query, and of an APIv2 call', async () => {
    const no = await paidOrder()
    const client = merchantClient()
    await client.refunds.create({
      out_trade_no: no,
      out_refund_no: `${no}-R1`,
      amount: { refund: 50, total: 100, currency: 'CNY' },
    })
    await client.refunds.query(`${no}-R1`)
    const v2 = new WechatPayV2({
      mchid: sb.merchant.mchid,
      appid: sb.merchant.appid,
      apiV2Key: sb.merchant.apiV2Key,
      baseUrl: sb.url,
    })
    await v2.orderQuery({ out_trade_no: no })
    // Calls that name the payment by WeChat's transaction id alone.
    const { transaction_id } = await client.transactions.queryByOutTradeNo(no)
    await client.refunds.create({
      transaction_id: transaction_id!,
      out_refund_no: `${no}-R2`,
      amount: { refund: 50, total: 100, currency: 'CNY' },
    })
    await v2.orderQuery({ transaction_id: transaction_id! })
    const paths = (await call('GET', `/__sandbox/calls?out_trade_no=${no}`)).body.map(
      (c: Json) => c.path,
    )
    expect(paths).toEqual([
      '/v3/pay/transactions/native',
      '/v3/refund/domestic/refunds',
      `/v3/refund/domestic/refunds/${no}-R1`,
      '/pay/orderquery',
      `/v3/pay/transactions/out-trade-no/${no}`,
      '/v3/refund/domestic/refunds',
      '/pay/orderquery',
    ])
  })
})

// ---- platform -----------------------------------------------------------------------------

describe('POST /__sandbox/platform', () => {
  it('switches the mode and the signing certificate (a rotation drill)', async () => {
    const [cert1, cert2] = keys.platformCertificates
    const { no } = await nativeOrder()
    const r = await call('POST', '/__sandbox/platform', {
      mode: 'certificate',
      activeCertificate: cert2!.serialNo,
    })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      mode: 'certificate',
      activeCertificate: cert2!.serialNo,
      listedCertificates: [cert1!.serialNo, cert2!.serialNo],
      publicKeyNotificationShare: 0.5,
    })
    expect((await call('GET', '/__sandbox/merchant')).body.platformMode).toBe('certificate')

    // Answers are now signed by certificate 2: a client holding only it verifies them…
    const onlyCert2 = merchantClient(sb, { certificates: [cert2!.certificate] })
    expect((await onlyCert2.transactions.queryByOutTradeNo(no)).out_trade_no).toBe(no)
    // …and one holding only certificate 1 does not.
    const onlyCert1 = merchantClient(sb, { certificates: [cert1!.certificate] })
    await expect(onlyCert1.transactions.queryByOutTradeNo(no)).rejects.toThrow()

    const share = await call('POST', '/__sandbox/platform', {
      mode: 'both',
      publicKeyNotificationShare: 1,
    })
    expect(share.body).toEqual({
      mode: 'both',
      activeCertificate: cert2!.serialNo,
      listedCertificates: [cert1!.serialNo, cert2!.serialNo],
      publicKeyNotificationShare: 1,
    })
    // An empty body changes nothing.
    expect((await call('POST', '/__sandbox/platform', {})).body.mode).toBe('both')
  })

  it('listedCertificates: what /v3/certificates lists; switching the signing one lists it', async () => {
    const [cert1, cert2] = keys.platformCertificates
    const listed = async () =>
      (await merchantClient(sb, { certificates: 'download' }).certificates.list()).map(
        (c) => c.serialNo,
      )
    const r = await call('POST', '/__sandbox/platform', {
      mode: 'certificate',
      listedCertificates: [cert1!.serialNo],
    })
    expect(r.body.listedCertificates).toEqual([cert1!.serialNo])
    expect(await listed()).toEqual([cert1!.serialNo])
    // The rotation: certificate 2 signs from now on, and is listed.
    const rotated = await call('POST', '/__sandbox/platform', {
      activeCertificate: cert2!.serialNo,
    })
    expect(rotated.body.listedCertificates).toEqual([cert1!.serialNo, cert2!.serialNo])
    expect(await listed()).toEqual([cert1!.serialNo, cert2!.serialNo])
    // The signing certificate stays listed whatever is asked.
    const only1 = await call('POST', '/__sandbox/platform', {
      listedCertificates: [cert1!.serialNo],
    })
    expect(only1.body.listedCertificates).toEqual([cert1!.serialNo, cert2!.serialNo])
    expectError(
      await call('POST', '/__sandbox/platform', { listedCertificates: ['DEADBEEF'] }),
      400,
      'INVALID_INPUT',
      /listedCertificates/,
    )
  })

  it('an unknown certificate or a bad mode/share → 400 INVALID_INPUT, nothing changed', async () => {
    expectError(
      await call('POST', '/__sandbox/platform', { activeCertificate: 'DEADBEEF' }),
      400,
      'INVALID_INPUT',
      /activeCertificate/,
    )
    expectError(
      await call('POST', '/__sandbox/platform', { mode: 'rsa' }),
      400,
      'INVALID_INPUT',
      /mode/,
    )
    expectError(
      await call('POST', '/__sandbox/platform', { publicKeyNotificationShare: 2 }),
      400,
      'INVALID_INPUT',
      /publicKeyNotificationShare/,
    )
    const m = (await call('GET', '/__sandbox/merchant')).body
    expect(m.platformMode).toBe('publicKey')
  })
})

// ---- keys and the CLI ------------------------------------------------------------------------

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'fen-sandbox-test-'))
  tmpDirs.push(d)
  return d
}

describe('keys files', () => {
  it('loadOrCreateKeys creates the file (mode 0600), then reads the same keys back', async () => {
    const file = join(tmp(), 'nested', 'dir', 'keys.json')
    const first = await loadOrCreateKeys(file)
    expect(first.created).toBe(true)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(first.keys)
    const second = await loadOrCreateKeys(file)
    expect(second.created).toBe(false)
    expect(second.keys).toEqual(first.keys)
    expect(second.keys.platformMode).toBe('publicKey')
    expect(second.keys.platformCertificates).toHaveLength(2)
    // Key generation (RSA) takes seconds on a busy machine.
  }, 30_000)

  it('readKeysFile names the missing field of an incomplete file', () => {
    const dir = tmp()
    for (const missing of ['apiV2Key', 'platformPrivateKey', 'platformCertificates'] as const) {
      const partial: Record<string, unknown> = { ...keys }
      delete partial[missing]
      const file = join(dir, `no-${missing}.json`)
      writeFileSync(file, JSON.stringify(partial))
      expect(() => readKeysFile(file)).toThrow(new RegExp(`has no ${missing}$`))
    }
  })

  it('readKeysFile refuses non-JSON and incomplete certificates; defaults the mode', async () => {
    const dir = tmp()
    const notJson = join(dir, 'bad.json')
    writeFileSync(notJson, 'not json')
    expect(() => readKeysFile(notJson)).toThrow(/is not JSON/)
    const badCert = join(dir, 'cert.json')
    writeFileSync(
      badCert,
      JSON.stringify({
        ...keys,
        platformCertificates: [
          { serialNo: 'AB', certificate: keys.platformCertificates[0]!.certificate },
        ],
      }),
    )
    expect(() => readKeysFile(badCert)).toThrow(/serialNo, certificate, privateKey/)
    const noMode = join(dir, 'nomode.json')
    const { platformMode: _mode, ...rest } = keys
    writeFileSync(noMode, JSON.stringify(rest))
    expect(readKeysFile(noMode)).toEqual({ ...rest, platformMode: 'publicKey' })
    // A file that exists but is incomplete is an error for loadOrCreateKeys too, never replaced.
    const partial = join(dir, 'partial.json')
    writeFileSync(partial, JSON.stringify({ mchid: '1900000001' }))
    await expect(loadOrCreateKeys(partial)).rejects.toThrow(/has no appid/)
    expect(readFileSync(partial, 'utf8')).toBe(JSON.stringify({ mchid: '1900000001' }))
  })
})

describe('the close/pay race', () => {
  it('pays a CLOSED order only with afterClose, and notifies as usual', async () => {
    const sb = await startSandbox({ keys, port: 0 })
    try {
      const m = sb.merchant
      const wxpay = new WechatPay({
        baseUrl: sb.url,
        mchid: m.mchid,
        appid: m.appid,
        serialNo: m.merchantSerialNo,
        privateKey: m.merchantPrivateKey,
        apiV3Key: m.apiV3Key,
        platform: { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
      })
      await wxpay.transactions.native({
        description: 'race',
        out_trade_no: 'RACE000001',
        notify_url: 'http://127.0.0.1:9/notify',
        amount: { total: 100 },
      })
      await wxpay.transactions.close('RACE000001')
      const post = (body: object) =>
        fetch(`${sb.url}/__sandbox/pay`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        })
      const refused = await post({ out_trade_no: 'RACE000001' })
      expect(refused.status).toBe(400)
      expect(((await refused.json()) as { code: string }).code).toBe('ORDER_CLOSED')
      const late = await post({ out_trade_no: 'RACE000001', afterClose: true })
      expect(late.status).toBe(200)
      expect(((await late.json()) as { trade_state: string }).trade_state).toBe('SUCCESS')
      expect((await wxpay.transactions.queryByOutTradeNo('RACE000001')).trade_state).toBe('SUCCESS')
      expect(sb.sandbox.notifier.list('RACE000001').map((n) => n.event_type)).toEqual([
        'TRANSACTION.SUCCESS',
      ])
    } finally {
      await sb.close()
    }
    // It generates keys (RSA): seconds on a busy machine.
  }, 30_000)
})
