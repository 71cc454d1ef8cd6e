import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { createVerify } from 'node:crypto'
import { SignatureError, parseAuthorization } from '@fen/wechatpay'
import Router, { type Layer, type RouterContext } from '@koa/router'
import Koa, { type Context } from 'koa'
import { CONTROL_PREFIX, controlAccess, controlGuard, originOf, type ControlAccess } from './access'
import { answerText, newCallRecord } from './calls'
import { WechatError } from './errors'
import type { Route, SandboxReply, SandboxRequest } from './http'
import { newRequestId } from './ids'
import type { SandboxKeys, SandboxMerchant } from './keys'
import type { SandboxHost } from './faults'
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
/** WeChat's documented limit on clock skew, applied to the merchant's `timestamp` (real time). */
const REQUEST_TIMESTAMP_TOLERANCE_S = 300

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

/** What the middleware before the router leaves for it: the raw body and the parsed URL. */
interface SandboxState {
  body: Buffer
  url: URL
  /** The path and query exactly as they arrived (signatures cover them). */
  rawUrl: string
}

type SandboxContext = Context & { state: SandboxState }

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
        send(ctx, 500, { code: 'SYSTEM_ERROR', message: '系统繁忙,请稍后重试' }, {})
      }
    }
  })
  app.use(async (ctx, next) => {
    try {
      ctx.state.body = await readBody(ctx.req)
    } catch {
      send(ctx, 413, { code: 'PARAM_ERROR', message: '请求体过大' }, {})
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
  app.use(sandboxRouter(sandbox, hung, via).routes())
  app.use((ctx) => {
    // `matched` lists the routes whose path matched: the method was wrong.
    const pathMatched = ((ctx as Partial<RouterContext>).matched?.length ?? 0) > 0
    send(
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

/** Every route, matched case-sensitively and without a trailing slash, as WeChat's paths are. */
function sandboxRouter(
  sandbox: Sandbox,
  hung: Set<ServerResponse>,
  via: SandboxHost,
): Router<SandboxState> {
  const router = new Router<SandboxState>({ sensitive: true, strict: true })
  for (const route of ROUTES) {
    // The access checks guard the prefix: a control route anywhere else would go unguarded.
    if (
      (route.kind === 'control' || route.kind === 'page') &&
      !route.path.startsWith(`${CONTROL_PREFIX}/`) &&
      route.path !== `${CONTROL_PREFIX}{/}`
    )
      throw new Error(`control route ${route.path} is outside ${CONTROL_PREFIX}/`)
    // `register` (not `router.get` …) for the Layer: its parameter names map the raw captures.
    const layer = router.register(route.path, [route.method], async (ctx, next) => {
      // @koa/router also routes HEAD to GET routes; the sandbox answers HEAD 405, as before.
      if (ctx.method !== route.method) return next()
      const params = rawParams(layer, ctx.captures ?? [])
      await serve(sandbox, route, ctx as SandboxContext, params, hung, via)
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

/**
 * One routed call: the call log and faults (WeChat's side only), authentication (APIv3), the
 * handler, and the answer — signed when it is an APIv3 2xx.
 */
async function serve(
  sandbox: Sandbox,
  route: Route,
  ctx: SandboxContext,
  params: Record<string, string>,
  hung: Set<ServerResponse>,
  via: SandboxHost,
): Promise<void> {
  const { req, res } = ctx
  const { body, url } = ctx.state
  const method = ctx.method
  const requestId = newRequestId()
  const baseHeaders = { 'Request-ID': requestId }

  const guarded = route.kind === 'v3' || route.kind === 'v2' || route.kind === 'open'
  const fault = guarded ? sandbox.faults.forPath(url.pathname, via) : undefined
  const call = guarded
    ? sandbox.calls.add(
        newCallRecord(sandbox.store, {
          nowMs: sandbox.clock.now(),
          method,
          path: url.pathname,
          query: url.search.slice(1),
          params,
          body,
          fault: fault?.kind,
          ...(via === 'backup' ? { host: 'backup' as const } : {}),
        }),
      )
    : undefined
  if (call) {
    const started = performance.now()
    // Only an answer that was sent in full has a status (a hung or reset call never finishes).
    res.on('finish', () => {
      call.status = res.statusCode
    })
    res.on('close', () => {
      call.ms = Math.round(performance.now() - started)
      sandbox.events.emit({ type: 'call', data: { ...call } })
    })
  }
  /** The answer, kept in the call log for WeChat's side. */
  const reply = (status: number, headers: Record<string, string>, payload: string | Buffer) => {
    if (call && payload.length > 0)
      call.response_body = answerText(payload, headers['Content-Type'])
    answer(ctx, status, headers, payload)
  }
  switch (fault?.kind) {
    case 'timeout':
      // Never answer; the socket is dropped after a minute, or when the client gives up.
      ctx.respond = false
      hung.add(res)
      res.on('close', () => hung.delete(res))
      setTimeout(() => res.destroy(), 60_000).unref()
      return
    case 'reset':
    case 'unreachable':
      // No HTTP answer: the connection is dropped (for `unreachable`, as if it had been refused —
      // the call never reached WeChat, so nothing of it is applied).
      ctx.respond = false
      req.socket.destroy()
      return
    case 'error500':
    case 'error429':
      // APIv3 errors are rendered here; APIv2 and login routes render them in their own shape.
      if (route.kind === 'v3') {
        const [status, code, message] =
          fault.kind === 'error500'
            ? [500, 'SYSTEM_ERROR', '系统繁忙,请稍后重试']
            : [429, 'FREQUENCY_LIMITED', '请求频率超过限制，请降低频率']
        reply(status, { ...baseHeaders, ...JSON_TYPE }, JSON.stringify({ code, message }))
        return
      }
  }

  const request: SandboxRequest = {
    sandbox,
    method,
    rawUrl: ctx.state.rawUrl,
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    body,
    params,
    fault,
  }
  let result: SandboxReply
  // WeChat signs its answer to every request whose signature it verified, whatever the status;
  // an answer to a request it could not authenticate goes unsigned.
  let authenticated = false
  try {
    if (route.kind === 'v3') {
      authenticate(sandbox, request)
      authenticated = true
    }
    result = await route.handler(request)
  } catch (e) {
    if (!(e instanceof WechatError)) throw e
    result = { status: e.status, body: e.body() }
  }

  const headers: Record<string, string> = { ...baseHeaders, ...result.headers }
  if (result.raw instanceof Readable) {
    // A stream (the event stream of the control API): never signed, never in the call log.
    ctx.status = result.status
    ctx.set({ ...headers, 'Content-Type': result.contentType ?? 'application/octet-stream' })
    ctx.body = result.raw
    return
  }
  let payload: string | Buffer
  if (result.raw !== undefined) {
    payload = result.raw
    headers['Content-Type'] = result.contentType ?? 'application/octet-stream'
  } else {
    payload = result.body === undefined ? '' : JSON.stringify(result.body)
    if (payload) Object.assign(headers, JSON_TYPE)
  }
  const ok = result.status >= 200 && result.status < 300
  if (authenticated && !result.unsigned) {
    const requestSerial = req.headers['wechatpay-serial']
    const by = sandbox.responseSigner(typeof requestSerial === 'string' ? requestSerial : undefined)
    Object.assign(headers, await sandbox.sign(by, payload, ok && fault?.kind === 'probe'))
  }
  reply(result.status, headers, payload)
}

const JSON_TYPE = { 'Content-Type': 'application/json; charset=utf-8' }

/**
 * Checks a merchant's APIv3 request the way WeChat's gateway does, throwing WeChat's error answer:
 * Accept and User-Agent present; the Authorization scheme and format; the merchant and its
 * certificate serial; the timestamp within 5 minutes (real time); the signature over method,
 * path?query as sent, timestamp, nonce and the raw body bytes.
 */
function authenticate(sandbox: Sandbox, req: SandboxRequest): void {
  if (!req.headers.accept || !req.headers['user-agent']) {
    throw new WechatError(400, 'INVALID_REQUEST', 'Http头缺少Accept或User-Agent')
  }
  let auth
  try {
    auth = parseAuthorization(req.headers.authorization)
  } catch (e) {
    const scheme = e instanceof SignatureError && e.message.includes('scheme')
    throw new WechatError(
      401,
      'SIGN_ERROR',
      scheme
        ? 'Http头Authorization认证类型不正确'
        : 'Http头Authorization值格式错误,请参考《微信支付商户REST API签名规则》',
    )
  }
  if (auth.mchid !== sandbox.keys.mchid) {
    throw new WechatError(400, 'MCH_NOT_EXISTS', '商户号不存在', {
      field: 'mchid',
      location: 'authorization',
    })
  }
  if (auth.serial_no.toUpperCase() !== sandbox.keys.merchantSerialNo) {
    throw new WechatError(401, 'SIGN_ERROR', '商户API证书序列号不正确', {
      field: 'serial_no',
      location: 'authorization',
      issue: 'serial_no does not match the merchant API certificate',
    })
  }
  const ts = /^\d{1,12}$/.test(auth.timestamp) ? Number(auth.timestamp) : NaN
  if (!(Math.abs(Date.now() / 1000 - ts) <= REQUEST_TIMESTAMP_TOLERANCE_S)) {
    throw new WechatError(401, 'SIGN_ERROR', '请求时间戳与当前时间相差超过5分钟', {
      field: 'timestamp',
      location: 'authorization',
      issue: 'timestamp expired',
    })
  }
  const head = `${req.method}\n${req.rawUrl}\n${auth.timestamp}\n${auth.nonce_str}\n`
  const message = Buffer.concat([Buffer.from(head), req.body, Buffer.from('\n')])
  const signature = Buffer.from(auth.signature, 'base64')
  const verified =
    signature.length > 0 &&
    createVerify('RSA-SHA256').update(message).verify(sandbox.merchantPublicKey, signature)
  if (!verified) {
    const text = message.toString('utf8')
    throw new WechatError(401, 'SIGN_ERROR', '错误的签名,验签失败', {
      detail: { issue: 'sign not match' },
      field: 'signature',
      location: 'authorization',
      sign_information: {
        method: req.method,
        sign_message_length: message.length,
        truncated_sign_message: text.slice(0, 200),
        url: req.rawUrl,
      },
    })
  }
  const serial = req.headers['wechatpay-serial']
  if (typeof serial === 'string' && !sandbox.knowsSerial(serial)) {
    throw new WechatError(
      400,
      'INVALID_REQUEST',
      'Wechatpay-Serial 不是本商户的平台证书序列号或微信支付公钥ID',
    )
  }
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

/** A JSON answer. */
function send(ctx: Context, status: number, body: unknown, headers: Record<string, string>): void {
  answer(ctx, status, { ...headers, ...JSON_TYPE }, JSON.stringify(body))
}

/**
 * Sets the answer byte for byte: the status, exactly `headers` and `payload` (signatures cover
 * these bytes). Koa would add a `Content-Type` of its own to a body without one: removed.
 */
function answer(
  ctx: Context,
  status: number,
  headers: Record<string, string>,
  payload: string | Buffer,
): void {
  ctx.status = status
  ctx.set(headers)
  ctx.body = payload
  if (headers['Content-Type'] === undefined) ctx.remove('Content-Type')
}
