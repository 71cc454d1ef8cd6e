import { createHash } from 'node:crypto'
import {
  formatFen,
  refundableFen,
  type CreateRefundRequest,
  type RefundFacts,
  type RefundRequestStatus,
  type RefundRequestView,
} from '@fen/shared'
import { AppError } from '../errors'
import { loggable } from '../logger'
import { findUserOrder, lockOrder } from '../repositories/orders'
import {
  findRefundRequest,
  insertRefundRequest,
  listRefundRequests,
  markApproved,
  markRejected,
  refundRequestsOf,
  type RefundRequestRow,
} from '../repositories/refund-requests'
import { refundsOf } from '../repositories/refunds'
import type { ServiceContext } from './context'
import type { RefundService } from './refunds'
import { decodeTimeCursor, encodeTimeCursor, toPage } from './cursor'
import { refundRequestView } from './views'
import { wechatFailure } from './wechat-errors'

/** Orders a shopper may ask to refund: paid, shipped or completed, and not being refunded. */
const REQUESTABLE = ['PAID', 'SHIPPED', 'COMPLETED']

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
   * request. Under REFUND_AUTO_APPROVE_MAX_FEN it is approved at once.
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
      if (!REQUESTABLE.includes(order.status)) {
        throw new AppError(
          'REFUND_NOT_ALLOWED',
          order.status === 'PENDING' || order.status === 'CLOSED'
            ? '订单未支付，不能申请退款'
            : '订单已退款或正在退款，不能再申请',
        )
      }
      const refunds = (await refundsOf(tx, orderNo)) as RefundFacts[]
      const refundable = refundableFen(order.totalFen, refunds)
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
    const max = this.ctx.config.refundAutoApproveMaxFen
    if (row.status === 'pending' && max > 0 && row.amountFen <= max) {
      try {
        return await this.#approve(row.id, true)
      } catch (e) {
        // Still pending: an operator decides (the shopper's request itself stands).
        this.ctx.logger.warn(
          { refundRequestId: row.id, err: loggable(e) },
          'automatic approval of a refund request failed; left for an operator',
        )
      }
    }
    return refundRequestView((await findRefundRequest(this.ctx.db, row.id))!)
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
