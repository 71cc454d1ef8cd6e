import {
  failureReply,
  successReply,
  v2NotificationReply,
  type HeaderSource,
  type NotificationEvent,
  type NotificationReply,
  type V2PayNotification,
  parseV2Time,
  readHeader,
  PUBLIC_KEY_ID_PREFIX,
} from '@fen/wechatpay'
import { createHash } from 'node:crypto'
import type { Db } from '../db/client'
import { loggable } from '../logger'
import { close, pay, payAfterClose } from '../domain/orders'
import { setNotificationOutcome, storeNotification, type Outcome } from '../repositories/events'
import {
  claimExpiredOrders,
  findOrder,
  findPayment,
  lockOrder,
  markPaid,
  recordPayment,
  touchSynced,
  type OrderRow,
} from '../repositories/orders'
import { applyNotifiedPayment } from '../repositories/notified-payments'
import { findSecondPaymentRefund } from '../repositories/refunds'
import { orderStateOf, wechatTime, type WechatOrderState } from '../wechat/gateway'
import {
  NotificationEnvelopeShape,
  RefundShape,
  TransactionShape,
  V2PaymentShape,
  shapeProblem,
  storable,
} from '../wechat/notification-shapes'
import type { ServiceContext } from './context'
import { receiveInbound, type InboundEndpoint, type Refusal } from './inbound'
import type { RefundService } from './refunds'

/** A payment as WeChat reported it, by notification or by our query. */
export interface PaymentReport extends WechatOrderState {
  orderNo: string
  source: 'notify' | 'query'
}

/** Verifying and decrypting notifications is the SDK's job; the service receives the result. */
export interface NotificationParsers {
  v3(headers: HeaderSource, rawBody: Buffer): Promise<NotificationEvent>
  v2?(xml: string): Promise<V2PayNotification>
}

/**
 * Payments: WeChat's notifications and our queries move orders to PAID exactly once. Each payment
 * is one transaction: the notification stored by WeChat's id (a retry finds it and changes
 * nothing), the order row locked, appid/mchid/amount checked against it, the compare-and-set
 * PENDING → PAID, and the `order.paid` outbox event — all or nothing.
 */
export class PaymentService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly refunds: RefundService,
    private readonly parsers: NotificationParsers,
  ) {}

  /**
   * `POST /api/pay/notify`: verify over the raw bytes, decrypt, apply, and say what to answer.
   * Forged, stale or probe notifications → 401, nothing changes. A database failure throws, and
   * the route answers 500 so WeChat retries.
   */
  async receiveV3(headers: HeaderSource, rawBody: Buffer): Promise<NotificationReply> {
    const parsed = await receiveInbound(
      this.ctx.logger,
      this.#inbound('v3', (r) =>
        r.kind === 'malformed'
          ? failureReply(400, '报文格式错误')
          : failureReply(401, r.reason === 'signtest' ? '签名探测' : '验签失败'),
      ),
      () => this.parsers.v3(headers, rawBody),
    )
    if (!parsed.ok) return parsed.reply
    const event = parsed.value
    const problem =
      shapeProblem(NotificationEnvelopeShape, { id: event.id, eventType: event.eventType }) ??
      (event.type === 'transaction'
        ? shapeProblem(TransactionShape, event.transaction)
        : event.type === 'refund'
          ? shapeProblem(RefundShape, event.refund)
          : undefined)
    if (problem) {
      const resource =
        event.type === 'transaction'
          ? event.transaction
          : event.type === 'refund'
            ? event.refund
            : undefined
      return this.#refuseMalformed('v3', rawBody, problem, {
        id: event.id,
        eventType: event.eventType,
        orderNo: (resource as { out_trade_no?: unknown } | undefined)?.out_trade_no,
      })
    }
    const serial = readHeader(headers, 'Wechatpay-Serial') ?? ''
    this.ctx.metrics.notificationKeys.inc({
      key: serial.startsWith(PUBLIC_KEY_ID_PREFIX) ? 'public_key' : 'certificate',
    })
    let outcome: Outcome
    if (event.type === 'transaction') {
      const t = event.transaction
      outcome = await this.applyPayment(
        { orderNo: t.out_trade_no, ...orderStateOf(t), source: 'notify' },
        { id: event.id, eventType: event.eventType },
      )
    } else if (event.type === 'refund') {
      const r = event.refund
      outcome = await this.refunds.applyResult(
        {
          outRefundNo: r.out_refund_no,
          mchid: r.mchid,
          orderNo: r.out_trade_no,
          totalFen: r.amount.total,
          status: r.refund_status,
          refundId: typeof r.refund_id === 'string' ? r.refund_id : undefined,
          amountFen: r.amount?.refund,
          successTime: wechatTime(r.success_time),
        },
        { id: event.id, eventType: event.eventType },
      )
    } else {
      outcome = await this.#storeIgnored({ id: event.id, eventType: event.eventType })
    }
    this.ctx.metrics.notifications.inc({ api: 'v3', outcome })
    return successReply()
  }

  /** `POST /api/pay/notify/v2`: the APIv2 XML notification; answers SUCCESS or FAIL XML. */
  async receiveV2(xml: string): Promise<NotificationReply> {
    const reply = (status: number, ok: boolean, message?: string): NotificationReply => ({
      status,
      headers: { 'Content-Type': 'text/xml; charset=utf-8' },
      body: v2NotificationReply(ok, message),
    })
    if (!this.parsers.v2) return reply(404, false, 'APIv2 is not enabled')
    const parsed = await receiveInbound(
      this.ctx.logger,
      this.#inbound('v2', (r) =>
        reply(r.status, false, r.status === 401 ? '签名失败' : '报文格式错误'),
      ),
      () => this.parsers.v2!(xml),
    )
    if (!parsed.ok) return parsed.reply
    const n = parsed.value
    const problem = shapeProblem(V2PaymentShape, n)
    if (problem) {
      const refused = await this.#refuseMalformed('v2', Buffer.from(xml), problem, {
        id: `v2:${n.transaction_id}`,
        eventType: 'TRANSACTION.SUCCESS',
        orderNo: n.out_trade_no,
      })
      return reply(refused.status, false, '报文格式错误')
    }
    const outcome = await this.applyPayment(
      {
        orderNo: n.out_trade_no,
        state: n.result_code === 'SUCCESS' ? 'SUCCESS' : 'PAYERROR',
        transactionId: n.transaction_id,
        appid: n.appid,
        mchid: n.mch_id,
        totalFen: n.total_fee,
        payerOpenid: n.openid,
        successTime: n.time_end ? parseV2Time(n.time_end) : undefined,
        source: 'notify',
      },
      // APIv2 notifications carry no id: the transaction identifies the payment.
      { id: `v2:${n.transaction_id}`, eventType: 'TRANSACTION.SUCCESS', api: 'v2' },
    )
    this.ctx.metrics.notifications.inc({ api: 'v2', outcome })
    return reply(200, true)
  }

  /**
   * How a notification is refused before anything is applied (services/inbound.ts): counted as
   * `unverified` (a bad signature by its reason too), answered as `reply` says.
   */
  #inbound<Reply>(api: 'v3' | 'v2', reply: (r: Refusal) => Reply): InboundEndpoint<Reply> {
    const { metrics } = this.ctx
    return {
      count: (r) => {
        if (r.kind === 'unverified') metrics.signatureFailures.inc({ reason: r.reason })
        metrics.notifications.inc({ api, outcome: 'unverified' })
      },
      message: (r) =>
        r.kind === 'unverified'
          ? 'notification refused: not verified'
          : 'notification refused: malformed',
      reply,
    }
  }

  /**
   * A verified notification of a shape WeChat never sends: stored as rejected (its id and fields
   * made storable; an id that is not one is replaced by a digest of the body, so a retry is still
   * stored once), counted, answered 400.
   */
  async #refuseMalformed(
    api: 'v3' | 'v2',
    rawBody: Buffer,
    problem: string,
    n: { id: unknown; eventType: unknown; orderNo: unknown },
  ): Promise<NotificationReply> {
    const idOk = shapeProblem(NotificationEnvelopeShape.shape.id, n.id) === undefined
    const digest = createHash('sha256').update(rawBody).digest('hex').slice(0, 40)
    const orderNo = storable(n.orderNo)
    await storeNotification(this.ctx.db, {
      id: idOk ? (n.id as string) : `${api === 'v2' ? 'v2:' : ''}malformed:${digest}`,
      eventType: storable(n.eventType) ?? 'UNKNOWN',
      ...(orderNo === undefined ? {} : { orderNo }),
      outcome: 'rejected',
      detail: `malformed: ${storable(problem, 200)}`,
    })
    this.ctx.metrics.notifications.inc({ api, outcome: 'rejected' })
    this.ctx.logger.warn({ problem, orderNo }, 'notification refused: verified but malformed')
    return failureReply(400, '报文格式错误')
  }

  /** Stores a notification that changes nothing; a retry of one already stored is a duplicate. */
  async #storeIgnored(
    notification: { id: string; eventType: string },
    orderNo?: string,
  ): Promise<'ignored' | 'duplicate'> {
    const fresh = await storeNotification(this.ctx.db, {
      ...notification,
      ...(orderNo === undefined ? {} : { orderNo }),
      outcome: 'ignored',
    })
    return fresh ? 'ignored' : 'duplicate'
  }

  /**
   * Applies a payment report once. Checks appid, mchid and the amount against the order; a
   * mismatch is stored for review, counted and logged as an alert, and never makes the order PAID.
   * A payment for an order that already closed, and a second payment (another transaction) on an
   * order already paid, are recorded and refunded automatically.
   */
  async applyPayment(
    report: PaymentReport,
    notification?: { id: string; eventType: string; api?: 'v3' | 'v2' },
  ): Promise<Outcome> {
    if (report.state !== 'SUCCESS' && report.state !== 'REFUND') {
      return notification ? this.#storeIgnored(notification, report.orderNo) : 'ignored'
    }
    const now = this.ctx.clock()
    if (
      notification &&
      report.state === 'SUCCESS' &&
      report.transactionId &&
      report.totalFen !== undefined &&
      this.#ours(report)
    ) {
      const fast = await applyNotifiedPayment(this.ctx.db, {
        notificationId: notification.id,
        eventType: notification.eventType,
        orderNo: report.orderNo,
        transactionId: report.transactionId,
        totalFen: report.totalFen,
        payerOpenid: report.payerOpenid ?? null,
        paidAt: report.successTime ?? now,
        api: notification.api ?? 'v3',
        at: now,
      })
      if (fast.kind === 'paid') return 'applied'
      if (fast.kind === 'seen') return 'duplicate'
    }
    const result = await this.ctx.db.transaction(async (tx) => {
      if (notification) {
        const fresh = await storeNotification(tx, {
          id: notification.id,
          eventType: notification.eventType,
          orderNo: report.orderNo,
          outcome: 'applied',
        })
        if (!fresh) return { outcome: 'duplicate' as const }
      }
      const r = await this.#apply(tx, report, now, notification)
      // Stored as applied above; a payment we already had (a query paid the order first) is a
      // duplicate, and the record says so.
      if (notification && r.outcome === 'duplicate')
        await setNotificationOutcome(tx, notification.id, 'duplicate')
      return r
    })
    if (result.outcome === 'rejected') {
      this.ctx.metrics.paymentMismatches.inc()
      this.ctx.logger.error(
        { orderNo: report.orderNo, detail: result.detail, source: report.source },
        'ALERT: payment not applied, needs review',
      )
    }
    if ('refund' in result && result.refund) {
      this.ctx.logger.warn(
        { orderNo: report.orderNo, why: result.why },
        'payment refunded automatically',
      )
      await this.refunds.submit(result.refund)
    }
    return result.outcome
  }

  /**
   * Whether the report is for our appid and mchid. A success with a transaction id of ours may try
   * the one-statement path (applyNotifiedPayment); anything else, and anything that statement does
   * not match, goes through the transaction below, which records why.
   */
  #ours(report: PaymentReport): boolean {
    return (
      report.appid === this.ctx.config.wechat.appid &&
      report.mchid === this.ctx.config.wechatpay.mchid
    )
  }

  /** The checks and writes of applyPayment, in its transaction (the notification already stored). */
  async #apply(
    tx: Db,
    report: PaymentReport,
    now: Date,
    notification: { id: string; eventType: string; api?: 'v3' | 'v2' } | undefined,
  ): Promise<
    | { outcome: 'applied' | 'duplicate'; refund?: string; why?: string }
    | { outcome: 'rejected'; detail: string }
  > {
    const reject = async (detail: string) => {
      if (notification) await setNotificationOutcome(tx, notification.id, 'rejected', detail)
      return { outcome: 'rejected' as const, detail }
    }
    const order = await lockOrder(tx, report.orderNo)
    if (!order) return reject('unknown order')
    // An APIv2 notification carries no timestamp and is signed with the older key: it may pay
    // only an order prepaid through APIv2.
    if (notification?.api === 'v2' && order.apiVersion !== 'v2')
      return reject(`an APIv2 notification for an order prepaid through ${order.apiVersion}`)
    if (report.appid !== this.ctx.config.wechat.appid)
      return reject(`appid ${report.appid} is not ours`)
    if (report.mchid !== this.ctx.config.wechatpay.mchid)
      return reject(`mchid ${report.mchid} is not ours`)
    if (report.totalFen !== order.totalFen) {
      return reject(
        `amount ${report.totalFen} fen does not match the order's ${order.totalFen} fen`,
      )
    }
    if (!report.transactionId) return reject('no transaction_id')
    const payment = { transactionId: report.transactionId, paidAt: report.successTime ?? now }
    // One transaction pays one order: reported for another, it is held (the unique
    // transaction id would otherwise fail the write, and WeChat would retry for a day).
    const earlier = await findPayment(tx, report.transactionId)
    if (earlier && earlier.orderNo !== order.orderNo) {
      return reject(`transaction ${report.transactionId} already paid order ${earlier.orderNo}`)
    }
    if (order.transactionId && order.transactionId !== report.transactionId)
      return this.#secondPayment(tx, order, report, payment, notification, reject)
    await recordPayment(tx, {
      transactionId: report.transactionId,
      orderNo: order.orderNo,
      amountFen: report.totalFen,
      payerOpenid: report.payerOpenid ?? null,
      paidAt: payment.paidAt,
      source: report.source,
    })
    if (order.status === 'PENDING') {
      if (report.state === 'REFUND') {
        // Paid and already refunded at WeChat (by hand, in 商户平台) before we saw the payment:
        // recorded as paid, never fulfilled (no order.paid), and left to a person.
        if (!(await markPaid(tx, order.orderNo, payment))) return { outcome: 'duplicate' as const }
        return reject(
          'paid and already refunded at WeChat before we saw the payment: not fulfilled',
        )
      }
      const paid = await pay(tx, order.orderNo, payment, this.ctx.clock())
      return { outcome: paid ? ('applied' as const) : ('duplicate' as const) }
    }
    if (order.status === 'CLOSED' && !order.transactionId) {
      // Paid after we closed it (the user's payment was in flight): keep nothing, refund it all.
      const late = await payAfterClose(tx, order.orderNo, payment)
      if (!late) return { outcome: 'duplicate' as const }
      const refund = await this.refunds.createAutomatic(tx, late)
      return { outcome: 'applied' as const, refund, why: 'paid after the order closed' }
    }
    return { outcome: 'duplicate' as const }
  }

  /**
   * Another transaction on an order already paid (the shopper was charged twice): recorded, and
   * refunded in full by its own transaction_id, once — the order row is locked, and the refund row
   * is unique per transaction, so a repeated notification or a query racing it finds the refund
   * and is a duplicate. The order itself is not touched: its status, `refunded_fen` and what the
   * operators may still refund stay as they were.
   */
  async #secondPayment(
    tx: Db,
    order: OrderRow,
    report: PaymentReport,
    payment: { transactionId: string; paidAt: Date },
    notification: { id: string } | undefined,
    reject: (detail: string) => Promise<{ outcome: 'rejected'; detail: string }>,
  ): Promise<
    | { outcome: 'applied' | 'duplicate'; refund?: string; why?: string }
    | { outcome: 'rejected'; detail: string }
  > {
    if (await findSecondPaymentRefund(tx, payment.transactionId))
      return { outcome: 'duplicate' as const }
    await recordPayment(tx, {
      transactionId: payment.transactionId,
      orderNo: order.orderNo,
      // The amount was checked against the order's total.
      amountFen: order.totalFen,
      payerOpenid: report.payerOpenid ?? null,
      paidAt: payment.paidAt,
      source: report.source,
    })
    if (report.state === 'REFUND') {
      return reject(
        `a second payment ${payment.transactionId}, already refunded at WeChat; the order was paid by ${order.transactionId}`,
      )
    }
    const why = 'second payment on a paid order'
    const refund = await this.refunds.createForSecondPayment(tx, order, {
      transactionId: payment.transactionId,
      amountFen: order.totalFen,
    })
    if (notification) {
      await setNotificationOutcome(
        tx,
        notification.id,
        'applied',
        `${why} (paid by ${order.transactionId}): refunded automatically as ${refund}`,
      )
    }
    return { outcome: 'applied' as const, refund, why }
  }

  /**
   * Asks WeChat about an order and applies what it says: paid → PAID (or refunded if we had closed
   * it); closed at WeChat but not here → CLOSED. WeChat errors propagate to the caller.
   */
  async sync(orderNo: string): Promise<void> {
    // Marked before asking: while WeChat is unreachable, GETs still ask at most every few seconds.
    await touchSynced(this.ctx.db, orderNo, this.ctx.clock())
    const state = await this.ctx.gateway.query(orderNo)
    if (!state) return
    if (state.state === 'SUCCESS' || state.state === 'REFUND') {
      await this.applyPayment({ orderNo, ...state, source: 'query' })
    } else if (state.state === 'CLOSED') {
      await this.closeLocally(this.ctx.db, orderNo, '微信侧已关闭')
    }
  }

  /**
   * Closes a PENDING order: at WeChat first when it was prepaid (so it can no longer be paid), then here, with its
   * stock released and an `order.closed` event. When WeChat says it is already paid, applies the
   * payment instead. Returns what the order became; WeChat errors propagate (nothing changed).
   */
  async close(orderNo: string, reason: string): Promise<'closed' | 'paid' | 'unchanged'> {
    const order = await findOrder(this.ctx.db, orderNo)
    if (!order || order.status !== 'PENDING') return 'unchanged'
    // Only a prepaid order can be paid at WeChat. (A prepay whose answer was lost left no params
    // with anyone, and WeChat's own time_expire ends it.)
    if (order.channel && (await this.ctx.gateway.close(orderNo)) === 'paid') {
      await this.sync(orderNo).catch((e) =>
        this.ctx.logger.warn(
          { orderNo, err: loggable(e) },
          'WeChat says paid; sync failed for now',
        ),
      )
      return 'paid'
    }
    // Skipping WeChat is only right if the order is still unprepaid when we close it: a prepay
    // recorded meanwhile has handed out a code_url or params, so go round again, through WeChat.
    const closed = await this.closeLocally(this.ctx.db, orderNo, reason, {
      unprepaidOnly: !order.channel,
    })
    if (closed) return 'closed'
    if (!order.channel && (await findOrder(this.ctx.db, orderNo))?.channel)
      return this.close(orderNo, reason)
    return 'unchanged'
  }

  /**
   * The sweeper's part for orders: claims expired PENDING orders (`FOR UPDATE SKIP LOCKED` and a
   * lease, so instances split them) and, for each, asks WeChat first — paid after all → PAID —
   * then closes it at WeChat and here with its stock back. An order that fails is left for the
   * next run (its lease runs out). Returns how many were claimed and how many failed.
   */
  async closeExpired(limit: number, leaseMs: number): Promise<{ orders: number; errors: number }> {
    const expired = await claimExpiredOrders(this.ctx.db, this.ctx.clock(), leaseMs, limit)
    let errors = 0
    for (const order of expired) {
      try {
        await this.sync(order.orderNo) // paid after all? then it is PAID now, and close() does nothing
        const result = await this.close(order.orderNo, '超时未支付')
        this.ctx.metrics.sweeperActions.inc({
          action: result === 'closed' ? 'closed' : result === 'paid' ? 'found_paid' : 'unchanged',
        })
      } catch (e) {
        errors++
        this.ctx.logger.warn(
          { orderNo: order.orderNo, err: loggable(e) },
          'sweeper: order left for the next run',
        )
      }
    }
    return { orders: expired.length, errors }
  }

  /**
   * The local half of closing: CAS PENDING → CLOSED (and, with `unprepaidOnly`, only while no
   * prepay is recorded), stock back, `order.closed`.
   */
  async closeLocally(
    db: Db,
    orderNo: string,
    reason: string,
    opts: { unprepaidOnly?: boolean } = {},
  ): Promise<boolean> {
    return db.transaction(
      async (tx) => (await close(tx, orderNo, reason, this.ctx.clock(), opts)) !== undefined,
    )
  }
}
