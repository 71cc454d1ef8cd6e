import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { MiniProgramClient, type MiniProgramClientOptions } from '../../src'

/**
 * A small stand-in for `api.weixin.qq.com`, as a real HTTP server on a free port (the Fen sandbox
 * will play WeChat's side for real; these SDK tests need something that runs without it).
 *
 * It speaks the wire format: `POST /cgi-bin/stable_token` with a JSON body issues tokens the way
 * WeChat documents (normal mode returns the current token while more than 5 minutes are left,
 * `force_refresh` invalidates it), every other path needs `?access_token=` and answers 40001 for
 * an unknown or superseded token and 42001 for an expired one, and answers are
 * `{"errcode":…,"errmsg":"… rid: …"}` JSON. Tests script the other paths with {@link route}.
 */
export interface FakeWeixinApi {
  baseUrl: string
  /** Every request, in order. */
  requests: RecordedCall[]
  /** Requests to one path. */
  callsTo(path: string): RecordedCall[]
  /** Answers for `path` (a handler returning the JSON body), used after one-shot answers. */
  route(path: string, handler: (call: RecordedCall) => object): void
  /** One-shot answers for `path`, taken in order before the route. */
  replyOnce(path: string, ...bodies: object[]): void
  /** The token WeChat considers current. */
  readonly currentToken: string | undefined
  /** Expire (`expired`) or supersede (`invalid`) the current token, as WeChat would. */
  spoil(token: string, how: 'expired' | 'invalid'): void
  /** Answer `stable_token` with this errcode body from now on (e.g. 40125). */
  failTokens(body: object | undefined): void
  /**
   * A client of this fake: its appid, secret and clock, and a `sleep` that returns at once and
   * records each wait in {@link sleeps}.
   */
  client(extra?: Partial<MiniProgramClientOptions>): MiniProgramClient
  /** The waits (ms) the clients' retries asked for. */
  sleeps: number[]
  close(): Promise<void>
}

export interface RecordedCall {
  method: string
  path: string
  query: URLSearchParams
  contentType: string | undefined
  body: string
  json<T = Record<string, unknown>>(): T
}

/** `errmsg` as WeChat writes it, with a ` rid: …` suffix. */
export function weixinError(errcode: number, errmsg: string): object {
  const rid = [4, 4, 4].map((n) => randomBytes(n).toString('hex')).join('-')
  return { errcode, errmsg: `${errmsg} rid: ${rid}` }
}

export async function startFakeWeixinApi(options: {
  appid: string
  secret: string
  /** The fake's clock (ms); default Date.now. */
  clock?: () => number
}): Promise<FakeWeixinApi> {
  const clock = options.clock ?? Date.now
  const requests: RecordedCall[] = []
  const routes = new Map<string, (call: RecordedCall) => object>()
  const once = new Map<string, object[]>()
  const tokens = new Map<string, { expiresAt: number; state: 'ok' | 'invalid' }>()
  let current: string | undefined
  let tokenFailure: object | undefined
  let issued = 0

  const issue = (): string => {
    if (current) tokens.get(current)!.state = 'invalid'
    current = `TOKEN-${++issued}-${randomBytes(8).toString('hex')}`
    tokens.set(current, { expiresAt: clock() + 7200_000, state: 'ok' })
    return current
  }

  const stableToken = (call: RecordedCall): object => {
    if (tokenFailure) return tokenFailure
    const body = call.json<{
      grant_type?: string
      appid?: string
      secret?: string
      force_refresh?: boolean
    }>()
    if (body.grant_type !== 'client_credential') return weixinError(40002, 'invalid grant_type')
    if (body.appid !== options.appid) return weixinError(40013, 'invalid appid')
    if (body.secret !== options.secret) return weixinError(40125, 'invalid appsecret')
    const live = current ? tokens.get(current) : undefined
    // WeChat renews a stable token only in its last 5 minutes (or on force_refresh).
    const token =
      !body.force_refresh && current && live?.state === 'ok' && live.expiresAt - clock() > 300_000
        ? current
        : issue()
    const left = Math.floor((tokens.get(token)!.expiresAt - clock()) / 1000)
    return { access_token: token, expires_in: left }
  }

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const url = new URL(req.url ?? '/', 'http://fake')
    const body = Buffer.concat(chunks).toString('utf8')
    const call: RecordedCall = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      contentType: req.headers['content-type'],
      body,
      json: <T>() => JSON.parse(body || '{}') as T,
    }
    requests.push(call)
    let answer: object
    if (call.method !== 'POST') {
      answer = weixinError(43002, 'require POST method')
    } else if (call.path === '/cgi-bin/stable_token') {
      answer = stableToken(call)
    } else {
      const token = tokens.get(url.searchParams.get('access_token') ?? '')
      if (!token || token.state === 'invalid') {
        answer = weixinError(40001, 'invalid credential, access_token is invalid or not latest')
      } else if (token.expiresAt <= clock()) {
        answer = weixinError(42001, 'access_token expired')
      } else {
        const queued = once.get(call.path)?.shift()
        const route = routes.get(call.path)
        answer = queued ?? route?.(call) ?? weixinError(404, `no such api ${call.path}`)
      }
    }
    // Like api.weixin.qq.com: always HTTP 200, JSON said to be text/plain.
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    res.end(JSON.stringify(answer))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const baseUrl = `http://127.0.0.1:${port}`
  const sleeps: number[] = []

  return {
    baseUrl,
    sleeps,
    client: (extra = {}) =>
      new MiniProgramClient({
        appid: options.appid,
        secret: options.secret,
        baseUrl,
        clock,
        sleep: async (ms) => {
          sleeps.push(ms)
        },
        ...extra,
      }),
    requests,
    callsTo: (path) => requests.filter((r) => r.path === path),
    route: (path, handler) => {
      routes.set(path, handler)
    },
    replyOnce: (path, ...bodies) => {
      once.set(path, [...(once.get(path) ?? []), ...bodies])
    },
    get currentToken() {
      return current
    },
    spoil: (token, how) => {
      const t = tokens.get(token)
      if (!t) throw new Error('unknown token')
      if (how === 'expired') t.expiresAt = clock()
      else t.state = 'invalid'
      if (token === current) current = undefined
    },
    failTokens: (body) => {
      tokenFailure = body
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()))
        server.closeAllConnections() // fetch keeps idle connections open
      }),
  }
}
