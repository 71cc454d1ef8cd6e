import type { Route, SandboxReply, SandboxRequest } from '../http'
import { WeixinError, weixinOk } from '../weixin/answers'
import { DELIVERY_COMPANIES, isDeliveryId } from '../weixin/delivery'
import { checkLookup, checkUpload, type OrderState } from '../weixin/shipping'

/**
 * The mini-program server APIs of `api.weixin.qq.com` beyond login (wechat-ops-api.md §1, §2):
 * access tokens and 发货信息管理. Every answer is HTTP 200 JSON with `errcode`/`errmsg`; every
 * API but the token endpoints takes `?access_token=` (41001 missing, 40001 unknown or superseded,
 * 42001 expired). Faults: `error500` answers errcode -1, `error429` 45011, `errcode` the fault's
 * errcode (e.g. 10060001 right after payment); `timeout`/`reset` as everywhere.
 */

/** Parses the JSON body: empty means `{}`; anything but JSON is 47001 data format error. */
function json(req: SandboxRequest): unknown {
  if (req.body.length === 0) return {}
  try {
    return JSON.parse(req.body.toString('utf8')) as unknown
  } catch {
    throw new WeixinError(47001)
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** A handler with WeChat's error rendering and the faults of this family. */
function api(
  handler: (req: SandboxRequest) => SandboxReply | Promise<SandboxReply>,
  options: { token: boolean } = { token: true },
): (req: SandboxRequest) => Promise<SandboxReply> {
  return async (req) => {
    try {
      const f = req.fault
      if (f?.kind === 'error500') throw new WeixinError(-1)
      if (f?.kind === 'error429') throw new WeixinError(45011)
      if (f?.kind === 'errcode') throw new WeixinError(f.errcode ?? 10060001)
      if (options.token) req.sandbox.weixin.tokens.check(req.query.get('access_token'))
      return await handler(req)
    } catch (e) {
      if (e instanceof WeixinError) return e.reply()
      throw e
    }
  }
}

/** `{appid}` of is_trade_managed and is_trade_management_confirmation_completed. */
function checkAppid(req: SandboxRequest): void {
  const body = json(req)
  const appid = isObject(body) ? body.appid : undefined
  if (typeof appid !== 'string' || appid === '') throw new WeixinError(40097, 'appid is required')
  if (appid !== req.sandbox.keys.appid) throw new WeixinError(40013)
}

const ORDER = '/wxa/sec/order'

const posts: Route[] = [
  {
    method: 'POST',
    path: '/cgi-bin/stable_token',
    kind: 'open',
    handler: api(
      (req) => {
        const body = json(req)
        if (!isObject(body)) throw new WeixinError(47001)
        const { grant_type, appid, secret, force_refresh } = body
        if (typeof appid !== 'string' || !appid) throw new WeixinError(41002)
        if (typeof secret !== 'string' || !secret) throw new WeixinError(41004)
        if (grant_type !== 'client_credential') throw new WeixinError(40002)
        if (appid !== req.sandbox.keys.appid) throw new WeixinError(40013)
        // 40125 for a wrong secret (40001 is also reported for it: see README).
        if (secret !== req.sandbox.keys.appSecret) throw new WeixinError(40125)
        if (force_refresh !== undefined && typeof force_refresh !== 'boolean') {
          throw new WeixinError(47001)
        }
        return { status: 200, body: req.sandbox.weixin.tokens.stable(force_refresh === true) }
      },
      { token: false },
    ),
  },
  {
    method: 'POST',
    path: `${ORDER}/upload_shipping_info`,
    kind: 'open',
    handler: api((req) => {
      const checked = checkUpload(json(req), isDeliveryId)
      req.sandbox.weixin.upload(checked)
      return weixinOk()
    }),
  },
  {
    method: 'POST',
    path: `${ORDER}/upload_combined_shipping_info`,
    kind: 'open',
    handler: api((req) => {
      // The sandbox takes no combined payments (合单支付): no combined order exists.
      const body = json(req)
      if (!isObject(body)) throw new WeixinError(47001)
      if (!isObject(body.order_key)) throw new WeixinError(10060014, 'order_key is required')
      if (!Array.isArray(body.sub_orders)) throw new WeixinError(47001)
      throw new WeixinError(10060001)
    }),
  },
  {
    method: 'POST',
    path: `${ORDER}/get_order`,
    kind: 'open',
    handler: api((req) => {
      const ops = req.sandbox.weixin
      const record = ops.known(ops.find(checkLookup(json(req))))
      return weixinOk({ order: ops.view(record) })
    }),
  },
  {
    method: 'POST',
    path: `${ORDER}/get_order_list`,
    kind: 'open',
    handler: api((req) => {
      const ops = req.sandbox.weixin
      const body = json(req)
      if (!isObject(body)) throw new WeixinError(47001)
      const range = isObject(body.pay_time_range) ? body.pay_time_range : {}
      const begin = num(range.begin_time, 0)
      const end = num(range.end_time, 2 ** 32 - 1) // inclusive
      const state = body.order_state === undefined ? undefined : num(body.order_state, NaN)
      const openid = typeof body.openid === 'string' && body.openid ? body.openid : undefined
      const pageSize = num(body.page_size, 100)
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
        throw new WeixinError(10060014, 'page_size is 1 to 100')
      }
      let list = ops.knownRecords().filter((r) => {
        const payTime = Math.floor(r.order.successTime! / 1000)
        return (
          payTime >= begin &&
          payTime <= end &&
          (state === undefined || ops.state(r) === (state as OrderState)) &&
          (openid === undefined || r.order.payerOpenid === openid)
        )
      })
      // `last_index` is the transaction_id of the previous page's last order (opaque to callers).
      const last = typeof body.last_index === 'string' ? body.last_index : ''
      if (last) {
        const at = list.findIndex((r) => r.order.transactionId === last)
        if (at < 0) throw new WeixinError(10060011)
        list = list.slice(at + 1)
      }
      const page = list.slice(0, pageSize)
      return weixinOk({
        order_list: page.map((r) => ops.view(r)),
        last_index: page.length > 0 ? page[page.length - 1]!.order.transactionId : last,
        has_more: list.length > pageSize,
      })
    }),
  },
  {
    method: 'POST',
    path: `${ORDER}/notify_confirm_receive`,
    kind: 'open',
    handler: api((req) => {
      const ops = req.sandbox.weixin
      const body = json(req)
      const key = checkLookup(body)
      const received = (body as Record<string, unknown>).received_time
      if (typeof received !== 'number' || !Number.isInteger(received) || received <= 0) {
        throw new WeixinError(10060014, 'received_time (Unix seconds) is required')
      }
      ops.remind(ops.known(ops.find(key)), received)
      return weixinOk()
    }),
  },
  {
    method: 'POST',
    path: `${ORDER}/set_msg_jump_path`,
    kind: 'open',
    handler: api((req) => {
      const body = json(req)
      if (!isObject(body) || typeof body.path !== 'string') {
        throw new WeixinError(10060014, 'path is required')
      }
      req.sandbox.weixin.msgJumpPath = body.path
      return weixinOk()
    }),
  },
  {
    method: 'POST',
    path: `${ORDER}/is_trade_managed`,
    kind: 'open',
    handler: api((req) => {
      checkAppid(req)
      return weixinOk({ is_trade_managed: req.sandbox.weixin.settings.tradeManaged })
    }),
  },
  {
    method: 'POST',
    path: `${ORDER}/is_trade_management_confirmation_completed`,
    kind: 'open',
    handler: api((req) => {
      checkAppid(req)
      return weixinOk({ completed: req.sandbox.weixin.settings.tradeManaged })
    }),
  },
  {
    method: 'POST',
    path: `${ORDER}/opspecialorder`,
    kind: 'open',
    handler: api((req) => {
      const ops = req.sandbox.weixin
      const body = json(req)
      if (!isObject(body)) throw new WeixinError(47001)
      if (body.type !== 1 && body.type !== 2) throw new WeixinError(268546000)
      const id = typeof body.order_id === 'string' ? body.order_id : ''
      const order =
        ops.find({ transactionId: id }) ??
        ops.find({ mchid: req.sandbox.keys.mchid, outTradeNo: id })
      let record
      try {
        record = ops.known(order)
      } catch {
        throw new WeixinError(268546002)
      }
      if (ops.state(record) !== 1) throw new WeixinError(268546002)
      if (body.type === 1) {
        // A presale: more than 15 days after payment, at most 330 days from now.
        const delayTo = body.delay_to
        const paid = Math.floor(record.order.successTime! / 1000)
        const now = Math.floor(req.sandbox.clock.now() / 1000)
        if (
          typeof delayTo !== 'number' ||
          delayTo <= paid + 15 * 86400 ||
          delayTo > now + 330 * 86400
        ) {
          throw new WeixinError(268546001)
        }
        record.special = { type: 1, delay_to: delayTo }
      } else {
        record.special = { type: 2 }
      }
      return weixinOk()
    }),
  },
  {
    method: 'POST',
    path: '/cgi-bin/express/delivery/open_msg/get_delivery_list',
    kind: 'open',
    handler: api(() =>
      weixinOk({ delivery_list: DELIVERY_COMPANIES, count: DELIVERY_COMPANIES.length }),
    ),
  },
]

/** Numbers as WeChat reads them: a JSON number (or numeric string), else `fallback`. */
function num(v: unknown, fallback: number): number {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v)
  return fallback
}

export const weixinRoutes: Route[] = [
  ...posts,
  {
    method: 'GET',
    path: '/cgi-bin/token',
    kind: 'open',
    handler: api(
      ({ sandbox, query }) => {
        const appid = query.get('appid')
        const secret = query.get('secret')
        if (!appid) throw new WeixinError(41002)
        if (!secret) throw new WeixinError(41004)
        if (query.get('grant_type') !== 'client_credential') throw new WeixinError(40002)
        if (appid !== sandbox.keys.appid) throw new WeixinError(40013)
        if (secret !== sandbox.keys.appSecret) throw new WeixinError(40125)
        return { status: 200, body: sandbox.weixin.tokens.basic() }
      },
      { token: false },
    ),
  },
  // The POST-only APIs answer a GET with 43002, as WeChat does.
  ...posts.map((r): Route => ({
    method: 'GET',
    path: r.path,
    kind: 'open',
    handler: () => new WeixinError(43002).reply(),
  })),
]
