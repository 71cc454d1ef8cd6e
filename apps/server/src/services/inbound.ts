import { DecryptionError, SignatureError, WechatPayError } from '@fen/wechatpay'
import { loggable, type Logger } from '../logger'

/**
 * Why a request from WeChat (a payment notification, a message push, the push URL check) was
 * refused before anything of it was applied:
 * - `unverified`, 401: the signature did not verify (`reason`: the SignatureError's — `mismatch`,
 *   `stale_timestamp`, `signtest`, …; `stale` for `stale_timestamp`), or the body did not decrypt
 *   (`decryption`);
 * - `malformed`, 400: it could not be read (`problem`: the SDK's message) — or, for a push, a field
 *   no push carries.
 */
export type Refusal =
  | {
      kind: 'unverified'
      status: 401
      reason: string
      stale: boolean
      /** The `Wechatpay-Serial` presented, if any. */
      serial?: string | undefined
    }
  | { kind: 'malformed'; status: 400; problem: string }

/** What differs between the endpoints that receive WeChat's requests. */
export interface InboundEndpoint<Reply> {
  /** Counts a refusal in the endpoint's own series. */
  count(refusal: Refusal): void
  /** The message of the warning logged (its fields: `reason` and `serial`, or `problem`). */
  message(refusal: Refusal): string
  /** Fields each of this endpoint's log lines carries as well (a push's `event`). */
  fields?: Record<string, unknown>
  /** The answer, in the endpoint's format (JSON, XML, plain text). */
  reply(refusal: Refusal): Reply
}

/** The parse step's outcome: the verified, decrypted value, or the answer refusing the request. */
export type Inbound<T, Reply> = { ok: true; value: T } | { ok: false; reply: Reply }

/**
 * Runs the parse step of a request from WeChat (verify, decrypt, read) and turns its failures into
 * refusals: SignatureError and DecryptionError → unverified (401), any other WechatPayError →
 * malformed (400) — each counted, logged as a warning and answered as `endpoint` says. Anything
 * else is a failure of ours and thrown (the route answers 500, so WeChat retries).
 */
export async function receiveInbound<T, Reply>(
  logger: Logger,
  endpoint: InboundEndpoint<Reply>,
  parse: () => T | Promise<T>,
): Promise<Inbound<T, Reply>> {
  try {
    return { ok: true, value: await parse() }
  } catch (e) {
    const refusal = refusalOf(e)
    if (!refusal) throw e
    return { ok: false, reply: refuse(logger, endpoint, refusal) }
  }
}

/** The refusal an error of the parse step stands for; undefined when it is not WeChat's doing. */
export function refusalOf(e: unknown): Refusal | undefined {
  if (e instanceof SignatureError)
    return {
      kind: 'unverified',
      status: 401,
      reason: e.reason,
      stale: e.reason === 'stale_timestamp',
      serial: e.serial,
    }
  if (e instanceof DecryptionError)
    return { kind: 'unverified', status: 401, reason: 'decryption', stale: false }
  if (e instanceof WechatPayError)
    return { kind: 'malformed', status: 400, problem: loggable(e).message }
  return undefined
}

/**
 * Counts, logs and answers a refusal: the parse step's (see {@link receiveInbound}), or one found
 * in what it gave (a push with a field no push carries).
 */
export function refuse<Reply>(
  logger: Logger,
  endpoint: InboundEndpoint<Reply>,
  refusal: Refusal,
): Reply {
  endpoint.count(refusal)
  logger.warn(
    refusal.kind === 'unverified'
      ? { ...endpoint.fields, reason: refusal.reason, serial: refusal.serial }
      : { ...endpoint.fields, problem: refusal.problem },
    endpoint.message(refusal),
  )
  return endpoint.reply(refusal)
}
