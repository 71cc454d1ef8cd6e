import {
  receiptBy,
  reportsShipping,
  type AdminOrder,
  type CompletionSource,
  type LogisticsTypeName,
  type PayChannel,
  type Order,
  type ReceiptConfirmation,
  type ShipOrderRequest,
} from '@fen/shared'
import {
  DeliveryMode,
  InvalidArgumentError,
  LogisticsType,
  MiniProgramErrcode,
  ShippingOrderState,
  WechatPayError,
  formatBeijingTime,
  isMiniProgramError,
  maskContact,
  type ShippingOrder,
} from '@fen/wechatpay'
import { AppError } from '../errors'
import { loggable } from '../logger'
import {
  claimDueUploads,
  claimUpload,
  findDelivery,
  markUploadedByWechat,
  recordUpload,
  type DeliveryRow,
} from '../repositories/deliveries'
import {
  findOrder,
  findUserOrder,
  itemsOf,
  lockOrder,
  overdueShopReceipts,
  paidVirtualOrders,
  type OrderRow,
} from '../repositories/orders'
import { complete, ship } from '../domain/orders'
import { findUserOpenid } from '../repositories/users'
import type { ServiceContext } from './context'
import type { DeliveryCompanies } from './delivery-companies'
import { adminOrderViews, orderViews } from './order-views'
import { miniProgramFailure } from './wechat-errors'

/** An upload holds its delivery this long: a few WeChat calls with the SDK's retries. */
export const UPLOAD_LEASE_MS = 60_000
/** Waits after a failed upload: 30 s, 2 min, 10 min, 30 min, then hourly — never given up on. */
const UPLOAD_BACKOFF_MS = [30_000, 120_000, 600_000, 1_800_000, 3_600_000]
/** After this many failed tries, each further failure is logged as an ALERT. */
const UPLOAD_ALERT_AFTER = 5

const LOGISTICS: Record<LogisticsTypeName, LogisticsType> = {
  express: LogisticsType.EXPRESS,
  same_city: LogisticsType.SAME_CITY,
  virtual: LogisticsType.VIRTUAL,
  pickup: LogisticsType.PICKUP,
}

/**
 * WeChat refusals about the order or the report itself (§1.3 of wechat-ops-api.md): the same
 * report would be refused again, so the upload stops and a person looks. Every other failure
 * (network, busy, 10060001 "not known yet", token or quota trouble) is retried with backoff.
 */
const REFUSED_FOR_GOOD: readonly number[] = [
  MiniProgramErrcode.RESHIP_USED,
  MiniProgramErrcode.NOT_SHIPPABLE,
  MiniProgramErrcode.NOT_PAYER,
  10060005, // bad logistics_type
  10060008, // item_desc empty
  10060009, // item_desc too long
  10060014, // invalid parameter
  10060024, // shipping_list too long
  10060025, // express_company too long
  10060026, // tracking_no too long
  268485226, // express without tracking_no
  268485227, // express without express_company
]

/** WeChat's answers that mean "you already reported this": the report is in. */
const ALREADY_IN: readonly number[] = [
  MiniProgramErrcode.ALREADY_SHIPPED,
  MiniProgramErrcode.SHIPPING_UNCHANGED,
]

/**
 * `get_order` states in which the shopper (or WeChat, automatically) has confirmed receipt:
 * 3 确认收货, 6 资金待结算 (after confirmation, before settlement) and 4 交易完成.
 */
const RECEIPT_CONFIRMED: readonly number[] = [
  ShippingOrderState.RECEIPT_CONFIRMED,
  ShippingOrderState.AWAITING_SETTLEMENT,
  ShippingOrderState.COMPLETED,
]

/**
 * Shipping management (发货信息管理): shipping an order (the operator's, or automatically for
 * virtual goods), reporting it to WeChat (`upload_shipping_info`), and completing it when receipt
 * was confirmed: the shopper's confirm-receipt (checked with `get_order` for a JSAPI payment), the
 * shop's overdue receipts, or WeChat's settlement push (services/push.ts calls `complete`).
 *
 * Shipping is two steps, so a WeChat outage never loses a shipment nor holds a transaction open:
 * the delivery row, PAID → SHIPPED and `order.shipped` in one transaction; then the upload, right
 * after, and — while it fails — again by the shipping job (jobs/shipping.ts) with backoff. Each
 * upload try holds the delivery's lease; its outcome is written only while the lease is still ours.
 */
export class ShippingService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly carriers: DeliveryCompanies,
  ) {}

  /**
   * Ships a paid order (a partly refunded one too: see `canShip`). A repeat of the same request on
   * a shipped order answers the order as it is (idempotent); other delivery details →
   * ORDER_ALREADY_SHIPPED; unpaid, or refunded in full → ORDER_NOT_SHIPPABLE; an express carrier
   * that is not on WeChat's list → INVALID_INPUT (WeChat would refuse the report for good). The
   * upload to WeChat follows; its failure does not fail the request.
   */
  async ship(orderNo: string, req: ShipOrderRequest): Promise<AdminOrder> {
    await this.#record(orderNo, req, await this.#carrierName(req))
    await this.uploadNow(orderNo)
    return this.adminView(orderNo)
  }

  /**
   * The express carrier's name from WeChat's list; undefined for other deliveries, and when the list
   * cannot be read now (shipping does not wait for WeChat: the upload reports a bad id later).
   */
  async #carrierName(req: ShipOrderRequest): Promise<string | undefined> {
    if (req.logisticsType !== 'express' || !req.expressCompany) return undefined
    let name: string | undefined
    try {
      name = await this.carriers.nameOf(req.expressCompany)
    } catch (e) {
      if (e instanceof AppError && e.code.startsWith('WECHAT_')) return undefined
      throw e
    }
    if (name === undefined) {
      throw new AppError(
        'INVALID_INPUT',
        `快递公司「${req.expressCompany}」不在微信的快递公司列表中`,
      )
    }
    return name
  }

  /** The transaction of shipping: delivery row, PAID → SHIPPED, `order.shipped`. */
  async #record(orderNo: string, req: ShipOrderRequest, carrierName?: string): Promise<void> {
    const now = this.ctx.clock()
    await this.ctx.db.transaction(async (tx) => {
      const order = await lockOrder(tx, orderNo)
      if (!order) throw new AppError('ORDER_NOT_FOUND', '订单不存在')
      const existing = await findDelivery(tx, orderNo)
      if (existing) {
        if (sameDelivery(existing, req)) return
        throw new AppError('ORDER_ALREADY_SHIPPED', '订单已发货，发货信息不能更改')
      }
      await ship(
        tx,
        orderNo,
        async (order) => {
          const lines = (await itemsOf(tx, [orderNo])).get(orderNo) ?? []
          const contact = req.logisticsType === 'express' ? contactOf(order) : undefined
          // WeChat refuses an SF report without a contact (10060014), for good: refused here
          // instead, before anything is shipped. A delivery WeChat is never told of needs none.
          if (
            req.logisticsType === 'express' &&
            req.expressCompany === 'SF' &&
            !contact &&
            reportsShipping(order.channel as PayChannel | null)
          ) {
            throw new AppError(
              'INVALID_INPUT',
              '顺丰快递需要收件人手机号，该订单没有收货地址手机号',
            )
          }
          return {
            logisticsType: req.logisticsType,
            expressCompany: req.logisticsType === 'express' ? (req.expressCompany ?? null) : null,
            expressCompanyName: carrierName ?? null,
            trackingNo: req.logisticsType === 'express' ? (req.trackingNo ?? null) : null,
            itemDesc: req.itemDesc ?? describeGoods(lines),
            contactMasked: contact ?? null,
            shippedAt: now,
            nextUploadAt: now,
          }
        },
        now,
      )
    })
  }

  /**
   * Ships the PAID orders of virtual goods only (the shipping job; never inside the payment's
   * transaction, and never holding up WeChat Pay's notification). Returns how many it shipped.
   */
  async shipVirtualOrders(limit: number): Promise<number> {
    let shipped = 0
    for (const orderNo of await paidVirtualOrders(this.ctx.db, limit)) {
      try {
        await this.#record(orderNo, { logisticsType: 'virtual' })
        shipped++
        this.ctx.metrics.shippingActions.inc({ action: 'virtual_shipped' })
      } catch (e) {
        // Refunded, or shipped by another instance, since the list was read: nothing to do.
        if (e instanceof AppError && e.code.startsWith('ORDER_')) continue
        throw e
      }
    }
    return shipped
  }

  /**
   * The shipping job's uploads: claims deliveries whose report to WeChat is due (`FOR UPDATE SKIP
   * LOCKED` and a lease) and tries each once. A delivery that throws is left for the next run.
   */
  async uploadDue(limit: number): Promise<{ uploaded: number; failed: number; errors: number }> {
    let uploaded = 0
    let failed = 0
    let errors = 0
    for (const d of await claimDueUploads(this.ctx.db, this.ctx.clock(), UPLOAD_LEASE_MS, limit)) {
      try {
        if ((await this.upload(d)) === 'uploaded') uploaded++
        else failed++
      } catch (e) {
        errors++
        this.ctx.logger.warn(
          { orderNo: d.orderNo, err: loggable(e) },
          'shipping job: upload left for the next run',
        )
      }
    }
    return { uploaded, failed, errors }
  }

  /** Uploads one order's pending delivery now, unless another uploader holds it. */
  async uploadNow(orderNo: string): Promise<void> {
    const claimed = await claimUpload(this.ctx.db, orderNo, this.ctx.clock(), UPLOAD_LEASE_MS)
    if (claimed) await this.upload(claimed)
  }

  /**
   * One upload try of a claimed delivery (`uploadLeaseUntil` is the claim token). A try after an
   * earlier one asks `get_order` first: a try that timed out may have been applied, and a second
   * upload would spend the order's one re-ship. Never throws for WeChat's failures: they are
   * recorded on the delivery and retried later.
   */
  async upload(d: DeliveryRow): Promise<'uploaded' | 'retry' | 'gave_up'> {
    const lease = d.uploadLeaseUntil!
    const order = (await findOrder(this.ctx.db, d.orderNo))!
    const mp = this.ctx.miniProgram
    const done = async (): Promise<'uploaded'> => {
      await recordUpload(this.ctx.db, d.orderNo, lease, { kind: 'uploaded', at: this.ctx.clock() })
      this.ctx.metrics.shippingActions.inc({ action: 'uploaded' })
      return 'uploaded'
    }
    try {
      if (d.uploadAttempts > 0) {
        const known = await this.#wechatOrder(order.orderNo).catch(() => undefined)
        if (known && shippedAtWechat(known)) return await done()
      }
      const payer = await findUserOpenid(this.ctx.db, order.userId)
      await mp.shipping.uploadShippingInfo({
        order_key: {
          order_number_type: 1,
          mchid: this.ctx.config.wechatpay.mchid,
          out_trade_no: order.orderNo,
        },
        logistics_type: LOGISTICS[d.logisticsType as LogisticsTypeName],
        delivery_mode: DeliveryMode.UNIFIED,
        shipping_list: [
          {
            item_desc: d.itemDesc,
            ...(d.trackingNo ? { tracking_no: d.trackingNo } : {}),
            ...(d.expressCompany ? { express_company: d.expressCompany } : {}),
            ...(d.contactMasked ? { contact: { receiver_contact: d.contactMasked } } : {}),
          },
        ],
        upload_time: formatBeijingTime(this.ctx.clock(), { milliseconds: true }),
        payer: { openid: payer! },
      })
      return await done()
    } catch (e) {
      if (isMiniProgramError(e, ...ALREADY_IN)) return done()
      const error = loggable(e).message
      const attempt = d.uploadAttempts + 1
      if (e instanceof InvalidArgumentError || isMiniProgramError(e, ...REFUSED_FOR_GOOD)) {
        await recordUpload(this.ctx.db, d.orderNo, lease, {
          kind: 'gave_up',
          error,
          at: this.ctx.clock(),
        })
        this.ctx.metrics.shippingActions.inc({ action: 'upload_refused' })
        // A refund WeChat saw first makes the order unshippable there: expected, not an alert.
        const refunded = ['REFUNDING', 'PARTIALLY_REFUNDED', 'REFUNDED'].includes(order.status)
        this.ctx.logger[refunded ? 'warn' : 'error'](
          { orderNo: d.orderNo, error, status: order.status },
          refunded
            ? 'shipping report refused by WeChat after a refund; not retried'
            : 'ALERT: WeChat refused the shipping report; a person must report it (or fix the delivery)',
        )
        return 'gave_up'
      }
      if (!(e instanceof WechatPayError)) throw e
      const delay = UPLOAD_BACKOFF_MS[Math.min(attempt - 1, UPLOAD_BACKOFF_MS.length - 1)]!
      await recordUpload(this.ctx.db, d.orderNo, lease, {
        kind: 'retry',
        error,
        next: new Date(this.ctx.clock().getTime() + delay),
      })
      this.ctx.metrics.shippingActions.inc({ action: 'upload_failed' })
      this.ctx.logger[attempt >= UPLOAD_ALERT_AFTER ? 'error' : 'warn'](
        { orderNo: d.orderNo, attempt, error },
        attempt >= UPLOAD_ALERT_AFTER
          ? 'ALERT: shipping report still not accepted by WeChat; retrying'
          : 'shipping report failed for now; the shipping job retries it',
      )
      return 'retry'
    }
  }

  /**
   * The shopper's shipped order paid through JSAPI: what `wx.openBusinessView` (weappOrderConfirm)
   * needs. Receipt of any other payment is confirmed in the shop itself (`confirmReceipt`), so
   * WeChat's sheet has nothing to show for it: RECEIPT_NOT_CONFIRMED.
   */
  async receiptConfirmation(userId: number, orderNo: string): Promise<ReceiptConfirmation> {
    const order = await findUserOrder(this.ctx.db, userId, orderNo)
    if (!order) throw new AppError('ORDER_NOT_FOUND', '订单不存在')
    if (!(await findDelivery(this.ctx.db, orderNo))) {
      throw new AppError('RECEIPT_NOT_CONFIRMED', '订单尚未发货，不能确认收货')
    }
    if (receiptBy(order.channel as PayChannel | null) === 'shop') {
      throw new AppError('RECEIPT_NOT_CONFIRMED', '该订单请在商城内直接确认收货')
    }
    return {
      businessType: 'weappOrderConfirm',
      extraData: { merchant_id: this.ctx.config.wechatpay.mchid, merchant_trade_no: orderNo },
    }
  }

  /**
   * `POST /api/orders/:orderNo/confirm-receipt`: the shopper confirms receipt. A JSAPI payment's
   * receipt is WeChat's (the shopper confirmed in `wx.openBusinessView`): never taken on the
   * client's word, `get_order` must say receipt was confirmed (3, 6 or 4), else
   * RECEIPT_NOT_CONFIRMED. Any other payment's receipt is the shop's: the shopper's word completes
   * it (`receiptBy` in packages/shared). Idempotent; a fully refunded order is not received.
   */
  async confirmReceipt(userId: number, orderNo: string): Promise<Order> {
    const order = await findUserOrder(this.ctx.db, userId, orderNo)
    if (!order) throw new AppError('ORDER_NOT_FOUND', '订单不存在')
    if (order.completedAt) return this.view(orderNo)
    if (!(await findDelivery(this.ctx.db, orderNo))) {
      throw new AppError('RECEIPT_NOT_CONFIRMED', '订单尚未发货，不能确认收货')
    }
    if (order.status === 'REFUNDED') {
      throw new AppError('RECEIPT_NOT_CONFIRMED', '订单已全额退款，无需确认收货')
    }
    if (receiptBy(order.channel as PayChannel | null) === 'shop') {
      await this.complete(orderNo, this.ctx.clock(), 'shop_confirm')
      return this.view(orderNo)
    }
    let known: ShippingOrder
    try {
      known = await this.#wechatOrder(orderNo)
    } catch (e) {
      throw miniProgramFailure(e)
    }
    if (!RECEIPT_CONFIRMED.includes(known.order_state)) {
      throw new AppError('RECEIPT_NOT_CONFIRMED', '微信尚未确认收货，请在微信中确认收货后再试')
    }
    await this.complete(orderNo, this.ctx.clock(), 'confirm_receipt')
    return this.view(orderNo)
  }

  /** Receipt confirmed: COMPLETED (or the time recorded, if refunded meanwhile) and `order.completed`, once. */
  async complete(orderNo: string, at: Date, source: CompletionSource): Promise<boolean> {
    const done = await this.ctx.db.transaction((tx) =>
      complete(tx, orderNo, at, source, this.ctx.clock()),
    )
    if (done) this.ctx.metrics.shippingActions.inc({ action: `completed_by_${source}` })
    return done !== undefined
  }

  /**
   * WeChat says it has the order's shipping report (a settlement push at stage `shipped`): the
   * upload is marked done if our own try never heard back. False when it was done already.
   */
  markReportedByWechat(orderNo: string): Promise<boolean> {
    return markUploadedByWechat(this.ctx.db, orderNo, this.ctx.clock())
  }

  /**
   * Orders whose receipt is the shop's (not reported to WeChat), shipped more than
   * `ORDER_AUTO_RECEIVE_DAYS` ago and not confirmed by the shopper: received now, by the shop's
   * rule (the shipping job). Returns how many.
   */
  async receiveOverdue(limit: number): Promise<number> {
    const before = new Date(
      this.ctx.clock().getTime() - this.ctx.config.orderAutoReceiveDays * 86_400_000,
    )
    let received = 0
    for (const orderNo of await overdueShopReceipts(this.ctx.db, before, limit)) {
      if (await this.complete(orderNo, this.ctx.clock(), 'auto_receive')) received++
    }
    return received
  }

  /** WeChat's shipping view of one of our orders (by our mchid and out_trade_no). */
  #wechatOrder(orderNo: string): Promise<ShippingOrder> {
    return this.ctx.miniProgram.shipping.getOrder({
      merchant_id: this.ctx.config.wechatpay.mchid,
      merchant_trade_no: orderNo,
    })
  }

  async view(orderNo: string): Promise<Order> {
    const [view] = await orderViews(this.ctx.db, [(await findOrder(this.ctx.db, orderNo))!])
    return view!
  }

  async adminView(orderNo: string): Promise<AdminOrder> {
    const [view] = await adminOrderViews(this.ctx.db, [(await findOrder(this.ctx.db, orderNo))!])
    return view!
  }
}

/** Whether WeChat has our report already (shipped, or further along). */
function shippedAtWechat(o: ShippingOrder): boolean {
  return (
    o.shipping?.finish_shipping === true || o.order_state !== ShippingOrderState.AWAITING_SHIPMENT
  )
}

/** A ship request repeated: the same details as the delivery recorded. */
function sameDelivery(d: DeliveryRow, req: ShipOrderRequest): boolean {
  return (
    d.logisticsType === req.logisticsType &&
    (d.expressCompany ?? undefined) ===
      (req.logisticsType === 'express' ? req.expressCompany : undefined) &&
    (d.trackingNo ?? undefined) ===
      (req.logisticsType === 'express' ? req.trackingNo : undefined) &&
    (req.itemDesc === undefined || req.itemDesc === d.itemDesc)
  )
}

/** The goods, as WeChat's `item_desc` wants them: titles × quantity, at most 120 characters. */
export function describeGoods(lines: { title: string; quantity: number }[]): string {
  const text = lines.map((l) => (l.quantity > 1 ? `${l.title}×${l.quantity}` : l.title)).join('；')
  const chars = [...(text || 'Fen 订单')]
  return chars.length <= 120 ? chars.join('') : chars.slice(0, 117).join('') + '...'
}

/**
 * The shopper's phone from the order's address, masked with the first 3 and last 4 digits kept
 * (`contact.receiver_contact`, which SF express requires: WeChat wants it masked, last 4 digits
 * unmasked, e.g. `189****1234`, `021-****1234`). Undefined for an order without an address.
 */
function contactOf(order: OrderRow): string | undefined {
  return order.address ? maskContact(order.address.phone, { keepFirst: 3 }) : undefined
}
