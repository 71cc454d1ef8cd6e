import { randomUUID } from 'node:crypto'
import { loadApiV3Key, encryptResource } from '../crypto/aead'
import { signAsPlatform } from '../auth/platform-signing'
import { createRsaSigner } from '../auth/signer'
import { formatBeijingTime, randomAlphanumeric } from '../core/clock'
import { SIGNTEST_PREFIX } from '../auth/verify'

/** Inputs of {@link buildNotification}. */
export interface BuildNotificationInput {
  apiV3Key: string
  /** WeChat's signing key: a platform certificate's or the WeChat Pay public key's private half. */
  privateKey: string
  /** The serial of that key (certificate serial or `PUB_KEY_ID_…`). */
  serial: string
  eventType: string
  /** The plaintext resource: a Transaction for `TRANSACTION.SUCCESS`, a refund for `REFUND.*`. */
  resource: object
  id?: string
  summary?: string
  /** Unix seconds. Default: now. */
  timestamp?: number
  nonce?: string
  /** Default `transaction` for TRANSACTION.*, `refund` for REFUND.*. */
  associatedData?: string
  /** Make it a `WECHATPAY/SIGNTEST/` probe, as WeChat sometimes does. */
  signtest?: boolean
}

/**
 * Builds a notification exactly as WeChat sends it: the resource encrypted with AEAD_AES_256_GCM
 * under the APIv3 key, the envelope signed. Returns the HTTP headers and the raw body to POST.
 * The test-helper counterpart of `WechatPay.parseNotification`.
 */
export function buildNotification(input: BuildNotificationInput): {
  headers: Record<string, string>
  body: string
} {
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000)
  const originalType = input.eventType.startsWith('REFUND.') ? 'refund' : 'transaction'
  const envelope = {
    id: input.id ?? randomUUID(),
    create_time: formatBeijingTime(timestamp * 1000),
    resource_type: 'encrypt-resource',
    event_type: input.eventType,
    summary: input.summary ?? (originalType === 'refund' ? '退款成功' : '支付成功'),
    resource: encryptResource(loadApiV3Key(input.apiV3Key), JSON.stringify(input.resource), {
      associatedData: input.associatedData ?? originalType,
      originalType,
    }),
  }
  const body = JSON.stringify(envelope)
  const headers = signAsPlatform({
    signer: createRsaSigner(input.privateKey),
    serial: input.serial,
    body,
    timestamp,
    nonce: input.nonce ?? randomAlphanumeric(32),
  })
  if (input.signtest) {
    headers['Wechatpay-Signature'] = SIGNTEST_PREFIX + headers['Wechatpay-Signature']
  }
  return { headers: { 'Content-Type': 'application/json', ...headers }, body }
}

/**
 * Signs a response body as WeChat would, for stubbing WeChat in your own tests: returns the
 * `Wechatpay-*` headers to send with it.
 */
export function signResponse(input: {
  body: string
  privateKey: string
  serial: string
  timestamp?: number
  nonce?: string
}): Record<string, string> {
  return signAsPlatform({
    signer: createRsaSigner(input.privateKey),
    serial: input.serial,
    body: input.body,
    timestamp: input.timestamp ?? Math.floor(Date.now() / 1000),
    nonce: input.nonce ?? randomAlphanumeric(32),
  })
}
