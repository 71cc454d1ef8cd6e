/**
 * A whole Fen stack for one test suite: the Fen sandbox as WeChat, a database of its own (a fresh
 * in-memory PGlite, or — when DATABASE_URL is set — a new PostgreSQL database dropped afterwards),
 * and the server listening on a free port, configured through the real `loadConfig` path.
 *
 * Jobs do not run on timers here: tests call `sweep()` and `dispatch()` when they want a run, and
 * move the server's clock with `advance()` (the sandbox has its own clock API).
 *
 * A second server instance on the same database (two instances behind one load balancer):
 * `startHarness({ shareDatabaseWith: h })`. It shares `h`'s sandbox (one WeChat) and database (the
 * same PGlite object — PGlite is in-process and single-connection — or, with DATABASE_URL, a pool
 * of its own on `h`'s PostgreSQL database) and `h`'s clock, and has its own HTTP server, services,
 * dispatcher and `delivered` list. Close it before `h`.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  generateSandboxKeys,
  startSandbox,
  type RunningSandbox,
  type SandboxKeys,
  type StartSandboxOptions,
} from '@fen/sandbox'
import { WechatPay, WechatPayV2 } from '@fen/wechatpay'
import type Koa from 'koa'
import pg from 'pg'
import { ORDER_STATUS_FLOW } from '@fen/shared'
import { sql } from 'drizzle-orm'
import { inject } from 'vitest'
import { createApp, createServices, limitServer, type AppDeps, type Services } from '../src/app'
import { loadConfig, platformKeys, type Config } from '../src/config'
import { openDatabase, type Database } from '../src/db/client'
import { dispatchOnce, type OutboxDelivery } from '../src/services/outbox'
import { shipOnce } from '../src/jobs/shipping'
import { sweepOnce } from '../src/jobs/sweeper'
import { createLogger } from '../src/logger'
import { seedDemoCatalogue } from '../src/repositories/catalogue'
import { V2Gateway, V3Gateway, miniProgramClient, type PayGateway } from '../src/wechat/gateway'
import type { HarnessProvided } from './global-setup'

export const ADMIN_TOKEN = 'test-admin-token-0123456789'

/** The server's WeChat Pay operations, for `wrapGateway`. */
export type { PayGateway }

export interface HarnessOptions {
  apiVersion?: 'v3' | 'v2'
  /**
   * Options for the sandbox (timeScale, refundSettleSeconds, …). Without `keys`, the run's shared
   * key set (./global-setup.ts).
   */
  sandbox?: StartSandboxOptions
  /** Extra environment for loadConfig (e.g. ORDER_TTL_SECONDS). */
  env?: Record<string, string>
  /** Called for each outbox delivery; throw to make it fail. Default: record it. */
  onEvent?: (e: OutboxDelivery) => Promise<void>
  /**
   * Start a second server instance on this harness's database, sandbox and clock instead of fresh
   * ones (see the top of this file). `sandbox` must not be given with it.
   */
  shareDatabaseWith?: Harness
  /**
   * How long the server's WeChat clients wait for an answer, in ms (default: 2000 for WeChat Pay;
   * the mini-program login client keeps its own 5000 unless this is given).
   */
  wechatTimeoutMs?: number
  /** Wraps the server's WeChat Pay gateway, e.g. to count the calls it makes per order. */
  wrapGateway?: (gateway: PayGateway) => PayGateway
}

export interface ApiResponse<T = unknown> {
  status: number
  body: T
  headers: Headers
}

export interface Harness {
  url: string
  sandbox: RunningSandbox
  config: Config
  database: Database
  /** The PostgreSQL database's URL; undefined on PGlite. */
  databaseUrl: string | undefined
  services: Services
  /** The Koa app the server runs (its routers are `app.middleware` entries with a `router`). */
  app: Koa
  /** Events the outbox delivered (with the default handler). */
  delivered: OutboxDelivery[]
  /** The server's clock: real time plus whatever `advance` added (shared by a second instance). */
  now(): Date
  advance(seconds: number): void
  /** JSON request to the server. */
  api<T = unknown>(
    method: string,
    path: string,
    init?: {
      token?: string
      body?: unknown
      headers?: Record<string, string>
      raw?: string | Buffer
    },
  ): Promise<ApiResponse<T>>
  /** JSON request to the sandbox's control API. */
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>
  /** Logs in a shopper through the sandbox (a real code2Session); returns the token. */
  login(openid?: string): Promise<string>
  admin<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>
  sweep(): ReturnType<typeof sweepOnce>
  dispatch(): ReturnType<typeof dispatchOnce>
  /** One run of the shipping job (virtual orders shipped, pending uploads to WeChat retried). */
  shipJob(): ReturnType<typeof shipOnce>
  /** One run of the platform-certificate job (certificate mode; undefined in public-key mode). */
  refreshCertificates(): Promise<'refreshed' | 'fresh' | 'failed' | undefined>
  /**
   * Polls `check` every `intervalMs` (20) until it returns a truthy value (notifications are
   * asynchronous). A check that reads much (every notification of a thousand orders) wants a longer
   * interval.
   */
  until<T>(
    check: () => Promise<T | undefined | false>,
    timeoutMs?: number,
    intervalMs?: number,
  ): Promise<T>
  close(): Promise<void>
}

/** What ./global-setup.ts made once for the whole run; undefined without that setup. */
function provided<K extends keyof HarnessProvided>(name: K): HarnessProvided[K] | undefined {
  return inject(name) as HarnessProvided[K] | undefined
}

let sharedKeys: Promise<SandboxKeys> | undefined
/**
 * One key set for the run (from the global setup), else one per test process: key generation is
 * the slow part of starting a sandbox.
 */
function sandboxKeys(): Promise<SandboxKeys> {
  const keys = provided('fenSandboxKeys')
  sharedKeys ??= keys ? Promise.resolve(keys) : generateSandboxKeys()
  return sharedKeys
}

let template: Blob | undefined
/** The migrated PGlite template of the global setup, read once per process; undefined without it. */
function pgliteTemplate(): Blob | undefined {
  const file = provided('fenPgliteTemplate')
  if (file) template ??= new Blob([readFileSync(file)])
  return template
}

/** A fresh database: in-memory PGlite, or a new PostgreSQL database when DATABASE_URL is set. */
async function freshDatabase(): Promise<{
  database: Database
  /** The new PostgreSQL database's URL; undefined on PGlite. */
  url: string | undefined
  drop(): Promise<void>
}> {
  const url = process.env.DATABASE_URL
  if (!url) {
    const dump = pgliteTemplate()
    const database = await openDatabase(dump ? { pgliteDump: dump } : {})
    // From the template, this finds every migration applied and does nothing.
    await database.migrate()
    await guardStatusFlow(database)
    return { database, url: undefined, drop: () => database.close() }
  }
  const name = `fen_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const own = new URL(url)
  own.pathname = `/${name}`
  const database = await openDatabase({ url: own.toString() })
  await database.migrate()
  await guardStatusFlow(database)
  return {
    database,
    url: own.toString(),
    drop: async () => {
      await database.close()
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      await c.query(`drop database if exists ${name} with (force)`)
      await c.end()
    },
  }
}

/**
 * Every suite checks the order lifecycle's table: a trigger, built from ORDER_STATUS_FLOW
 * (packages/shared/src/lifecycle.ts), refuses any change of an order's status the table does not
 * allow, whichever code made it — the statement fails, and with it the test. Test databases only:
 * production pays nothing for it.
 */
async function guardStatusFlow(database: Database): Promise<void> {
  const allowed = Object.entries(ORDER_STATUS_FLOW).flatMap(([from, tos]) =>
    tos.map((to) => `'${from}>${to}'`),
  )
  for (const statement of [
    `create or replace function fen_test_status_flow() returns trigger language plpgsql as $$
     begin
       if new.status <> old.status
          and not (old.status || '>' || new.status = any (array[${allowed.join(', ')}])) then
         raise exception 'order % went % -> %, which ORDER_STATUS_FLOW does not allow',
           new.order_no, old.status, new.status;
       end if;
       return new;
     end $$`,
    'drop trigger if exists fen_test_status_flow on orders',
    `create trigger fen_test_status_flow before update of status on orders
       for each row execute function fen_test_status_flow()`,
  ])
    await database.db.execute(sql.raw(statement))
}

/** What a second instance shares with the harness it was started from. */
interface Shared {
  /** Milliseconds `advance` has added to real time: one clock for every instance. */
  clock: { offsetMs: number }
}
const sharedOf = new WeakMap<Harness, Shared>()

/** The sandbox and database of a new harness: fresh ones, or those of `first` for a second instance. */
async function worldFor(options: HarnessOptions): Promise<{
  sandbox: RunningSandbox
  database: Database
  databaseUrl: string | undefined
  shared: Shared
  release(): Promise<void>
}> {
  const first = options.shareDatabaseWith
  if (!first) {
    const sandbox = await startSandbox({
      refundSettleSeconds: false,
      ...options.sandbox,
      keys: options.sandbox?.keys ?? (await sandboxKeys()),
      port: 0,
    })
    const { database, url, drop } = await freshDatabase()
    await seedDemoCatalogue(database.db)
    return {
      sandbox,
      database,
      databaseUrl: url,
      shared: { clock: { offsetMs: 0 } },
      release: async () => {
        await sandbox.close()
        await drop()
      },
    }
  }
  if (options.sandbox)
    throw new Error("shareDatabaseWith uses the first instance's sandbox: no sandbox options")
  const shared = sharedOf.get(first)
  if (!shared) throw new Error('shareDatabaseWith: not a harness started by startHarness')
  // PGlite is one in-process connection: the second app uses the same object. PostgreSQL: a pool
  // of its own, as a second server process would have.
  const database = first.databaseUrl
    ? await openDatabase({ url: first.databaseUrl })
    : first.database
  return {
    sandbox: first.sandbox,
    database,
    databaseUrl: first.databaseUrl,
    shared,
    // The sandbox and the database belong to the first instance; only our own pool is ours.
    release: async () => {
      if (database !== first.database) await database.close()
    },
  }
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const world = await worldFor(options)
  try {
    return await harnessIn(world, options)
  } catch (e) {
    // A harness that failed to start still gives back its sandbox and database.
    await world.release()
    throw e
  }
}

async function harnessIn(
  world: Awaited<ReturnType<typeof worldFor>>,
  options: HarnessOptions,
): Promise<Harness> {
  const { sandbox, database, databaseUrl, shared, release } = world

  // Listen first: the notify URL needs the port.
  let handler: Parameters<typeof createServer>[1] = (_req, res) => res.end()
  const server: Server = createServer((req, res) => handler!(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const config = await loadConfig({
    FEN_SANDBOX_URL: sandbox.url,
    PUBLIC_BASE_URL: url,
    JWT_SECRET: 'test-jwt-secret-0123456789-0123456789',
    ADMIN_TOKEN,
    WECHATPAY_API_VERSION: options.apiVersion ?? 'v3',
    LOG_LEVEL: 'silent',
    // Suites drive one shopper through hundreds of orders; the limits have a suite of their own
    // (order-limits.test.ts). 0: no cap on the units of a product.
    ORDER_MAX_OPEN_PER_USER: '1000',
    ORDER_MAX_UNITS_PER_PRODUCT: '0',
    ...options.env,
  })
  const clock = shared.clock
  const wechatTimeoutMs = options.wechatTimeoutMs ?? 2000
  const wrapGateway = options.wrapGateway ?? ((g: PayGateway) => g)
  const m = sandbox.merchant
  const wxpay = new WechatPay({
    mchid: m.mchid,
    appid: m.appid,
    serialNo: m.merchantSerialNo,
    privateKey: m.merchantPrivateKey,
    apiV3Key: m.apiV3Key,
    baseUrl: sandbox.url,
    // As main.ts: the sandbox's backup host when it runs one (`sandbox: { backupPort: 0 }`).
    ...(config.wechatpay.backupBaseUrl ? { backupBaseUrl: config.wechatpay.backupBaseUrl } : {}),
    retryDelayMs: 0,
    timeoutMs: wechatTimeoutMs,
    platform: platformKeys(config.wechatpay),
  })
  const v2 = new WechatPayV2({
    mchid: m.mchid,
    appid: m.appid,
    apiV2Key: m.apiV2Key,
    baseUrl: sandbox.url,
    timeoutMs: wechatTimeoutMs,
  })
  const deps: AppDeps = {
    config,
    database,
    logger: createLogger('silent'),
    gateway: wrapGateway(
      config.wechatpay.apiVersion === 'v2'
        ? new V2Gateway(v2, wxpay, (u) => `${u}/v2`)
        : new V3Gateway(wxpay),
    ),
    // The server's own client (database token store), on the server's clock so `advance` ages
    // access_tokens too; transient errcodes are retried without waiting.
    miniProgram: miniProgramClient(config, database.db, {
      clock: () => Date.now() + clock.offsetMs,
      sleep: async () => undefined,
      ...(options.wechatTimeoutMs === undefined ? {} : { timeoutMs: options.wechatTimeoutMs }),
    }),
    notifications: {
      v3: (headers, raw) => wxpay.parseNotification(headers, raw),
      v2: (xml) => v2.parseNotification(xml),
    },
    platformCertificates: wxpay.client.platformCertificates,
    bills: wxpay.bills,
    clock: () => new Date(Date.now() + clock.offsetMs),
  }
  const services = createServices(deps)
  // As main.ts: certificate mode downloads the list at start.
  await services.certificates?.start()
  const app = createApp(deps, services)
  handler = app.callback()
  limitServer(server, config)

  const delivered: OutboxDelivery[] = []
  const onEvent = options.onEvent ?? (async (e: OutboxDelivery) => void delivered.push(e))

  const request = async <T>(
    base: string,
    method: string,
    path: string,
    init: {
      token?: string
      body?: unknown
      headers?: Record<string, string>
      raw?: string | Buffer
    } = {},
  ): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { ...init.headers }
    if (init.token) headers.authorization = `Bearer ${init.token}`
    let body: string | Buffer | undefined = init.raw
    if (init.body !== undefined) {
      body = JSON.stringify(init.body)
      headers['content-type'] ??= 'application/json'
    }
    const res = await fetch(base + path, { method, headers, body })
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers }
  }

  const h: Harness = {
    url,
    sandbox,
    config,
    database,
    databaseUrl,
    services,
    app,
    delivered,
    now: () => new Date(Date.now() + clock.offsetMs),
    advance: (seconds) => {
      clock.offsetMs += seconds * 1000
    },
    api: (method, path, init) => request(url, method, path, init),
    control: (method, path, body) =>
      request(sandbox.url, method, path, body === undefined ? {} : { body }),
    async login(openid) {
      const code = await h.control<{ code: string }>(
        'POST',
        '/__sandbox/login-codes',
        openid ? { openid } : {},
      )
      const res = await h.api<{ token: string }>('POST', '/api/auth/login', {
        body: { code: code.body.code },
      })
      if (res.status !== 200)
        throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`)
      return res.body.token
    },
    admin: (method, path, body, headers) =>
      request(url, method, path, {
        ...(body === undefined ? {} : { body }),
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers },
      }),
    sweep: () => sweepOnce(services.ctx, services.payments, services.refunds),
    dispatch: () => dispatchOnce(services.ctx, onEvent),
    shipJob: () => shipOnce(services.ctx, services.shipping),
    refreshCertificates: async () => services.certificates?.runOnce(),
    async until(check, timeoutMs = 3000, intervalMs = 20) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const v = await check()
        if (v) return v
        if (Date.now() > deadline) throw new Error('until: condition not met in time')
        await new Promise((r) => setTimeout(r, intervalMs))
      }
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
      await services.ctx.sinks?.close()
      await release()
    },
  }
  sharedOf.set(h, shared)
  return h
}
