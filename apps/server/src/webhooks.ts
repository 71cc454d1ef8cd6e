/**
 * Fen's webhook signature, for the server that signs and for the shop's systems that receive.
 * This file imports only Node's crypto, so a receiver can copy it whole (the server package is
 * private and not published: there is nothing to install). The scheme is Stripe's: header `Fen-Signature: t=<unix seconds>,v1=<hex>`,
 * where v1 is HMAC-SHA256 with WEBHOOK_SECRET of `<t>.<raw body>`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'Fen-Signature'
export const EVENT_ID_HEADER = 'Fen-Event-Id'

/** The `Fen-Signature` value for `body`, sent at `at`. */
export function signWebhook(body: string, secret: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000)
  return `t=${t},v1=${hmac(secret, `${t}.${body}`)}`
}

/**
 * Whether `header` is a valid Fen signature of the raw `body` (exactly the bytes received, before
 * any JSON parsing) made within `toleranceSeconds` (default 300) of `now`: the time bound stops a
 * captured request from being replayed later. Deduplicate deliveries by `Fen-Event-Id`.
 */
export function verifyWebhookSignature(
  body: string | Buffer,
  header: string | undefined,
  secret: string,
  options: { toleranceSeconds?: number; now?: Date } = {},
): boolean {
  if (!header) return false
  const parts = header.split(',').map((p) => p.trim().split('='))
  const t = Number(parts.find(([k]) => k === 't')?.[1])
  if (!Number.isInteger(t)) return false
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000)
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false
  const expected = Buffer.from(hmac(secret, `${t}.${body.toString()}`), 'hex')
  // Several v1 entries may come while a secret is rotated: any one matching is enough.
  return parts.some(([k, v]) => {
    if (k !== 'v1' || !v || !/^[0-9a-f]+$/i.test(v)) return false
    const given = Buffer.from(v, 'hex')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}

function hmac(secret: string, data: string): string {
  return createHmac('sha256', secret).update(data).digest('hex')
}
