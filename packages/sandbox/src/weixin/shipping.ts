import type { ScheduledTask } from '../clock'
import type { Order } from '../state'
import { WeixinError } from './answers'

/**
 * 发货信息管理 (wechat-ops-api.md §1): what WeChat knows about the shipping of each paid
 * mini-program (JSAPI) payment, and the rules `upload_shipping_info` enforces. Pure state and
 * checks; the routes (routes/weixin.ts) and `WeixinOps` (ops.ts) drive it.
 */

/** `order_state`: 1 待发货, 2 已发货, 3 确认收货, 4 交易完成, 5 已退款, 6 资金待结算. */
export type OrderState = 1 | 2 | 3 | 4 | 5 | 6

export const LOGISTICS_NAMES = { 1: 'express', 2: 'same_city', 3: 'virtual', 4: 'pickup' } as const
export type LogisticsTypeCode = keyof typeof LOGISTICS_NAMES

/** One parcel as `get_order` reports it. */
export interface ShippedParcel {
  tracking_no?: string
  express_company?: string
  goods_desc: string
  /** Unix seconds (of the upload's `upload_time`). */
  upload_time: number
  contact?: { consignor_contact?: string; receiver_contact?: string }
}

/** The shipping of one payment. Times are sandbox ms unless named otherwise. */
export interface ShippingRecord {
  order: Order
  /** The state set by the flow (1, 2, 3, 4); refunds show as 5 on top (see `orderState`). */
  state: 1 | 2 | 3 | 4 | 6
  /** A state forced through the control API, shown instead of the flow's until the next change. */
  forcedState?: OrderState
  inComplaint: boolean
  deliveryMode?: 1 | 2
  logisticsType?: LogisticsTypeCode
  isAllDelivered?: boolean
  finishShipping: boolean
  /** 0 before shipping finished, 1 after, 2 after the one re-ship. */
  finishShippingCount: number
  /** The one re-ship was used (an upload on a shipped order, or a change of mode or type). */
  reshipUsed: boolean
  parcels: ShippedParcel[]
  /** Uploads accepted. */
  uploads: number
  /** The last accepted `upload_time`, ms (an update must be later). */
  lastUploadTime?: number
  /** The canonical content of the last upload (to answer 10060023 for an unchanged one). */
  lastContent?: string
  /** When shipping last finished (sandbox ms): the auto-confirm period counts from here. */
  shippedAt?: number
  confirmedAt?: number
  /** 1 automatic, 2 by the shopper (WeChat's documented meaning; see README). */
  confirmMethod?: 1 | 2
  settledAt?: number
  /** `notify_confirm_receive` used: its `received_time` (Unix s). */
  remindedReceivedTime?: number
  /** `opspecialorder`: 1 presale (with `delay_to`, Unix s) or 2 test order. */
  special?: { type: 1 | 2; delay_to?: number }
  autoConfirm?: ScheduledTask
  settlement?: ScheduledTask
}

export function newShippingRecord(order: Order): ShippingRecord {
  return {
    order,
    state: 1,
    inComplaint: false,
    finishShipping: false,
    finishShippingCount: 0,
    reshipUsed: false,
    parcels: [],
    uploads: 0,
  }
}

/** The `order_state` WeChat reports now: a full refund shows as 5 whatever the flow reached. */
export function orderState(record: ShippingRecord, refundedFen: number): OrderState {
  if (record.forcedState !== undefined) return record.forcedState
  if (refundedFen >= record.order.totalFen) return 5
  return record.state
}

/** `description`: the goods, cut at 120 characters with `...` (WeChat joins several with `;`). */
export function describe(order: Order): string {
  const chars = [...order.description]
  return chars.length > 120 ? chars.slice(0, 117).join('') + '...' : order.description
}

const seconds = (ms: number) => Math.floor(ms / 1000)

/** `get_order`'s `order` object. */
export function shippingOrderView(
  record: ShippingRecord,
  state: OrderState,
  mchid: string,
): Record<string, unknown> {
  const o = record.order
  return {
    transaction_id: o.transactionId,
    merchant_id: mchid,
    // A live answer carried "0" for a merchant without sub-merchants [C-state6].
    sub_merchant_id: '0',
    merchant_trade_no: o.outTradeNo,
    description: describe(o),
    paid_amount: o.totalFen,
    openid: o.payerOpenid,
    trade_create_time: seconds(o.createdAt),
    pay_time: seconds(o.successTime!),
    order_state: state,
    in_complaint: record.inComplaint,
    shipping:
      record.uploads === 0
        ? {}
        : {
            delivery_mode: record.deliveryMode,
            logistics_type: record.logisticsType,
            finish_shipping: record.finishShipping,
            finish_shipping_count: record.finishShippingCount,
            goods_desc: goodsDesc(record.parcels),
            shipping_list: record.parcels.map((p) => ({ ...p })),
          },
  }
}

/** The shipment's `goods_desc`: the parcels' descriptions joined by `;`, cut like `description`. */
function goodsDesc(parcels: ShippedParcel[]): string {
  const joined = [...new Set(parcels.map((p) => p.goods_desc))].join(';')
  const chars = [...joined]
  return chars.length > 120 ? chars.slice(0, 117).join('') + '...' : joined
}

// ---- upload_shipping_info ----------------------------------------------------------------------

/** An `upload_shipping_info` body after its checks. */
export interface CheckedUpload {
  key: { type: 1; mchid: string; outTradeNo: string } | { type: 2; transactionId: string }
  logisticsType: LogisticsTypeCode
  deliveryMode: 1 | 2
  isAllDelivered: boolean | undefined
  list: {
    tracking_no?: string
    express_company?: string
    item_desc: string
    contact?: { consignor_contact?: string; receiver_contact?: string }
  }[]
  uploadTimeMs: number
  openid: string
}

/** RFC 3339 with an offset (or Z); fractions allowed. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const bytes = (s: string) => Buffer.byteLength(s, 'utf8')
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0

/** The carrier that needs a contact (顺丰). */
export const SF_DELIVERY_ID = 'SF'

/**
 * Checks an upload the way WeChat's table (§1.3) names the failures, in this order: the order key,
 * the logistics type, the mode, the list and its entries, the time, the payer. Throws WeixinError.
 * `knownCarrier` says whether an `express_company` is a `delivery_id` of `get_delivery_list`.
 */
export function checkUpload(body: unknown, knownCarrier: (id: string) => boolean): CheckedUpload {
  if (!isObject(body)) throw new WeixinError(47001)
  const k = body.order_key
  if (!isObject(k)) throw new WeixinError(10060014, 'order_key is required')
  let key: CheckedUpload['key']
  if (k.order_number_type === 1) {
    if (!nonEmpty(k.mchid)) throw new WeixinError(268485196)
    if (!nonEmpty(k.out_trade_no)) throw new WeixinError(268485197)
    key = { type: 1, mchid: k.mchid, outTradeNo: k.out_trade_no }
  } else if (k.order_number_type === 2) {
    if (!nonEmpty(k.transaction_id)) throw new WeixinError(268485195)
    key = { type: 2, transactionId: k.transaction_id }
  } else {
    throw new WeixinError(268485194)
  }
  const lt = body.logistics_type
  if (lt !== 1 && lt !== 2 && lt !== 3 && lt !== 4) throw new WeixinError(10060005)
  // An integer: "UNIFIED_DELIVERY" (the doc's misleading example) is refused.
  const mode = body.delivery_mode
  if (mode !== 1 && mode !== 2) throw new WeixinError(268485224)
  const list = body.shipping_list
  if (!Array.isArray(list)) throw new WeixinError(47001)
  if (list.length === 0) throw new WeixinError(10060014, 'shipping_list is empty')
  if (list.length > 15) throw new WeixinError(10060024)
  if (mode === 1 && list.length !== 1) throw new WeixinError(268485228)
  let isAllDelivered: boolean | undefined
  if (mode === 2) {
    if (lt !== 1) throw new WeixinError(10060006)
    if (typeof body.is_all_delivered !== 'boolean') throw new WeixinError(10060007)
    isAllDelivered = body.is_all_delivered
  }
  const entries: CheckedUpload['list'] = []
  for (const item of list) {
    if (!isObject(item)) throw new WeixinError(47001)
    if (!nonEmpty(item.item_desc)) throw new WeixinError(10060008)
    if ([...item.item_desc].length > 120) throw new WeixinError(10060009)
    const entry: CheckedUpload['list'][number] = { item_desc: item.item_desc }
    if (lt === 1) {
      if (!nonEmpty(item.tracking_no)) throw new WeixinError(268485226)
      if (!nonEmpty(item.express_company)) throw new WeixinError(268485227)
    }
    if (item.express_company !== undefined) {
      if (typeof item.express_company !== 'string') throw new WeixinError(47001)
      if (bytes(item.express_company) > 128) throw new WeixinError(10060025)
      if (lt === 1 && !knownCarrier(item.express_company)) {
        throw new WeixinError(10060014, 'express_company is not a delivery_id of get_delivery_list')
      }
      entry.express_company = item.express_company
    }
    if (item.tracking_no !== undefined) {
      if (typeof item.tracking_no !== 'string') throw new WeixinError(47001)
      if (bytes(item.tracking_no) > 128) throw new WeixinError(10060026)
      entry.tracking_no = item.tracking_no
    }
    if (item.contact !== undefined) {
      if (!isObject(item.contact)) throw new WeixinError(47001)
      const contact: { consignor_contact?: string; receiver_contact?: string } = {}
      for (const name of ['consignor_contact', 'receiver_contact'] as const) {
        const v = item.contact[name]
        if (v === undefined) continue
        if (typeof v !== 'string' || bytes(v) > 1024) {
          throw new WeixinError(10060014, `contact.${name} is at most 1024 bytes`)
        }
        contact[name] = v
      }
      entry.contact = contact
    }
    if (
      lt === 1 &&
      entry.express_company === SF_DELIVERY_ID &&
      !entry.contact?.consignor_contact &&
      !entry.contact?.receiver_contact
    ) {
      throw new WeixinError(10060014, 'contact is required for SF (顺丰)')
    }
    entries.push(entry)
  }
  const time = body.upload_time
  const timeMs = typeof time === 'string' && RFC3339.test(time) ? Date.parse(time) : NaN
  if (!Number.isFinite(timeMs)) throw new WeixinError(268485216)
  const payer = body.payer
  if (!isObject(payer) || !nonEmpty(payer.openid) || bytes(payer.openid) > 128) {
    throw new WeixinError(10060014, 'payer.openid is required')
  }
  return {
    key,
    logisticsType: lt,
    deliveryMode: mode,
    isAllDelivered,
    list: entries,
    uploadTimeMs: timeMs,
    openid: payer.openid,
  }
}

/** The content an upload sets, as one string: equal strings mean "unchanged" (10060023). */
function contentOf(u: CheckedUpload): string {
  return JSON.stringify([u.logisticsType, u.deliveryMode, u.isAllDelivered ?? null, u.list])
}

/**
 * Applies a checked upload to the payment's record, or throws the errcode that refuses it.
 * Returns whether this upload finished the shipping for the first time (`first`) or again
 * (`again`, the re-ship), or neither (a split delivery still under way).
 */
export function applyUpload(
  record: ShippingRecord,
  state: OrderState,
  u: CheckedUpload,
  nowMs: number,
): { finished: 'first' | 'again' | undefined } {
  if (u.openid !== record.order.payerOpenid) throw new WeixinError(10060031)
  if (state !== 1 && state !== 2) throw new WeixinError(10060004)
  const content = contentOf(u)
  if (record.lastContent === content) throw new WeixinError(10060023)
  if (record.lastUploadTime !== undefined && u.uploadTimeMs <= record.lastUploadTime) {
    throw new WeixinError(10060014, 'upload_time must be later than the previous upload')
  }
  const wasFinished = record.finishShipping
  const changesKind =
    record.uploads > 0 &&
    (record.deliveryMode !== u.deliveryMode || record.logisticsType !== u.logisticsType)
  // A shipped order cannot go back to a split delivery still under way.
  if (wasFinished && u.deliveryMode === 2 && u.isAllDelivered === false) {
    throw new WeixinError(10060002)
  }
  const isReship = wasFinished || changesKind
  if (isReship && record.reshipUsed) throw new WeixinError(10060003)
  if (isReship) record.reshipUsed = true
  const finishes = u.deliveryMode === 1 || u.isAllDelivered === true
  record.deliveryMode = u.deliveryMode
  record.logisticsType = u.logisticsType
  record.isAllDelivered = u.isAllDelivered
  record.parcels = u.list.map((i) => ({
    ...(i.tracking_no !== undefined ? { tracking_no: i.tracking_no } : {}),
    ...(i.express_company !== undefined ? { express_company: i.express_company } : {}),
    goods_desc: i.item_desc,
    upload_time: Math.floor(u.uploadTimeMs / 1000),
    ...(i.contact ? { contact: i.contact } : {}),
  }))
  record.uploads += 1
  record.lastUploadTime = u.uploadTimeMs
  record.lastContent = content
  delete record.forcedState
  if (!finishes) return { finished: undefined }
  record.finishShipping = true
  record.finishShippingCount = wasFinished ? 2 : 1
  record.state = 2
  record.shippedAt = nowMs
  return { finished: wasFinished ? 'again' : 'first' }
}

/**
 * A `get_order` / `notify_confirm_receive` key: `transaction_id`, or `merchant_id` +
 * `merchant_trade_no` (note: other names than the upload's). 10060014 when neither is complete.
 */
export function checkLookup(
  body: unknown,
): { transactionId: string } | { mchid: string; outTradeNo: string } {
  if (!isObject(body)) throw new WeixinError(47001)
  if (nonEmpty(body.transaction_id)) return { transactionId: body.transaction_id }
  if (nonEmpty(body.merchant_id) && nonEmpty(body.merchant_trade_no)) {
    return { mchid: body.merchant_id, outTradeNo: body.merchant_trade_no }
  }
  throw new WeixinError(10060014, 'give transaction_id, or merchant_id and merchant_trade_no')
}
