import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import Router, { type Layer, type RouterContext } from '@koa/router'
import Koa from 'koa'
import { CONTROL_PREFIX, controlAccess, controlGuard, originOf, type ControlAccess } from './access'
import type { Route } from './http'
import { newRequestId } from './ids'
import type { SandboxKeys, SandboxMerchant } from './keys'
import type { SandboxHost } from './faults'
import { handle, render, send, sendJson } from './pipeline/answer'
import { callLog } from './pipeline/call-log'
import { compose, type CallContext, type SandboxState } from './pipeline/context'
import { chooseFault, dropConnection, v3FaultAnswer } from './pipeline/faults'
import { signAnswer } from './pipeline/signing'
import { verifyV3Request } from './pipeline/v3-auth'
import { Sandbox, type SandboxOptions } from './sandbox'
import { billRoutes } from './routes/bills'
import { certificateRoutes } from './routes/certificates'
import { consoleRoutes } from './routes/console'
import { controlRoutes } from './routes/control'
import { eventRoutes } from './routes/events'
import { loginRoutes } from './routes/login'
import { pageRoutes } from './routes/page'
import { refundRoutes } from './routes/refunds'
import { transactionRoutes } from './routes/transactions'
import { v2Routes } from './routes/v2'
import { weixinRoutes } from './routes/weixin'
import { weixinControlRoutes } from './routes/weixin-control'

const ROUTES: Route[] = [
  ...transactionRoutes,
  ...refundRoutes,
  ...billRoutes,
  ...certificateRoutes,
  ...v2Routes,
  ...loginRoutes,
  ...weixinRoutes,
  ...weixinControlRoutes,
  ...controlRoutes,
  ...consoleRoutes,
  ...eventRoutes,
  ...pageRoutes,
]

const MAX_BODY = 1024 * 1024

/** A running sandbox. */
export interface RunningSandbox {
  /** `http://127.0.0.1:<port>`: use it as both WeChat base URLs. */
  url: string
  /**
   * With `backupPort`: the backup host (WeChat's api2.mch.weixin.qq.com), the same WeChat on a
   * second port; an `unreachable` fault takes only the primary down.
   */
  backupUrl: string | undefined
  merchant: SandboxMerchant
  sandbox: Sandbox
  /**
   * Lets pages of `origin` (`http://host:port`) use the control API from now on, like the
   * `allowedOrigins` option: for a page whose address is known only after the sandbox started
   * (a dev server or test server on a free port). Throws when `origin` is not one.
   */
  allowOrigin(origin: string): void
  close(): Promise<void>
}

/** Options of {@link startSandbox}. */
export interface StartSandboxOptions extends Partial<Omit<SandboxOptions, 'keys'>> {
  /** Keys to use; by default a fresh set is generated (about 0.3 s). */
  keys?: SandboxKeys
  /** 0 (the default) picks a free port. */
  port?: number
  /** Also listen on this port as the backup host (0 picks a free port); none when undefined. */
  backupPort?: number
  /** Where to listen (default 127.0.0.1); the control API answers to this name too. */
  host?: string
  /**
   * Host names or addresses the control API and pages (`/__sandbox/…`) answer to besides
   * loopback (`localhost`, `127.0.0.1`, `[::1]`) and `host`: e.g. the laptop's LAN address for a
   * phone or WeChat DevTools. Other `Host` headers are answered 421 (DNS rebinding).
   */
  allowedHosts?: string[]
  /**
   * Origins (`http://127.0.0.1:10086`) whose pages may use the control API besides the sandbox's
   * own, with CORS: e.g. the shop's H5 build. Requests from other origins are answered 403.
   */
  allowedOrigins?: string[]
}

/**
 * Starts a sandbox and resolves once it listens.
 *
 * @example
 * const sb = await startSandbox({ port: 0 })
 * const wxpay = new WechatPay({ baseUrl: sb.url, mchid: sb.merchant.mchid, … })
 * await sb.close()
 */
export async function startSandbox(options: StartSandboxOptions = {}): Promise<RunningSandbox> {
  const host = options.host ?? '127.0.0.1'
  // Checked before anything starts: a malformed entry is the caller's mistake, said at once.
  const access = controlAccess(host, options.allowedHosts, options.allowedOrigins)
  const keys = options.keys ?? (await (await import('./keys')).generateSandboxKeys())
  const sandbox = new Sandbox({ ...options, keys })
  const hung = new Set<ServerResponse>()
  const listen = async (port: number, via: SandboxHost) => {
    const server = createServer(sandboxApp(sandbox, hung, via, access).callback())
    server.keepAliveTimeout = 65_000
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve())
    })
    const bound = (server.address() as AddressInfo).port
    return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}` }
  }
  const primary = await listen(options.port ?? 0, 'primary')
  const servers = [primary.server]
  let backupUrl: string | undefined
  if (options.backupPort !== undefined) {
    try {
      const backup = await listen(options.backupPort, 'backup')
      servers.push(backup.server)
      backupUrl = backup.url
    } catch (e) {
      primary.server.close()
      sandbox.close()
      throw e
    }
  }
  sandbox.baseUrl = primary.url
  sandbox.backupUrl = backupUrl
  return {
    url: primary.url,
    backupUrl,
    merchant: sandbox.merchant(),
    sandbox,
    allowOrigin: (origin) => void access.origins.add(originOf(origin)),
    close: async () => {
      sandbox.close()
      for (const res of hung) res.destroy()
      await Promise.all(
        servers.map((server) => {
          server.closeAllConnections()
          return new Promise<void>((resolve) => server.close(() => resolve()))
        }),
      )
    },
  }
}

/**
 * The Koa app: errors → body (1 MiB cap, read before routing, so an oversized call is never
 * routed or logged) → who may use `/__sandbox/…` (./access.ts) → the routes → 405/404 for what no
 * route answered.
 */
function sandboxApp(
  sandbox: Sandbox,
  hung: Set<ServerResponse>,
  via: SandboxHost,
  access: ControlAccess,
): Koa<SandboxState> {
  const app = new Koa<SandboxState>()
  // A listener replaces Koa's default, which prints to stderr; the middleware below catches
  // handler errors, so only failures while writing an answer get here.
  app.on('error', (e: Error) => sandbox.log(`http error: ${e.message}`))
  app.use(async (ctx, next) => {
    try {
      await next()
    } catch (e) {
      sandbox.log(`internal error: ${(e as Error).stack ?? String(e)}`)
      if (!ctx.headerSent) {
        ctx.respond = true
        sendJson(ctx, 500, { code: 'SYSTEM_ERROR', message: '系统繁忙,请稍后重试' }, {})
      }
    }
  })
  app.use(async (ctx, next) => {
    try {
      ctx.state.body = await readBody(ctx.req)
    } catch {
      sendJson(ctx, 413, { code: 'PARAM_ERROR', message: '请求体过大' }, {})
      return
    }
    // Routed on the WHATWG-normalised path (dot segments resolved, as WeChat's gateway sees it);
    // handlers still get the raw path and query in `rawUrl`, which signatures cover.
    ctx.state.rawUrl = ctx.url
    ctx.state.url = new URL(ctx.url, 'http://sandbox')
    // Setting `ctx.path` rewrites `req.url`: `rawUrl` above keeps what was sent.
    if (ctx.path !== ctx.state.url.pathname) ctx.path = ctx.state.url.pathname
    await next()
  })
  app.use(controlGuard(access))
  app.use(sandboxRouter(pipelines(sandbox, hung, via)).routes())
  app.use((ctx) => {
    // `matched` lists the routes whose path matched: the method was wrong.
    const pathMatched = ((ctx as Partial<RouterContext>).matched?.length ?? 0) > 0
    sendJson(
      ctx,
      pathMatched ? 405 : 404,
      {
        code: pathMatched ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND',
        message: pathMatched ? '请求方法不正确' : '请求的资源不存在',
      },
      { 'Request-ID': newRequestId() },
    )
  })
  return app
}

type Pipeline = (ctx: CallContext) => Promise<void>

/**
 * What a routed call goes through, by its route's kind: small Koa middleware (./pipeline/), run
 * outermost first, each reading and filling in its part of `ctx.state` and given only what it
 * uses of the sandbox (the handler, by the route contract, all of it). WeChat's side logs every
 * call and may meet a fault; APIv3 alone checks the merchant's signature and signs its answers
 * (APIv2 handlers check `sign` and render their faults themselves).
 */
function pipelines(
  sandbox: Sandbox,
  hung: Set<ServerResponse>,
  via: SandboxHost,
): Record<Route['kind'], Pipeline> {
  const wechatSide = [
    send,
    chooseFault(sandbox.faults, via),
    callLog(sandbox, via),
    dropConnection(hung),
  ]
  const handler = handle(sandbox)
  const v3 = compose([
    ...wechatSide,
    v3FaultAnswer,
    signAnswer(sandbox),
    render,
    verifyV3Request(sandbox),
    handler,
  ])
  const v2 = compose([...wechatSide, render, handler])
  const own = compose([send, render, handler])
  return { v3, v2, open: v2, control: own, page: own }
}

/** Every route, matched case-sensitively and without a trailing slash, as WeChat's paths are. */
function sandboxRouter(pipelines: Record<Route['kind'], Pipeline>): Router<SandboxState> {
  const router = new Router<SandboxState>({ sensitive: true, strict: true })
  for (const route of ROUTES) {
    // The access checks guard the prefix: a control route anywhere else would go unguarded.
    if (
      (route.kind === 'control' || route.kind === 'page') &&
      !route.path.startsWith(`${CONTROL_PREFIX}/`) &&
      route.path !== `${CONTROL_PREFIX}{/}`
    )
      throw new Error(`control route ${route.path} is outside ${CONTROL_PREFIX}/`)
    const pipeline = pipelines[route.kind]
    // `register` (not `router.get` …) for the Layer: its parameter names map the raw captures.
    const layer = router.register(route.path, [route.method], async (ctx, next) => {
      // @koa/router also routes HEAD to GET routes; the sandbox answers HEAD 405, as before.
      if (ctx.method !== route.method) return next()
      const call = ctx as unknown as CallContext
      call.state.route = route
      call.state.params = rawParams(layer, ctx.captures ?? [])
      call.state.requestId = newRequestId()
      await pipeline(call)
    }) as Layer<SandboxState>
  }
  return router
}

/**
 * A route's parameters as they appear in the path. @koa/router's `ctx.params` are decoded (and a
 * malformed `%E0%A4%A` silently kept); handlers decode them themselves to answer WeChat's 400.
 */
function rawParams(layer: Layer<SandboxState>, captures: string[]): Record<string, string> {
  const params: Record<string, string> = {}
  layer.paramNames.forEach((key, i) => {
    const value = captures[i]
    if (value !== undefined) params[key.name] = value
  })
  return params
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY) {
        reject(new Error('body too large'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
