import type { KeyObject } from 'node:crypto'
import { loadApiV3Key } from '../crypto/aead'
import { createRsaSigner, signRequestAsync, type Signer } from '../auth/signer'
import {
  CertificateVerifier,
  CombinedVerifier,
  PlatformCertificateManager,
  PublicKeyVerifier,
  type Verifier,
} from '../auth/verifiers'
import { readHeader, readSignatureHeaders, verifySigned } from '../auth/verify'
import { downloadPlatformCertificates } from '../auth/platform-certificates'
import type { ApiRequest, ApiResponse, RawResponse } from './api'
import { randomNonce, systemClock, unixSeconds, type Clock, type NonceSource } from './clock'
import {
  ConfigError,
  createApiError,
  type ApiError,
  InvalidArgumentError,
  NetworkError,
  WechatPayError,
} from './errors'
import { exchange, retryDelay } from './http'
import { fetchTransport, type Transport } from './transport'
import packageJson from '../../package.json' with { type: 'json' }

/** WeChat Pay's production host. */
export const DEFAULT_BASE_URL = 'https://api.mch.weixin.qq.com'

/**
 * The backup ("access point in another city") of each production host: what
 * `backupBaseUrl: true` means.
 */
export const BACKUP_BASE_URLS: Readonly<Record<string, string>> = {
  'https://api.mch.weixin.qq.com': 'https://api2.mch.weixin.qq.com',
  'https://api.wechatpay.cn': 'https://api2.wechatpay.cn',
}

// The published version (Changesets bumps package.json; the bundle inlines it) for the User-Agent.
const SDK_VERSION = packageJson.version

/**
 * How responses and notifications are verified.
 * - `publicKey`: the WeChat Pay public key and its `PUB_KEY_ID_…` id (newer merchants).
 * - `certificates`: `'download'` to fetch `/v3/certificates` and keep it fresh, or fixed PEMs.
 * - both: the migration from certificates to the public key; the incoming serial picks the key.
 */
export interface PlatformKeyOptions {
  publicKey?: { id: string; key: string | Buffer | KeyObject }
  certificates?: 'download' | string[]
}

/** Options of {@link WechatPayClient}. Only `mchid`, `serialNo`, `privateKey`, `apiV3Key` and `platform` are required. */
export interface WechatPayClientOptions {
  /** 商户号. */
  mchid: string
  /** Serial of the merchant API certificate (upper-case hex), sent as `serial_no`. */
  serialNo: string
  /** Merchant API private key (`apiclient_key.pem`); parsed once. */
  privateKey: string | Buffer | KeyObject
  /** The 32-byte APIv3 key, for decrypting notifications and certificates. */
  apiV3Key: string
  /** How WeChat's signatures are checked. */
  platform: PlatformKeyOptions
  /** Default `appid` for prepay requests and `wx.requestPayment` parameters. */
  appid?: string
  /** Default `https://api.mch.weixin.qq.com`; point it at the Fen sandbox for offline work. */
  baseUrl?: string
  /**
   * Failover: where an attempt is sent once more when the base URL gave no HTTP answer at all
   * (refused, DNS, reset, timeout) — never after any HTTP status. Off by default (as in WeChat's
   * Java SDK), because it replays requests the primary may have applied, a timed-out POST too.
   * `true`: the production host's own backup (`https://api2.mch.weixin.qq.com` for
   * `https://api.mch.weixin.qq.com`, see {@link BACKUP_BASE_URLS}); or a URL (the sandbox's
   * second host). Its path must equal the base URL's path (the path is signed).
   */
  backupBaseUrl?: string | boolean
  /** Per attempt, covering the whole response. Default 10 000 ms. */
  timeoutMs?: number
  /** Extra attempts for safe retries (see {@link WechatPayClient.request}). Default 2. */
  maxRetries?: number
  /** First retry delay; doubles each time. Default 200 ms. */
  retryDelayMs?: number
  transport?: Transport
  clock?: Clock
  nonce?: NonceSource
  /** Appended to the SDK's own `User-Agent`. */
  userAgent?: string
  /** Largest accepted clock skew of WeChat's signatures, in seconds (default 300); `false` turns it off. */
  timestampToleranceSeconds?: number | false
}

/**
 * The APIv3 client: signs each request, sends it, verifies each 2xx answer over its raw bytes,
 * turns everything else into typed errors, and retries only what is safe.
 *
 * Resource modules (`transactions`, `refunds`, …) are thin typed wrappers over {@link request}.
 */
export class WechatPayClient {
  readonly mchid: string
  readonly appid: string | undefined
  readonly serialNo: string
  readonly signer: Signer
  readonly verifier: Verifier
  /** The WeChat Pay public key, when configured (also used to check a certificate download). */
  readonly publicKeyVerifier: PublicKeyVerifier | undefined
  /**
   * The downloaded platform certificates with `certificates: 'download'` (alone or beside the
   * public key), else undefined: `refresh()` it at start and on a schedule of your own (it also
   * refreshes itself on an unknown serial and, on lookups, once its set is an hour old).
   */
  readonly platformCertificates: PlatformCertificateManager | undefined
  readonly apiV3Key: KeyObject
  readonly clock: Clock
  readonly nonce: NonceSource
  readonly timestampToleranceSeconds: number | false | undefined
  /** Scheme, host and port of {@link WechatPayClientOptions.baseUrl}. */
  readonly origin: string
  /** Path prefix of the base URL (usually empty); part of the signed canonical URL. */
  readonly basePath: string
  /** Scheme, host and port of the backup, when failover is on. */
  readonly backupOrigin: string | undefined
  readonly #transport: Transport
  readonly #timeoutMs: number
  readonly #maxRetries: number
  readonly #retryDelayMs: number
  readonly #userAgent: string

  constructor(options: WechatPayClientOptions) {
    if (!options.mchid) throw new ConfigError('mchid is required')
    if (!/^[0-9A-Fa-f]+$/.test(options.serialNo ?? '')) {
      throw new ConfigError('serialNo must be the merchant certificate serial in hex')
    }
    this.mchid = options.mchid
    this.appid = options.appid
    this.serialNo = options.serialNo.toUpperCase()
    this.signer = createRsaSigner(options.privateKey)
    this.apiV3Key = loadApiV3Key(options.apiV3Key)
    this.clock = options.clock ?? systemClock
    this.nonce = options.nonce ?? randomNonce
    this.timestampToleranceSeconds = options.timestampToleranceSeconds
    const base = new URL(options.baseUrl ?? DEFAULT_BASE_URL)
    this.origin = base.origin
    this.basePath = base.pathname.replace(/\/+$/, '')
    this.backupOrigin = resolveBackup(options.backupBaseUrl, base.origin, this.basePath)
    this.#transport = options.transport ?? fetchTransport
    this.#timeoutMs = options.timeoutMs ?? 10_000
    this.#maxRetries = options.maxRetries ?? 2
    this.#retryDelayMs = options.retryDelayMs ?? 200
    this.#userAgent =
      `fen-wechatpay/${SDK_VERSION} node/${process.versions.node} (${process.platform})` +
      (options.userAgent ? ` ${options.userAgent}` : '')
    const platform = options.platform
    this.publicKeyVerifier = platform?.publicKey
      ? new PublicKeyVerifier(platform.publicKey.id, platform.publicKey.key)
      : undefined
    this.platformCertificates =
      platform?.certificates === 'download'
        ? new PlatformCertificateManager({
            clock: this.clock,
            download: () => downloadPlatformCertificates(this),
          })
        : undefined
    this.verifier = this.#createVerifier(platform)
  }

  #createVerifier(platform: PlatformKeyOptions | undefined): Verifier {
    const publicKey = this.publicKeyVerifier
    let certificates: Verifier | undefined = this.platformCertificates
    if (!certificates && platform?.certificates && platform.certificates !== 'download') {
      certificates = new CertificateVerifier(platform.certificates, this.clock)
    }
    if (publicKey && certificates) return new CombinedVerifier(publicKey, certificates)
    const only = publicKey ?? certificates
    if (!only) {
      throw new ConfigError(
        'platform needs publicKey (WeChat Pay public key) or certificates (platform certificates)',
      )
    }
    return only
  }

  /**
   * Sends one signed request and returns the verified JSON answer.
   *
   * Retries (at most `maxRetries`, with doubling delays): a GET after a network error, a timeout or
   * a 5xx; any other method only after a 5xx, which WeChat documents as "retry with the same
   * parameters" (the same body is re-sent, newly signed). A timed-out POST is never retried here:
   * it may have been applied, and the caller knows whether repeating it is safe.
   */
  async request<T>(req: ApiRequest): Promise<ApiResponse<T>> {
    const res = await this.send(req)
    return { status: res.status, requestId: res.requestId, data: parseJson<T>(res.body) }
  }

  /**
   * Like {@link request} but returns the raw body. `verify: false` skips the signature check; it is
   * only for the two answers WeChat does not sign in the usual way (bill files, and the certificate
   * list, which is checked against the certificates it contains).
   */
  async send(req: ApiRequest & { verify?: boolean }): Promise<RawResponse> {
    const bodyless = req.method === 'GET' || req.method === 'DELETE'
    if (bodyless && req.body !== undefined) {
      throw new InvalidArgumentError(`a ${req.method} request has no body`)
    }
    const body = req.body === undefined ? '' : JSON.stringify(req.body)
    const canonicalUrl = this.basePath + req.path + formatQuery(req.query)
    for (let attempt = 0; ; attempt++) {
      let res: RawResponse
      try {
        res = await this.#attempt(req.method, canonicalUrl, body, req.signal)
      } catch (e) {
        const retryable = req.method === 'GET' && e instanceof NetworkError && !req.signal?.aborted
        if (retryable && attempt < this.#maxRetries) {
          await this.#backoff(attempt, req.signal)
          continue
        }
        throw e
      }
      if (res.status >= 200 && res.status < 300) {
        if (req.verify !== false) await this.verifyResponse(res)
        return res
      }
      if (res.status >= 500 && attempt < this.#maxRetries) {
        await this.#backoff(attempt, req.signal)
        continue
      }
      throw await this.#errorFrom(res, req.verify !== false)
    }
  }

  /**
   * The ApiError of a non-2xx answer. WeChat signs its answer to every request it authenticated,
   * errors included: a signed error answer is verified like a 2xx one (a bad signature throws
   * SignatureError, as it would be forged). An unsigned one — WeChat's gateway refusing the
   * request (401, missing headers), a 5xx from in front of WeChat — is not refused, since the
   * official SDKs never check error answers and WeChat does not promise signatures on them; it
   * becomes an ApiError with `signed: false`. `verify: false` calls (the certificate download,
   * which bootstraps the keys verification needs, and bill files) never verify.
   */
  async #errorFrom(res: RawResponse, verify: boolean): Promise<ApiError> {
    const signed = verify && readHeader(res.headers, 'wechatpay-signature') !== undefined
    if (signed) await this.verifyResponse(res)
    return createApiError(res.status, res.body.toString('utf8'), res.requestId, signed)
  }

  /** Verifies an answer's `Wechatpay-*` signature over its raw body. */
  verifyResponse(res: RawResponse, verifier: Verifier = this.verifier): Promise<void> {
    return verifySigned(readSignatureHeaders(res.headers), res.body, verifier, {
      nowSeconds: unixSeconds(this.clock),
      toleranceSeconds: this.timestampToleranceSeconds,
    })
  }

  /**
   * One attempt: at the base URL, and when that gave no HTTP answer (and the caller did not
   * abort), once more at the backup, newly signed. Whatever the backup answers, or its own
   * network error, is the attempt's result. Like WeChat's own Java SDK, this replays a request
   * that may have reached the primary (a timeout, a reset after sending): WeChat's guarantee is
   * idempotency by `out_trade_no` / `out_refund_no`, as for any retry.
   */
  async #attempt(
    method: string,
    canonicalUrl: string,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<RawResponse> {
    try {
      return await this.#attemptAt(this.origin, method, canonicalUrl, body, signal)
    } catch (e) {
      if (!this.backupOrigin || !(e instanceof NetworkError) || signal?.aborted) throw e
      return this.#attemptAt(this.backupOrigin, method, canonicalUrl, body, signal)
    }
  }

  async #attemptAt(
    origin: string,
    method: string,
    canonicalUrl: string,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<RawResponse> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'User-Agent': this.#userAgent,
      Authorization: await signRequestAsync({
        signer: this.signer,
        mchid: this.mchid,
        serialNo: this.serialNo,
        method,
        url: canonicalUrl,
        body,
        timestamp: unixSeconds(this.clock),
        nonce: this.nonce(),
      }),
    }
    if (this.verifier.requestSerial) headers['Wechatpay-Serial'] = this.verifier.requestSerial
    const res = await exchange(
      this.#transport,
      origin + canonicalUrl,
      { method, headers, ...(method === 'GET' || method === 'DELETE' ? {} : { body }) },
      this.#timeoutMs,
      `${method} ${canonicalUrl.split('?')[0]}`,
      signal,
    )
    return { ...res, requestId: readHeader(res.headers, 'request-id') || undefined }
  }

  /** Waits before a retry; the caller's signal cancels the wait (rejecting with a NetworkError). */
  #backoff(attempt: number, signal: AbortSignal | undefined): Promise<void> {
    return retryDelay(this.#retryDelayMs * 2 ** attempt, signal)
  }
}

/** The backup origin per {@link WechatPayClientOptions.backupBaseUrl}, or undefined when off. */
function resolveBackup(
  option: string | boolean | undefined,
  origin: string,
  basePath: string,
): string | undefined {
  if (option === undefined || option === false) return undefined
  if (option === true) {
    const known = basePath ? undefined : BACKUP_BASE_URLS[origin]
    if (!known) throw new ConfigError(`no known backup for ${origin}: give backupBaseUrl as a URL`)
    return known
  }
  const backup = new URL(option)
  if (backup.pathname.replace(/\/+$/, '') !== basePath) {
    throw new ConfigError('backupBaseUrl must have the same path as baseUrl (the path is signed)')
  }
  if (backup.origin === origin) throw new ConfigError('backupBaseUrl must differ from baseUrl')
  return backup.origin
}

/** `?a=1&b=2` from a record, values percent-encoded, undefined values left out; '' when empty. */
function formatQuery(query: ApiRequest['query']): string {
  if (!query) return ''
  const parts: string[] = []
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined) parts.push(`${k}=${encodeURIComponent(String(v))}`)
  }
  return parts.length ? `?${parts.join('&')}` : ''
}

function parseJson<T>(body: Buffer): T {
  if (body.length === 0) return undefined as T
  try {
    return JSON.parse(body.toString('utf8')) as T
  } catch (cause) {
    throw new WechatPayError('WeChat Pay answered 2xx with a body that is not JSON', { cause })
  }
}
