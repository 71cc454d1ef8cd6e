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
