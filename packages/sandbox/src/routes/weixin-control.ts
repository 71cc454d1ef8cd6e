import { loadEncodingAESKey } from '@fen/wechatpay'
import { z } from 'zod'
import { WechatError, decodePathParam } from '../errors'
import type { Route, SandboxReply, SandboxRequest } from '../http'
import type { Sandbox } from '../sandbox'
import type { Order } from '../state'
import { WeixinError } from '../weixin/answers'
import type { WeixinSettings } from '../weixin/ops'
import type { ShippingRecord } from '../weixin/shipping'

/**
 * The control API of the mini-program side: tokens (expire one mid-test), the shopper's receipt
 * confirmation (`wx.openBusinessView` 确认收货), shipping records, and message pushes.
 */

/** Control API bodies (both control route files): `{code, message}` with a 4xx, like the rest of Fen. */
export function parse<T>(schema: z.ZodType<T>, req: SandboxRequest): T {
  let value: unknown = {}
  if (req.body.length > 0) {
    try {
      value = JSON.parse(req.body.toString('utf8'))
    } catch {
      throw new WechatError(400, 'INVALID_JSON', 'the body is not JSON')
    }
  }
  const r = schema.safeParse(value)
  if (!r.success) {
    const issue = r.error.issues[0]!
    throw new WechatError(
      400,
      'INVALID_INPUT',
      `${issue.path.join('.') || 'body'}: ${issue.message}`,
    )
  }
  return r.data
}

export const json = (body: unknown, status = 200): SandboxReply => ({ status, body })

const httpUrl = z.string().refine(
  (s) => {
    try {
      return ['http:', 'https:'].includes(new URL(s).protocol)
    } catch {
      return false
    }
  },
  { message: 'an http:// or https:// URL' },
)

const encodingAESKey = z.string().refine(
  (s) => {
    try {
      loadEncodingAESKey(s)
      return true
    } catch {
      return false
    }
  },
  { message: 'the 43-character EncodingAESKey' },
)

/** The mini-program settings `POST /__sandbox/settings` takes (merged into its schema). */
export const weixinSettingsShape = {
  autoConfirmDays: z.number().min(0).max(365).nullable().optional(),
  settlementDelaySeconds: z
    .number()
    .int()
    .min(0)
    .max(365 * 86400)
    .optional(),
  shippingIngestSeconds: z.number().int().min(0).max(86400).optional(),
  tradeManaged: z.boolean().optional(),
  push: z
    .object({
      url: httpUrl,
      token: z.string().min(1).max(128),
      encodingAESKey: encodingAESKey.optional(),
      format: z.enum(['json', 'xml']).default('json'),
    })
    .nullable()
    .optional(),
}

export function applyWeixinSettings(sandbox: Sandbox, b: Partial<WeixinSettings>): void {
  const change: Partial<WeixinSettings> = {}
  for (const k of Object.keys(weixinSettingsShape) as (keyof WeixinSettings)[]) {
    if (b[k] !== undefined) (change as Record<string, unknown>)[k] = b[k]
  }
  sandbox.weixin.updateSettings(change)
}

/** The settings as `/__sandbox/settings` shows them: the push Token and key are not echoed. */
export function weixinSettingsView(sandbox: Sandbox): object {
  const s = sandbox.weixin.settings
  return {
    autoConfirmDays: s.autoConfirmDays,
    settlementDelaySeconds: s.settlementDelaySeconds,
    shippingIngestSeconds: s.shippingIngestSeconds,
    tradeManaged: s.tradeManaged,
    push: s.push
      ? {
          url: s.push.url,
          format: s.push.format,
          mode: s.push.encodingAESKey ? 'secure' : 'plaintext',
        }
      : null,
  }
}

/** A shipping record for `/__sandbox/state` and `/__sandbox/shipping`. */
export function shippingView(sandbox: Sandbox, r: ShippingRecord): object {
  const ops = sandbox.weixin
  const iso = (ms: number | undefined) =>
    ms === undefined ? undefined : new Date(ms).toISOString()
  const autoAt = r.state === 2 ? ops.autoConfirmAt(r) : undefined
  return {
    out_trade_no: r.order.outTradeNo,
    transaction_id: r.order.transactionId,
    order_state: ops.state(r),
    in_complaint: r.inComplaint,
    logistics_type: r.logisticsType,
    delivery_mode: r.deliveryMode,
    finish_shipping: r.finishShipping,
    finish_shipping_count: r.finishShippingCount,
    reship_used: r.reshipUsed,
    uploads: r.uploads,
    shipping_list: r.parcels,
    shipped_at: iso(r.shippedAt),
    auto_confirm_at: iso(autoAt),
    confirmed_at: iso(r.confirmedAt),
    confirm_receive_method: r.confirmMethod,
    settled_at: iso(r.settledAt),
    reminded_received_time: r.remindedReceivedTime,
    special: r.special,
  }
}

/** The shipping view of an order, for `/__sandbox/state` (undefined when it has none yet). */
export function orderShippingView(sandbox: Sandbox, o: Order): object | undefined {
  const r = sandbox.weixin.recordOf(o)
  return r ? shippingView(sandbox, r) : undefined
}

/** Which payment a control call names. */
const orderRef = {
  out_trade_no: z.string().min(1).optional(),
  transaction_id: z.string().min(1).optional(),
  merchant_id: z.string().min(1).optional(),
  merchant_trade_no: z.string().min(1).optional(),
}

function findRef(
  sandbox: Sandbox,
  b: {
    out_trade_no?: string
    transaction_id?: string
    merchant_id?: string
    merchant_trade_no?: string
  },
): Order {
  const ops = sandbox.weixin
  const order = b.transaction_id
    ? ops.find({ transactionId: b.transaction_id })
    : b.merchant_trade_no
      ? ops.find({ mchid: b.merchant_id ?? sandbox.keys.mchid, outTradeNo: b.merchant_trade_no })
      : b.out_trade_no
        ? sandbox.store.orders.get(b.out_trade_no)
        : undefined
  if (!order) throw new WechatError(404, 'ORDER_NOT_EXIST', '订单不存在')
  return order
}

/** The record of a paid mini-program payment, or 400 NOT_IN_SHIPPING naming why not. */
function recordOrFail(sandbox: Sandbox, order: Order): ShippingRecord {
  try {
    return sandbox.weixin.known(order)
  } catch (e) {
    if (!(e instanceof WeixinError)) throw e
    throw new WechatError(
      400,
      'NOT_IN_SHIPPING',
      'the shipping system does not know this order (unpaid, not JSAPI, or still being ingested)',
    )
  }
}

const PUSH_EVENTS = [
  'trade_manage_order_settlement',
  'trade_manage_remind_shipping',
  'trade_manage_remind_access_api',
] as const

export const weixinControlRoutes: Route[] = [
  {
    method: 'GET',
    path: '/__sandbox/access-token',
    kind: 'control',
    handler: ({ sandbox }) => json(sandbox.weixin.tokens.overview()),
  },
  {
    method: 'POST',
    path: '/__sandbox/access-token/expire',
    kind: 'control',
    handler: (req) => {
      const b = parse(
        z.object({
          how: z.enum(['expired', 'invalid']).default('expired'),
          access_token: z.string().min(1).optional(),
        }),
        req,
      )
      const spoiled = req.sandbox.weixin.tokens.spoil(b.how, b.access_token)
      if (!spoiled)
        throw new WechatError(404, 'NO_TOKEN', 'no such access_token (none issued yet?)')
      return json(spoiled)
    },
  },
  {
    method: 'POST',
    path: '/__sandbox/confirm-receipt',
    kind: 'control',
    handler: (req) => {
      const { sandbox } = req
      const b = parse(
        z
          .object({ ...orderRef, openid: z.string().min(1).optional() })
          .refine((v) => v.out_trade_no ?? v.transaction_id ?? v.merchant_trade_no, {
            message: 'give out_trade_no, transaction_id, or merchant_id and merchant_trade_no',
          }),
        req,
      )
      const order = findRef(sandbox, b)
      const record = recordOrFail(sandbox, order)
      const result = sandbox.weixin.confirm(record, 'shopper', b.openid)
      // As the confirmation component hands back to the mini-program (referrerInfo.extraData).
      const req_extradata = b.transaction_id
        ? { transaction_id: b.transaction_id }
        : { merchant_id: sandbox.keys.mchid, merchant_trade_no: order.outTradeNo }
      return json({ ...result, req_extradata, order: sandbox.weixin.view(record) })
    },
  },
  {
    method: 'GET',
    path: '/__sandbox/shipping',
    kind: 'control',
    handler: ({ sandbox, query }) => {
      const no = query.get('out_trade_no')
      return json(
        sandbox.weixin
          .knownRecords()
          .filter((r) => !no || r.order.outTradeNo === no)
          .map((r) => shippingView(sandbox, r)),
      )
    },
  },
  {
    method: 'POST',
    path: '/__sandbox/shipping/:no',
    kind: 'control',
    handler: (req) => {
      const { sandbox } = req
      const b = parse(
        z
          .object({
            order_state: z.number().int().min(1).max(6).optional(),
            in_complaint: z.boolean().optional(),
          })
          .refine((v) => v.order_state !== undefined || v.in_complaint !== undefined, {
            message: 'give order_state, in_complaint or both',
          }),
        req,
      ) as { order_state?: 1 | 2 | 3 | 4 | 5 | 6; in_complaint?: boolean }
      const no = decodePathParam(
        req.params.no!,
        () => new WechatError(404, 'ORDER_NOT_EXIST', '订单不存在'),
      )
      const record = recordOrFail(sandbox, findRef(sandbox, { out_trade_no: no }))
      sandbox.weixin.force(record, b)
      return json(shippingView(sandbox, record))
    },
  },
  {
    method: 'POST',
    path: '/__sandbox/push',
    kind: 'control',
    handler: async (req) => {
      const { sandbox } = req
      const b = parse(
        z.object({
          event: z.string().min(1),
          out_trade_no: z.string().min(1).optional(),
          stage: z.enum(['shipped', 'settled']).optional(),
          fields: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
        }),
        req,
      )
      if (!sandbox.weixin.settings.push) {
        throw new WechatError(
          400,
          'PUSH_NOT_CONFIGURED',
          'set push {url, token, encodingAESKey?} in /__sandbox/settings first',
        )
      }
      const orderEvent = b.event === PUSH_EVENTS[0] || b.event === PUSH_EVENTS[1]
      if (orderEvent && !b.out_trade_no) {
        throw new WechatError(400, 'INVALID_INPUT', `out_trade_no: ${b.event} is about one payment`)
      }
      const record = b.out_trade_no
        ? recordOrFail(sandbox, findRef(sandbox, { out_trade_no: b.out_trade_no }))
        : undefined
      const extra =
        b.event === 'trade_manage_remind_shipping' || b.event === 'trade_manage_remind_access_api'
          ? {
              msg:
                b.event === 'trade_manage_remind_shipping'
                  ? '您有订单超过48小时未发货，请尽快发货'
                  : '请尽快接入发货信息管理服务',
              ...b.fields,
            }
          : (b.fields ?? {})
      const message = sandbox.weixin.message(b.event, record, extra, b.stage)
      const pushed = await sandbox.weixin.push(message, b.out_trade_no)
      return json(pushed)
    },
  },
  {
    method: 'POST',
    path: '/__sandbox/push/verify',
    kind: 'control',
    handler: async ({ sandbox }) => {
      const config = sandbox.weixin.settings.push
      if (!config)
        throw new WechatError(400, 'PUSH_NOT_CONFIGURED', 'set push in /__sandbox/settings first')
      return json(await sandbox.weixin.pusher.verify(config))
    },
  },
  {
    method: 'GET',
    path: '/__sandbox/pushes',
    kind: 'control',
    handler: ({ sandbox, query }) =>
      json(
        sandbox.weixin.pusher.list({
          ...(query.get('out_trade_no') ? { out_trade_no: query.get('out_trade_no')! } : {}),
          ...(query.get('event') ? { event: query.get('event')! } : {}),
        }),
      ),
  },
]
