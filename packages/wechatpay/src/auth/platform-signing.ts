import { buildResponseMessage } from './messages'
import { SIGNATURE_SCHEME, type Signer } from './signer'

/**
 * WeChat's side of {@link verifySigned}: the `Wechatpay-*` headers of a signed response or
 * notification. A merchant never needs this; the Fen sandbox and the test helpers do.
 */
export function signAsPlatform(input: {
  signer: Signer
  /** Platform certificate serial, or the `PUB_KEY_ID_…` of the WeChat Pay public key. */
  serial: string
  body: Buffer | string
  timestamp: number
  nonce: string
}): Record<string, string> {
  return platformSignatureHeaders({
    ...input,
    signature: input.signer.sign(buildResponseMessage(input.timestamp, input.nonce, input.body)),
  })
}

/**
 * The `Wechatpay-*` headers around a signature already made over
 * `buildResponseMessage(timestamp, nonce, body)` — for a signer that works asynchronously (the
 * sandbox signs on libuv's thread pool).
 */
export function platformSignatureHeaders(input: {
  serial: string
  timestamp: number
  nonce: string
  signature: string
}): Record<string, string> {
  return {
    'Wechatpay-Timestamp': String(input.timestamp),
    'Wechatpay-Nonce': input.nonce,
    'Wechatpay-Signature': input.signature,
    'Wechatpay-Serial': input.serial,
    'Wechatpay-Signature-Type': SIGNATURE_SCHEME,
  }
}
