import type { Server } from 'node:http'
import type { RouterContext } from '@koa/router'
import Koa from 'koa'
import { koaBody } from 'koa-body'
import type { Bills, MiniProgramClient } from '@fen/wechatpay'
import type { Config } from './config'
import type { Database } from './db/client'
import { AppError } from './errors'
import { CertificateRefresher, type PlatformCertificateSource } from './jobs/certificates'
import { createSinks } from './events/sinks'
import { loggable, type Logger } from './logger'
import { createMetrics, type Metrics } from './metrics'
import { uploadBacklog } from './repositories/deliveries'
import { outboxBacklog } from './repositories/events'
import { countByStatus } from './repositories/orders'
import { latestDiscrepancyCounts, latestReconciliation } from './repositories/reconciliation'
import { countRefundsByStatus } from './repositories/refunds'
import { adminRoutes } from './routes/admin'
import { adminStatic } from './routes/admin-static'
import { authRoutes } from './routes/auth'
import { healthRoutes } from './routes/health'
import { notifyRoutes } from './routes/notify'
import { orderRoutes } from './routes/orders'
import { productRoutes } from './routes/products'
import { adminRefundRequestRoutes, refundRequestRoutes } from './routes/refund-requests'
import { pushRoutes } from './routes/push'
import { staticRoutes } from './routes/static'
import { reconciliationRoutes } from './routes/reconciliation'
import { AdminService } from './services/admin'
import { AuthService } from './services/auth'
import type { ServiceContext } from './services/context'
import { OrderService, purchaseLimit } from './services/orders'
import { PaymentService, type NotificationParsers } from './services/payments'
import { CatalogueService } from './services/catalogue'
import { DeliveryCompanies } from './services/delivery-companies'
import { ReconciliationService } from './services/reconciliation'
import { RefundRequestService } from './services/refund-requests'
import { RefundService } from './services/refunds'
import { WechatPushService } from './services/push'
import { ShippingService } from './services/shipping'
import type { PayGateway } from './wechat/gateway'

/** Everything the app is built from. main.ts wires the real ones; tests wire their own. */
export interface AppDeps {
  config: Config
  database: Database
  logger: Logger
  gateway: PayGateway
  /** Login, shipping management; built by `miniProgramClient` (wechat/mini-program.ts). */
  miniProgram: MiniProgramClient
  notifications: NotificationParsers
  /** WeChat Pay's bill APIs, for reconciliation (`wxpay.bills`; APIv3 in either API mode). */
  bills: Bills
  /** Certificate mode's downloaded platform certificates (`wxpay.client.platformCertificates`). */
  platformCertificates?: PlatformCertificateSource | undefined
  clock?: () => Date
}

/** The services, built once from the deps (the jobs use them too). */
export interface Services {
  ctx: ServiceContext
  auth: AuthService
  orders: OrderService
  payments: PaymentService
  refunds: RefundService
  refundRequests: RefundRequestService
  shipping: ShippingService
  /** WeChat's message push (消息推送): the URL check and pushes. */
  push: WechatPushService
  catalogue: CatalogueService
  /** WeChat's carriers (get_delivery_list), kept for a day. */
  deliveryCompanies: DeliveryCompanies
  admin: AdminService
  reconciliation: ReconciliationService
  /** Keeps the platform certificates fresh; undefined in public-key mode. */
  certificates: CertificateRefresher | undefined
}

export function createServices(deps: AppDeps): Services {
  const db = deps.database.db
  const clock = deps.clock ?? (() => new Date())
  const metrics: Metrics = createMetrics({
    ordersByStatus: () => countByStatus(db),
    refundsByStatus: () => countRefundsByStatus(db),
    outboxBacklog: () => outboxBacklog(db, clock()),
    shippingBacklog: () => uploadBacklog(db),
    reconciliationDiscrepancies: () => latestDiscrepancyCounts(db),
  })
  const ctx: ServiceContext = {
    db,
    config: deps.config,
    gateway: deps.gateway,
    miniProgram: deps.miniProgram,
    clock,
    logger: deps.logger,
    metrics,
    sinks: createSinks(deps.config.events, deps.logger),
  }
  const refunds = new RefundService(ctx)
  const payments = new PaymentService(ctx, refunds, deps.notifications)
  const deliveryCompanies = new DeliveryCompanies(ctx)
  const shipping = new ShippingService(ctx, deliveryCompanies)
  return {
    ctx,
    auth: new AuthService(ctx, deps.miniProgram),
    orders: new OrderService(ctx, payments),
    payments,
    refunds,
    refundRequests: new RefundRequestService(ctx, refunds),
    shipping,
    push: new WechatPushService(ctx, shipping),
    catalogue: new CatalogueService(db, purchaseLimit(deps.config.orderLimits)),
    deliveryCompanies,
    admin: new AdminService(ctx, payments, refunds, shipping, () => latestReconciliation(db)),
    reconciliation: new ReconciliationService(ctx, deps.bills),
    certificates: deps.platformCertificates
      ? new CertificateRefresher(deps.platformCertificates, clock, deps.logger)
      : undefined,
  }
}

/**
 * The Koa app, without listening (main.ts listens; tests use the handler directly or listen on
 * port 0). Routes parse input with the shared schemas and call services; one middleware renders
 * every error as `{code, message}`.
 */
export function createApp(deps: AppDeps, services: Services = createServices(deps)): Koa {
  const { logger } = deps
  const { metrics } = services.ctx
  const app = new Koa()
  app.proxy = deps.config.trustProxy
  // Only the entries our own proxies appended: ctx.ip is the rightmost `proxyHops` entries' first
  // (a client writes whatever it likes to the left of them).
  app.maxIpsCount = deps.config.proxyHops
  // Our middleware below answers every error; what reaches Koa's own handler is the connection
  // failing under a request (a sender that stops mid-body): theirs, logged without a stack (Koa's
  // default would print one to stderr).
  app.on('error', (e: Error & { code?: string }) =>
    logger.info({ code: e.code, message: e.message }, 'connection failed during a request'),
  )

  app.use(async (ctx, next) => {
    const started = performance.now()
    // Before anything can fail: error answers carry them too. The console and the product
    // pictures replace the CSP with their own.
    ctx.set(API_SECURITY_HEADERS)
    try {
      await next()
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 404) throw new AppError('NOT_FOUND', 'no such endpoint')
        if (ctx.status === 405 || ctx.status === 501) {
          throw new AppError('METHOD_NOT_ALLOWED', `${ctx.method} is not allowed here`)
        }
      }
    } catch (e) {
      const err = toAppError(e)
      if (err.status >= 500) logger.error({ err: loggable(e), path: ctx.path }, 'request failed')
      ctx.status = err.status
      ctx.body = { code: err.code, message: err.message }
    } finally {
      // The pattern of the route that ran (@koa/router's public `routerPath`), not the path:
      // one series per route, whatever the order numbers in the paths.
      const route = (ctx as Partial<RouterContext>).routerPath ?? 'unmatched'
      const seconds = (performance.now() - started) / 1000
      metrics.httpRequests.inc({
        method: ctx.method,
        route: String(route),
        status: String(ctx.status),
      })
      metrics.httpDuration.observe({ method: ctx.method, route: String(route) }, seconds)
      logger.info(
        { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 1000) },
        'request',
      )
    }
  })

  // Notifications and pushes read their raw bytes themselves: mounted before the JSON parser.
  // Each with its own slots (NOTIFY_MAX_IN_FLIGHT apiece): a flood of one never holds up the other.
  const bodyTimeoutMs = deps.config.bodyTimeoutSeconds * 1000
  const maxInFlight = deps.config.notifyMaxInFlight
  const notify = notifyRoutes(services.payments, logger, {
    bodyTimeoutMs,
    maxInFlight,
    inFlight: metrics.notifyBodiesInFlight,
  })
  app.use(notify.routes())
  const push = pushRoutes(services.push, logger, {
    bodyTimeoutMs,
    maxInFlight,
    inFlight: metrics.pushBodiesInFlight,
  })
  app.use(push.routes())
  app.use(push.allowedMethods())
  app.use(
    koaBody({
      json: true,
      jsonLimit: '64kb',
      urlencoded: false,
      text: false,
      multipart: false,
      jsonStrict: true,
      // zlib's errors (a Content-Encoding that lies about the body) carry no HTTP status and
      // would be answered as our own 500: they are the client's. The parser's own errors keep
      // their status (400, 413, 415).
      onError: (e) => {
        if ((e as { status?: number }).status !== undefined) throw e
        throw new AppError('INVALID_INPUT', '请求体无法按 Content-Encoding 解码')
      },
    }),
  )
  if (deps.config.adminStaticDir) app.use(adminStatic(deps.config.adminStaticDir))
  for (const router of [
    healthRoutes(deps.database, metrics, deps.config.adminToken),
    authRoutes(services.auth),
    productRoutes(services.catalogue),
    staticRoutes(),
    orderRoutes(services.orders, services.auth, services.shipping),
    adminRoutes(services.admin, services.deliveryCompanies, deps.config.adminToken),
    reconciliationRoutes(services.reconciliation, deps.config.adminToken),
    refundRequestRoutes(services.refundRequests, services.auth),
    adminRefundRequestRoutes(services.refundRequests, deps.config.adminToken),
  ]) {
    app.use(router.routes())
    app.use(router.allowedMethods())
  }
  return app
}

/**
 * Headers of every answer (issue #23 item 5): JSON is no page, so its CSP allows nothing; no page
 * may frame an answer, no browser may sniff one into HTML or script, no Referer leaves with a URL.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
}

/**
 * The Node HTTP server's own limits, set on purpose (main.ts and the test harness call this): the
 * headers within `headersTimeout`, the whole request within `requestTimeout` (Node's default, 300 s,
 * let a trickling body hold a connection for five minutes), idle keep-alive sockets closed soon.
 */
export function limitServer(server: Server, config: Pick<Config, 'bodyTimeoutSeconds'>): void {
  server.requestTimeout = Math.max(30, config.bodyTimeoutSeconds * 3) * 1000
  server.headersTimeout = 10_000
  server.keepAliveTimeout = 5_000
}

/** Our errors as they are; the body parser's 400/413 as INVALID_INPUT / PAYLOAD_TOO_LARGE; the rest 500. */
function toAppError(e: unknown): AppError {
  if (e instanceof AppError) return e
  const status =
    (e as { status?: number; statusCode?: number }).status ??
    (e as { statusCode?: number }).statusCode
  if (status === 413) return new AppError('PAYLOAD_TOO_LARGE', '请求体过大')
  if (status === 408) return new AppError('REQUEST_TIMEOUT', '请求体接收超时')
  if (status === 415) return new AppError('INVALID_INPUT', 'Content-Type must be application/json')
  if (status === 400) return new AppError('INVALID_INPUT', '请求体不是合法的 JSON')
  if (status === 405) return new AppError('METHOD_NOT_ALLOWED', 'method not allowed')
  return new AppError('INTERNAL', '服务器内部错误')
}
