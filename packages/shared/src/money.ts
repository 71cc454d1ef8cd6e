/**
 * Money is an integer number of fen (分, 1/100 CNY) everywhere in Fen: in the database, the API
 * and WeChat Pay. Only the screen shows yuan.
 */

/** True for a non-negative safe integer: a valid amount of fen. */
export function isFen(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** `2990` → `¥29.90`. Integer arithmetic only, so no float rounding ever shows. */
export function formatFen(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError(`not an integer number of fen: ${fen}`)
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  const yuan = Math.floor(abs / 100)
  const cents = String(abs % 100).padStart(2, '0')
  return `${sign}¥${yuan}.${cents}`
}

/**
 * Yuan as a person types it (`12`, `12.5`, `12.50`, `¥12.50`) → integer fen, by string arithmetic
 * (no float ever rounds it); undefined for anything else, including more than 2 decimals. Zero
 * parses to 0: whether an amount may be 0 is the caller's rule (see `checkRefundAmount`).
 */
export function parseYuan(text: string): number | undefined {
  const m = /^[¥￥]?(\d{1,9})(?:\.(\d{1,2}))?$/.exec(text.trim())
  if (!m) return undefined
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
}

/**
 * Why a refund of `amountFen` cannot be asked for when `refundableFen` is left (undefined when it
 * can): the console's refund dialog and the shop's refund sheet check before asking anyone to
 * confirm, with the server's `refundableFen`; the server refuses the same amounts.
 */
export function checkRefundAmount(
  amountFen: number | undefined,
  refundableFen: number,
): string | undefined {
  if (amountFen === undefined) return '请输入正确的金额（最多两位小数）'
  if (amountFen <= 0) return '退款金额必须大于 0'
  if (amountFen > refundableFen) return `退款金额超过可退金额，最多可退 ${formatFen(refundableFen)}`
  return undefined
}
