import {
  formatFen,
  isMoneyIn,
  refundableFen,
  type OrderStatus,
  type Refund,
  type RefundFacts,
} from '@fen/shared'
import { loggable } from '../logger'
import { ApiError } from '@fen/wechatpay'
import type { Db } from '../db/client'
import { AppError } from '../errors'
import { refundSucceeded, settleRefunds } from '../domain/orders'
import { setNotificationOutcome, storeNotification, type Outcome } from '../repositories/events'
import { findOrder, lockOrder, type OrderRow } from '../repositories/orders'
import {
  claimUnsettledRefunds,
  deferRefund,
  findRefund,
  insertRefund,
  lockRefund,
  noteRefundError,
  refundsOf,
  updateRefundStatus,
  type RefundRow,
} from '../repositories/refunds'
import type { ServiceContext } from './context'
import { isTransient } from './wechat-errors'
import { refundView } from './views'

/** What WeChat says about a refund (answer to create or query, or a REFUND.* notification). */
export interface RefundResult {
  outRefundNo: string
  status: 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' | 'CLOSED'
  refundId: string | undefined
  /** From notifications: each checked against our record. */
  amountFen?: number | undefined
  mchid?: string
  /** The `out_trade_no` the refund names. */
  orderNo?: string
  /** The order's total as WeChat knows it. */
  totalFen?: number
  successTime: Date | undefined
}

/** A refund with no word from WeChat after this long is queried (or resubmitted, if never accepted). */
const REFUND_QUERY_AFTER_MS = 60_000
/** An ABNORMAL refund is asked about again after this long. */
const ABNORMAL_RECHECK_MS = 3600_000

/**
 * Refunds, through WeChat's `out_refund_no` idempotency: a refund is written first (SUBMITTING),
 * then submitted; a failed or lost submission is resubmitted with the same number (by the admin's
 * retry or the sweeper), so WeChat refunds it once. Settled by notification or query.
 */
export class RefundService {
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * An operator's refund of part or all of a paid order. `idempotencyKey` makes a retried request
   * return the same refund; without one, a retry of a request whose submission failed reuses that
   * refund's number. `within` runs in the refund's transaction, with the refund (new or found by
   * the key), before the submission: what it writes commits with the refund, and what it throws
   * undoes it (an approved refund request; see services/refund-requests.ts).
   */
  async request(
    orderNo: string,
    amountFen: number,
    reason: string,
    idempotencyKey?: string,
    within?: (tx: Db, refund: RefundRow) => Promise<void>,
  ): Promise<Refund> {
    const refund = await this.ctx.db.transaction(async (tx) => {
      const row = await this.#record(tx, orderNo, amountFen, reason, idempotencyKey)
      await within?.(tx, row)
      return row
    })
    if (refund.status === 'SUBMITTING') await this.submit(refund.outRefundNo)
    return refundView((await findRefund(this.ctx.db, refund.outRefundNo))!)
  }

  async #record(
    tx: Db,
    orderNo: string,
    amountFen: number,
    reason: string,
    idempotencyKey: string | undefined,
  ): Promise<RefundRow> {
    const order = await lockOrder(tx, orderNo)
    if (!order) throw new AppError('ORDER_NOT_FOUND', '订单不存在')
    const all = await refundsOf(tx, orderNo)
    if (idempotencyKey) {
      const same = all.find((r) => r.idempotencyKey === idempotencyKey)
      if (same) {
        if (same.amountFen !== amountFen || same.reason !== reason) {
          throw new AppError('IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key 已用于另一笔退款')
        }
        return same
      }
    }
    if (!isMoneyIn(order.status as OrderStatus))
      throw new AppError('REFUND_NOT_ALLOWED', '订单未支付，不能退款')
    // A refund row is written, then submitted outside the transaction. One still SUBMITTING
    // with a failure recorded is retried under its own number (WeChat refunds it once) by the
    // same request again; one with none is being submitted right now by another request, and a
    // second refund meanwhile would be a guess at what the operators meant: refused.
    const manual = all.filter((r) => r.status === 'SUBMITTING' && !r.automatic)
    const retry = manual.find(
      (r) => r.lastError !== null && r.amountFen === amountFen && r.reason === reason,
    )
    if (retry) return retry
    if (manual.some((r) => r.lastError === null)) {
      throw new AppError('REFUND_IN_PROGRESS', '该订单的另一笔退款正在提交，请稍后刷新再试')
    }
    const refundable = refundableFen(order.totalFen, all as RefundFacts[])
    if (amountFen > refundable) {
      throw new AppError(
        'REFUND_NOT_ALLOWED',
        `退款金额超过可退金额，最多可退 ${formatFen(refundable)}`,
      )
    }
    const row = await insertRefund(tx, {
      outRefundNo: `${orderNo}-R${all.length + 1}`,
      orderNo,
      amountFen,
      reason,
      status: 'SUBMITTING',
      idempotencyKey: idempotencyKey ?? null,
      createdAt: this.ctx.clock(),
    })
    await settleRefunds(tx, orderNo)
    return row
  }

  /** Inside the payment's transaction: the full refund of a payment that arrived after close. */
  async createAutomatic(tx: Db, order: OrderRow): Promise<string> {
    const row = await insertRefund(tx, {
      outRefundNo: `${order.orderNo}-AR`,
      orderNo: order.orderNo,
      amountFen: order.totalFen,
      reason: '订单已关闭，款项自动退回',
      status: 'SUBMITTING',
      automatic: true,
      createdAt: this.ctx.clock(),
    })
    return row.outRefundNo
  }

  /**
   * Inside the payment's transaction (the order row locked): the full refund of a second payment —
   * another transaction on an order already paid. Refunded by that `transaction_id`, outside the
   * order's refundable amount (see refunds.payment_transaction_id); numbered `<order>-D<n>`.
   */
  async createForSecondPayment(
    tx: Db,
    order: OrderRow,
    payment: { transactionId: string; amountFen: number },
  ): Promise<string> {
    const n = (await refundsOf(tx, order.orderNo)).filter((r) => r.paymentTransactionId).length
    const row = await insertRefund(tx, {
      outRefundNo: `${order.orderNo}-D${n + 1}`,
      orderNo: order.orderNo,
      amountFen: payment.amountFen,
      reason: '重复支付，款项自动退回',
      status: 'SUBMITTING',
      automatic: true,
      paymentTransactionId: payment.transactionId,
      createdAt: this.ctx.clock(),
    })
    return row.outRefundNo
  }

  /**
   * Sends a SUBMITTING refund to WeChat. A transient failure leaves it SUBMITTING (resubmitted
   * later with the same number); a refusal marks it FAILED and alerts.
   */
  async submit(outRefundNo: string): Promise<void> {
    const refund = await findRefund(this.ctx.db, outRefundNo)
    if (!refund || refund.status !== 'SUBMITTING') return
    const order = (await findOrder(this.ctx.db, refund.orderNo))!
    try {
      const second = refund.paymentTransactionId
      const r = await this.ctx.gateway.refund({
        orderNo: order.orderNo,
        // A second payment is refunded by its own transaction, whose total is its own amount.
        ...(second ? { transactionId: second } : {}),
        outRefundNo,
        amountFen: refund.amountFen,
        totalFen: second ? refund.amountFen : order.totalFen,
        reason: refund.reason,
        notifyUrl: `${this.ctx.config.publicBaseUrl}/api/pay/notify`,
      })
      await this.applyResult({ outRefundNo, ...r })
    } catch (e) {
      if (isTransient(e)) {
        await noteRefundError(this.ctx.db, outRefundNo, loggable(e).message)
        this.ctx.logger.warn(
          { outRefundNo },
          'refund submission failed for now; it will be resubmitted',
        )
        return
      }
      if (!(e instanceof ApiError)) throw e
      // Refused — unless another submission of the same number was accepted meanwhile: ask first.
      const known = await this.ctx.gateway.queryRefund(outRefundNo).catch(() => undefined)
      if (known) {
        await this.applyResult({ outRefundNo, ...known })
        return
      }
      await this.ctx.db.transaction(async (tx) => {
        await lockOrder(tx, order.orderNo)
        const failed = await updateRefundStatus(
          tx,
          outRefundNo,
          { status: 'FAILED', lastError: `${e.code}: ${e.message}` },
          ['SUBMITTING'],
        )
        if (failed) await settleRefunds(tx, order.orderNo)
      })
      this.ctx.logger.error({ outRefundNo, code: e.code }, 'ALERT: WeChat refused a refund')
    }
  }

  /**
   * The sweeper's part for refunds: claims refunds without a final word from WeChat a minute after
   * their last change (`FOR UPDATE SKIP LOCKED` and a lease) — a SUBMITTING one is resubmitted
   * under its own number, others are queried — and asks again about an ABNORMAL one only hourly:
   * it waits for a person in 商户平台. Returns how many were claimed and how many failed.
   */
  async checkUnsettled(
    limit: number,
    leaseMs: number,
  ): Promise<{ refunds: number; errors: number }> {
    const open = await claimUnsettledRefunds(
      this.ctx.db,
      this.ctx.clock(),
      REFUND_QUERY_AFTER_MS,
      leaseMs,
      limit,
    )
    let errors = 0
    for (const r of open) {
      try {
        await this.sync(r.outRefundNo)
        if ((await findRefund(this.ctx.db, r.outRefundNo))?.status === 'ABNORMAL') {
          await deferRefund(
            this.ctx.db,
            r.outRefundNo,
            new Date(this.ctx.clock().getTime() + ABNORMAL_RECHECK_MS),
          )
        }
        this.ctx.metrics.sweeperActions.inc({
          action: r.status === 'SUBMITTING' ? 'refund_resubmitted' : 'refund_queried',
        })
      } catch (e) {
        errors++
        this.ctx.logger.warn(
          { outRefundNo: r.outRefundNo, err: loggable(e) },
          'sweeper: refund left for the next run',
        )
      }
    }
    return { refunds: open.length, errors }
  }

  /** Asks WeChat about an open refund and applies the answer (the sweeper, admin sync). */
  async sync(outRefundNo: string): Promise<void> {
    const refund = await findRefund(this.ctx.db, outRefundNo)
    if (!refund) return
    if (refund.status === 'SUBMITTING') return this.submit(outRefundNo)
    const r = await this.ctx.gateway.queryRefund(outRefundNo)
    if (r) await this.applyResult({ outRefundNo, ...r })
  }

  /**
   * Applies WeChat's word on a refund, once: the status (final ones never change again), the
   * order's refunded amount and status, and `order.refunded` on success. With a notification, the
   * notification is stored by id in the same transaction.
   */
  async applyResult(
    result: RefundResult,
    notification?: { id: string; eventType: string },
  ): Promise<Outcome> {
    const now = this.ctx.clock()
    return this.ctx.db.transaction(async (tx) => {
      // The order before the refund, as everywhere: its recompute then sees every other refund
      // of the order settled before it (two settlements at once would otherwise each miss the other).
      const known = await findRefund(tx, result.outRefundNo)
      const order = known && (await lockOrder(tx, known.orderNo))
      const refund = known && (await lockRefund(tx, result.outRefundNo))
      if (notification) {
        const fresh = await storeNotification(tx, {
          id: notification.id,
          eventType: notification.eventType,
          ...(refund ? { orderNo: refund.orderNo } : {}),
          outcome: 'applied',
        })
        if (!fresh) return 'duplicate'
      }
      const reject = async (detail: string): Promise<Outcome> => {
        if (notification) await setNotificationOutcome(tx, notification.id, 'rejected', detail)
        this.ctx.logger.error(
          { outRefundNo: result.outRefundNo, detail },
          'ALERT: refund report not applied, needs review',
        )
        return 'rejected'
      }
      if (!refund) return reject('unknown refund')
      // A notification names the merchant, the order and its total too: a refund number alone
      // (another merchant's, or ours under another order) must not settle our refund.
      if (result.mchid !== undefined && result.mchid !== this.ctx.config.wechatpay.mchid)
        return reject(`mchid ${result.mchid} is not ours`)
      if (result.orderNo !== undefined && result.orderNo !== refund.orderNo)
        return reject(`names order ${result.orderNo}; the refund is of ${refund.orderNo}`)
      if (result.totalFen !== undefined && order && result.totalFen !== order.totalFen) {
        return reject(
          `order total ${result.totalFen} fen does not match the order's ${order.totalFen} fen`,
        )
      }
      if (result.amountFen !== undefined && result.amountFen !== refund.amountFen) {
        return reject(
          `refund amount ${result.amountFen} fen does not match our ${refund.amountFen} fen`,
        )
      }
      if (
        result.status === 'SUCCESS' &&
        (refund.status === 'FAILED' || refund.status === 'CLOSED')
      ) {
        return reject(
          `WeChat reports SUCCESS for a refund held as ${refund.status}: the money went back`,
        )
      }
      if (result.status === 'PROCESSING' && refund.status !== 'SUBMITTING') return 'duplicate'
      const final = result.status === 'SUCCESS' || result.status === 'CLOSED'
      const updated = await updateRefundStatus(tx, result.outRefundNo, {
        status: result.status,
        ...(result.refundId ? { refundId: result.refundId } : {}),
        settledAt: final ? (result.successTime ?? now) : null,
      })
      if (!updated) return 'duplicate'
      await settleRefunds(tx, refund.orderNo)
      if (result.status === 'SUCCESS') await refundSucceeded(tx, refund, this.ctx.clock())
      if (result.status === 'ABNORMAL' || result.status === 'CLOSED') {
        this.ctx.logger.error(
          { outRefundNo: refund.outRefundNo, status: result.status, automatic: refund.automatic },
          'ALERT: refund did not go through; a person must handle it (商户平台, or a new refund)',
        )
      }
      return 'applied'
    })
  }
}
