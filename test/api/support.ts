/**
 * Small helpers shared by the end-to-end suites: they drive the Fen API and the sandbox's control
 * API exactly as a test would by hand, and read back what the server and WeChat (the sandbox) hold.
 */
import type { NotificationRecord as SandboxNotification } from '@fen/sandbox'
import type {
  AdminOrderDetail,
  Order,
  OrderStatus,
  OutboxEventType,
  PayResponse,
  Product,
  RequestPaymentParams,
} from '@fen/shared'
import type { Harness, PayGateway } from '@fen/server/test/harness'
import { buildNotification, buildV2Notification } from '@fen/wechatpay/testing'
import { expect } from 'vitest'

export type { SandboxNotification }

/** An order as `GET /__sandbox/state` shows it (the fields the suites read). */
export interface SandboxOrder {
  api: 'v3' | 'v2'
  out_trade_no: string
  trade_state: string
  total: number
  prepay_id?: string
  code_url?: string
  transaction_id?: string
  refunds: { out_refund_no: string; status: string; amount: { refund: number } }[]
}

/** Creates an order for `items` and checks it came back PENDING. */
export async function createOrder(
  h: Harness,
  token: string,
  items: { productId: number; quantity: number }[],
): Promise<Order> {
  const res = await h.api<Order>('POST', '/api/orders', { token, body: { items } })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  expect(res.body.status).toBe('PENDING')
  return res.body
}

/** Native prepay: the order's code_url. */
export async function prepayNative(h: Harness, token: string, orderNo: string): Promise<string> {
  const res = await h.api<PayResponse>('POST', `/api/orders/${orderNo}/pay`, {
    token,
    body: { channel: 'native' },
  })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  if (res.body.channel !== 'native') throw new Error('expected a native answer')
  return res.body.codeUrl
}

/** JSAPI prepay: the signed `wx.requestPayment` parameters. */
export async function prepayJsapi(
  h: Harness,
  token: string,
  orderNo: string,
): Promise<RequestPaymentParams> {
  const res = await h.api<PayResponse>('POST', `/api/orders/${orderNo}/pay`, {
    token,
    body: { channel: 'jsapi' },
  })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  if (res.body.channel !== 'jsapi') throw new Error('expected a jsapi answer')
  return res.body.params
}

/** The user scans the Native QR code and pays (or fails). */
export async function sandboxPay(
  h: Harness,
  target: { code_url: string } | { out_trade_no: string; afterClose?: boolean },
  result: 'SUCCESS' | 'PAYERROR' = 'SUCCESS',
): Promise<{ transaction_id?: string; trade_state: string }> {
  const res = await h.control<{ transaction_id?: string; trade_state: string }>(
    'POST',
    '/__sandbox/pay',
    { ...target, result },
  )
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

/** The operator's view of an order (never syncs with WeChat). */
export async function adminOrder(h: Harness, orderNo: string): Promise<AdminOrderDetail> {
  const res = await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${orderNo}`)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

/** How long to wait for an asynchronous effect (a notification) before failing: generous for CI. */
export const WAIT_MS = 30_000

/** Polls the admin detail (no sync) until the order reaches `status`. */
export function untilStatus(
  h: Harness,
  orderNo: string,
  status: OrderStatus,
  timeoutMs = WAIT_MS,
): Promise<AdminOrderDetail> {
  return h.until(async () => {
    const o = await adminOrder(h, orderNo)
    return o.status === status && o
  }, timeoutMs)
}

/** Runs the dispatcher, then lists the event types the shop's handler got for the order. */
export async function deliveredTypes(h: Harness, orderNo: string): Promise<OutboxEventType[]> {
  await h.dispatch()
  return h.delivered.filter((e) => e.orderNo === orderNo).map((e) => e.type)
}

/** The order as WeChat (the sandbox) holds it. */
export async function sandboxOrder(h: Harness, orderNo: string): Promise<SandboxOrder | undefined> {
  return (await sandboxOrders(h)).get(orderNo)
}

/** Every order WeChat (the sandbox) holds, by out_trade_no. */
export async function sandboxOrders(h: Harness): Promise<Map<string, SandboxOrder>> {
  const res = await h.control<{ orders: SandboxOrder[] }>('GET', '/__sandbox/state')
  return new Map(res.body.orders.map((o) => [o.out_trade_no, o]))
}

/** The sandbox's notifications about an order, oldest first. */
export async function sandboxNotifications(
  h: Harness,
  orderNo: string,
): Promise<SandboxNotification[]> {
  const res = await h.control<SandboxNotification[]>(
    'GET',
    `/__sandbox/notifications?out_trade_no=${orderNo}`,
  )
  return res.body
}

/** Waits until every notification of the order is delivered, and returns them. */
export function untilNotificationsDelivered(
  h: Harness,
  orderNo: string,
  count = 1,
): Promise<SandboxNotification[]> {
  return h.until(async () => {
    const list = await sandboxNotifications(h, orderNo)
    return list.length === count && list.every((n) => n.status === 'delivered') && list
  }, WAIT_MS)
}

/** Arms a sandbox fault. */
export async function fault(
  h: Harness,
  f: { target: string; kind: string; count?: number; seconds?: number },
): Promise<void> {
  const res = await h.control('POST', '/__sandbox/faults', f)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
}

/** The stock of a product as the catalogue shows it. */
export async function stockOf(h: Harness, productId: number): Promise<number> {
  const res = await h.api<Product[]>('GET', '/api/products')
  const p = res.body.find((x) => x.id === productId)
  if (!p) throw new Error(`no product ${productId}`)
  return p.stock
}

/** A value of a Prometheus metric in `GET /metrics` (0 when absent), e.g. `fen_x_total{a="b"}`. */
export async function metric(h: Harness, series: string): Promise<number> {
  const text = (await h.admin<string>('GET', '/metrics')).body
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    if (line.slice(0, at) === series) return Number(line.slice(at + 1))
  }
  return 0
}

/** A paid APIv3 Transaction for an order, as WeChat would put in TRANSACTION.SUCCESS. */
export function paidTransaction(
  h: Harness,
  order: { orderNo: string; totalFen: number },
  overrides: { transactionId?: string; total?: number; appid?: string; mchid?: string } = {},
): object {
  const keys = h.sandbox.sandbox.keys
  const total = overrides.total ?? order.totalFen
  return {
    appid: overrides.appid ?? keys.appid,
    mchid: overrides.mchid ?? keys.mchid,
    out_trade_no: order.orderNo,
    transaction_id: overrides.transactionId ?? newTransactionId(),
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    attach: '',
    success_time: new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00'),
    payer: { openid: 'o-forged-payer' },
    amount: { total, payer_total: total, currency: 'CNY', payer_currency: 'CNY' },
    promotion_detail: [],
  }
}

/** A notification (TRANSACTION.SUCCESS unless `eventType` says) signed with the sandbox's real WeChat Pay key. */
export function signedNotification(
  h: Harness,
  resource: object,
  options: { id?: string; timestamp?: number; signtest?: boolean; eventType?: string } = {},
): { headers: Record<string, string>; body: string } {
  const keys = h.sandbox.sandbox.keys
  return buildNotification({
    apiV3Key: keys.apiV3Key,
    privateKey: keys.platformPrivateKey,
    serial: keys.platformPublicKeyId,
    eventType: 'TRANSACTION.SUCCESS',
    resource,
    ...options,
  })
}

/** A signed APIv2 payment notification (XML) for an order, as WeChat would POST it. */
export function signedV2Notification(
  h: Harness,
  order: { orderNo: string; totalFen: number },
  overrides: { transactionId?: string } = {},
): { headers: Record<string, string>; body: string } {
  const keys = h.sandbox.sandbox.keys
  const xml = buildV2Notification(
    {
      appid: keys.appid,
      mch_id: keys.mchid,
      nonce_str: 'n0nce0000000000000000000000000000',
      openid: 'o-forged-payer',
      trade_type: 'NATIVE',
      total_fee: order.totalFen,
      fee_type: 'CNY',
      cash_fee: order.totalFen,
      transaction_id: overrides.transactionId ?? newTransactionId(),
      out_trade_no: order.orderNo,
      time_end: '20250101120000',
    },
    keys.apiV2Key,
  )
  return { headers: { 'Content-Type': 'text/xml' }, body: xml }
}

/**
 * Wraps one method of the server's gateway so that the next call waits at a gate: `arrived`
 * resolves when that call is there (past every check of ours, about to ask WeChat), and `open()`
 * lets it go on. Calls after that one pass straight through.
 */
export function gateNextCall<K extends 'prepayJsapi' | 'refund'>(method: K) {
  let gate: { arrived: () => void; open: Promise<void> } | undefined
  return {
    wrap(gateway: PayGateway): PayGateway {
      const original = (gateway[method] as (...a: unknown[]) => Promise<unknown>).bind(gateway)
      ;(gateway as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
        const g = gate
        gate = undefined
        if (g) {
          g.arrived()
          await g.open
        }
        return original(...args)
      }
      return gateway
    },
    /** Sets the gate for the next call; returns when it has arrived, and how to open it. */
    arm(): { arrived: Promise<void>; open: () => void } {
      let open!: () => void
      let arrived!: () => void
      const at = new Promise<void>((r) => (arrived = r))
      gate = { arrived, open: new Promise<void>((r) => (open = r)) }
      return { arrived: at, open }
    },
  }
}

/** POSTs raw bytes and headers to the server's APIv3 notify URL. */
export async function postNotify(
  h: Harness,
  n: { headers: Record<string, string>; body: string | Buffer },
  path = '/api/pay/notify',
): Promise<{ status: number; text: string; contentType: string | null }> {
  const res = await fetch(`${h.url}${path}`, { method: 'POST', headers: n.headers, body: n.body })
  return {
    status: res.status,
    text: await res.text(),
    contentType: res.headers.get('content-type'),
  }
}

let transactionSeq = 0
/** A WeChat-shaped transaction id (28 digits), unique in this process. */
export function newTransactionId(): string {
  transactionSeq += 1
  return `4200${Date.now()}${String(transactionSeq).padStart(11, '0')}`.slice(0, 28)
}
