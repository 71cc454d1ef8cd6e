import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { createVerify } from 'node:crypto'
import { SignatureError, parseAuthorization } from '@fen/wechatpay'
import { newCallRecord } from './calls'
import { WechatError } from './errors'
import { newRequestId } from './ids'
import type { SandboxKeys, SandboxMerchant } from './keys'
import { Sandbox, type SandboxOptions } from './sandbox'
import { billRoutes } from './routes/bills'
import { certificateRoutes } from './routes/certificates'
import { consoleRoutes } from './routes/console'
import { controlRoutes } from './routes/control'
import { loginRoutes } from './routes/login'
import { pageRoutes } from './routes/page'
import { refundRoutes } from './routes/refunds'
import { transactionRoutes } from './routes/transactions'
import { v2Routes } from './routes/v2'
import type { Fault } from './faults'

/** What a route handler sees. `rawUrl` is the path and query exactly as they arrived. */
export interface SandboxRequest {
  sandbox: Sandbox
  method: string
  rawUrl: string
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  body: Buffer
  params: Record<string, string>
  /** The fault applied to this call, if any (routes with their own fault forms read it). */
  fault: Fault | undefined
}

/** What a route handler returns: JSON `body`, or `raw` bytes with a content type. */
export interface SandboxReply {
  status: number
  body?: unknown
  raw?: string | Buffer
  contentType?: string
  headers?: Record<string, string>
  /** Leave a 2xx answer unsigned (the bill file, as WeChat does). */
  unsigned?: boolean
}

/**
 * How a route is guarded:
 * - `v3`: WeChat Pay APIv3 — faults, Accept/User-Agent, Authorization signature, signed answers;
 * - `v2`: APIv2 XML (the handler checks `sign`) and `open` (api.weixin.qq.com) — faults only;
 * - `control` and `page`: the sandbox's own `/__sandbox/` API and pages.
 */
export interface Route {
  method: string
  pattern: RegExp
  kind: 'v3' | 'v2' | 'open' | 'control' | 'page'
  handler: (req: SandboxRequest) => SandboxReply | Promise<SandboxReply>
}

const ROUTES: Route[] = [
  ...transactionRoutes,
  ...refundRoutes,
  ...billRoutes,
  ...certificateRoutes,
  ...v2Routes,
  ...loginRoutes,
  ...controlRoutes,
  ...consoleRoutes,
  ...pageRoutes,
]

const MAX_BODY = 1024 * 1024
/** WeChat's documented limit on clock skew, applied to the merchant's `timestamp` (real time). */
const REQUEST_TIMESTAMP_TOLERANCE_S = 300

/** A running sandbox. */
export interface RunningSandbox {
  /** `http://127.0.0.1:<port>`: use it as both WeChat base URLs. */
  url: string
  merchant: SandboxMerchant
  sandbox: Sandbox
  close(): Promise<void>
}

/** Options of {@link startSandbox}. */
export interface StartSandboxOptions extends Partial<Omit<SandboxOptions, 'keys'>> {
  /** Keys to use; by default a fresh set is generated (about 0.3 s). */
  keys?: SandboxKeys
  /** 0 (the default) picks a free port. */
  port?: number
  host?: string
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
  const keys = options.keys ?? (await (await import('./keys')).generateSandboxKeys())
  const sandbox = new Sandbox({ ...options, keys })
  const hung = new Set<ServerResponse>()
  const server = createServer((req, res) => {
    handle(sandbox, req, res, hung).catch((e) => {
      sandbox.log(`internal error: ${(e as Error).stack ?? String(e)}`)
      if (!res.headersSent)
        send(res, 500, { code: 'SYSTEM_ERROR', message: '系统繁忙,请稍后重试' }, {})
    })
  })
  server.keepAliveTimeout = 65_000
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  sandbox.baseUrl = url
  return {
    url,
    merchant: sandbox.merchant(),
    sandbox,
    close: async () => {
      sandbox.close()
      for (const res of hung) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

async function handle(
  sandbox: Sandbox,
  req: IncomingMessage,
  res: ServerResponse,
  hung: Set<ServerResponse>,
): Promise<void> {
  const rawUrl = req.url ?? '/'
  const url = new URL(rawUrl, 'http://sandbox')
  const method = req.method ?? 'GET'
  let body: Buffer
  try {
    body = await readBody(req)
  } catch {
    send(res, 413, { code: 'PARAM_ERROR', message: '请求体过大' }, {})
    return
  }

  let route: Route | undefined
  let params: Record<string, string> = {}
  let pathMatched = false
  for (const r of ROUTES) {
    const m = r.pattern.exec(url.pathname)
    if (!m) continue
    pathMatched = true
    if (r.method !== method) continue
    route = r
    params = m.groups ?? {}
    break
  }
  const requestId = newRequestId()
  const baseHeaders = { 'Request-ID': requestId }
  if (!route) {
    const status = pathMatched ? 405 : 404
    send(
      res,
      status,
      {
        code: pathMatched ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND',
        message: pathMatched ? '请求方法不正确' : '请求的资源不存在',
      },
      baseHeaders,
    )
    return
  }

  const guarded = route.kind === 'v3' || route.kind === 'v2' || route.kind === 'open'
  const fault = guarded ? sandbox.faults.forPath(url.pathname) : undefined
  if (guarded) {
    const call = sandbox.calls.add(
      newCallRecord(sandbox.store, {
        nowMs: sandbox.clock.now(),
        method,
        path: url.pathname,
        params,
        body,
        fault: fault?.kind,
      }),
    )
    // Only an answer that was sent in full has a status (a hung or reset call never finishes).
    res.on('finish', () => {
      call.status = res.statusCode
    })
  }
  switch (fault?.kind) {
    case 'timeout':
      // Never answer; the socket is dropped after a minute, or when the client gives up.
      hung.add(res)
      res.on('close', () => hung.delete(res))
      setTimeout(() => res.destroy(), 60_000).unref()
      return
    case 'reset':
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
        send(res, status, { code, message }, baseHeaders)
        return
      }
  }

  const request: SandboxRequest = {
    sandbox,
    method,
    rawUrl,
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    body,
    params,
    fault,
  }
  let reply: SandboxReply
  try {
    if (route.kind === 'v3') authenticate(sandbox, request)
    reply = await route.handler(request)
  } catch (e) {
    if (!(e instanceof WechatError)) throw e
    reply = { status: e.status, body: e.body() }
  }

  const headers: Record<string, string> = { ...baseHeaders, ...reply.headers }
  let payload: string | Buffer
  if (reply.raw !== undefined) {
    payload = reply.raw
    headers['Content-Type'] = reply.contentType ?? 'application/octet-stream'
  } else {
    payload = reply.body === undefined ? '' : JSON.stringify(reply.body)
    if (payload) headers['Content-Type'] = 'application/json; charset=utf-8'
  }
  const ok = reply.status >= 200 && reply.status < 300
  if (route.kind === 'v3' && !reply.unsigned && (ok || sandbox.signErrorResponses)) {
    const requestSerial = req.headers['wechatpay-serial']
    const by = sandbox.responseSigner(typeof requestSerial === 'string' ? requestSerial : undefined)
    Object.assign(headers, await sandbox.sign(by, payload, ok && fault?.kind === 'probe'))
  }
  res.writeHead(reply.status, headers)
  res.end(payload)
}

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

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  const payload = JSON.stringify(body)
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8' })
  res.end(payload)
}
