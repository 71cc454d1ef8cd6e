/**
 * The shapes a verified notification must have before anything of it is stored or compared. A valid
 * signature proves who sent the bytes, not that they are well formed: WeChat never sends NUL, a
 * numeric `transaction_id` or a missing amount, and a notification that does is refused (400) and
 * kept for review rather than failing on a database write (a 500 WeChat would retry for a day) or
 * being stored as it is.
 */
import { z } from 'zod'

/** Printable ASCII, no spaces: every id WeChat issues (notification, transaction, refund, appid). */
const Id = (max: number) => z.string().regex(new RegExp(`^[\\x21-\\x7e]{1,${max}}$`), 'not an id')
/** `out_trade_no` / `out_refund_no`: WeChat allows letters, digits and `_-|*@`. */
const MerchantNo = (max: number) =>
  z.string().regex(new RegExp(`^[0-9A-Za-z_\\-|*@]{1,${max}}$`), 'not a merchant number')
const Fen = z.number().int().min(0).max(2_147_483_647)

/** The envelope: its id is what every retry is stored under. */
export const NotificationEnvelopeShape = z.object({
  id: Id(128),
  eventType: z.string().regex(/^[A-Z][A-Z0-9_.]{0,63}$/, 'not an event type'),
})

/**
 * The decrypted resource of TRANSACTION.SUCCESS: the fields a payment is decided on. The others
 * (`success_time`, `payer`, `trade_type`, …) are read defensively and never stop a real payment.
 */
export const TransactionShape = z.object({
  appid: Id(32),
  mchid: Id(32),
  out_trade_no: MerchantNo(32),
  // Stored as the payment's key and compared: a string (WeChat's are 28 digits), never a number
  // or an array that a database or a comparison would coerce.
  transaction_id: z.string().min(1).max(128),
  trade_state: z.string().max(32),
  amount: z.object({ total: Fen }),
})

/** The decrypted resource of REFUND.SUCCESS / ABNORMAL / CLOSED: what a refund is settled on. */
export const RefundShape = z.object({
  mchid: Id(32),
  out_trade_no: MerchantNo(32),
  out_refund_no: MerchantNo(64),
  refund_status: z.enum(['SUCCESS', 'ABNORMAL', 'CLOSED']),
  amount: z.object({ total: Fen, refund: Fen }),
})

/** An APIv2 payment notification's fields (after the SDK checked its sign). */
export const V2PaymentShape = z.object({
  appid: Id(32),
  mch_id: Id(32),
  out_trade_no: MerchantNo(32),
  transaction_id: z.string().regex(/^[0-9A-Za-z]{1,32}$/, 'not a transaction id'),
  result_code: z.string().regex(/^[A-Z_]{1,32}$/),
  total_fee: Fen,
  openid: Id(128).optional(),
  time_end: z
    .string()
    .regex(/^\d{14}$/)
    .optional(),
})

/** The first problem of a value against a shape, as `field: message`; undefined when it fits. */
export function shapeProblem(shape: z.ZodType, value: unknown): string | undefined {
  const r = shape.safeParse(value)
  if (r.success) return undefined
  const issue = r.error.issues[0]!
  return `${issue.path.join('.') || '(resource)'}: ${issue.message}`
}

/** A value safe to store as text and to show: NUL and other control characters replaced. */
export function storable(value: unknown, max = 64): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined
  // Lone UTF-16 surrogates (`"\udfff"` in JSON) cannot be stored as text either.
  return value.replace(/\p{Cc}|\p{Cs}/gu, '\uFFFD').slice(0, max)
}
