/**
 * The contract suite of @fen/wechatpay, run against the Fen sandbox through its base URL: every
 * APIv3 resource, the three platform-key modes and a certificate rotation, notifications end to
 * end, faults as the SDK sees them, APIv2 and mini-program login. Nothing is stubbed: the SDK talks
 * HTTP to an in-process sandbox, and the sandbox POSTs notifications to a real node:http server.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  ApiError,
  Code2SessionError,
  MiniProgramClient,
  NetworkError,
  PlatformCertificateManager,
  SignatureError,
  TimeoutError,
  WechatPay,
  WechatPayV2,
  failureReply,
  fetchTransport,
  isApiError,
  isOrderPaidError,
  successReply,
  v2NotificationReply,
  type NotificationEvent,
  type PlatformKeyOptions,
  type PrepayRequest,
  type Transport,
  type V2PayNotification,
  type V2SignType,
  type WechatPayClientOptions,
} from '@fen/wechatpay'
import { buildNotification } from '@fen/wechatpay/testing'
import {
  startSandbox,
  type NotificationRecord,
  type RunningSandbox,
  type SandboxKeys,
  type SandboxMerchant,
} from '../src'
import { sandboxKeys } from './support/keys'

// ---- helpers ------------------------------------------------------------------------------------

/** Calls the sandbox control API; JSON in, JSON out. */
async function control<T = unknown>(
  sb: RunningSandbox,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${sb.url}/__sandbox/${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T }
}

/** Polls `check` every 20 ms until it returns something truthy, for at most `ms` (default 2 s). */
async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  ms = 2000,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (e) {
    return e
  }
  throw new Error('expected the call to fail, but it succeeded')
}

/** One HTTP exchange as the SDK's transport saw it. */
interface Exchange {
  method: string
  path: string
  requestSerial: string | undefined
  status?: number
  responseSerial?: string | null
  error?: string
}

/** A fetch transport that records each attempt (retries show up as separate entries). */
function recorder(): { log: Exchange[]; transport: Transport } {
  const log: Exchange[] = []
  const transport: Transport = async (url, init) => {
    const x: Exchange = {
      method: init.method,
      path: new URL(url).pathname,
      requestSerial: init.headers['Wechatpay-Serial'],
    }
    log.push(x)
    try {
      const res = await fetchTransport(url, init)
      x.status = res.status
      x.responseSerial = res.headers.get('wechatpay-serial')
      return res
    } catch (e) {
      x.error = String(e)
      throw e
    }
  }
  return { log, transport }
}

function sdk(
  sb: RunningSandbox,
  platform: PlatformKeyOptions,
  extra: Partial<WechatPayClientOptions> = {},
): WechatPay {
  const m = sb.merchant
  return new WechatPay({
    baseUrl: sb.url,
    mchid: m.mchid,
    appid: m.appid,
    serialNo: m.merchantSerialNo,
    privateKey: m.merchantPrivateKey,
    apiV3Key: m.apiV3Key,
    platform,
    retryDelayMs: 0,
    ...extra,
  })
}

const publicKeyOf = (m: SandboxMerchant) => ({
  id: m.platformPublicKeyId,
  key: m.platformPublicKey,
})

let seq = 0
/** A fresh out_trade_no (6–32 of [0-9A-Za-z_-|*]). */
const tradeNo = (tag: string) => `FEN${tag}${Date.now().toString(36)}${(seq++).toString(36)}`

const OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o'

// ---- the notify server ----------------------------------------------------------------------------

/** What the notify server got: one entry per POST. */
interface Received {
  route: string
  serial: string | undefined
  status: number
  event?: NotificationEvent
  v2?: V2PayNotification
  error?: unknown
}

const received: Received[] = []
/** v3 receivers by route name (`/v3/<name>`); each verifies with its own client's keys. */
const v3Receivers = new Map<string, WechatPay>()
/** v2 receivers by sign type (`/v2/<signType>`). */
const v2Receivers = new Map<string, WechatPayV2>()
let notifyServer: Server
let notifyBase = ''

function startNotifyServer(): Promise<void> {
  notifyServer = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks)
        const [, version, name] = (req.url ?? '').split('/')
        const serial = req.headers['wechatpay-serial'] as string | undefined
        const entry: Received = { route: `${version}/${name}`, serial, status: 0 }
        received.push(entry)
        if (version === 'v2') {
          try {
            entry.v2 = await v2Receivers.get(name!)!.parseNotification(raw.toString('utf8'))
            entry.status = 200
            res.writeHead(200, { 'Content-Type': 'text/xml' }).end(v2NotificationReply(true))
          } catch (e) {
            entry.error = e
            entry.status = 200
            res.writeHead(200, { 'Content-Type': 'text/xml' }).end(v2NotificationReply(false))
          }
          return
        }
        let reply
        try {
          entry.event = await v3Receivers.get(name!)!.parseNotification(req.headers, raw)
          reply = successReply()
        } catch (e) {
          entry.error = e
          reply = e instanceof SignatureError ? failureReply(401, e.message) : failureReply(500)
        }
        entry.status = reply.status
        res.writeHead(reply.status, reply.headers).end(reply.body)
      })()
    })
  })
  return new Promise((resolve) =>
    notifyServer.listen(0, '127.0.0.1', () => {
      notifyBase = `http://127.0.0.1:${(notifyServer.address() as AddressInfo).port}`
      resolve()
    }),
  )
}

/** A prepay request whose notifications go to the v3 receiver `route`. */
function prepay(no: string, route: string, total = 2990): PrepayRequest {
  return {
    description: 'Fen 合约测试商品',
    out_trade_no: no,
    notify_url: `${notifyBase}/v3/${route}`,
    amount: { total },
  }
}

/** Waits for the parsed TRANSACTION.SUCCESS event of `no`. */
function transactionEvent(no: string) {
  return until(() => {
    const hit = received.find(
      (r) => r.event?.type === 'transaction' && r.event.transaction.out_trade_no === no,
    )
    return hit?.event?.type === 'transaction' ? { ...hit, event: hit.event } : undefined
  }, `the TRANSACTION.SUCCESS notification of ${no}`)
}

async function notificationsOf(sb: RunningSandbox, no: string): Promise<NotificationRecord[]> {
  return (await control<NotificationRecord[]>(sb, 'GET', `notifications?out_trade_no=${no}`)).body
}

// ---- sandboxes ----------------------------------------------------------------------------------

let keys: SandboxKeys
/** Public-key mode (the default). */
let sb: RunningSandbox
/** Certificate mode. */
let sbCert: RunningSandbox
/** Migration: public key and certificates. */
let sbBoth: RunningSandbox
let wxpay: WechatPay

beforeAll(async () => {
  keys = await sandboxKeys()
  ;[sb, sbCert, sbBoth] = await Promise.all([
    startSandbox({ keys, port: 0, refundSettleSeconds: false }),
    startSandbox({ keys: { ...keys, platformMode: 'certificate' }, port: 0 }),
    startSandbox({ keys: { ...keys, platformMode: 'both' }, port: 0 }),
  ])
  await startNotifyServer()
  wxpay = sdk(sb, { publicKey: publicKeyOf(sb.merchant) })
  v3Receivers.set('pk', wxpay)
})

afterAll(async () => {
  await Promise.all([sb?.close(), sbCert?.close(), sbBoth?.close()])
  notifyServer?.closeAllConnections()
  await new Promise((resolve) => notifyServer?.close(resolve))
})

/** Empties the sandbox's state and faults (keys, mode and clock stay) and what the server got. */
async function reset(target: RunningSandbox): Promise<void> {
  received.length = 0
  const r = await control(target, 'POST', 'reset')
  expect(r.status).toBe(204)
}

// ---- APIv3 resources ----------------------------------------------------------------------------

describe('APIv3 resources through the SDK (public-key mode)', () => {
  beforeEach(() => reset(sb))

  it('the sandbox hands out the merchant view its README promises', async () => {
    const { body } = await control<SandboxMerchant>(sb, 'GET', 'merchant')
    expect(body.mchid).toBe(keys.mchid)
    expect(body.platformMode).toBe('publicKey')
    expect(body).not.toHaveProperty('platformPrivateKey')
    expect(body.platformCertificates[0]).not.toHaveProperty('privateKey')
  })

  it('native, h5 and app prepay; each order queries as NOTPAY with its trade type', async () => {
    const [n, h, a] = [tradeNo('N'), tradeNo('H'), tradeNo('A')]
    const { code_url } = await wxpay.transactions.native(prepay(n, 'pk'))
    expect(code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=[0-9A-Za-z]+$/)
    const { h5_url } = await wxpay.transactions.h5({
      ...prepay(h, 'pk'),
      scene_info: { payer_client_ip: '203.0.113.7', h5_info: { type: 'Wap' } },
    })
    expect(h5_url.startsWith(`${sb.url}/__sandbox/h5pay?prepay_id=wx`)).toBe(true)
    const { prepay_id } = await wxpay.transactions.app(prepay(a, 'pk'))
    expect(prepay_id).toMatch(/^wx\d{14}[0-9a-f]{20}$/)
    const appParams = await wxpay.appPaymentParams(prepay_id)
    expect(appParams).toMatchObject({
      appid: sb.merchant.appid,
      partnerid: sb.merchant.mchid,
      prepayid: prepay_id,
      package: 'Sign=WXPay',
    })

    for (const [no, type] of [
      [n, 'NATIVE'],
      [h, 'MWEB'],
      [a, 'APP'],
    ] as const) {
      // An unpaid answer has no trade_type (as WeChat's): the sandbox's state has it.
      const state = await control<{ orders: { out_trade_no: string; trade_type: string }[] }>(
        sb,
        'GET',
        'state',
      )
      expect(state.body.orders.find((o) => o.out_trade_no === no)?.trade_type).toBe(type)
      const tx = await wxpay.transactions.queryByOutTradeNo(no)
      expect(tx.trade_type).toBeUndefined()
      expect(tx).toMatchObject({
        out_trade_no: no,
        trade_state: 'NOTPAY',
        mchid: sb.merchant.mchid,
        appid: sb.merchant.appid,
        amount: { total: 2990 },
      })
      expect(tx.transaction_id).toBeUndefined()
    }
  })

  it('payJsapi → wx.requestPayment accepted → SUCCESS by out_trade_no and by id, with a notification', async () => {
    const no = tradeNo('J')
    const { prepay_id, params } = await wxpay.payJsapi({
      ...prepay(no, 'pk', 1234),
      payer: { openid: OPENID },
    })
    expect(params).toMatchObject({
      appId: sb.merchant.appid,
      package: `prepay_id=${prepay_id}`,
      signType: 'RSA',
    })
    expect(params.timeStamp).toMatch(/^\d{10}$/)

    // An identical repeat is idempotent: the same live prepay_id.
    const again = await wxpay.transactions.jsapi({
      ...prepay(no, 'pk', 1234),
      payer: { openid: OPENID },
    })
    expect(again.prepay_id).toBe(prepay_id)

    const before = await wxpay.transactions.queryByOutTradeNo(no)
    expect(before.trade_state).toBe('NOTPAY')
    expect(before.transaction_id).toBeUndefined()

    // A tampered parameter set is refused by the cashier.
    const forged = await control<{ errMsg: string }>(sb, 'POST', 'request-payment', {
      ...params,
      nonceStr: params.nonceStr + 'x',
    })
    expect(forged.status).toBe(400)
    expect(forged.body.errMsg).toMatch(/^requestPayment:fail/)

    const paid = await control<{ errMsg: string }>(sb, 'POST', 'request-payment', params)
    expect(paid).toEqual({ status: 200, body: { errMsg: 'requestPayment:ok' } })

    const tx = await wxpay.transactions.queryByOutTradeNo(no)
    expect(tx).toMatchObject({
      out_trade_no: no,
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      payer: { openid: OPENID },
      amount: { total: 1234, payer_total: 1234, currency: 'CNY' },
    })
    expect(tx.transaction_id).toMatch(/^4200\d{24}$/)
    expect(tx.success_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/)
    const byId = await wxpay.transactions.queryById(tx.transaction_id!)
    expect(byId).toEqual(tx)

    const { event } = await transactionEvent(no)
    expect(event.transaction).toMatchObject({
      out_trade_no: no,
      transaction_id: tx.transaction_id,
      trade_state: 'SUCCESS',
      amount: { total: 1234 },
    })
  })

  it('close → CLOSED; closing again resolves; a closed order cannot be re-prepaid', async () => {
    const no = tradeNo('C')
    await wxpay.transactions.native(prepay(no, 'pk'))
    await expect(wxpay.transactions.close(no)).resolves.toBeUndefined()
    expect((await wxpay.transactions.queryByOutTradeNo(no)).trade_state).toBe('CLOSED')
    await expect(wxpay.transactions.close(no)).resolves.toBeUndefined()
    const e = await rejection(wxpay.transactions.native(prepay(no, 'pk')))
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toMatchObject({ status: 400, code: 'ORDER_CLOSED' })
  })

  it('errors are typed ApiErrors: ORDER_NOT_EXIST, ORDERPAID, OUT_TRADE_NO_USED, PARAM_ERROR', async () => {
    const unknown = await rejection(wxpay.transactions.queryByOutTradeNo(tradeNo('U')))
    expect(isApiError(unknown, 'ORDER_NOT_EXIST')).toBe(true)
    expect(unknown).toMatchObject({ status: 404 })
    expect((unknown as ApiError).requestId).toMatch(/^[0-9A-F]{32}$/)
    const unknownId = await rejection(wxpay.transactions.queryById('4200000000202601010000000000'))
    expect(isApiError(unknownId, 'ORDER_NOT_EXIST')).toBe(true)

    const paidNo = tradeNo('P')
    await wxpay.transactions.native(prepay(paidNo, 'pk'))
    expect((await control(sb, 'POST', 'pay', { out_trade_no: paidNo })).status).toBe(200)
    const closePaid = await rejection(wxpay.transactions.close(paidNo))
    expect(isOrderPaidError(closePaid)).toBe(true)
    expect(closePaid).toMatchObject({ status: 400 })
    expect((await wxpay.transactions.queryByOutTradeNo(paidNo)).trade_state).toBe('SUCCESS')

    const usedNo = tradeNo('R')
    await wxpay.transactions.native(prepay(usedNo, 'pk', 100))
    const changed = await rejection(wxpay.transactions.native(prepay(usedNo, 'pk', 200)))
    expect(isApiError(changed, 'OUT_TRADE_NO_USED')).toBe(true)
    expect(changed).toMatchObject({ status: 403 })

    const bad = await rejection(
      wxpay.transactions.native({ ...prepay(tradeNo('D'), 'pk'), description: '长'.repeat(128) }),
    )
    expect(isApiError(bad, 'PARAM_ERROR')).toBe(true)
    expect(bad).toMatchObject({
      status: 400,
      detail: { field: '/description', location: 'body' },
    })
    const badUrl = await rejection(
      wxpay.transactions.native({
        ...prepay(tradeNo('D'), 'pk'),
        notify_url: 'https://shop.example.com/notify?x=1',
      }),
    )
    expect(isApiError(badUrl, 'PARAM_ERROR')).toBe(true)
    expect((badUrl as ApiError).detail).toMatchObject({ field: '/notify_url' })
  })

  it('refunds: PROCESSING, idempotent on out_refund_no, settled by the control API with a REFUND.SUCCESS notification', async () => {
    const no = tradeNo('F')
    await wxpay.transactions.native(prepay(no, 'pk', 5000))
    await control(sb, 'POST', 'pay', { out_trade_no: no })
    const refundNo = `${no}-R1`
    const request = {
      out_trade_no: no,
      out_refund_no: refundNo,
      reason: '商品缺货',
      amount: { refund: 1500, total: 5000, currency: 'CNY' as const },
    }
    const refund = await wxpay.refunds.create(request)
    expect(refund).toMatchObject({
      out_refund_no: refundNo,
      out_trade_no: no,
      status: 'PROCESSING',
      amount: { refund: 1500, total: 5000, currency: 'CNY' },
    })
    expect(refund.refund_id).toMatch(/^50\d{27}$/)
    expect(refund.success_time).toBeUndefined()

    const repeat = await wxpay.refunds.create(request)
    expect(repeat.refund_id).toBe(refund.refund_id)
    const changed = await rejection(
      wxpay.refunds.create({ ...request, amount: { ...request.amount, refund: 1600 } }),
    )
    expect(isApiError(changed, 'INVALID_REQUEST')).toBe(true)

    expect((await wxpay.refunds.query(refundNo)).status).toBe('PROCESSING')
    expect((await wxpay.transactions.queryByOutTradeNo(no)).trade_state).toBe('REFUND')

    const settled = await control<{ status: string }>(sb, 'POST', `refunds/${refundNo}`, {
      status: 'SUCCESS',
    })
    expect(settled).toMatchObject({ status: 200, body: { status: 'SUCCESS' } })

    const hit = await until(
      () => received.find((r) => r.event?.type === 'refund'),
      'the REFUND.SUCCESS notification',
    )
    expect(hit.status).toBe(204)
    expect(hit.event).toMatchObject({
      type: 'refund',
      eventType: 'REFUND.SUCCESS',
      refund: {
        out_trade_no: no,
        out_refund_no: refundNo,
        refund_id: refund.refund_id,
        refund_status: 'SUCCESS',
        amount: { refund: 1500, total: 5000 },
      },
    })
    const after = await wxpay.refunds.query(refundNo)
    expect(after.status).toBe('SUCCESS')
    expect(after.success_time).toMatch(/\+08:00$/)

    const unknown = await rejection(wxpay.refunds.query('FEN-NO-SUCH-REFUND'))
    expect(isApiError(unknown, 'RESOURCE_NOT_EXISTS')).toBe(true)
    expect(unknown).toMatchObject({ status: 404 })
  })

  it('bills: the trade bill of the payment day, plain and GZIP, holds the payment', async () => {
    const no = tradeNo('B')
    await wxpay.transactions.native(prepay(no, 'pk', 2990))
    await control(sb, 'POST', 'pay', { out_trade_no: no })
    const tx = await wxpay.transactions.queryByOutTradeNo(no)
    const billDate = tx.success_time!.slice(0, 10)

    // Not before the day's bill is generated (10:00 the next day).
    const early = await rejection(wxpay.bills.tradeBill({ bill_date: billDate, bill_type: 'ALL' }))
    expect(isApiError(early, 'STATEMENT_CREATING')).toBe(true)

    const clock = await control<{ now: string }>(sb, 'POST', 'clock', {
      advanceSeconds: 2 * 86400,
    })
    expect(clock.status).toBe(200)

    const plainBill = await wxpay.bills.tradeBill({ bill_date: billDate, bill_type: 'ALL' })
    expect(plainBill.hash_type).toBe('SHA1')
    expect(plainBill.hash_value).toMatch(/^[0-9a-f]{40}$/)
    const plain = await wxpay.bills.download(plainBill)
    const csv = plain.toString('utf8')
    expect(csv.startsWith('\uFEFF交易时间,')).toBe(true)
    expect(csv).toContain('`' + no)
    expect(csv).toContain('`' + tx.transaction_id)
    expect(csv).toContain('`29.90')

    const gzBill = await wxpay.bills.tradeBill({
      bill_date: billDate,
      bill_type: 'ALL',
      tar_type: 'GZIP',
    })
    expect(gzBill.hash_value).toBe(plainBill.hash_value)
    const unzipped = await wxpay.bills.download(gzBill)
    expect(unzipped.equals(plain)).toBe(true)

    // A tampered digest is caught by download.
    const tampered = await rejection(
      wxpay.bills.download({
        ...(await wxpay.bills.tradeBill({ bill_date: billDate, bill_type: 'ALL' })),
        hash_value: '0'.repeat(40),
      }),
    )
    expect(tampered).toBeInstanceOf(Error)
    expect((tampered as Error).message).toMatch(/digest/)
  })

  it('certificates.list in public-key mode: RESOURCE_NOT_EXISTS as a typed error', async () => {
    const e = await rejection(wxpay.certificates.list())
    expect(isApiError(e, 'RESOURCE_NOT_EXISTS')).toBe(true)
  })
})

// ---- notifications end to end ---------------------------------------------------------------------

describe('notifications end to end', () => {
  beforeEach(() => reset(sb))

  it('TRANSACTION.SUCCESS after /__sandbox/pay parses into a transaction event and is delivered', async () => {
    const no = tradeNo('T')
    await wxpay.transactions.native(prepay(no, 'pk', 777))
    const paid = await control<{ transaction_id: string }>(sb, 'POST', 'pay', { out_trade_no: no })
    const hit = await transactionEvent(no)
    expect(hit.serial).toBe(sb.merchant.platformPublicKeyId)
    expect(hit.status).toBe(204)
    expect(hit.event).toMatchObject({
      type: 'transaction',
      eventType: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      transaction: {
        out_trade_no: no,
        transaction_id: paid.body.transaction_id,
        trade_state: 'SUCCESS',
        amount: { total: 777 },
      },
    })
    const [record] = await until(async () => {
      const list = await notificationsOf(sb, no)
      return list[0]?.status === 'delivered' && list
    }, 'the delivered record')
    expect(record).toMatchObject({ id: hit.event.id, event_type: 'TRANSACTION.SUCCESS' })
    expect(record!.attempts).toHaveLength(1)
    expect(record!.attempts[0]).toMatchObject({ status: 204, ok: true })
  })

  it('a SIGNTEST probe is refused (401); the retry 15 s later delivers', async () => {
    const armed = await control(sb, 'POST', 'faults', { target: 'notifications', kind: 'probe' })
    expect(armed.status).toBe(200)
    const no = tradeNo('S')
    await wxpay.transactions.native(prepay(no, 'pk'))
    await control(sb, 'POST', 'pay', { out_trade_no: no })

    const first = await until(async () => {
      const [r] = await notificationsOf(sb, no)
      return r?.attempts.length === 1 && r.next_attempt_at ? r : undefined
    }, 'the probe attempt')
    expect(first.status).toBe('pending')
    expect(first.attempts[0]).toMatchObject({ probe: true, status: 401, ok: false })
    const rejected = received.find((r) => r.status === 401)
    expect(rejected?.error).toBeInstanceOf(SignatureError)
    expect((rejected!.error as SignatureError).reason).toBe('signtest')
    expect(received.some((r) => r.event)).toBe(false)

    await control(sb, 'POST', 'clock', { advanceSeconds: 15 })
    const done = await until(async () => {
      const [r] = await notificationsOf(sb, no)
      return r?.status === 'delivered' && r
    }, 'the retried delivery')
    expect(done.attempts).toHaveLength(2)
    expect(done.attempts[1]).toMatchObject({ status: 204, ok: true })
    expect(done.attempts[1]!.probe).toBeUndefined()
    const { event } = await transactionEvent(no)
    expect(event.id).toBe(done.id)
  })

  it('a notification signed with the wrong key is refused by the same server', async () => {
    const { headers, body } = buildNotification({
      apiV3Key: keys.apiV3Key,
      // A platform certificate's key claiming to be the WeChat Pay public key.
      privateKey: keys.platformCertificates[0]!.privateKey,
      serial: keys.platformPublicKeyId,
      eventType: 'TRANSACTION.SUCCESS',
      resource: { out_trade_no: 'FORGED0001', trade_state: 'SUCCESS' },
    })
    const res = await fetch(`${notifyBase}/v3/pk`, { method: 'POST', headers, body })
    expect(res.status).toBe(401)
    const entry = received.at(-1)!
    expect(entry.error).toBeInstanceOf(SignatureError)
    expect((entry.error as SignatureError).reason).toBe('mismatch')
  })
})

// ---- faults -------------------------------------------------------------------------------------

describe('faults seen through the SDK', () => {
  const QUERY = '/v3/pay/transactions/out-trade-no'
  let rec: ReturnType<typeof recorder>
  let client: WechatPay

  beforeEach(async () => {
    await reset(sb)
    rec = recorder()
    client = sdk(
      sb,
      { publicKey: publicKeyOf(sb.merchant) },
      { transport: rec.transport, timeoutMs: 300 },
    )
  })

  const arm = (target: string, kind: string, count = 1) =>
    control(sb, 'POST', 'faults', { target, kind, count })
  const armed = async () => (await control<unknown[]>(sb, 'GET', 'faults')).body
  const attemptsOn = (prefix: string) => rec.log.filter((x) => x.path.startsWith(prefix))

  async function unpaidOrder(): Promise<string> {
    const no = tradeNo('Q')
    await client.transactions.native(prepay(no, 'pk'))
    rec.log.length = 0
    return no
  }

  it('error500 once: the GET query is retried and succeeds', async () => {
    const no = await unpaidOrder()
    await arm(QUERY, 'error500')
    const tx = await client.transactions.queryByOutTradeNo(no)
    expect(tx.trade_state).toBe('NOTPAY')
    expect(attemptsOn(QUERY).map((x) => x.status)).toEqual([500, 200])
    expect(await armed()).toEqual([])
  })

  it('error500 three times with maxRetries 2: ApiError SYSTEM_ERROR 500 after three attempts', async () => {
    const no = await unpaidOrder()
    await arm(QUERY, 'error500', 3)
    const e = await rejection(client.transactions.queryByOutTradeNo(no))
    expect(isApiError(e, 'SYSTEM_ERROR')).toBe(true)
    expect(e).toMatchObject({ status: 500 })
    expect(attemptsOn(QUERY)).toHaveLength(3)
    expect(await armed()).toEqual([])
  })

  it('error500 on a POST prepay: re-sent with the same body, one order', async () => {
    await arm('/v3/pay/transactions/native', 'error500')
    const no = tradeNo('Q')
    const { code_url } = await client.transactions.native(prepay(no, 'pk'))
    expect(code_url).toMatch(/^weixin:/)
    expect(attemptsOn('/v3/pay/transactions/native').map((x) => x.status)).toEqual([500, 200])
    const { body } = await control<{ orders: { out_trade_no: string }[] }>(sb, 'GET', 'state')
    expect(body.orders.map((o) => o.out_trade_no)).toEqual([no])
  })

  it('error429: ApiError FREQUENCY_LIMITED, not retried (one use of the fault)', async () => {
    const no = await unpaidOrder()
    await arm(QUERY, 'error429', 2)
    const e = await rejection(client.transactions.queryByOutTradeNo(no))
    expect(isApiError(e, 'FREQUENCY_LIMITED')).toBe(true)
    expect(e).toMatchObject({ status: 429 })
    expect(attemptsOn(QUERY)).toHaveLength(1)
    expect(await armed()).toMatchObject([{ target: QUERY, kind: 'error429', remaining: 1 }])
  })

  it('timeout: a POST prepay fails with TimeoutError after timeoutMs and is not retried', async () => {
    await arm('/v3/pay/transactions/jsapi', 'timeout')
    const no = tradeNo('W')
    const req = { ...prepay(no, 'pk'), payer: { openid: OPENID } }
    const started = Date.now()
    const e = await rejection(client.transactions.jsapi(req))
    expect(e).toBeInstanceOf(TimeoutError)
    expect((e as TimeoutError).timeoutMs).toBe(300)
    expect(Date.now() - started).toBeLessThan(2000)
    expect(attemptsOn('/v3/pay/transactions/jsapi')).toHaveLength(1)
    expect(await armed()).toEqual([])
    // The sandbox never applied it; retrying with the same out_trade_no is safe and works.
    expect(
      isApiError(await rejection(client.transactions.queryByOutTradeNo(no)), 'ORDER_NOT_EXIST'),
    ).toBe(true)
    const { prepay_id } = await client.transactions.jsapi(req)
    expect(prepay_id).toMatch(/^wx/)
  })

  it('timeout on a GET: retried after the timeout, then succeeds', async () => {
    const no = await unpaidOrder()
    await arm(QUERY, 'timeout')
    const tx = await client.transactions.queryByOutTradeNo(no)
    expect(tx.out_trade_no).toBe(no)
    expect(attemptsOn(QUERY)).toHaveLength(2)
    expect(attemptsOn(QUERY)[0]!.error).toBeDefined()
  })

  it('reset: NetworkError (not a timeout) on a POST; a GET is retried past it', async () => {
    await arm('/v3/pay/transactions/native', 'reset')
    const e = await rejection(client.transactions.native(prepay(tradeNo('X'), 'pk')))
    expect(e).toBeInstanceOf(NetworkError)
    expect(e).not.toBeInstanceOf(TimeoutError)
    expect(attemptsOn('/v3/pay/transactions/native')).toHaveLength(1)

    const no = await unpaidOrder()
    await arm(QUERY, 'reset')
    expect((await client.transactions.queryByOutTradeNo(no)).out_trade_no).toBe(no)
    expect(attemptsOn(QUERY)).toHaveLength(2)
  })

  it('probe: a SIGNTEST-signed answer is a SignatureError (signtest), not retried', async () => {
    const no = await unpaidOrder()
    await arm(QUERY, 'probe')
    const e = await rejection(client.transactions.queryByOutTradeNo(no))
    expect(e).toBeInstanceOf(SignatureError)
    expect((e as SignatureError).reason).toBe('signtest')
    expect(attemptsOn(QUERY)).toHaveLength(1)
    expect((await client.transactions.queryByOutTradeNo(no)).trade_state).toBe('NOTPAY')
  })
})

// ---- key modes ----------------------------------------------------------------------------------

describe('certificate mode: downloaded platform certificates and a rotation', () => {
  let rec: ReturnType<typeof recorder>
  let client: WechatPay
  let manager: PlatformCertificateManager
  const first = () => keys.platformCertificates[0]!.serialNo
  const second = () => keys.platformCertificates[1]!.serialNo

  beforeAll(() => {
    rec = recorder()
    client = sdk(sbCert, { certificates: 'download' }, { transport: rec.transport })
    manager = client.client.verifier as PlatformCertificateManager
    v3Receivers.set('cert', client)
  })
  beforeEach(async () => {
    await reset(sbCert)
    // reset() keeps keys and mode: put the first certificate back in front after a drill.
    await control(sbCert, 'POST', 'platform', { activeCertificate: first() })
  })

  it('the first call downloads the certificates and verifies the answer with the active one', async () => {
    expect(manager).toBeInstanceOf(PlatformCertificateManager)
    const no = tradeNo('K')
    await client.transactions.native(prepay(no, 'cert'))
    expect(manager.downloads).toBe(1)
    const call = rec.log.find((x) => x.path === '/v3/pay/transactions/native')!
    expect(call.requestSerial).toBeUndefined()
    expect(call.responseSerial).toBe(first())
    expect(rec.log.filter((x) => x.path === '/v3/certificates')).toHaveLength(1)
    expect((await client.transactions.queryByOutTradeNo(no)).trade_state).toBe('NOTPAY')
    expect(manager.downloads).toBe(1)
  })

  it('certificates.list returns both platform certificates, decrypted and checked', async () => {
    const certs = await client.certificates.list()
    expect(certs.map((c) => c.serialNo).sort()).toEqual([first(), second()].sort())
    for (const c of certs) {
      expect(c.pem).toContain('-----BEGIN CERTIFICATE-----')
      expect(c.validTo.getTime()).toBeGreaterThan(Date.now())
    }
  })

  it('a notification signed by the platform certificate parses', async () => {
    const no = tradeNo('K')
    await client.transactions.native(prepay(no, 'cert', 500))
    await control(sbCert, 'POST', 'pay', { out_trade_no: no })
    const hit = await transactionEvent(no)
    expect(hit.serial).toBe(first())
    expect(hit.event.transaction.amount?.total).toBe(500)
  })

  it('rotation drill: after the switch the next call succeeds, signed by the second certificate', async () => {
    const no = tradeNo('K')
    await client.transactions.native(prepay(no, 'cert'))
    const downloadsBefore = manager.downloads
    // A client pinned to the first certificate only cannot follow the rotation.
    const pinned = sdk(sbCert, { certificates: [keys.platformCertificates[0]!.certificate] })
    await pinned.transactions.queryByOutTradeNo(no)

    const switched = await control(sbCert, 'POST', 'platform', { activeCertificate: second() })
    expect(switched.body).toMatchObject({ mode: 'certificate', activeCertificate: second() })
    rec.log.length = 0

    const tx = await client.transactions.queryByOutTradeNo(no)
    expect(tx.out_trade_no).toBe(no)
    expect(rec.log.find((x) => x.path.startsWith('/v3/pay/'))!.responseSerial).toBe(second())
    // The sandbox lists the incoming certificate before it signs (as WeChat does), so the set
    // downloaded at the first call already knows it: no refresh was needed.
    expect(manager.downloads - downloadsBefore).toBe(0)

    const pinnedErr = await rejection(pinned.transactions.queryByOutTradeNo(no))
    expect(pinnedErr).toBeInstanceOf(SignatureError)
    expect((pinnedErr as SignatureError).reason).toBe('unknown_serial')
    expect((pinnedErr as SignatureError).serial).toBe(second())

    // Notifications follow the switch too.
    await control(sbCert, 'POST', 'pay', { out_trade_no: no })
    const hit = await transactionEvent(no)
    expect(hit.serial).toBe(second())
  })

  it('rotation to a certificate not yet downloaded: one refresh on the unknown serial', async () => {
    // Before the rotation WeChat listed only the old certificate: the first download is served by
    // a sandbox holding just that one (same merchant, same APIv3 key); later ones by sbCert.
    const before = await startSandbox({
      keys: {
        ...keys,
        platformMode: 'certificate',
        platformCertificates: [keys.platformCertificates[0]!],
      },
      port: 0,
    })
    try {
      let listFrom = before.url
      const lists: string[] = []
      const transport: Transport = (url, init) => {
        const u = new URL(url)
        if (u.pathname !== '/v3/certificates') return fetchTransport(url, init)
        lists.push(listFrom)
        return fetchTransport(listFrom + u.pathname + u.search, init)
      }
      // The client's clock, moved past the least interval between downloads (a minute) below;
      // a minute's skew stays well inside the ±5 minute window of signatures.
      let skewMs = 0
      const fresh = sdk(
        sbCert,
        { certificates: 'download' },
        { transport, clock: () => Date.now() + skewMs },
      )
      const m = fresh.client.verifier as PlatformCertificateManager
      const no = tradeNo('K')
      await fresh.transactions.native(prepay(no, 'cert'))
      expect(m.downloads).toBe(1)
      expect(m.certificates.map((c) => c.serialNo)).toEqual([first()])

      listFrom = sbCert.url // the new certificate is published…
      await control(sbCert, 'POST', 'platform', { activeCertificate: second() }) // …and signs
      skewMs = 60_000
      const tx = await fresh.transactions.queryByOutTradeNo(no)
      expect(tx.out_trade_no).toBe(no)
      expect(m.downloads).toBe(2)
      expect(m.certificates.map((c) => c.serialNo).sort()).toEqual([first(), second()].sort())
      expect(lists).toEqual([before.url, sbCert.url])

      await fresh.transactions.queryByOutTradeNo(no)
      expect(m.downloads).toBe(2)
    } finally {
      await before.close()
    }
  })
})

describe('migration (both): public key and platform certificates', () => {
  let rec: ReturnType<typeof recorder>
  let client: WechatPay

  beforeAll(() => {
    rec = recorder()
    client = sdk(
      sbBoth,
      { publicKey: publicKeyOf(sbBoth.merchant), certificates: 'download' },
      { transport: rec.transport },
    )
    v3Receivers.set('both', client)
  })
  beforeEach(() => reset(sbBoth))

  it('answers come signed by the public key because the SDK sends Wechatpay-Serial', async () => {
    const no = tradeNo('M')
    await client.transactions.native(prepay(no, 'both'))
    expect((await client.transactions.queryByOutTradeNo(no)).trade_state).toBe('NOTPAY')
    const calls = rec.log.filter((x) => x.path.startsWith('/v3/pay/'))
    expect(calls).toHaveLength(2)
    for (const c of calls) {
      expect(c.requestSerial).toBe(keys.platformPublicKeyId)
      expect(c.responseSerial).toBe(keys.platformPublicKeyId)
    }
    // Nothing needed a certificate yet.
    expect(rec.log.some((x) => x.path === '/v3/certificates')).toBe(false)

    // A certificate-only client on the same sandbox sends no serial and gets certificate answers.
    const certRec = recorder()
    const legacy = sdk(sbBoth, { certificates: 'download' }, { transport: certRec.transport })
    await legacy.transactions.queryByOutTradeNo(no)
    const legacyCall = certRec.log.find((x) => x.path.startsWith('/v3/pay/'))!
    expect(legacyCall.requestSerial).toBeUndefined()
    expect(legacyCall.responseSerial).toBe(keys.platformCertificates[0]!.serialNo)
  })

  it('notifications signed by either key all parse', async () => {
    // The signer is picked when an attempt goes out, so each batch is awaited before the share
    // changes again.
    const payAll = async (share: number, n: number) => {
      await control(sbBoth, 'POST', 'platform', { publicKeyNotificationShare: share })
      const nos = Array.from({ length: n }, () => tradeNo('G'))
      for (const no of nos) {
        await client.transactions.native(prepay(no, 'both', 100))
        await control(sbBoth, 'POST', 'pay', { out_trade_no: no })
      }
      const hits = await Promise.all(nos.map((no) => transactionEvent(no)))
      for (const [i, hit] of hits.entries()) {
        expect(hit.status).toBe(204)
        expect(hit.event.transaction.out_trade_no).toBe(nos[i])
      }
      return hits
    }
    // Half and half, as WeChat ramps it; then one of each for certain.
    const hits = [...(await payAll(0.5, 10)), ...(await payAll(0, 1)), ...(await payAll(1, 1))]
    expect(hits).toHaveLength(12)
    const serials = new Set(hits.map((h) => h.serial))
    expect(serials).toEqual(
      new Set([keys.platformPublicKeyId, keys.platformCertificates[0]!.serialNo]),
    )
    expect(hits.at(-2)!.serial).toBe(keys.platformCertificates[0]!.serialNo)
    expect(hits.at(-1)!.serial).toBe(keys.platformPublicKeyId)
    expect(received.filter((r) => r.route === 'v3/both' && r.error)).toEqual([])
    // The certificate-signed ones needed the certificate list: downloaded once.
    expect(rec.log.filter((x) => x.path === '/v3/certificates')).toHaveLength(1)
    await control(sbBoth, 'POST', 'platform', { publicKeyNotificationShare: 0.5 })
  })
})

// ---- APIv2 --------------------------------------------------------------------------------------

describe.each(['MD5', 'HMAC-SHA256'] as V2SignType[])(
  'APIv2 through WechatPayV2 (%s)',
  (signType) => {
    let v2: WechatPayV2

    beforeAll(() => {
      v2 = new WechatPayV2({
        baseUrl: sb.url,
        mchid: sb.merchant.mchid,
        appid: sb.merchant.appid,
        apiV2Key: sb.merchant.apiV2Key,
        signType,
      })
      v2Receivers.set(signType, v2)
    })
    beforeEach(() => reset(sb))

    const order = (no: string, trade_type: 'JSAPI' | 'NATIVE') => ({
      body: 'Fen 演示商品',
      out_trade_no: no,
      total_fee: 2990,
      spbill_create_ip: '203.0.113.7',
      notify_url: `${notifyBase}/v2/${signType}`,
      trade_type,
      ...(trade_type === 'JSAPI' ? { openid: OPENID } : { product_id: 'SKU1' }),
    })

    it('JSAPI: unifiedOrder, wx.requestPayment accepted, orderQuery SUCCESS, XML notification, ORDERPAID', async () => {
      const no = tradeNo('V')
      const { prepay_id, trade_type } = await v2.unifiedOrder(order(no, 'JSAPI'))
      expect(trade_type).toBe('JSAPI')
      expect(prepay_id).toMatch(/^wx/)
      const params = v2.requestPaymentParams(prepay_id)
      expect(params).toMatchObject({ package: `prepay_id=${prepay_id}`, signType })
      expect((await v2.orderQuery({ out_trade_no: no })).trade_state).toBe('NOTPAY')

      const paid = await control(sb, 'POST', 'request-payment', params)
      expect(paid).toEqual({ status: 200, body: { errMsg: 'requestPayment:ok' } })

      const q = await v2.orderQuery({ out_trade_no: no })
      expect(q).toMatchObject({ trade_state: 'SUCCESS', out_trade_no: no, total_fee: 2990 })
      expect(q.transaction_id).toMatch(/^4200\d{24}$/)
      expect(q.openid).toBe(OPENID)
      expect((await v2.orderQuery({ transaction_id: q.transaction_id! })).out_trade_no).toBe(no)

      const hit = await until(
        () => received.find((r) => r.v2?.out_trade_no === no),
        'the APIv2 notification',
      )
      expect(hit.route).toBe(`v2/${signType}`)
      expect(hit.v2).toMatchObject({
        out_trade_no: no,
        transaction_id: q.transaction_id,
        total_fee: 2990,
        result_code: 'SUCCESS',
        openid: OPENID,
      })
      const [record] = await until(async () => {
        const list = await notificationsOf(sb, no)
        return list[0]?.status === 'delivered' && list
      }, 'the delivered APIv2 record')
      expect(record!.version).toBe('v2')
      expect(record!.attempts[0]).toMatchObject({ status: 200, ok: true })

      const closed = await rejection(v2.closeOrder(no))
      expect(isOrderPaidError(closed)).toBe(true)
      expect(closed).toMatchObject({ code: 'ORDERPAID', status: 200 })
    })

    it('a probe notification (wrong sign) is refused; the retry 15 s later is accepted', async () => {
      await control(sb, 'POST', 'faults', { target: 'notifications', kind: 'probe' })
      const no = tradeNo('V')
      await v2.unifiedOrder(order(no, 'NATIVE'))
      await control(sb, 'POST', 'pay', { out_trade_no: no })
      const first = await until(async () => {
        const [r] = await notificationsOf(sb, no)
        return r?.attempts.length === 1 && r.next_attempt_at ? r : undefined
      }, 'the APIv2 probe attempt')
      expect(first.attempts[0]).toMatchObject({ probe: true, status: 200, ok: false })
      expect(first.attempts[0]!.reply).toContain('FAIL')
      const refused = received.find((r) => r.route === `v2/${signType}` && r.error)
      expect(refused?.error).toBeInstanceOf(SignatureError)

      await control(sb, 'POST', 'clock', { advanceSeconds: 15 })
      const done = await until(async () => {
        const [r] = await notificationsOf(sb, no)
        return r?.status === 'delivered' && r
      }, 'the APIv2 redelivery')
      expect(done.attempts[1]).toMatchObject({ status: 200, ok: true })
      expect(received.find((r) => r.v2?.out_trade_no === no)?.v2?.total_fee).toBe(2990)
    })

    it('NATIVE: code_url, NOTPAY, closeOrder → CLOSED; unknown orders are ORDERNOTEXIST', async () => {
      const no = tradeNo('V')
      const { code_url, trade_type } = await v2.unifiedOrder(order(no, 'NATIVE'))
      expect(trade_type).toBe('NATIVE')
      expect(code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/)
      expect((await v2.orderQuery({ out_trade_no: no })).trade_state).toBe('NOTPAY')
      await expect(v2.closeOrder(no)).resolves.toBeUndefined()
      expect((await v2.orderQuery({ out_trade_no: no })).trade_state).toBe('CLOSED')
      const e = await rejection(v2.orderQuery({ out_trade_no: tradeNo('Z') }))
      expect(isApiError(e, 'ORDERNOTEXIST')).toBe(true)
    })
  },
)

// ---- mini-program login ---------------------------------------------------------------------------

describe('mini-program login through MiniProgramClient', () => {
  let mp: MiniProgramClient
  beforeAll(() => {
    mp = new MiniProgramClient({
      baseUrl: sb.url,
      appid: sb.merchant.appid,
      secret: sb.merchant.appSecret,
    })
  })
  beforeEach(() => reset(sb))

  const newCode = async (body: object = {}) =>
    (await control<{ code: string; openid: string }>(sb, 'POST', 'login-codes', body)).body

  const failure = async (code: string) => {
    const e = await rejection(mp.code2Session(code))
    expect(e).toBeInstanceOf(Code2SessionError)
    return e as Code2SessionError
  }

  it('a code gives a session with openid (no unionid: not bound); sessionKey is not enumerable', async () => {
    const { code, openid } = await newCode()
    const session = await mp.code2Session(code)
    expect(session.openid).toBe(openid)
    expect(Buffer.from(session.sessionKey, 'base64')).toHaveLength(16)
    expect(Object.keys(session)).toEqual(['openid'])
    expect(JSON.stringify(session)).not.toContain(session.sessionKey)

    const reused = await failure(code)
    expect(reused).toMatchObject({ reason: 'code_used', errcode: 40163 })
    expect(reused.message).not.toContain(sb.merchant.appSecret)
  })

  it('a chosen openid comes back; unknown codes are invalid_code', async () => {
    const { code } = await newCode({ openid: OPENID })
    expect((await mp.code2Session(code)).openid).toBe(OPENID)
    expect(await failure('no-such-code-0000000000000000000')).toMatchObject({
      reason: 'invalid_code',
      errcode: 40029,
    })
  })

  it.each([
    [40226, 'blocked'],
    [45011, 'rate_limited'],
    [-1, 'system_busy'],
  ] as const)('a code made with errcode %i fails as %s', async (errcode, reason) => {
    const { code } = await newCode({ errcode })
    expect(await failure(code)).toMatchObject({ errcode, reason })
  })

  it.each([
    ['error500', -1, 'system_busy'],
    ['error429', 45011, 'rate_limited'],
  ] as const)(
    'a %s fault on /sns/jscode2session fails with errcode %i (%s); the code works after',
    async (kind, errcode, reason) => {
      await control(sb, 'POST', 'faults', { target: '/sns/jscode2session', kind })
      const { code, openid } = await newCode()
      expect(await failure(code)).toMatchObject({ reason, errcode })
      expect((await mp.code2Session(code)).openid).toBe(openid)
    },
  )

  it('a wrong AppSecret is refused without echoing it', async () => {
    const wrong = new MiniProgramClient({
      baseUrl: sb.url,
      appid: sb.merchant.appid,
      secret: 'f'.repeat(32),
    })
    const { code } = await newCode()
    const e = await rejection(wrong.code2Session(code))
    expect(e).toMatchObject({ errcode: 40125, reason: 'other' })
    expect((e as Error).message).not.toContain('f'.repeat(32))
  })
})
