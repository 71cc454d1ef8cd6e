import type {
  AdminOrder,
  AdminOrderDetail,
  OrderStatus,
  OutboxEvent,
  ShipOrderRequest,
} from '@fen/shared'
import { AppError } from '../errors'
import { findEvent, listEvents, notificationsOf } from '../repositories/events'
import { deliveriesOfEvents, requeueWebhooks } from '../repositories/outbox-deliveries'
import { findOrder, listOrders, paymentsOf } from '../repositories/orders'
import { OPEN_REFUND_STATUSES, refundsOf } from '../repositories/refunds'
import type { ServiceContext } from './context'
import type { PaymentService } from './payments'
import type { RefundService } from './refunds'
import type { ShippingService } from './shipping'
import { adminOrderViews } from './order-views'
import { eventView, refundView } from './views'
import { wechatFailure } from './wechat-errors'

/** What operators see and do: every order, its payments, refunds, notifications and events. */
export class AdminService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly payments: PaymentService,
    private readonly refunds: RefundService,
    private readonly shipping: ShippingService,
  ) {}

  async orders(status: OrderStatus | undefined): Promise<AdminOrder[]> {
    return adminOrderViews(this.ctx.db, await listOrders(this.ctx.db, status))
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
        if ((OPEN_REFUND_STATUSES as readonly string[]).includes(r.status))
          await this.refunds.sync(r.outRefundNo)
      }
    } catch (e) {
      throw wechatFailure(e)
    }
    return this.order(orderNo)
  }

  /** Events with their deliveries to webhooks and NATS. */
  async events(orderNo: string | undefined): Promise<OutboxEvent[]> {
    const events = await listEvents(this.ctx.db, orderNo)
    const deliveries = await deliveriesOfEvents(
      this.ctx.db,
      events.map((e) => e.id),
    )
    return events.map((e) => eventView(e, deliveries.get(e.id)))
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
