import { randomInt } from 'node:crypto'
import { DEFAULT_TIMESTAMP_TOLERANCE_SECONDS } from '../auth/verify'
import { ConfigError, SignatureError, WechatPayError } from '../core/errors'
import { parseXml, toXml } from '../v2/xml'
import {
  decryptPushMessage,
  encryptPushMessage,
  pushSignature,
  signatureMatches,
  type PushCryptoOptions,
} from './push-crypto'

/**
 * 消息推送 (message push) to the developer server: the URL check, signed (and in 安全模式
 * encrypted) pushes in JSON or XML, and the typed shipping-management events.
 *
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
 */

/** The query of a push request, as Koa (`ctx.query`), Express or `URLSearchParams` give it. */
export type PushQuery = URLSearchParams | Record<string, string | string[] | undefined>

/** What a server must reply to a push it accepted (within 5 s, or WeChat retries, 3 tries in all). */
export const PUSH_SUCCESS_REPLY = 'success'

function param(query: PushQuery, name: string): string | undefined {
  if (query instanceof URLSearchParams) return query.get(name) ?? undefined
  const v = query[name]
  return Array.isArray(v) ? v[0] : v
}

/**
 * How a push's `timestamp` is checked: within `toleranceSeconds` (default 300, WeChat's window for
 * its signatures) of `nowSeconds` (default: the system clock). A push's signature covers its
 * timestamp, so a captured push cannot be made fresh again; `toleranceSeconds: false` turns the
 * check off (only for replaying stored pushes).
 */
export interface PushTimePolicy {
  /** The current Unix time in seconds. Default: the system clock. */
  nowSeconds?: number
  toleranceSeconds?: number | false
}

/** Throws {@link SignatureError} (`stale_timestamp`) for a timestamp outside the policy's window. */
function checkFresh(timestamp: string, policy: PushTimePolicy): void {
  const tolerance = policy.toleranceSeconds ?? DEFAULT_TIMESTAMP_TOLERANCE_SECONDS
  if (tolerance === false) return
  const now = policy.nowSeconds ?? Math.floor(Date.now() / 1000)
  const ts = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : NaN
  if (!(Math.abs(now - ts) <= tolerance)) {
    throw new SignatureError(
      'stale_timestamp',
      `the push timestamp ${JSON.stringify(timestamp)} is more than ${tolerance} s from now`,
    )
  }
}

/**
 * Answers WeChat's URL check (`GET` with `signature, timestamp, nonce, echostr`): returns the
 * `echostr` to echo back verbatim when the signature matches the Token and the timestamp is fresh
 * ({@link PushTimePolicy}), else throws {@link SignatureError}. The signature does not cover
 * `echostr`: answer it as `text/plain` (with `X-Content-Type-Options: nosniff`), and remember the
 * signature for the window if a replayed check must not be echoed again.
 */
export function verifyPushUrl(
  query: PushQuery,
  token: string,
  policy: PushTimePolicy = {},
): string {
  const timestamp = param(query, 'timestamp')
  const nonce = param(query, 'nonce')
  const echostr = param(query, 'echostr')
  if (!timestamp || !nonce || echostr === undefined) {
    throw new SignatureError('missing_headers', 'the URL check lacks timestamp, nonce or echostr')
  }
  if (!signatureMatches(param(query, 'signature'), pushSignature(token, timestamp, nonce))) {
    throw new SignatureError('mismatch', 'the URL check signature does not match the Token')
  }
  checkFresh(timestamp, policy)
  return echostr
}

/** Fields every push carries. `CreateTime` is Unix seconds. */
export interface PushCommon {
  ToUserName: string
  FromUserName: string
  CreateTime: number
  MsgType: string
  Event?: string
  /** The whole message as WeChat sent it (all values strings when it came as XML). */
  raw: Record<string, unknown>
}

/** Ids and pay time of the payment a trade-management event is about. */
export interface TradeManageOrderFields {
  transaction_id: string
  merchant_id: string
  sub_merchant_id?: string
  merchant_trade_no: string
  /** Unix seconds. */
  pay_time: number
}

/**
 * `trade_manage_order_settlement`, pushed twice: when shipping completes (`stage: 'shipped'`,
 * with `estimated_settlement_time`) and at settlement (`stage: 'settled'`, with
 * `confirm_receive_time`, `confirm_receive_method` and `settlement_time`). Times in Unix seconds.
 */
export interface TradeManageOrderSettlementEvent extends PushCommon, TradeManageOrderFields {
  type: 'trade_manage_order_settlement'
  stage: 'shipped' | 'settled'
  shipped_time?: number
  estimated_settlement_time?: number
  /**
   * 1 or 2. WeChat documents 1 = automatic, 2 = by the shopper; developers report the reverse, so
   * the SDK passes the number on without naming it.
   */
  confirm_receive_method?: number
  confirm_receive_time?: number
  settlement_time?: number
}

/** `trade_manage_remind_shipping`: an order stayed unshipped for a long time. */
export interface TradeManageRemindShippingEvent extends PushCommon, TradeManageOrderFields {
  type: 'trade_manage_remind_shipping'
  msg?: string
}

/** `trade_manage_remind_access_api`: the app has trades but has never reported shipping. */
export interface TradeManageRemindAccessApiEvent extends PushCommon {
  type: 'trade_manage_remind_access_api'
  msg?: string
}

/** Any other push (messages, other events): see `MsgType`, `Event` and `raw`. */
export interface OtherPush extends PushCommon {
  type: 'other'
}

export type PushMessage =
  | TradeManageOrderSettlementEvent
  | TradeManageRemindShippingEvent
  | TradeManageRemindAccessApiEvent
  | OtherPush

/** What {@link parsePush} needs. */
export interface ParsePushInput extends PushTimePolicy {
  query: PushQuery
  /** The raw body: JSON or XML, plaintext or with `Encrypt`. */
  body: string | Buffer
  /** The Token of the message push settings. */
  token: string
  /**
   * The EncodingAESKey and appid, for 兼容/安全模式. When given, an unencrypted push is refused:
   * a plaintext push's signature does not cover its body, so anyone who saw one signed query
   * could attach any body to it.
   */
  crypto?: PushCryptoOptions
}

/**
 * Verifies a pushed message and returns it typed. Plaintext: `signature` over Token, timestamp and
 * nonce. Encrypted (`Encrypt` in the body): `msg_signature` over those and `Encrypt`, then
 * decryption and the appid check. The timestamp must be fresh ({@link PushTimePolicy}: ±5 minutes
 * by default). Throws {@link SignatureError}, `DecryptionError`, or {@link WechatPayError} for a
 * body that is neither JSON nor XML. Within the window a captured push can be sent again: remember
 * its `msg_signature` (or `signature`) for the window to refuse replays, and deduplicate on
 * `MsgId`, or on `FromUserName` + `CreateTime` for events: WeChat retries pushes not answered
 * within 5 s.
 */
export async function parsePush(input: ParsePushInput): Promise<PushMessage> {
  const timestamp = param(input.query, 'timestamp')
  const nonce = param(input.query, 'nonce')
  if (!timestamp || !nonce) {
    throw new SignatureError('missing_headers', 'the push lacks timestamp or nonce')
  }
  const outer = await parseBody(input.body)
  const encrypt = outer.Encrypt
  let message: Record<string, unknown>
  if (typeof encrypt === 'string' && encrypt) {
    if (!input.crypto) {
      throw new ConfigError('the push is encrypted: pass crypto { encodingAESKey, appid }')
    }
    const expected = pushSignature(input.token, timestamp, nonce, encrypt)
    if (!signatureMatches(param(input.query, 'msg_signature'), expected)) {
      throw new SignatureError('mismatch', 'the push msg_signature does not match')
    }
    message = await parseBody(decryptPushMessage(encrypt, input.crypto))
  } else {
    if (input.crypto) {
      throw new SignatureError('mismatch', 'an unencrypted push where encryption is configured')
    }
    const expected = pushSignature(input.token, timestamp, nonce)
    if (!signatureMatches(param(input.query, 'signature'), expected)) {
      throw new SignatureError('mismatch', 'the push signature does not match the Token')
    }
    message = outer
  }
  checkFresh(timestamp, input)
  return typePush(message)
}

async function parseBody(body: string | Buffer): Promise<Record<string, unknown>> {
  const text = (typeof body === 'string' ? body : body.toString('utf8')).trim()
  if (text.startsWith('<')) return parseXml(text)
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>
    }
  } catch {
    // fall through
  }
  throw new WechatPayError('the push body is neither a JSON object nor XML')
}

const str = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : String(v)
const num = (v: unknown): number | undefined => {
  if (v === undefined || v === null || v === '') return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}

/** Drops undefined values so optional fields are absent, not `undefined`. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}

/** Types a decoded push: numbers as numbers whether it came as JSON or XML. */
export function typePush(raw: Record<string, unknown>): PushMessage {
  const common: PushCommon = defined({
    ToUserName: str(raw.ToUserName) ?? '',
    FromUserName: str(raw.FromUserName) ?? '',
    CreateTime: num(raw.CreateTime) ?? 0,
    MsgType: str(raw.MsgType) ?? '',
    Event: str(raw.Event),
    raw,
  })
  const order = (): TradeManageOrderFields =>
    defined({
      transaction_id: str(raw.transaction_id) ?? '',
      merchant_id: str(raw.merchant_id) ?? '',
      sub_merchant_id: str(raw.sub_merchant_id),
      merchant_trade_no: str(raw.merchant_trade_no) ?? '',
      pay_time: num(raw.pay_time) ?? 0,
    })
  switch (common.Event) {
    case 'trade_manage_order_settlement': {
      const confirm_receive_time = num(raw.confirm_receive_time)
      const settlement_time = num(raw.settlement_time)
      return defined({
        ...common,
        ...order(),
        type: 'trade_manage_order_settlement' as const,
        stage:
          confirm_receive_time !== undefined || settlement_time !== undefined
            ? ('settled' as const)
            : ('shipped' as const),
        shipped_time: num(raw.shipped_time),
        estimated_settlement_time: num(raw.estimated_settlement_time),
        confirm_receive_method: num(raw.confirm_receive_method),
        confirm_receive_time,
        settlement_time,
      })
    }
    case 'trade_manage_remind_shipping':
      return defined({
        ...common,
        ...order(),
        type: 'trade_manage_remind_shipping' as const,
        msg: str(raw.msg),
      })
    case 'trade_manage_remind_access_api':
      return defined({
        ...common,
        type: 'trade_manage_remind_access_api' as const,
        msg: str(raw.msg),
      })
    default:
      return { ...common, type: 'other' }
  }
}

/** What {@link buildPush} sends. */
export interface BuildPushInput {
  token: string
  /** The message fields (`ToUserName`, `FromUserName`, `CreateTime`, `MsgType`, `Event`, …). */
  message: Record<string, string | number>
  format: 'json' | 'xml'
  /** Encrypt (安全模式) with this key for this appid; omitted: plaintext mode. */
  crypto?: PushCryptoOptions & { random?: Buffer }
  /** Unix seconds as a string; default now. */
  timestamp?: string
  /** Default 9 random digits. */
  nonce?: string
}

/**
 * Builds a push as WeChat sends it — query (`signature`, `timestamp`, `nonce`, and in 安全模式
 * `encrypt_type=aes`, `msg_signature`), body and Content-Type — for tests and for the sandbox.
 */
export function buildPush(input: BuildPushInput): {
  query: Record<string, string>
  body: string
  contentType: string
} {
  const timestamp = input.timestamp ?? String(Math.floor(Date.now() / 1000))
  const nonce = input.nonce ?? String(randomInt(1, 1_000_000_000))
  const render = (fields: Record<string, string | number>): string =>
    input.format === 'xml' ? toXml(fields) : JSON.stringify(fields)
  const query: Record<string, string> = {
    signature: pushSignature(input.token, timestamp, nonce),
    timestamp,
    nonce,
  }
  const contentType = input.format === 'xml' ? 'text/xml' : 'application/json'
  if (!input.crypto) return { query, body: render(input.message), contentType }
  const encrypt = encryptPushMessage(render(input.message), input.crypto)
  query.encrypt_type = 'aes'
  query.msg_signature = pushSignature(input.token, timestamp, nonce, encrypt)
  const toUser = input.message.ToUserName
  return {
    query,
    body: render({ ...(toUser !== undefined ? { ToUserName: toUser } : {}), Encrypt: encrypt }),
    contentType,
  }
}
