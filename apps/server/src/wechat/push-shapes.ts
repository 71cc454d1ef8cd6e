/**
 * The fields a verified message push must have before anything of it is stored or compared (the
 * pushes' counterpart of notification-shapes.ts): a valid signature proves who sent the bytes, not
 * that its ids and times are ones an order could have.
 */
import type { PushMessage } from '@fen/wechatpay'

/** Unix seconds a push's time may be: 2000-01-01 up to 2100-01-01, whole. */
const EARLIEST_S = 946_684_800
const LATEST_S = 4_102_444_800

/** Field checks of the trade-management events (the raw value as sent, JSON or XML). */
const ORDER_FIELD_RULES: Record<string, { pattern: RegExp; required?: boolean }> = {
  // 微信支付单号: digits (28 today); any letters or digits, as WeChat does not promise the form.
  transaction_id: { pattern: /^[0-9A-Za-z]{1,64}$/ },
  merchant_id: { pattern: /^\d{1,32}$/ },
  sub_merchant_id: { pattern: /^\d{0,32}$/ },
  // out_trade_no's own rule: 6 to 32 of letters, digits, _ - | * @ (we accept from 1).
  merchant_trade_no: { pattern: /^[0-9A-Za-z_\-|*@]{1,32}$/ },
}
const TIME_FIELDS = [
  'pay_time',
  'shipped_time',
  'estimated_settlement_time',
  'confirm_receive_time',
  'settlement_time',
]

/**
 * What makes a verified push unusable, checked on the values as sent before anything is stored:
 * a settlement without `transaction_id`, merchant or order ids no order could have, and times that
 * are not whole Unix seconds between 2000 and 2100 (`1e300`, `9e15`, `"1e3"`, `1.5`: each once
 * answered 500 after a row was stored, or completed an order in 1970). Undefined when it is fine.
 */
export function malformedField(m: PushMessage): string | undefined {
  if (m.type !== 'trade_manage_order_settlement' && m.type !== 'trade_manage_remind_shipping')
    return undefined
  const raw = m.raw
  const text = (v: unknown) =>
    typeof v === 'string'
      ? v
      : typeof v === 'number' && Number.isSafeInteger(v)
        ? String(v)
        : undefined
  if (m.type === 'trade_manage_order_settlement' && !raw.transaction_id)
    return 'transaction_id: missing'
  for (const [field, rule] of Object.entries(ORDER_FIELD_RULES)) {
    const v = raw[field]
    if (v === undefined || v === null) continue
    const t = text(v)
    if (t === undefined || !rule.pattern.test(t)) return `${field}: not a valid value`
  }
  if (m.type === 'trade_manage_order_settlement' && !raw.merchant_trade_no)
    return 'merchant_trade_no: missing'
  for (const field of TIME_FIELDS) {
    const v = raw[field]
    if (v === undefined || v === null || v === '') continue
    const n =
      typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : NaN
    if (!(Number.isInteger(n) && n >= EARLIEST_S && n < LATEST_S))
      return `${field}: not whole Unix seconds between 2000 and 2100`
  }
  return undefined
}
