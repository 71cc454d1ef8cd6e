import { createHash } from 'node:crypto'
import { z } from 'zod'
import {
  WechatError,
  decodePathParam,
  orderClosed,
  orderNotExist,
  orderPaid,
  paramError,
} from '../errors'
import type { Sandbox } from '../sandbox'
import type { Route, SandboxRequest, SandboxReply } from '../http'
import { DEFAULT_ORDER_LIFE_MS, type Order } from '../state'
import { OUT_TRADE_NO, notifyUrl, parseJsonBody, rfc3339, str } from '../validation'

const MIN_EXPIRY_MS = 60_000
const MAX_EXPIRY_MS = 90 * 24 * 3600_000

const goodsDetail = z.object({
  merchant_goods_id: str(32),
  wechatpay_goods_id: str(32).optional(),
  goods_name: str(256).optional(),
  quantity: z.number().int().positive(),
  unit_price: z.number().int().nonnegative(),
})

const sceneInfo = z.object({
  payer_client_ip: str(45),
  device_id: str(32).optional(),
  store_info: z
    .object({
      id: str(32),
      name: str(256).optional(),
      area_code: str(32).optional(),
      address: str(512).optional(),
    })
    .optional(),
})

/** PrepayRequest (§5.2). Unknown fields are ignored, as WeChat does. */
const prepayBase = z.object({
  appid: str(32),
  mchid: str(32),
  description: str(127),
  out_trade_no: OUT_TRADE_NO,
  time_expire: rfc3339.optional(),
  attach: str(128, 0).optional(),
  notify_url: notifyUrl,
  goods_tag: str(32).optional(),
  support_fapiao: z.boolean().optional(),
  amount: z.object({ total: z.number().int().positive(), currency: z.literal('CNY').optional() }),
  detail: z
    .object({
      cost_price: z.number().int().optional(),
      invoice_id: str(32).optional(),
      goods_detail: z.array(goodsDetail).optional(),
    })
    .optional(),
  scene_info: sceneInfo.optional(),
  settle_info: z.object({ profit_sharing: z.boolean().optional() }).optional(),
})

const SCHEMAS = {
  jsapi: prepayBase.extend({ payer: z.object({ openid: str(128) }) }),
  native: prepayBase,
  app: prepayBase,
  h5: prepayBase.extend({
    scene_info: sceneInfo.extend({
      h5_info: z.object({
        type: z.enum(['Wap', 'iOS', 'Android']),
        app_name: str(64).optional(),
        app_url: str(128).optional(),
        bundle_id: str(128).optional(),
        package_name: str(128).optional(),
      }),
    }),
  }),
}

type Channel = keyof typeof SCHEMAS
const TRADE_TYPE = { jsapi: 'JSAPI', native: 'NATIVE', app: 'APP', h5: 'MWEB' } as const

/**
 * Prepay (JSAPI / Native / App / H5). The first call creates the order; a repeat with identical
 * parameters returns the live prepay_id (a new one once 2 h have passed); changed parameters
 * answer 403 OUT_TRADE_NO_USED (the v3 code for this is UNCONFIRMED; v2 says 商户订单号重复).
 */
function prepay(channel: Channel) {
  return (req: SandboxRequest): SandboxReply => {
    const { sandbox } = req
    const body = parseJsonBody(SCHEMAS[channel], req.body)
    checkMerchant(sandbox, body.mchid, body.appid)
    const now = sandbox.clock.now()
    const fingerprint = createHash('sha256')
      .update(channel + JSON.stringify(canonical(body)))
      .digest('hex')
    let order = sandbox.store.orders.get(body.out_trade_no)
    if (order) {
      if (order.state === 'SUCCESS' || order.state === 'REFUND') throw orderPaid()
      if (order.state === 'CLOSED') throw orderClosed()
      if (order.fingerprint !== fingerprint) {
        throw new WechatError(403, 'OUT_TRADE_NO_USED', '商户订单号重复，且与原订单参数不一致')
      }
    } else {
      order = createOrder(sandbox, channel, body, fingerprint, now)
    }
    return { status: 200, body: prepayAnswer(sandbox, order, channel, now) }
  }
}

function createOrder(
  sandbox: Sandbox,
  channel: Channel,
  body: z.infer<typeof prepayBase> & { payer?: { openid: string } },
  fingerprint: string,
  now: number,
): Order {
  let expiresAt = now + DEFAULT_ORDER_LIFE_MS
  if (body.time_expire) {
    // Earlier than a minute from now is moved to a minute; beyond 90 days is clamped (§5.2).
    expiresAt = Math.min(
      Math.max(Date.parse(body.time_expire), now + MIN_EXPIRY_MS),
      now + MAX_EXPIRY_MS,
    )
  }
  const order = sandbox.store.addOrder({
    api: 'v3',
    outTradeNo: body.out_trade_no,
    appid: body.appid,
    mchid: body.mchid,
    description: body.description,
    attach: body.attach,
    totalFen: body.amount.total,
    currency: body.amount.currency ?? 'CNY',
    notifyUrl: body.notify_url,
    tradeType: TRADE_TYPE[channel],
    payerOpenid: body.payer?.openid,
    createdAt: now,
    expiresAt,
    fingerprint,
    v2SignType: undefined,
  })
  sandbox.log(`order ${order.outTradeNo} ${order.tradeType} ${order.totalFen} fen`)
  return order
}

/** The answer for the channel, (re)issuing the prepay_id or code_url as needed. */
function prepayAnswer(sandbox: Sandbox, order: Order, channel: Channel, now: number): object {
  if (channel === 'native') return { code_url: sandbox.store.issueCodeUrl(order) }
  const prepayId = sandbox.store.issuePrepayId(order, now)
  if (channel === 'h5') {
    order.h5Url = h5PayUrl(sandbox, prepayId)
    return { h5_url: order.h5Url }
  }
  return { prepay_id: prepayId }
}

/** Where an H5 order's `h5_url` (APIv2: `mweb_url`) leads: the sandbox's H5 cashier. */
export function h5PayUrl(sandbox: Sandbox, prepayId: string): string {
  return `${sandbox.baseUrl}/__sandbox/h5pay?prepay_id=${prepayId}`
}

/** The body's mchid must be the caller's, and its appid bound to it. */
export function checkMerchant(sandbox: Sandbox, mchid: string, appid: string): void {
  if (mchid !== sandbox.keys.mchid) throw new WechatError(400, 'MCH_NOT_EXISTS', '商户号不存在')
  if (appid !== sandbox.keys.appid) {
    throw new WechatError(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配')
  }
}

/** Key order does not matter to WeChat: compare parameters with sorted keys. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    )
  }
  return value
}

/** `?mchid=` is required on queries and must be the caller's. */
function requireMchid(req: SandboxRequest): void {
  const mchid = req.query.get('mchid')
  if (!mchid) throw paramError('mchid', '缺少必填参数')
  if (mchid !== req.sandbox.keys.mchid) throw new WechatError(400, 'MCH_NOT_EXISTS', '商户号不存在')
}

function outTradeNoParam(req: SandboxRequest): string {
  return decodePathParam(req.params.no!, () => paramError('out_trade_no', '格式不正确'))
}

export const transactionRoutes: Route[] = [
  ...(['jsapi', 'native', 'app', 'h5'] as const).map((channel): Route => ({
    method: 'POST',
    path: `/v3/pay/transactions/${channel}`,
    kind: 'v3',
    handler: prepay(channel),
  })),
  {
    method: 'GET',
    path: '/v3/pay/transactions/out-trade-no/:no',
    kind: 'v3',
    handler: (req) => {
      requireMchid(req)
      const order = req.sandbox.store.orders.get(outTradeNoParam(req))
      if (!order) throw orderNotExist()
      return { status: 200, body: req.sandbox.transaction(order) }
    },
  },
  {
    method: 'GET',
    path: '/v3/pay/transactions/id/:id',
    kind: 'v3',
    handler: (req) => {
      requireMchid(req)
      const order = req.sandbox.store.byTransactionId.get(
        decodePathParam(req.params.id!, () => paramError('transaction_id', '格式不正确')),
      )
      if (!order) throw orderNotExist()
      return { status: 200, body: req.sandbox.transaction(order) }
    },
  },
  {
    method: 'POST',
    path: '/v3/pay/transactions/out-trade-no/:no/close',
    kind: 'v3',
    handler: (req) => {
      const body = parseJsonBody(z.object({ mchid: str(32) }), req.body)
      if (body.mchid !== req.sandbox.keys.mchid)
        throw new WechatError(400, 'MCH_NOT_EXISTS', '商户号不存在')
      const order = req.sandbox.store.orders.get(outTradeNoParam(req))
      // Closing an unknown or already-closed order answers 204, as observed (§6.3).
      if (order) {
        if (order.state === 'SUCCESS' || order.state === 'REFUND') throw orderPaid()
        if (order.state !== 'CLOSED') {
          order.state = 'CLOSED'
          order.closedAt = req.sandbox.clock.now()
          req.sandbox.log(`closed ${order.outTradeNo}`)
        }
      }
      return { status: 204 }
    },
  },
]
