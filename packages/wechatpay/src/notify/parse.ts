import type { KeyObject } from 'node:crypto'
import { decryptResource } from '../crypto/aead'
import type { Verifier } from '../auth/verifiers'
import { readSignatureHeaders, verifySigned, type HeaderSource } from '../auth/verify'
import { DecryptionError, WechatPayError } from '../core/errors'
import type { Transaction } from '../resources/transactions'
import type {
  NotificationEnvelope,
  NotificationEvent,
  NotificationReply,
  RefundEventType,
  RefundNotificationResource,
} from './types'

/**
 * What no text column can hold: half of a UTF-16 surrogate pair alone (with the `u` flag a whole
 * pair is one code point) and NUL. (The API's own text rule is the same: `text()` in
 * packages/shared/src/schemas.ts.)
 */
const unstorable = (text: string) => text.includes('\u0000') || /\p{Cs}/u.test(text)
const REFUND_EVENTS = new Set<string>(['REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED'])
/** The `refund_status` values a refund notification carries. */
const REFUND_NOTIFICATION_STATUSES = new Set<unknown>(['SUCCESS', 'CLOSED', 'ABNORMAL'])

/** Inputs of {@link parseNotification}. */
export interface ParseNotificationInput {
  headers: HeaderSource
  /** The request body exactly as received: keep the raw bytes, do not re-serialise parsed JSON. */
  body: Buffer | string
  verifier: Verifier
  apiV3Key: KeyObject
  /** The current Unix time in seconds. */
  nowSeconds: number
  toleranceSeconds?: number | false
}

/**
 * Verifies a notification over its raw bytes (SIGNTEST probes and stale timestamps rejected),
 * decrypts its resource and returns a typed event. Throws {@link SignatureError},
 * {@link DecryptionError} or {@link WechatPayError}; on any of them, answer with
 * {@link failureReply} and change nothing.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/apis/mini-program-payment/payment-notice.html
 */
export async function parseNotification(input: ParseNotificationInput): Promise<NotificationEvent> {
  await verifySigned(readSignatureHeaders(input.headers), input.body, input.verifier, {
    nowSeconds: input.nowSeconds,
    toleranceSeconds: input.toleranceSeconds,
  })
  const envelope = parseEnvelope(input.body)
  const plaintext = decryptResource(input.apiV3Key, envelope.resource)
  let resource: unknown
  let storable = true
  try {
    // Decoded UTF-8 holds neither a lone surrogate nor (in valid JSON) a raw NUL: only a `\u`
    // escape can produce them, so the walk over every value runs only when the text has one.
    resource = plaintext.includes('\\u')
      ? JSON.parse(plaintext, (key, value: unknown) => {
          if (unstorable(key) || (typeof value === 'string' && unstorable(value))) storable = false
          return value
        })
      : JSON.parse(plaintext)
  } catch (cause) {
    throw new DecryptionError('the decrypted resource is not JSON', { cause })
  }
  // JSON can escape half of a UTF-16 pair (`"\udfff"`) or NUL (`"\u0000"`); no UTF-8 text, and
  // neither PostgreSQL `text` nor `jsonb`, can hold them. WeChat never sends them: verified but
  // malformed, like the shapes below.
  if (!storable) throw new WechatPayError('the resource holds text that is not storable Unicode')
  const base = { id: envelope.id, createTime: envelope.create_time, summary: envelope.summary }
  const typed =
    envelope.event_type === 'TRANSACTION.SUCCESS' || REFUND_EVENTS.has(envelope.event_type)
  // Verified but malformed: the caller answers 400 rather than failing on the shape later.
  if (typed && (typeof resource !== 'object' || resource === null || Array.isArray(resource))) {
    throw new WechatPayError(`the ${envelope.event_type} resource is not a JSON object`)
  }
  if (envelope.event_type === 'TRANSACTION.SUCCESS') {
    return {
      ...base,
      type: 'transaction',
      eventType: 'TRANSACTION.SUCCESS',
      transaction: resource as Transaction,
    }
  }
  if (REFUND_EVENTS.has(envelope.event_type)) {
    const status = (resource as { refund_status?: unknown }).refund_status
    if (!REFUND_NOTIFICATION_STATUSES.has(status)) {
      throw new WechatPayError(`refund_status ${JSON.stringify(status)} is not one WeChat sends`)
    }
    return {
      ...base,
      type: 'refund',
      eventType: envelope.event_type as RefundEventType,
      refund: resource as RefundNotificationResource,
    }
  }
  return { ...base, type: 'other', eventType: envelope.event_type, resource }
}

function parseEnvelope(body: Buffer | string): NotificationEnvelope {
  let value: Partial<NotificationEnvelope>
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'))
  } catch (cause) {
    throw new WechatPayError('the notification body is not JSON', { cause })
  }
  if (
    typeof value?.id !== 'string' ||
    typeof value.event_type !== 'string' ||
    typeof value.resource !== 'object' ||
    value.resource === null
  ) {
    throw new WechatPayError('the notification body lacks id, event_type or resource')
  }
  return value as NotificationEnvelope
}

/** The answer that tells WeChat a notification was received: 204, no body. */
export function successReply(): NotificationReply {
  return { status: 204, headers: {}, body: '' }
}

/**
 * The answer that makes WeChat retry: a 4xx/5xx with `{"code":"FAIL","message":…}`. WeChat judges
 * by the status alone (a 200 carrying FAIL counts as success). Use 401 for a failed signature and
 * 500 when our side failed (a database error), so the retry finds us working.
 */
export function failureReply(status: number = 500, message = '失败'): NotificationReply {
  if (status < 400 || status > 599)
    throw new RangeError('a failure reply needs a 4xx or 5xx status')
  return {
    status,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: 'FAIL', message }),
  }
}
