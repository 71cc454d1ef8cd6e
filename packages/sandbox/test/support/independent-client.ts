/**
 * An independent WeChat Pay merchant client for the conformance tests: `wechatpay-axios-plugin`'s
 * primitives (Rsa, Aes, Formatter, Hash, Transformer) plus Node's `fetch` and `node:http`. Nothing
 * here comes from `@fen/wechatpay`, so the sandbox is checked against someone else's reading of
 * the protocol, not against our own SDK.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { Aes, Formatter, Hash, Rsa, Transformer } from 'wechatpay-axios-plugin'

/** What `GET /__sandbox/merchant` returns: everything a real merchant holds. */
export interface MerchantView {
  mchid: string
  appid: string
  appSecret: string
  apiV3Key: string
  apiV2Key: string
  merchantSerialNo: string
  merchantPrivateKey: string
  merchantCertificate: string
  platformMode: 'publicKey' | 'certificate' | 'both'
  platformPublicKeyId: string
  platformPublicKey: string
  platformCertificates: { serialNo: string; certificate: string }[]
}

/** WeChat's APIv3 error body (§6.1). */
export interface ErrorBody {
  code: string
  message: string
  detail?: {
    field?: string
    value?: unknown
    issue?: string
    location?: string
    detail?: { issue?: string }
    sign_information?: {
      method: string
      sign_message_length: number
      truncated_sign_message: string
      url: string
    }
  }
}

/** The Transaction object (§5.3). */
export interface Transaction {
  appid: string
  mchid: string
  out_trade_no: string
  transaction_id?: string
  trade_type: string
  trade_state: string
  trade_state_desc: string
  bank_type?: string
  attach?: string
  success_time?: string
  payer?: { openid: string }
  amount: { total: number; payer_total?: number; currency?: string; payer_currency?: string }
}

/** The Refund object (§5.5). */
export interface Refund {
  refund_id: string
  out_refund_no: string
  transaction_id: string
  out_trade_no: string
  status: string
  success_time?: string
  create_time: string
  amount: { total: number; refund: number; currency: string }
}

export interface EncryptedResource {
  algorithm: string
  ciphertext: string
  nonce: string
  associated_data: string
  original_type?: string
}

/** A v3 notification's outer body (§7.1). */
export interface NotificationBody {
  id: string
  create_time: string
  event_type: string
  resource_type: string
  summary: string
  resource: EncryptedResource
}

/** An HTTP answer, its raw body kept for signature checks. */
export interface Answer<T = ErrorBody> {
  status: number
  headers: Headers
  raw: Buffer
  text: string
  json: T
}

async function toAnswer<T>(res: Response): Promise<Answer<T>> {
  const raw = Buffer.from(await res.arrayBuffer())
  const text = raw.toString('utf8')
  let json: unknown = undefined
  if (text && /json/.test(res.headers.get('content-type') ?? '')) json = JSON.parse(text)
  return { status: res.status, headers: res.headers, raw, text, json: json as T }
}

export async function getMerchant(base: string): Promise<MerchantView> {
  const res = await fetch(`${base}/__sandbox/merchant`)
  return (await res.json()) as MerchantView
}

/** A call to the sandbox's own control API (`/__sandbox/…`): plain JSON, no signatures. */
export async function control<T = Record<string, unknown>>(
  base: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Answer<T>> {
  const res = await fetch(`${base}/__sandbox${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
  })
  return toAnswer<T>(res)
}

export interface CallOptions {
  /** An object is sent as JSON; a string as is. */
  body?: unknown
  /** Extra or replacing headers. */
  headers?: Record<string, string>
  /** Sign with this timestamp (Unix seconds) instead of now. */
  timestamp?: number
  /** Sign with this nonce instead of a random one. */
  nonce?: string
  /** Sign this URI instead of the one sent. */
  signUri?: string
  /** Change the body after it was signed. */
  tamper?: (body: string) => string
  /** Send this Authorization header instead of a computed one. */
  authorization?: string
  /** Authorization fields to override (mchid, serial). */
  mchid?: string
  serial?: string
}

/** An APIv3 merchant: signs requests with Formatter.request + Rsa.sign + Formatter.authorization. */
export class V3Client {
  constructor(
    readonly base: string,
    readonly merchant: MerchantView,
  ) {}

  /** The Authorization header for a request (§2). */
  authorization(
    method: string,
    uri: string,
    body: string,
    o: { timestamp?: number; nonce?: string; mchid?: string; serial?: string } = {},
  ): string {
    const timestamp = o.timestamp ?? Formatter.timestamp()
    const nonce = o.nonce ?? Formatter.nonce()
    const signature = Rsa.sign(
      Formatter.request(method, uri, timestamp, nonce, body),
      this.merchant.merchantPrivateKey,
    )
    return Formatter.authorization(
      o.mchid ?? this.merchant.mchid,
      nonce,
      signature,
      timestamp,
      o.serial ?? this.merchant.merchantSerialNo,
    )
  }

  async call<T = ErrorBody>(method: string, uri: string, o: CallOptions = {}): Promise<Answer<T>> {
    const signed =
      o.body === undefined ? '' : typeof o.body === 'string' ? o.body : JSON.stringify(o.body)
    const authorization =
      o.authorization ??
      this.authorization(method, o.signUri ?? uri, signed, {
        ...(o.timestamp === undefined ? {} : { timestamp: o.timestamp }),
        ...(o.nonce === undefined ? {} : { nonce: o.nonce }),
        ...(o.mchid === undefined ? {} : { mchid: o.mchid }),
        ...(o.serial === undefined ? {} : { serial: o.serial }),
      })
    const sent = o.tamper ? o.tamper(signed) : signed
    const url = uri.startsWith('http') ? uri : `${this.base}${uri}`
    const res = await fetch(url, {
      method,
      headers: {
        Accept: 'application/json',
        'User-Agent': 'fen-conformance/1.0 (wechatpay-axios-plugin primitives)',
        Authorization: authorization,
        ...(method === 'GET' ? {} : { 'Content-Type': 'application/json' }),
        ...o.headers,
      },
      ...(method === 'GET' ? {} : { body: sent }),
    })
    return toAnswer<T>(res)
  }

  get<T = ErrorBody>(uri: string, o: CallOptions = {}): Promise<Answer<T>> {
    return this.call<T>('GET', uri, o)
  }

  post<T = ErrorBody>(uri: string, body: unknown, o: CallOptions = {}): Promise<Answer<T>> {
    return this.call<T>('POST', uri, { ...o, body })
  }
}

/** A request with exactly the headers given (fetch always adds Accept and User-Agent). */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: OutgoingHttpHeaders,
  body = '',
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** The `Wechatpay-*` headers of an answer or a notification. */
export interface WechatpayHeaders {
  timestamp: string | undefined
  nonce: string | undefined
  signature: string | undefined
  serial: string | undefined
  signatureType: string | undefined
}

export function wechatpayHeaders(h: Headers | IncomingHttpHeaders): WechatpayHeaders {
  const get = (name: string): string | undefined => {
    if (h instanceof Headers) return h.get(name) ?? undefined
    const v = h[name]
    return Array.isArray(v) ? v[0] : v
  }
  return {
    timestamp: get('wechatpay-timestamp'),
    nonce: get('wechatpay-nonce'),
    signature: get('wechatpay-signature'),
    serial: get('wechatpay-serial'),
    signatureType: get('wechatpay-signature-type'),
  }
}

/**
 * Verifies a signed answer or notification (§3.2) with Formatter.response + Rsa.verify over the
 * raw body, using the key (public key or certificate PEM) the caller picks for its serial.
 */
export function verifySignature(
  h: Headers | IncomingHttpHeaders,
  body: string,
  keyFor: (serial: string) => string | undefined,
): boolean {
  const w = wechatpayHeaders(h)
  if (!w.timestamp || !w.nonce || !w.signature || !w.serial) return false
  const key = keyFor(w.serial)
  if (!key) return false
  return Rsa.verify(Formatter.response(w.timestamp, w.nonce, body), w.signature, key)
}

/** Decrypts an AEAD_AES_256_GCM resource (§4) with Aes.AesGcm. */
export function decryptResource<T>(resource: EncryptedResource, apiV3Key: string): T {
  return JSON.parse(
    Aes.AesGcm.decrypt(resource.ciphertext, apiV3Key, resource.nonce, resource.associated_data),
  ) as T
}

// ---- APIv2 -------------------------------------------------------------------------------------

export type V2Fields = Record<string, string>

/** Builds a signed APIv2 XML request (Hash.sign over the fields, Transformer.toXml). */
export function v2Xml(
  fields: Record<string, string | number>,
  key: string,
  type: 'MD5' | 'HMAC-SHA256' = 'MD5',
): string {
  const all: Record<string, string | number> = { ...fields }
  if (type !== 'MD5') all.sign_type = type
  return Transformer.toXml({ ...all, sign: Hash.sign(type, all, key) })
}

/** Parses an APIv2 XML message into its fields (Transformer.toObject). */
export function parseV2(xml: string): V2Fields {
  return Transformer.toObject(xml) as V2Fields
}

/** True when an APIv2 message's `sign` matches its other fields under `type`. */
export function v2SignOk(fields: V2Fields, key: string, type: 'MD5' | 'HMAC-SHA256'): boolean {
  return Hash.equals(Hash.sign(type, fields, key), fields.sign)
}

export async function postV2(base: string, path: string, xml: string): Promise<Answer<undefined>> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml' },
    body: xml,
  })
  return toAnswer<undefined>(res)
}

// ---- notification receiver ----------------------------------------------------------------------

export interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/**
 * A merchant's notify endpoint: records every POST and answers success (v3: 204; v2: the
 * `return_code` SUCCESS XML). Give each order its own path to wait for its notifications.
 */
export class NotifyReceiver {
  readonly received: Received[] = []
  #waiters: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = []
  #server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = {
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      this.received.push(r)
      for (const w of [...this.#waiters]) {
        if (w.match(r)) {
          this.#waiters = this.#waiters.filter((x) => x !== w)
          w.resolve(r)
        }
      }
      if (r.body.startsWith('<')) {
        res.writeHead(200, { 'Content-Type': 'text/xml' })
        res.end(Transformer.toXml({ return_code: 'SUCCESS', return_msg: 'OK' }))
      } else {
        res.writeHead(204)
        res.end()
      }
    })
  })
  base = ''

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()))
    this.base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
    return this
  }

  /** A notify_url of its own for `name`. */
  url(name: string): string {
    return `${this.base}/notify/${name}`
  }

  /** The next notification at `url(name)` that `match` accepts (already received ones count). */
  next(name: string, match: (r: Received) => boolean = () => true, timeoutMs = 3000) {
    const accept = (r: Received) => r.path === `/notify/${name}` && match(r)
    const seen = this.received.find(accept)
    if (seen) return Promise.resolve(seen)
    return new Promise<Received>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done)
        reject(new Error(`no notification at /notify/${name} within ${timeoutMs} ms`))
      }, timeoutMs)
      const done = (r: Received) => {
        clearTimeout(timer)
        resolve(r)
      }
      this.#waiters.push({ match: accept, resolve: done })
    })
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

let counter = 0
/** A fresh out_trade_no / out_refund_no: `prefix` + time + counter, at most 32 characters. */
export function uniqueNo(prefix = 'FEN'): string {
  counter += 1
  return `${prefix}${Date.now().toString(36)}${String(counter).padStart(4, '0')}`.slice(0, 32)
}

/** `yyyy-MM-dd` of an instant in Beijing time. */
export function beijingDate(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 10)
}
