/**
 * The composition root: the only place that reads the environment, opens the database, builds the
 * WeChat clients, listens, and runs the jobs. `pnpm --filter @fen/server start`.
 */
import { WechatPay, WechatPayV2 } from '@fen/wechatpay'
import { createApp, createServices, limitServer } from './app'
import { ConfigError, loadConfig, platformKeys } from './config'
import { openDatabase } from './db/client'
import { CERTIFICATE_JOB_INTERVAL_MS } from './jobs/certificates'
import { RECONCILIATION_JOB_INTERVAL_MS, reconcileOnce } from './jobs/reconciliation'
import { every } from './jobs/runner'
import { shipOnce } from './jobs/shipping'
import { sweepOnce } from './jobs/sweeper'
import { createLogger, loggable } from './logger'
import { seedDemoCatalogue } from './repositories/catalogue'
import { dispatchOnce, type OutboxHandler } from './services/outbox'
import { redactUrl } from './urls'
import { V2Gateway, V3Gateway, miniProgramClient } from './wechat/gateway'

let config
try {
  config = await loadConfig(process.env)
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`Fen server: configuration problems:\n${e.message.replace(/^/gm, '  - ')}`)
    process.exit(1)
  }
  throw e
}
const logger = createLogger(config.logLevel)
for (const w of config.warnings) logger.warn(w)

const database = await openDatabase({
  url: config.databaseUrl,
  dataDir: config.databaseUrl ? undefined : config.dataDir,
  onError: (e) =>
    logger.warn({ err: loggable(e) }, 'database connection lost; the pool reconnects'),
})
try {
  await database.migrate()
  await seedDemoCatalogue(database.db)
} catch (e) {
  // The usual first-run mistake (wrong host, database down): one line an operator can act on.
  const setting = config.databaseUrl ? 'DATABASE_URL' : 'FEN_DATA_DIR'
  console.error(`Fen server: cannot use the database (${setting}): ${rootCause(e)}`)
  await database.close().catch(() => undefined)
  process.exit(1)
}

const wxpay = new WechatPay({
  mchid: config.wechatpay.mchid,
  appid: config.wechat.appid,
  serialNo: config.wechatpay.serialNo,
  privateKey: config.wechatpay.privateKey,
  apiV3Key: config.wechatpay.apiV3Key,
  baseUrl: config.wechatpay.baseUrl,
  ...(config.wechatpay.backupBaseUrl ? { backupBaseUrl: config.wechatpay.backupBaseUrl } : {}),
  platform: platformKeys(config.wechatpay),
})
const v2 =
  config.wechatpay.apiV2Key !== undefined
    ? new WechatPayV2({
        mchid: config.wechatpay.mchid,
        appid: config.wechat.appid,
        apiV2Key: config.wechatpay.apiV2Key,
        baseUrl: config.wechatpay.baseUrl,
      })
    : undefined
const gateway =
  config.wechatpay.apiVersion === 'v2' && v2
    ? new V2Gateway(v2, wxpay, (url) => `${url}/v2`)
    : new V3Gateway(wxpay)

const deps = {
  config,
  database,
  logger,
  gateway,
  miniProgram: miniProgramClient(config, database.db),
  notifications: {
    v3: (headers: Parameters<typeof wxpay.parseNotification>[0], raw: Buffer) =>
      wxpay.parseNotification(headers, raw),
    ...(v2 ? { v2: (xml: string) => v2.parseNotification(xml) } : {}),
  },
  platformCertificates: wxpay.client.platformCertificates,
  bills: wxpay.bills,
}
const services = createServices(deps)
// Certificate mode: the list is downloaded before we listen, so the first notification verifies
// at once. A failure is logged and retried by the job; the server starts anyway.
await services.certificates?.start()
const app = createApp(deps, services)

/** The shop's fulfilment hook: replace with your own (ship the goods, send a message, …). */
const fulfil: OutboxHandler = async (event) => {
  logger.info({ eventId: event.id, type: event.type, orderNo: event.orderNo }, 'event delivered')
}

const listening = () => {
  const url = `http://${config.host ?? '127.0.0.1'}:${config.port}`
  logger.info(
    {
      url,
      database: database.kind,
      wechatpay: redactUrl(config.wechatpay.baseUrl),
      wechatpayBackup: config.wechatpay.backupBaseUrl && redactUrl(config.wechatpay.backupBaseUrl),
      api: config.wechatpay.apiVersion,
      sandbox: Boolean(config.sandboxUrl),
    },
    'Fen server listening',
  )
}
const server = config.host
  ? app.listen(config.port, config.host, listening)
  : app.listen(config.port, listening)
limitServer(server, config)
const jobs = [
  every(
    'sweeper',
    10_000,
    () => sweepOnce(services.ctx, services.payments, services.refunds),
    logger,
  ),
  // Every second when idle; 100 ms after a run that delivered something (see `every`).
  every('outbox', 1_000, () => dispatchOnce(services.ctx, fulfil), logger, {
    busy: { when: (r) => r.delivered + r.failed > 0, afterMs: 100 },
  }),
  every('shipping', 5_000, () => shipOnce(services.ctx, services.shipping), logger),
  ...(config.reconcile.enabled
    ? [
        every(
          'reconciliation',
          RECONCILIATION_JOB_INTERVAL_MS,
          () => reconcileOnce(services.ctx, services.reconciliation),
          logger,
        ),
      ]
    : []),
  ...(services.certificates
    ? [
        every(
          'platform-certificates',
          CERTIFICATE_JOB_INTERVAL_MS,
          () => services.certificates!.runOnce(),
          logger,
        ),
      ]
    : []),
]

async function shutdown(signal: string) {
  logger.info({ signal }, 'shutting down')
  // Stop accepting; let requests in flight finish (idle keep-alive sockets close at once), but not
  // forever: a client that holds a request open must not keep the database from closing.
  const drained = new Promise<void>((resolve) => server.close(() => resolve()))
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref())
  await Promise.all([Promise.race([drained, deadline]), ...jobs.map((j) => j.stop())])
  await services.ctx.sinks?.close()
  await database.close()
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))

/** The innermost message of a wrapped error (drizzle wraps the driver's), without the query. */
function rootCause(e: unknown): string {
  let err = e as { message?: string; cause?: unknown } | undefined
  while (err?.cause) err = err.cause as typeof err
  return err?.message ?? String(e)
}
