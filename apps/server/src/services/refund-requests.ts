import { createHash } from 'node:crypto'
import {
  formatFen,
  canRequestRefund,
  isMoneyIn,
  isRefundOpen,
  refundableFen,
  type CreateRefundRequest,
  type RefundRequestStatus,
  type RefundRequestView,
} from '@fen/shared'
import type { Db } from '../db/client'
import { orderFacts } from '../domain/facts'
import { AppError } from '../errors'
import { loggable } from '../logger'
import { findDelivery } from '../repositories/deliveries'
import { findUserOrder, lockOrder } from '../repositories/orders'
import {
  automaticApprovalsSince,
  findRefundRequest,
  insertRefundRequest,
  listRefundRequests,
  markApproved,
  markRejected,
  refundRequestsOf,
  type RefundRequestRow,
} from '../repositories/refund-requests'
import { refundsOf } from '../repositories/refunds'
import { lockUser } from '../repositories/users'
import type { ServiceContext } from './context'
import type { RefundService } from './refunds'
import { decodeTimeCursor, encodeTimeCursor, toPage } from './cursor'
import { refundRequestView } from './views'
import { wechatFailure } from './wechat-errors'

/** The automatic approvals' budget runs over this window (rolling). */
const BUDGET_WINDOW_MS = 30 * 86_400_000

/** Why a request was not approved automatically: it waits for an operator. */
class LeftForOperator extends Error {
  constructor(
    readonly outcome: 'over_budget' | 'shipped',
    message: string,
  ) {
    super(message)
  }
}

/**
 * 申请退款: the shopper asks, an operator decides. Approving starts the refund through the
 * RefundService (one refund per request, whatever the retries: its Idempotency-Key is the request's
 * id) and marks the request approved in the refund's own transaction, so a request is approved
 * exactly when its refund exists. Both decisions are compare-and-sets from pending.
 */
export class RefundRequestService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly refunds: RefundService,
  ) {}

  /**
   * A shopper's request for their order. At most one pending per order; the amount defaults to what
   * is left refundable and may not exceed it. With `idempotencyKey`, a retry returns the same
   * request. Under REFUND_AUTO_APPROVE_MAX_FEN it may be approved at once (#approveAutomatically).
   */
  async create(
    userId: number,
    orderNo: string,
    req: CreateRefundRequest,
    idempotencyKey?: string,
  ): Promise<RefundRequestView> {
    const requestHash = createHash('sha256')
      .update(JSON.stringify([req.amountFen ?? null, req.reason]))
      .digest('hex')
    const row = await this.ctx.db.transaction(async (tx) => {
      // The order's row lock: one request at a time per order, and the refunds read stay put.
      const order = await lockOrder(tx, orderNo)
      if (!order || order.userId !== userId) throw new AppError('ORDER_NOT_FOUND', '订单不存在')
      const existing = await refundRequestsOf(tx, orderNo)
      if (idempotencyKey) {
        const same = existing.find((r) => r.idempotencyKey === idempotencyKey)
        if (same) {
          if (same.requestHash !== requestHash) {
            throw new AppError('IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key 已用于另一个退款申请')
          }
          return same
        }
      }
      if (existing.some((r) => r.status === 'pending')) {
        throw new AppError('REFUND_REQUEST_PENDING', '该订单已有退款申请在处理中')
      }
      const facts = orderFacts(order, {
        delivery: await findDelivery(tx, orderNo),
        refunds: await refundsOf(tx, orderNo),
        refundRequests: existing,
      })
      if (!canRequestRefund(facts)) {
        throw new AppError(
          'REFUND_NOT_ALLOWED',
          !isMoneyIn(facts.status) || facts.paidAfterClose
            ? '订单未支付，不能申请退款'
            : facts.refunds.some((r) => !r.paymentTransactionId && isRefundOpen(r.status))
              ? '订单正在退款，请等退款完成后再申请'
              : '订单已全额退款，不能再申请',
        )
      }
      const refundable = refundableFen(facts.totalFen, facts.refunds)
      const amountFen = req.amountFen ?? refundable
      if (refundable <= 0 || amountFen > refundable) {
        throw new AppError(
          'REFUND_NOT_ALLOWED',
          `退款金额超过可退金额，最多可退 ${formatFen(Math.max(refundable, 0))}`,
        )
      }
      return insertRefundRequest(tx, {
        orderNo,
        userId,
        amountFen,
        reason: req.reason,
        idempotencyKey: idempotencyKey ?? null,
        requestHash,
        createdAt: this.ctx.clock(),
      })
    })
    const { maxFen } = this.ctx.config.refundAutoApprove
    if (row.status === 'pending' && maxFen > 0 && row.amountFen <= maxFen) {
      return this.#approveAutomatically(row)
    }
    return refundRequestView((await findRefundRequest(this.ctx.db, row.id))!)
  }

  /**
   * Approves a new request with no operator, if the shopper's budget allows (#checkBudget); if not,
   * or if the approval fails, it stays pending for an operator (the request itself stands). Either
   * way it is logged and counted (fen_refund_auto_approvals_total).
   */
  async #approveAutomatically(row: RefundRequestRow): Promise<RefundRequestView> {
    let failure: unknown
    try {
      await this.#approve(row.id, true)
    } catch (e) {
      failure = e
    }
    // What the database holds decides: an error after the approval committed (its submission to
    // WeChat) still leaves it approved, and the sweeper submits it.
    const now = (await findRefundRequest(this.ctx.db, row.id))!
    const who = {
      refundRequestId: row.id,
      orderNo: row.orderNo,
      amountFen: row.amountFen,
      userId: row.userId,
    }
    const { metrics, logger } = this.ctx
    if (now.status === 'approved' && now.automatic) {
      metrics.refundAutoApprovals.inc({ outcome: 'approved' })
      metrics.refundAutoApprovedFen.inc(row.amountFen)
      logger.info(who, 'refund request approved automatically')
    } else if (failure instanceof LeftForOperator) {
      metrics.refundAutoApprovals.inc({ outcome: failure.outcome })
      logger.info({ ...who, why: failure.message }, 'refund request left for an operator')
    } else if (failure) {
      metrics.refundAutoApprovals.inc({ outcome: 'failed' })
      logger.warn(
        { ...who, err: loggable(failure) },
        'automatic approval of a refund request failed; left for an operator',
      )
    }
    return refundRequestView(now)
  }

  /**
   * In the approval's transaction (the order's row locked): whether the request may be approved
   * with no operator. Not once the order shipped (a delivery is recorded; completed orders have
   * one too) unless REFUND_AUTO_APPROVE_SHIPPED; and not beyond the shopper's budget — the
   * automatic approvals of the last 30 days, with this one, within REFUND_AUTO_APPROVE_BUDGET_FEN
   * and REFUND_AUTO_APPROVE_MAX_COUNT. The shopper's row lock makes requests on several orders at
   * once decide one after another; each reads the budget in a statement after the lock, so it
   * sees the approvals committed before it.
   */
  async #checkBudget(tx: Db, request: RefundRequestRow): Promise<void> {
    const { budgetFen, maxCount, afterShipping } = this.ctx.config.refundAutoApprove
    if (!afterShipping && (await findDelivery(tx, request.orderNo))) {
      throw new LeftForOperator('shipped', 'the order has shipped')
    }
    await lockUser(tx, request.userId)
    const since = new Date(this.ctx.clock().getTime() - BUDGET_WINDOW_MS)
    const used = await automaticApprovalsSince(tx, request.userId, since)
    if (used.count + 1 > maxCount || used.fen + request.amountFen > budgetFen) {
      throw new LeftForOperator(
        'over_budget',
        `the shopper's automatic approvals in 30 days: ${used.count} of ${maxCount}, ${used.fen} of ${budgetFen} fen`,
      )
    }
  }

  /** The shopper's requests for their order, newest first (another shopper's order: 404). */
  async ofOrder(userId: number, orderNo: string): Promise<RefundRequestView[]> {
    if (!(await findUserOrder(this.ctx.db, userId, orderNo))) {
      throw new AppError('ORDER_NOT_FOUND', '订单不存在')
    }
    return (await refundRequestsOf(this.ctx.db, orderNo)).map(refundRequestView)
  }

  /** For operators: a page of requests, newest first (cursor: services/cursor.ts, keyed by created_at and id). */
  async list(
    status: RefundRequestStatus | undefined,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<{ items: RefundRequestView[]; nextCursor: string | null }> {
    const after = decodeTimeCursor(page.cursor)
    const id = after ? Number(after.key) : undefined
    if (after && !(Number.isSafeInteger(id) && id! > 0)) {
      throw new AppError('INVALID_INPUT', '翻页游标无效，请从第一页重新查询')
    }
    const rows = await listRefundRequests(
      this.ctx.db,
      status,
      after ? { at: after.at, id: id! } : undefined,
      page.limit,
    )
    return toPage(rows, page.limit, refundRequestView, (r) =>
      encodeTimeCursor(r.createdAt, String(r.id)),
    )
  }

  /** An operator approves: the refund starts. Approving an approved request again is a no-op. */
  async approve(id: number): Promise<RefundRequestView> {
    try {
      return await this.#approve(id, false)
    } catch (e) {
      if (e instanceof AppError) throw e
      throw wechatFailure(e)
    }
  }

  async #approve(id: number, automatic: boolean): Promise<RefundRequestView> {
    const request = await this.#find(id)
    if (request.status === 'rejected') {
      throw new AppError('REFUND_REQUEST_DECIDED', '该退款申请已被拒绝')
    }
    await this.refunds.request(
      request.orderNo,
      request.amountFen,
      request.reason,
      `refund-request-${id}`,
      async (tx, refund) => {
        if (automatic) await this.#checkBudget(tx, request)
        if (
          await markApproved(tx, id, {
            refundNo: refund.outRefundNo,
            automatic,
            at: this.ctx.clock(),
          })
        )
          return
        // Not pending: approved already (this refund: a retry), or rejected meanwhile.
        const now = (await findRefundRequest(tx, id))!
        if (now.status !== 'approved' || now.refundNo !== refund.outRefundNo) {
          throw new AppError('REFUND_REQUEST_DECIDED', '该退款申请已被拒绝')
        }
      },
    )
    return refundRequestView((await findRefundRequest(this.ctx.db, id))!)
  }

  /** An operator rejects, saying why. The same rejection again is a no-op; an approved one → 409. */
  async reject(id: number, reason: string): Promise<RefundRequestView> {
    const rejected = await markRejected(this.ctx.db, id, { reason, at: this.ctx.clock() })
    if (rejected) return refundRequestView(rejected)
    const request = await this.#find(id)
    if (request.status === 'rejected' && request.rejectReason === reason) {
      return refundRequestView(request)
    }
    throw new AppError(
      'REFUND_REQUEST_DECIDED',
      request.status === 'approved' ? '该退款申请已同意，不能再拒绝' : '该退款申请已被拒绝',
    )
  }

  async #find(id: number): Promise<RefundRequestRow> {
    const request = await findRefundRequest(this.ctx.db, id)
    if (!request) throw new AppError('REFUND_REQUEST_NOT_FOUND', '退款申请不存在')
    return request
  }
}
