import { formatBeijingTime, systemClock, type Clock } from '../core/clock'
import { InvalidArgumentError } from '../core/errors'
import type { MiniProgramCaller, MiniProgramCallOptions } from './call'
import { MiniProgramErrcode } from './errors'

/** `logistics_type`: how the goods reach the shopper. */
export const LogisticsType = {
  /** 实体物流配送 (express, with a carrier and tracking number). */
  EXPRESS: 1,
  /** 同城配送. */
  SAME_CITY: 2,
  /** 虚拟商品 (virtual goods: top-ups, memberships, e-tickets). */
  VIRTUAL: 3,
  /** 用户自提. */
  PICKUP: 4,
} as const
export type LogisticsType = (typeof LogisticsType)[keyof typeof LogisticsType]

/** `delivery_mode`: sent as an **integer** (a string such as `"UNIFIED_DELIVERY"` is refused). */
export const DeliveryMode = {
  /** 统一发货: everything in one shipment (`shipping_list` has exactly one entry). */
  UNIFIED: 1,
  /** 分拆发货: several parcels (express only; `is_all_delivered` required). */
  SPLIT: 2,
} as const
export type DeliveryMode = (typeof DeliveryMode)[keyof typeof DeliveryMode]

/** `order_state` of `get_order` / `get_order_list`. The flow is 1 → 2 → 3 → 6 → 4. */
export const ShippingOrderState = {
  AWAITING_SHIPMENT: 1,
  SHIPPED: 2,
  RECEIPT_CONFIRMED: 3,
  COMPLETED: 4,
  REFUNDED: 5,
  /** 资金待结算: between receipt confirmation and settlement (missing from older SDKs). */
  AWAITING_SETTLEMENT: 6,
} as const
export type ShippingOrderState = (typeof ShippingOrderState)[keyof typeof ShippingOrderState]

/**
 * Which payment an upload is about. Type 1: the first-level `mchid` and `out_trade_no`; type 2:
 * WeChat's `transaction_id` (use it for sub-merchant payments).
 */
export type ShippingOrderKey =
  | { order_number_type: 1; mchid: string; out_trade_no: string }
  | { order_number_type: 2; transaction_id: string }

/** Which payment `get_order` / `notify_confirm_receive` are about (note: other field names). */
export type ShippingOrderLookup =
  | { transaction_id: string }
  | { merchant_id: string; merchant_trade_no: string; sub_merchant_id?: string }

/** Phone numbers, masked but with the last 4 digits kept (see {@link maskContact}). */
export interface ShippingContact {
  consignor_contact?: string
  receiver_contact?: string
}

/** One parcel of `shipping_list`. */
export interface ShippingItem {
  /** Required for express; 1–128 bytes. */
  tracking_no?: string
  /** Required for express: the `delivery_id` from `get_delivery_list`; 1–128 bytes. */
  express_company?: string
  /** Required, at most 120 characters. */
  item_desc: string
  /** Required (either one) when the carrier is SF (顺丰). */
  contact?: ShippingContact
}

/** The body of `upload_shipping_info`. */
export interface UploadShippingInfoRequest {
  order_key: ShippingOrderKey
  logistics_type: LogisticsType
  delivery_mode: DeliveryMode
  /** Required in split mode; the shopper is told "shipped" only once it is true. */
  is_all_delivered?: boolean
  /** 1–15 entries; exactly 1 in unified mode. */
  shipping_list: ShippingItem[]
  /**
   * RFC 3339 with an offset, e.g. `2022-12-15T13:29:35.120+08:00`. Default: now, in Beijing time
   * with milliseconds. An update must carry a later time than the previous upload.
   */
  upload_time?: string
  /** The payer: the order must belong to this openid (else 10060031). */
  payer: { openid: string }
}

/** One parcel as `get_order` reports it. */
export interface ShippedItem {
  tracking_no?: string
  express_company?: string
  goods_desc?: string
  /** Unix seconds. */
  upload_time?: number
  contact?: ShippingContact
}

/** `order.shipping` of `get_order`; `{}` while nothing was shipped. */
export interface OrderShipping {
  delivery_mode?: DeliveryMode
  logistics_type?: LogisticsType
  finish_shipping?: boolean
  /** 0, 1, or 2 after the one re-ship. */
  finish_shipping_count?: number
  goods_desc?: string
  shipping_list?: ShippedItem[]
}

/** A payment as the shipping system knows it (`get_order`). Amounts in fen, times in Unix seconds. */
export interface ShippingOrder {
  transaction_id: string
  merchant_id: string
  sub_merchant_id?: string
  merchant_trade_no: string
  /** The goods, joined by `;`, cut at 120 characters with `...`. */
  description: string
  paid_amount: number
  openid: string
  trade_create_time: number
  pay_time: number
  order_state: ShippingOrderState
  in_complaint: boolean
  shipping: OrderShipping
  /** Seen in live answers, undocumented. */
  upload_scene?: number
}

/** The body of `get_order_list`; every field optional. */
export interface GetOrderListRequest {
  /** Unix seconds; `end_time` is inclusive. */
  pay_time_range?: { begin_time?: number; end_time?: number }
  order_state?: ShippingOrderState
  openid?: string
  /** From the previous page's answer. */
  last_index?: string
  /** Default 100 per WeChat's table (one SDK says at most 50). */
  page_size?: number
}

/** A page of `get_order_list`. */
export interface ShippingOrderPage {
  order_list: ShippingOrder[]
  last_index: string
  has_more: boolean
}

/** The body of `notify_confirm_receive` (a reminder to the shopper to confirm receipt). */
export type NotifyConfirmReceiveRequest = ShippingOrderLookup & {
  /** When the goods arrived, Unix seconds; must be after the ship time. */
  received_time: number
}

/** One carrier from `get_delivery_list`. */
export interface DeliveryCompany {
  /** The value of `express_company` in uploads. */
  delivery_id: string
  delivery_name: string
}

/** The answer of `get_delivery_list`. */
export interface DeliveryList {
  delivery_list: DeliveryCompany[]
  count: number
}

/** System busy: always worth a retry. */
const BUSY: readonly number[] = [
  MiniProgramErrcode.SYSTEM_BUSY,
  MiniProgramErrcode.SHIPPING_BUSY,
  MiniProgramErrcode.SHIPPING_BUSY_2,
]
/** Calls about one payment also retry 10060001: right after payment WeChat may not know it yet. */
const BUSY_OR_NOT_YET_KNOWN: readonly number[] = [...BUSY, MiniProgramErrcode.ORDER_NOT_FOUND]

/**
 * 发货信息管理 (`/wxa/sec/order/*`): report how each paid order is delivered, so WeChat releases
 * the shopper's money. Reached as `mp.shipping`.
 *
 * @see https://developers.weixin.qq.com/miniprogram/dev/platform-capabilities/business-capabilities/order-shipping/order-shipping.html
 */
export class Shipping {
  readonly #mp: MiniProgramCaller
  readonly #clock: Clock

  constructor(mp: MiniProgramCaller, clock: Clock = systemClock) {
    this.#mp = mp
    this.#clock = clock
  }

  /**
   * Reports the shipment of one payment (`upload_shipping_info`). Checked before any network call
   * against WeChat's rules (list size, unified/split, express fields, lengths). 10060001 and
   * "system busy" are retried; remember each payment allows only one re-ship.
   *
   * @see https://developers.weixin.qq.com/miniprogram/dev/server/API/order_shipping/api_uploadshippinginfo
   */
  async uploadShippingInfo(
    req: UploadShippingInfoRequest,
    options?: MiniProgramCallOptions,
  ): Promise<void> {
    const body = {
      ...req,
      upload_time: req.upload_time ?? formatBeijingTime(this.#clock(), { milliseconds: true }),
    }
    checkUpload(body)
    await this.#mp.call('/wxa/sec/order/upload_shipping_info', body, BUSY_OR_NOT_YET_KNOWN, options)
  }

  /** One payment's shipping state (`get_order`). */
  async getOrder(
    lookup: ShippingOrderLookup,
    options?: MiniProgramCallOptions,
  ): Promise<ShippingOrder> {
    const answer = await this.#mp.call<{ order: ShippingOrder }>(
      '/wxa/sec/order/get_order',
      lookup,
      BUSY_OR_NOT_YET_KNOWN,
      options,
    )
    return answer.order
  }

  /** One page of payments (`get_order_list`); pass `last_index` while `has_more`. */
  async getOrderList(
    req: GetOrderListRequest = {},
    options?: MiniProgramCallOptions,
  ): Promise<ShippingOrderPage> {
    const { order_list, last_index, has_more } = await this.#mp.call<ShippingOrderPage>(
      '/wxa/sec/order/get_order_list',
      req,
      BUSY,
      options,
    )
    return { order_list: order_list ?? [], last_index: last_index ?? '', has_more: !!has_more }
  }

  /** Reminds the shopper to confirm receipt (`notify_confirm_receive`; once per order, express only). */
  async notifyConfirmReceive(
    req: NotifyConfirmReceiveRequest,
    options?: MiniProgramCallOptions,
  ): Promise<void> {
    if (!Number.isInteger(req.received_time) || req.received_time <= 0) {
      throw new InvalidArgumentError('received_time must be Unix seconds')
    }
    await this.#mp.call(
      '/wxa/sec/order/notify_confirm_receive',
      req,
      BUSY_OR_NOT_YET_KNOWN,
      options,
    )
  }

  /** Whether the app's trades are under shipping management (`is_trade_managed`). */
  async isTradeManaged(appid = this.#mp.appid, options?: MiniProgramCallOptions): Promise<boolean> {
    const answer = await this.#mp.call<{ is_trade_managed?: boolean }>(
      '/wxa/sec/order/is_trade_managed',
      { appid },
      BUSY,
      options,
    )
    return answer.is_trade_managed === true
  }

  /** The carriers and their `delivery_id`s (`get_delivery_list`), for `express_company`. */
  async getDeliveryList(options?: MiniProgramCallOptions): Promise<DeliveryList> {
    const answer = await this.#mp.call<Partial<DeliveryList>>(
      '/cgi-bin/express/delivery/open_msg/get_delivery_list',
      {},
      BUSY,
      options,
    )
    const list = answer.delivery_list ?? []
    return { delivery_list: list, count: answer.count ?? list.length }
  }
}

/**
 * Masks a phone number the way `contact` wants it: every digit but the last 4 becomes `*`;
 * separators (`+`, `-`, spaces) stay. `keepFirst` keeps that many leading digits too (WeChat's
 * examples show `189****1234`). Fewer than 5 digits are returned as they are.
 *
 * @example maskContact('18912341234') // '*******1234'
 * @example maskContact('18912341234', { keepFirst: 3 }) // '189****1234'
 * @example maskContact('021-66661234') // '***-****1234'
 */
export function maskContact(phone: string, options: { keepFirst?: number } = {}): string {
  const digits = phone.replace(/\D/g, '').length
  const keepFirst = options.keepFirst ?? 0
  if (digits <= 4) return phone
  let seen = 0
  return phone.replace(/\d/g, (d) => {
    seen++
    return seen <= keepFirst || seen > digits - 4 ? d : '*'
  })
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

/** WeChat's upload rules (errcodes of §1.3), so a mistake fails fast and says which rule. */
function checkUpload(req: UploadShippingInfoRequest & { upload_time: string }): void {
  const fail = (message: string): never => {
    throw new InvalidArgumentError(`upload_shipping_info: ${message}`)
  }
  const key = req.order_key
  if (key.order_number_type === 1) {
    if (!key.mchid || !key.out_trade_no) fail('order_key type 1 needs mchid and out_trade_no')
  } else if (key.order_number_type === 2) {
    if (!key.transaction_id) fail('order_key type 2 needs transaction_id')
  } else {
    fail('order_key.order_number_type must be 1 or 2')
  }
  if (![1, 2, 3, 4].includes(req.logistics_type)) fail('logistics_type must be 1, 2, 3 or 4')
  if (req.delivery_mode !== 1 && req.delivery_mode !== 2) {
    fail('delivery_mode must be the integer 1 (unified) or 2 (split)')
  }
  if (!Array.isArray(req.shipping_list)) fail('shipping_list must be an array')
  const n = req.shipping_list.length
  if (n < 1 || n > 15) fail('shipping_list must have 1 to 15 entries')
  if (req.delivery_mode === DeliveryMode.UNIFIED && n !== 1) {
    fail('unified delivery has exactly one shipping_list entry')
  }
  if (req.delivery_mode === DeliveryMode.SPLIT) {
    if (req.logistics_type !== LogisticsType.EXPRESS) fail('split delivery is for express only')
    if (typeof req.is_all_delivered !== 'boolean') fail('split delivery needs is_all_delivered')
  }
  for (const item of req.shipping_list) {
    if (!item.item_desc) fail('every shipping_list entry needs item_desc')
    if ([...item.item_desc].length > 120) fail('item_desc is at most 120 characters')
    if (req.logistics_type === LogisticsType.EXPRESS) {
      if (!item.tracking_no || !item.express_company) {
        fail('express needs tracking_no and express_company on every entry')
      }
    }
    for (const [name, value] of [
      ['tracking_no', item.tracking_no],
      ['express_company', item.express_company],
    ] as const) {
      if (value !== undefined && bytes(value) > 128) fail(`${name} is at most 128 bytes`)
    }
    for (const value of [item.contact?.consignor_contact, item.contact?.receiver_contact]) {
      if (value !== undefined && bytes(value) > 1024) fail('a contact is at most 1024 bytes')
    }
  }
  if (!RFC3339.test(req.upload_time)) fail('upload_time must be RFC 3339 with an offset')
  if (!req.payer?.openid || bytes(req.payer.openid) > 128) fail('payer.openid is required')
}
