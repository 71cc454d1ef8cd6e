import {
  ORDER_STATUSES,
  isRefundOpen,
  type AdminOrder,
  type AdminOrderDetail,
  type AdminOrderPage,
  type AdminRefundPage,
  type AdminSummary,
  type OrderStatus,
  type OutboxEventPage,
  type ReconciliationResult,
  type RefundStatus,
  type ShipOrderRequest,
} from '@fen/shared'
import { AppError } from '../errors'
import {
  countRejectedNotifications,
  dayTotals,
  listEventsPage,
  listOrdersPage,
  listRefundsPage,
  type OrderFilter,
} from '../repositories/admin-lists'
import { findEvent, listEvents, notificationsOf, outboxBacklog } from '../repositories/events'
import { deliveriesOfEvents, requeueWebhooks } from '../repositories/outbox-deliveries'
import { countByStatus, findOrder, paymentsOf } from '../repositories/orders'
import { refundsOf } from '../repositories/refunds'
import type { ServiceContext } from './context'
import {
  decodeIdCursor,
  decodeTimeCursor,
  encodeIdCursor,
  encodeTimeCursor,
  toPage,
} from './cursor'
import type { PaymentService } from './payments'
import type { RefundService } from './refunds'
import type { ShippingService } from './shipping'
import { adminOrderViews } from './order-views'
import { eventView, refundView } from './views'
import { wechatFailure } from './wechat-errors'

/** A page of an admin list: how many rows, and where the previous page ended. */
export interface PageRequest {
  limit: number
  cursor?: string | undefined
}

export interface OrderListFilter {
  status?: OrderStatus | undefined
  /** Beijing days (YYYY-MM-DD), both included. */
  from?: string | undefined
  to?: string | undefined
  orderNo?: string | undefined
  openidSuffix?: string | undefined
}

const DAY_MS = 86_400_000

/** The first instant of a Beijing day. */
const beijingDayStart = (day: string) => new Date(`${day}T00:00:00+08:00`)

/** The Beijing day of an instant, YYYY-MM-DD. */
const beijingDay = (at: Date) => new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 10)

/** What operators see and do: every order, its payments, refunds, notifications and events. */
export class AdminService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly payments: PaymentService,
    private readonly refunds: RefundService,
    private readonly shipping: ShippingService,
    /** The latest reconciled day's result, for the summary. */
    private readonly latestReconciliation: () => Promise<ReconciliationResult | null>,
  ) {}

  async orders(filter: OrderListFilter, page: PageRequest): Promise<AdminOrderPage> {
    const f: OrderFilter = {
      status: filter.status,
      from: filter.from ? beijingDayStart(filter.from) : undefined,
      until: filter.to ? new Date(beijingDayStart(filter.to).getTime() + DAY_MS) : undefined,
      orderNo: filter.orderNo,
      openidSuffix: filter.openidSuffix,
    }
    const rows = await listOrdersPage(this.ctx.db, f, decodeTimeCursor(page.cursor), page.limit)
    // The page's views (not the extra row that only tells whether a next page exists).
    const views = await adminOrderViews(this.ctx.db, rows.slice(0, page.limit))
    const viewOf = new Map(views.map((v) => [v.orderNo, v]))
    return toPage(
      rows,
      page.limit,
      (r) => viewOf.get(r.orderNo)!,
      (r) => encodeTimeCursor(r.createdAt, r.orderNo),
    )
  }

  async refundList(status: RefundStatus | undefined, page: PageRequest): Promise<AdminRefundPage> {
    const rows = await listRefundsPage(
      this.ctx.db,
      status,
      decodeTimeCursor(page.cursor),
      page.limit,
    )
    return toPage(
      rows,
      page.limit,
      (r) => ({ ...refundView(r), orderNo: r.orderNo }),
      (r) => encodeTimeCursor(r.createdAt, r.outRefundNo),
    )
  }

  /** The dashboard's figures; "today" is the Beijing day of the app clock. */
  async summary(): Promise<AdminSummary> {
    const db = this.ctx.db
    const now = this.ctx.clock()
    const start = beijingDayStart(beijingDay(now))
    const [today, statuses, backlog, notificationFailures, signatures, reconciliation] =
      await Promise.all([
        dayTotals(db, start, new Date(start.getTime() + DAY_MS)),
        countByStatus(db),
        outboxBacklog(db, now),
        countRejectedNotifications(db),
        this.ctx.metrics.signatureFailures.get(),
        this.latestReconciliation(),
      ])
    const byStatus = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<
      OrderStatus,
      number
    >
    for (const { status, count } of statuses) byStatus[status as OrderStatus] = count
    return {
      today,
      byStatus,
      outboxBacklog: backlog.pending,
      notificationFailures,
      signatureFailures: signatures.values.reduce((n, v) => n + v.value, 0),
      reconciliation,
    }
  }

  async order(orderNo: string): Promise<AdminOrderDetail> {
    const db = this.ctx.db
    const order = await findOrder(db, orderNo)
    if (!order) throw new AppError('ORDER_NOT_FOUND', '订单不存在')
    const [[view], payments, refunds, notifications, events] = await Promise.all([
      adminOrderViews(db, [order]),
      paymentsOf(db, orderNo),
      refundsOf(db, orderNo),
      notificationsOf(db, orderNo),
      listEvents(db, orderNo),
    ])
    return {
      ...view!,
      payments: payments.map((p) => ({
        transactionId: p.transactionId,
        amountFen: p.amountFen,
        paidAt: p.paidAt.toISOString(),
        source: p.source as 'notify' | 'query',
      })),
      refunds: refunds.map(refundView),
      notifications: notifications.map((n) => ({
        id: n.id,
        eventType: n.eventType,
        outcome: n.outcome,
        receivedAt: n.receivedAt.toISOString(),
        ...(n.detail ? { detail: n.detail } : {}),
      })),
      events: events.map((e) => eventView(e)),
    }
  }

  /** Partial or full refund; `idempotencyKey` makes a retry return the same refund. */
  async refund(orderNo: string, amountFen: number, reason: string, idempotencyKey?: string) {
    try {
      return await this.refunds.request(orderNo, amountFen, reason, idempotencyKey)
    } catch (e) {
      if (e instanceof AppError) throw e
      throw wechatFailure(e)
    }
  }

  /** Ships a paid order (the upload to WeChat follows; see ShippingService). */
  ship(orderNo: string, req: ShipOrderRequest): Promise<AdminOrder> {
    return this.shipping.ship(orderNo, req)
  }

  /** Asks WeChat about the order and its open refunds now, and applies the answers. */
  async sync(orderNo: string): Promise<AdminOrderDetail> {
    const order = await findOrder(this.ctx.db, orderNo)
    if (!order) throw new AppError('ORDER_NOT_FOUND', '订单不存在')
    try {
      await this.payments.sync(orderNo)
      for (const r of await refundsOf(this.ctx.db, orderNo)) {
        if (isRefundOpen(r.status as RefundStatus)) await this.refunds.sync(r.outRefundNo)
      }
    } catch (e) {
      throw wechatFailure(e)
    }
    return this.order(orderNo)
  }

  /** Events, newest first, with their deliveries to webhooks and NATS. */
  async events(orderNo: string | undefined, page: PageRequest): Promise<OutboxEventPage> {
    const events = await listEventsPage(
      this.ctx.db,
      orderNo,
      decodeIdCursor(page.cursor),
      page.limit,
    )
    const deliveries = await deliveriesOfEvents(
      this.ctx.db,
      events.map((e) => e.id),
    )
    return toPage(
      events,
      page.limit,
      (e) => eventView(e, deliveries.get(e.id)),
      (e) => encodeIdCursor(e.id),
    )
  }

  /**
   * Queues the event's webhook deliveries again, from now, whatever their state (a receiver that
   * was down for more than the day of retries, or lost what it received). NATS is not re-sent.
   */
  async redeliver(id: number): Promise<{ id: number }> {
    if (!(await findEvent(this.ctx.db, id))) throw new AppError('EVENT_NOT_FOUND', 'no such event')
    await requeueWebhooks(this.ctx.db, id, this.ctx.sinks?.webhookNames ?? [], this.ctx.clock())
    return { id }
  }
}
