import {
  decryptResource,
  formatBeijingTime,
  parseXml,
  type EncryptedResource,
} from '@fen/wechatpay'
import type {
  ConsoleAttempt,
  ConsoleCall,
  ConsoleNotification,
  ConsoleOrder,
  ConsoleOrderDetail,
  ConsoleOrderSummary,
  ConsoleOverview,
  ConsolePage,
  ConsoleNotificationRecord,
  ConsoleRefund,
} from '../console-api'
import { WechatError, decodePathParam } from '../errors'
import { NOTIFICATION_FAULTS, PATH_FAULTS } from '../faults'
import type { NotificationRecord } from '../notifier'
import type { Sandbox } from '../sandbox'
import type { Route, SandboxReply } from '../http'
import type { Order, Refund } from '../state'

/**
 * The console's read endpoints, `GET /__sandbox/console/…`: views shaped for the page (newest
 * first, a page of at most `limit`, Beijing times, notification attempts with what they sent).
 * The console changes state through the control API (routes/control.ts), like any other client.
 * Wire types: src/console-api.ts.
 */

const DEFAULT_LIMIT = 200
const MAX_LIMIT = 1000

const json = (body: unknown): SandboxReply => ({ status: 200, body })
const time = (ms: number | undefined) => (ms === undefined ? undefined : formatBeijingTime(ms))
const invalid = (message: string) => new WechatError(400, 'INVALID_INPUT', message)

/** `?limit=` (1 … 1000, default 200). */
function limitOf(query: URLSearchParams): number {
  const raw = query.get('limit')
  if (raw === null) return DEFAULT_LIMIT
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw invalid(`limit: an integer from 1 to ${MAX_LIMIT}`)
  }
  return n
}

/** The newest `limit` of `all` (oldest first) that match, newest first, each through `view`. */
function page<T, V>(
  all: readonly T[],
  match: (item: T) => boolean,
  limit: number,
  view: (item: T) => V,
): ConsolePage<V> {
  const items: V[] = []
  let matched = 0
  for (let i = all.length - 1; i >= 0; i--) {
    if (!match(all[i]!)) continue
    matched += 1
    if (items.length < limit) items.push(view(all[i]!))
  }
  return { total: all.length, matched, items }
}

const copy = <T extends object>(item: T): T => ({ ...item })

/** A case-insensitive "contains" over some fields; an empty needle matches everything. */
function contains(needle: string | null, ...fields: (string | number | undefined)[]): boolean {
  if (!needle) return true
  const n = needle.toLowerCase()
  return fields.some((f) => f !== undefined && String(f).toLowerCase().includes(n))
}

/** A refund that can still be settled by hand. */
const pending = (r: Refund) => r.status === 'PROCESSING' || r.status === 'ABNORMAL'

function refundRow(sandbox: Sandbox, r: Refund): ConsoleRefund {
  const row: ConsoleRefund = {
    out_refund_no: r.outRefundNo,
    refund_id: r.refundId,
    out_trade_no: r.order.outTradeNo,
    status: r.status,
    refund: r.refundFen,
    total: r.order.totalFen,
    created_at: formatBeijingTime(r.createdAt),
  }
  if (r.reason !== undefined) row.reason = r.reason
  if (r.successTime !== undefined) row.success_time = formatBeijingTime(r.successTime)
  if (r.status === 'PROCESSING' && sandbox.refundSettleSeconds !== false) {
    row.settles_at = formatBeijingTime(r.createdAt + sandbox.refundSettleSeconds * 1000)
  }
  return row
}

function orderSummary(sandbox: Sandbox, o: Order): ConsoleOrderSummary {
  const row: ConsoleOrderSummary = {
    out_trade_no: o.outTradeNo,
    api: o.api,
    trade_type: o.tradeType,
    trade_state: o.state,
    description: o.description,
    total: o.totalFen,
    created_at: formatBeijingTime(o.createdAt),
    refunds: o.refunds.map((r) => refundRow(sandbox, r)),
  }
  if (o.transactionId !== undefined) row.transaction_id = o.transactionId
  return row
}

function orderFull(sandbox: Sandbox, o: Order): ConsoleOrder {
  const optional = {
    attach: o.attach,
    payer_openid: o.payerOpenid,
    prepay_id: o.prepayId,
    prepay_expires_at: o.prepayId === undefined ? undefined : time(o.prepayExpiresAt),
    code_url: o.codeUrl,
    h5_url: o.h5Url,
    success_time: time(o.successTime),
    closed_at: time(o.closedAt),
  }
  return {
    ...orderSummary(sandbox, o),
    appid: o.appid,
    mchid: o.mchid,
    currency: o.currency,
    notify_url: o.notifyUrl,
    expires_at: formatBeijingTime(o.expiresAt),
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  }
}

/** What a notification body carries: APIv3's resource decrypted, or APIv2's XML fields. */
async function readBody(
  sandbox: Sandbox,
  version: 'v3' | 'v2',
  body: string,
): Promise<Pick<ConsoleAttempt, 'resource' | 'resource_error'>> {
  try {
    if (version === 'v2') return { resource: await parseXml(body) }
    const { resource } = JSON.parse(body) as { resource: EncryptedResource }
    return { resource: JSON.parse(decryptResource(sandbox.apiV3Key, resource)) as unknown }
  } catch (e) {
    return { resource_error: (e as Error).message }
  }
}

async function notificationDetail(
  sandbox: Sandbox,
  record: NotificationRecord,
): Promise<ConsoleNotification> {
  const detail = sandbox.notifier.detail(record.id)
  const { attempts, ...rest } = detail?.record ?? record
  const readable = new Map<string, Promise<Pick<ConsoleAttempt, 'resource' | 'resource_error'>>>()
  const read = (body: string) => {
    if (!readable.has(body)) readable.set(body, readBody(sandbox, record.version, body))
    return readable.get(body)!
  }
  const out: ConsoleNotification = { ...rest, attempts: [] }
  if (!detail?.sent) out.details_forgotten = true
  for (const [i, attempt] of attempts.entries()) {
    const sent = detail?.sent?.[i]
    if (!sent) {
      out.attempts.push({ ...attempt })
      continue
    }
    const body = sent.body ?? detail.body
    out.attempts.push({ ...attempt, headers: sent.headers, body, ...(await read(body)) })
  }
  return out
}

/** `?status=`: `2xx` … `5xx`, `none` (no answer sent in full), or one code. */
function statusMatcher(raw: string | null): (status: number | undefined) => boolean {
  if (!raw) return () => true
  if (raw === 'none') return (s) => s === undefined
  const klass = /^([1-5])xx$/.exec(raw)
  if (klass) return (s) => s !== undefined && Math.floor(s / 100) === Number(klass[1])
  if (/^\d{3}$/.test(raw)) return (s) => s === Number(raw)
  throw invalid('status: 2xx, 3xx, 4xx, 5xx, none or a status code such as 404')
}

function orderParam(req: { params: Record<string, string>; sandbox: Sandbox }): Order {
  const notFound = () => new WechatError(404, 'ORDER_NOT_EXIST', '订单不存在')
  const order = req.sandbox.store.orders.get(decodePathParam(req.params.no!, notFound))
  if (!order) throw notFound()
  return order
}

export const consoleRoutes: Route[] = [
  {
    method: 'GET',
    path: '/__sandbox/console/overview',
    kind: 'control',
    handler: ({ sandbox }) => {
      const refunds = [...sandbox.store.refunds.values()]
      const overview: ConsoleOverview = {
        now: formatBeijingTime(sandbox.clock.now()),
        scale: sandbox.clock.scale,
        merchant: {
          mchid: sandbox.keys.mchid,
          appid: sandbox.keys.appid,
          platform_mode: sandbox.platformMode,
        },
        refund_settle_seconds:
          sandbox.refundSettleSeconds === false ? null : sandbox.refundSettleSeconds,
        fault_kinds: { paths: PATH_FAULTS, notifications: NOTIFICATION_FAULTS },
        faults: sandbox.faults.list(),
        counts: {
          orders: sandbox.store.orders.size,
          refunds: refunds.length,
          refunds_pending: refunds.filter(pending).length,
          notifications: sandbox.notifier.size,
          calls: sandbox.calls.size,
        },
      }
      return json(overview)
    },
  },
  {
    method: 'GET',
    path: '/__sandbox/console/orders',
    kind: 'control',
    handler: ({ sandbox, query }) => {
      const q = query.get('q')
      const state = query.get('state')
      const codeUrl = query.get('code_url')
      const prepayId = query.get('prepay_id')
      const body: ConsolePage<ConsoleOrderSummary> = page(
        [...sandbox.store.orders.values()],
        (o) =>
          (!state || o.state === state) &&
          (codeUrl === null || o.codeUrl === codeUrl) &&
          (prepayId === null || o.prepayId === prepayId) &&
          contains(q, o.outTradeNo, o.description, o.transactionId, o.prepayId),
        limitOf(query),
        (o) => orderSummary(sandbox, o),
      )
      return json(body)
    },
  },
  {
    method: 'GET',
    path: '/__sandbox/console/orders/:no',
    kind: 'control',
    handler: async (req) => {
      const { sandbox } = req
      const order = orderParam(req)
      const records = sandbox.notifier.list(order.outTradeNo).reverse()
      const detail: ConsoleOrderDetail = {
        order: orderFull(sandbox, order),
        calls: page(
          sandbox.calls.entries(),
          (c) => c.out_trade_no === order.outTradeNo,
          MAX_LIMIT,
          copy,
        ).items,
        notifications: await Promise.all(records.map((r) => notificationDetail(sandbox, r))),
      }
      return json(detail)
    },
  },
  {
    method: 'GET',
    path: '/__sandbox/console/calls',
    kind: 'control',
    handler: ({ sandbox, query }) => {
      const method = query.get('method')?.toUpperCase()
      const path = query.get('path')
      const no = query.get('out_trade_no')
      const q = query.get('q')
      const status = statusMatcher(query.get('status'))
      const body: ConsolePage<ConsoleCall> = page(
        sandbox.calls.entries(),
        (c) =>
          (!method || c.method === method) &&
          contains(path, c.path) &&
          (!no || c.out_trade_no === no) &&
          status(c.status) &&
          contains(q, c.method, c.path, c.out_trade_no, c.fault, c.status),
        limitOf(query),
        copy,
      )
      return json(body)
    },
  },
  {
    method: 'GET',
    path: '/__sandbox/console/refunds',
    kind: 'control',
    handler: ({ sandbox, query }) => {
      const status = query.get('status')
      const q = query.get('q')
      const body: ConsolePage<ConsoleRefund> = page(
        [...sandbox.store.refunds.values()],
        (r) =>
          (!status || r.status === status || (status === 'pending' && pending(r))) &&
          contains(q, r.outRefundNo, r.order.outTradeNo, r.refundId),
        limitOf(query),
        (r) => refundRow(sandbox, r),
      )
      return json(body)
    },
  },
  {
    method: 'GET',
    path: '/__sandbox/console/notifications',
    kind: 'control',
    handler: ({ sandbox, query }) => {
      const status = query.get('status')
      const q = query.get('q')
      const body: ConsolePage<ConsoleNotificationRecord> = page(
        sandbox.notifier.list(),
        (n) =>
          (!status || n.status === status) &&
          contains(q, n.out_trade_no, n.out_refund_no, n.event_type, n.url),
        limitOf(query),
        (n) => n,
      )
      return json(body)
    },
  },
]
