import { DISCREPANCY_KINDS } from '@fen/shared'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/**
 * The server's Prometheus metrics, in a registry of its own (so several apps in one test process
 * never share counters). `GET /metrics` renders it.
 */
/** What the gauges count at each scrape (from the database). */
export interface MetricSources {
  ordersByStatus(): Promise<{ status: string; count: number }[]>
  refundsByStatus(): Promise<{ status: string; count: number }[]>
  /** Undelivered outbox events and the age of the oldest, in seconds (0 when none). */
  outboxBacklog(): Promise<{ pending: number; oldestSeconds: number }>
  /** Shipping reports not yet accepted by WeChat, and those it refused for good. */
  shippingBacklog(): Promise<{ pending: number; gaveUp: number }>
  /** The discrepancies of the latest reconciled day, by kind (none ran: empty). */
  reconciliationDiscrepancies(): Promise<{ kind: string; count: number }[]>
}

export function createMetrics(sources: MetricSources) {
  const registry = new Registry()
  const m = {
    registry,
    httpRequests: new Counter({
      name: 'fen_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'fen_http_request_duration_seconds',
      help: 'HTTP request duration by method and route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    notifications: new Counter({
      name: 'fen_notifications_total',
      help: 'WeChat Pay notifications by API version and outcome (applied, duplicate, rejected, ignored, unverified)',
      labelNames: ['api', 'outcome'] as const,
      registers: [registry],
    }),
    notificationKeys: new Counter({
      name: 'fen_notification_keys_total',
      help: 'Verified APIv3 notifications by the WeChat Pay key that signed them (public_key, certificate): a migration to the public key is over when certificate stops growing',
      labelNames: ['key'] as const,
      registers: [registry],
    }),
    signatureFailures: new Counter({
      name: 'fen_signature_failures_total',
      help: 'Notifications that failed verification, by reason (mismatch, stale_timestamp, signtest, …)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    paymentMismatches: new Counter({
      name: 'fen_payment_mismatches_total',
      help: 'Payment reports not applied and kept for review: amount/appid/mchid mismatch, unknown order, second payment (alert on any)',
      registers: [registry],
    }),
    notifyBodiesInFlight: new Gauge({
      name: 'fen_notify_bodies_in_flight',
      help: 'Notification bodies being read now (capped by NOTIFY_MAX_IN_FLIGHT; beyond it, 503)',
      registers: [registry],
    }),
    pushBodiesInFlight: new Gauge({
      name: 'fen_wechat_push_bodies_in_flight',
      help: 'Message push bodies being read now (capped by NOTIFY_MAX_IN_FLIGHT, apart from notifications; beyond it, 503)',
      registers: [registry],
    }),
    sweeperRuns: new Counter({
      name: 'fen_sweeper_runs_total',
      help: 'Sweeper runs by result',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    sweeperActions: new Counter({
      name: 'fen_sweeper_actions_total',
      help: 'What the sweeper did to expired orders and open refunds',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
    outboxRuns: new Counter({
      name: 'fen_outbox_runs_total',
      help: 'Outbox dispatcher runs by result',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    outboxDeliveries: new Counter({
      name: 'fen_outbox_deliveries_total',
      help: 'Outbox event deliveries by type and result',
      labelNames: ['type', 'result'] as const,
      registers: [registry],
    }),
    wechatPushes: new Counter({
      name: 'fen_wechat_pushes_total',
      help: 'WeChat message pushes by event (trade_manage_order_settlement, trade_manage_remind_shipping, trade_manage_remind_access_api, url_check, …) and outcome (applied, duplicate, rejected, ignored, unverified, stale, malformed, replayed)',
      labelNames: ['event', 'outcome'] as const,
      registers: [registry],
    }),
    shippingActions: new Counter({
      name: 'fen_shipping_actions_total',
      help: 'Shipping management: virtual_shipped, uploaded, upload_failed (retried), upload_refused (given up: alert), completed_by_push, completed_by_confirm_receipt',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
    refundAutoApprovals: new Counter({
      name: 'fen_refund_auto_approvals_total',
      help: "Refund requests of at most REFUND_AUTO_APPROVE_MAX_FEN, by outcome: approved (no operator), left for an operator because over_budget (the shopper's 30-day budget or count) or shipped, or failed (see the warning)",
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    refundAutoApprovedFen: new Counter({
      name: 'fen_refund_auto_approved_fen_total',
      help: 'Fen of the refund requests approved automatically (no operator)',
      registers: [registry],
    }),
    reconciliationRuns: new Counter({
      name: 'fen_reconciliation_runs_total',
      help: 'Reconciliation runs by status: matched, discrepancies (alert), not_ready (retried), no_bill, failed (any error — WeChat unreachable, a bill file digest mismatch, the database — logged as an ALERT; retried)',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
  }
  new Gauge({
    name: 'fen_reconciliation_discrepancies',
    help: 'Discrepancies of the latest reconciled day, by kind (missing_here, missing_at_wechat, amount_differs, status_differs, no_statement, unparseable_row): alert on any',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      this.reset()
      for (const kind of DISCREPANCY_KINDS) this.set({ kind }, 0)
      for (const { kind, count } of await sources.reconciliationDiscrepancies())
        this.set({ kind }, count)
    },
  })
  new Gauge({
    name: 'fen_shipping_uploads_pending',
    help: 'Shipped orders whose report WeChat has not accepted yet (the shipping job retries them)',
    registers: [registry],
    async collect() {
      this.set((await sources.shippingBacklog()).pending)
    },
  })
  new Gauge({
    name: 'fen_shipping_uploads_refused',
    help: 'Shipped orders whose report WeChat refused for good: a person must report them (alert on any)',
    registers: [registry],
    async collect() {
      this.set((await sources.shippingBacklog()).gaveUp)
    },
  })
  new Gauge({
    name: 'fen_orders',
    help: 'Orders by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset()
      for (const { status, count } of await sources.ordersByStatus()) this.set({ status }, count)
    },
  })
  new Gauge({
    name: 'fen_refunds',
    help: 'Refunds by status, counted at each scrape (ABNORMAL and FAILED need a person)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset()
      for (const { status, count } of await sources.refundsByStatus()) this.set({ status }, count)
    },
  })
  // prom-client collects all metrics concurrently, so each gauge asks for itself.
  new Gauge({
    name: 'fen_outbox_pending',
    help: 'Outbox events not yet delivered to the shop, counted at each scrape',
    registers: [registry],
    async collect() {
      this.set((await sources.outboxBacklog()).pending)
    },
  })
  new Gauge({
    name: 'fen_outbox_oldest_pending_seconds',
    help: 'Age of the oldest undelivered outbox event (0 when none): fulfilment is falling behind when it grows',
    registers: [registry],
    async collect() {
      this.set((await sources.outboxBacklog()).oldestSeconds)
    },
  })
  return m
}

export type Metrics = ReturnType<typeof createMetrics>
