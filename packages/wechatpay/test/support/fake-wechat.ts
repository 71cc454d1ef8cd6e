import { createPublicKey, verify as rsaVerify, type KeyObject } from 'node:crypto'
import {
  buildRequestMessage,
  createRsaSigner,
  encryptResource,
  formatBeijingTime,
  loadApiV3Key,
  parseAuthorization,
  parseCertificate,
  signAsPlatform,
  SIGNTEST_PREFIX,
  type AuthorizationParams,
  type PlatformCertificateEntry,
  type PlatformCertificateList,
  type Signer,
  type Transport,
  type TransportRequest,
  type TransportResponse,
  type WechatPayClientOptions,
} from '../../src'
import type { TestMerchant } from '../../src/testing'

/**
 * A tiny fake of WeChat Pay's APIv3 gateway, as a {@link Transport}: hand `fake.transport` to the
 * client and it never touches the network.
 *
 * Like the real gateway it
 * - checks every request's `Authorization` against the merchant's public key over the exact
 *   method, path and query, timestamp, nonce and body bytes it received, and answers
 *   401 `SIGN_ERROR` when they do not match (400 `INVALID_REQUEST` without Accept/User-Agent);
 * - signs every 2xx answer: with the WeChat Pay public key in `publicKey` mode, with a platform
 *   certificate in `certificate` mode, and with the public key whenever the request asked for it
 *   with `Wechatpay-Serial: PUB_KEY_ID_…` (the migration switch of §3.6c);
 * - puts a `Request-ID` on every answer.
 *
 * Tests script the answers: {@link FakeWechat.reply} queues one-shot answers (taken in order),
 * {@link FakeWechat.route} installs standing ones, {@link FakeWechat.serveCertificates} serves
 * `/v3/certificates`. Every request that reached the transport is in {@link FakeWechat.requests}.
 */

/** What a test scripts for one answer. */
export interface FakeReply {
  /** Default 200. */
  status?: number
  /** Serialised as JSON; a string or Buffer is sent byte for byte. Omitted → empty body. */
  body?: unknown
  /** Extra response headers (override the generated ones). */
  headers?: Record<string, string>
  /**
   * `valid` (default for 2xx): signed like WeChat. `omit`: no `Wechatpay-*` headers (default for
   * other statuses). `tamper`: a valid-looking signature that does not match. `signtest`: a
   * `WECHATPAY/SIGNTEST/` probe.
   */
  signature?: 'valid' | 'omit' | 'tamper' | 'signtest'
  /** Sign with this key and serial instead of the fake's current platform key. */
  signWith?: { serial: string; privateKey: string }
  /** `Wechatpay-Timestamp` to sign with (Unix seconds); default the fake's clock. */
  timestamp?: number
  /** `Request-ID` header; default `fake-request-<n>`; `null` leaves it out. */
  requestId?: string | null
  /**
   * `network`: reject like fetch on a refused connection. `hang`: never answer until the request's
   * signal aborts. `hang-body`: send the status and headers, then stall the body until aborted.
   */
  fail?: 'network' | 'hang' | 'hang-body'
}

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string
  /** The full URL passed to the transport. */
  url: string
  /** Path and query as on the wire: what the signature must cover. */
  path: string
  /** Path without the query. */
  pathname: string
  query: URLSearchParams
  /** Header names lower-cased. */
  headers: Record<string, string>
  /** The body as sent (`undefined` when none was sent). */
  body: string | undefined
  bodyBytes: Buffer | undefined
  /** The parsed `Authorization` header, when it parses. */
  auth: AuthorizationParams | undefined
  /** The message the fake checked the signature over, when the header parsed. */
  signedMessage: string | undefined
  /** True when the signature verified with the merchant's key. */
  authorized: boolean
  signal: AbortSignal
  /** The body parsed as JSON. */
  json<T = unknown>(): T
}

export type FakeHandler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>

export interface FakeWechatOptions {
  /** `publicKey` (default): sign with the WeChat Pay public key's private half. */
  mode?: 'publicKey' | 'certificate'
  /** Which platform certificate signs in `certificate` mode. Default 0. */
  certificate?: number
  /** Default `Date.now`. Pass the client's clock so signatures are fresh for it. */
  clock?: () => number
}

/** Options of {@link FakeWechat.serveCertificates}; indexes into `merchant.platformCertificates`. */
export interface CertificateServing {
  /** The certificates listed. */
  list: number[]
  /** Which one signs the answer. Default the first listed. */
  signedBy?: number
}

export interface FakeWechat {
  transport: Transport
  /**
   * Every call of the transport, in order; calls made with an already-aborted signal are recorded
   * too, and rejected as fetch rejects them.
   */
  requests: RecordedRequest[]
  /** Requests whose path (without query) is `pathname`. */
  requestsTo(pathname: string): RecordedRequest[]
  /** Queues one-shot answers, used before any route. */
  reply(...replies: (FakeReply | FakeHandler)[]): void
  /** A standing answer for `METHOD pathname` (exact path without query, or a test). */
  route(
    method: string,
    pathname: string | ((pathname: string) => boolean),
    reply: FakeReply | FakeHandler,
  ): void
  /** Serves `GET /v3/certificates` from the current value of `serving` (mutate it to rotate). */
  serveCertificates(serving: CertificateServing): CertificateServing
  /** Current signing mode and certificate (mutable). */
  mode: 'publicKey' | 'certificate'
  certificate: number
  readonly merchantPublicKey: KeyObject
}

/** Builds the `/v3/certificates` entry for a merchant's platform certificate, as WeChat sends it. */
export function certificateEntry(
  merchant: TestMerchant,
  index: number,
  overrides: { serial_no?: string; pem?: string } = {},
): PlatformCertificateEntry {
  const cert = merchant.platformCertificates[index]
  if (!cert) throw new Error(`no platform certificate ${index}`)
  const parsed = parseCertificate(cert.certificate)
  return {
    serial_no: overrides.serial_no ?? cert.serialNo,
    effective_time: formatBeijingTime(parsed.validFrom),
    expire_time: formatBeijingTime(parsed.validTo),
    encrypt_certificate: encryptResource(
      loadApiV3Key(merchant.apiV3Key),
      overrides.pem ?? cert.certificate,
      { associatedData: 'certificate' },
    ),
  }
}

/** The signing identity of platform certificate `index`. */
export function platformCertificateKey(
  merchant: TestMerchant,
  index: number,
): { serial: string; privateKey: string } {
  const cert = merchant.platformCertificates[index]
  if (!cert) throw new Error(`no platform certificate ${index}`)
  return { serial: cert.serialNo, privateKey: cert.privateKey }
}

export function createFakeWechat(
  merchant: TestMerchant,
  options: FakeWechatOptions = {},
): FakeWechat {
  const clock = options.clock ?? Date.now
  const merchantPublicKey = createPublicKey(merchant.merchantCertificate)
  const signers = new Map<string, Signer>()
  const signerFor = (privateKey: string): Signer => {
    let s = signers.get(privateKey)
    if (!s) signers.set(privateKey, (s = createRsaSigner(privateKey)))
    return s
  }
  const queue: (FakeReply | FakeHandler)[] = []
  const routes: {
    method: string
    match: (pathname: string) => boolean
    reply: FakeReply | FakeHandler
  }[] = []
  let served = 0

  const fake: FakeWechat = {
    mode: options.mode ?? 'publicKey',
    certificate: options.certificate ?? 0,
    merchantPublicKey,
    requests: [],
    requestsTo: (pathname) => fake.requests.filter((r) => r.pathname === pathname),
    reply: (...replies) => {
      queue.push(...replies)
    },
    route: (method, pathname, reply) => {
      const match = typeof pathname === 'string' ? (p: string) => p === pathname : pathname
      routes.push({ method: method.toUpperCase(), match, reply })
    },
    serveCertificates: (serving) => {
      fake.route('GET', '/v3/certificates', () => {
        const list: PlatformCertificateList = {
          data: serving.list.map((i) => certificateEntry(merchant, i)),
        }
        const signer = serving.signedBy ?? serving.list[0] ?? 0
        return { body: list, signWith: platformCertificateKey(merchant, signer) }
      })
      return serving
    },
    transport: async (url, init) => {
      const req = record(url, init)
      fake.requests.push(req)
      // fetch rejects at once, sending nothing, when its signal is already aborted.
      if (init.signal.aborted) return Promise.reject(init.signal.reason)
      const n = ++served
      let reply: FakeReply
      if (!req.headers['accept'] || !req.headers['user-agent']) {
        reply = {
          status: 400,
          body: { code: 'INVALID_REQUEST', message: 'Http头缺少Accept或User-Agent' },
        }
      } else if (!req.authorized) {
        reply = {
          status: 401,
          body: {
            code: 'SIGN_ERROR',
            message: '错误的签名,验签失败',
            detail: {
              field: 'signature',
              location: 'authorization',
              sign_message: req.signedMessage,
            },
          },
        }
      } else {
        const next = queue.shift() ?? findRoute(req) ?? notFound
        reply = typeof next === 'function' ? await next(req) : next
      }
      return answer(req, reply, n)
    },
  }

  const notFound: FakeReply = {
    status: 404,
    body: { code: 'NOT_FOUND', message: 'the fake has no answer for this request' },
  }

  function findRoute(req: RecordedRequest): FakeReply | FakeHandler | undefined {
    return routes.find((r) => r.method === req.method && r.match(req.pathname))?.reply
  }

  function record(url: string, init: TransportRequest): RecordedRequest {
    const u = new URL(url)
    const path = u.pathname + u.search
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(init.headers)) headers[k.toLowerCase()] = v
    const bodyBytes =
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? Buffer.from(init.body, 'utf8')
          : Buffer.from(init.body)
    const body = bodyBytes?.toString('utf8')
    let auth: AuthorizationParams | undefined
    let signedMessage: string | undefined
    let authorized = false
    try {
      auth = parseAuthorization(headers['authorization'])
      signedMessage = buildRequestMessage(
        init.method,
        path,
        auth.timestamp,
        auth.nonce_str,
        body ?? '',
      )
      authorized =
        auth.mchid === merchant.mchid &&
        auth.serial_no === merchant.merchantSerialNo &&
        rsaVerify(
          'sha256',
          Buffer.from(signedMessage, 'utf8'),
          merchantPublicKey,
          Buffer.from(auth.signature, 'base64'),
        )
    } catch {
      // A malformed header or signature: not authorized.
    }
    return {
      method: init.method,
      url,
      path,
      pathname: u.pathname,
      query: u.searchParams,
      headers,
      body,
      bodyBytes,
      auth,
      signedMessage,
      authorized,
      signal: init.signal,
      json: <T>() => JSON.parse(body ?? '') as T,
    }
  }

  function answer(req: RecordedRequest, reply: FakeReply, n: number): Promise<TransportResponse> {
    if (reply.fail === 'network') {
      const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), {
        code: 'ECONNREFUSED',
      })
      return Promise.reject(new TypeError('fetch failed', { cause }))
    }
    if (reply.fail === 'hang') return untilAborted(req.signal)

    const status = reply.status ?? 200
    const bytes =
      reply.body === undefined
        ? Buffer.alloc(0)
        : Buffer.isBuffer(reply.body)
          ? reply.body
          : Buffer.from(
              typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body),
              'utf8',
            )
    const headers: Record<string, string> = {}
    if (bytes.length > 0) headers['Content-Type'] = 'application/json'
    if (reply.requestId !== null) headers['Request-ID'] = reply.requestId ?? `fake-request-${n}`
    const signature = reply.signature ?? (status >= 200 && status < 300 ? 'valid' : 'omit')
    if (signature !== 'omit') {
      const key = reply.signWith ?? signingKey(req)
      const signed = signAsPlatform({
        signer: signerFor(key.privateKey),
        serial: key.serial,
        body: bytes,
        timestamp: reply.timestamp ?? Math.floor(clock() / 1000),
        nonce: `fake${String(n).padStart(28, '0')}`,
      })
      const sig = signed['Wechatpay-Signature'] ?? ''
      if (signature === 'tamper') signed['Wechatpay-Signature'] = tamper(sig)
      if (signature === 'signtest') signed['Wechatpay-Signature'] = SIGNTEST_PREFIX + sig
      Object.assign(headers, signed)
    }
    Object.assign(headers, reply.headers)

    if (reply.fail === 'hang-body') {
      return Promise.resolve({
        status,
        headers: new Headers(headers),
        arrayBuffer: () => untilAborted(req.signal),
      })
    }
    const nullBody = status === 204 || status === 205 || status === 304
    return Promise.resolve(
      new Response(nullBody ? null : new Uint8Array(bytes), { status, headers }),
    )
  }

  /** Public key when asked for it (or in public-key mode), else the current platform certificate. */
  function signingKey(req: RecordedRequest): { serial: string; privateKey: string } {
    if (
      fake.mode === 'publicKey' ||
      req.headers['wechatpay-serial'] === merchant.platformPublicKeyId
    ) {
      return { serial: merchant.platformPublicKeyId, privateKey: merchant.platformPrivateKey }
    }
    return platformCertificateKey(merchant, fake.certificate)
  }

  return fake
}

/** Flips bits in the middle of a Base64 signature: still Base64, still 256 bytes, no longer valid. */
function tamper(signature: string): string {
  const bytes = Buffer.from(signature, 'base64')
  const i = Math.floor(bytes.length / 2)
  bytes[i] = (bytes[i] ?? 0) ^ 0xff
  return bytes.toString('base64')
}

/** A promise that rejects with the signal's reason once it aborts, as fetch does. */
function untilAborted<T>(signal: AbortSignal): Promise<T> {
  return new Promise<T>((_, reject) => {
    if (signal.aborted) return reject(signal.reason)
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

/**
 * Client options for `merchant` talking to `fake`: public-key mode, a fixed clock shared with the
 * fake, numbered nonces (`N0000…1`, `N0000…2`, …) and no retry delay. `extra` overrides any of it.
 */
export function fakeClientOptions(
  merchant: TestMerchant,
  fake: FakeWechat,
  clock: () => number,
  extra: Partial<WechatPayClientOptions> = {},
): WechatPayClientOptions {
  let n = 0
  return {
    mchid: merchant.mchid,
    serialNo: merchant.merchantSerialNo,
    privateKey: merchant.merchantPrivateKey,
    apiV3Key: merchant.apiV3Key,
    appid: merchant.appid,
    platform: {
      publicKey: { id: merchant.platformPublicKeyId, key: merchant.platformPublicKey },
    },
    transport: fake.transport,
    clock,
    nonce: () => `N${String(++n).padStart(31, '0')}`,
    retryDelayMs: 0,
    ...extra,
  }
}
