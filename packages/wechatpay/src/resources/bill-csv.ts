import { WechatPayError } from '../core/errors'

/** A bill file's SHA1 differs from the `hash_value` WeChat announced: the file must not be trusted. */
export class BillDigestError extends WechatPayError {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`bill file digest ${actual} does not match ${expected}`)
    this.name = 'BillDigestError'
  }
}

/** A parsed bill: data rows keyed by their Chinese header, and the summary row keyed likewise. */
export interface ParsedBill {
  header: string[]
  rows: Record<string, string>[]
  summary: Record<string, string>
}

/** One trade-bill row, with the fields reconciliation needs; amounts converted to integer fen. */
export interface TradeBillRow {
  tradeTime: string
  transactionId: string
  outTradeNo: string
  tradeState: string
  settlementFen: number
  refundId: string
  outRefundNo: string
  refundFen: number
  refundStatus: string
  totalFen: number
  raw: Record<string, string>
}

/** One fund-flow bill row; `amountFen` is positive, `direction` says 收入 or 支出. */
export interface FundFlowBillRow {
  bookedAt: string
  transactionId: string
  flowId: string
  businessName: string
  businessType: string
  direction: string
  amountFen: number
  balanceFen: number
  raw: Record<string, string>
}

// Each cell is prefixed with a backtick so spreadsheets keep long numbers as text; it is not data.
const cell = (c: string) => (c.startsWith('`') ? c.slice(1) : c).trim()

/**
 * Converts a bill amount in yuan (`0.01`, `-0.00006`) to integer fen, without floats: the CSV is
 * the only place WeChat uses yuan. Digits past the second decimal (fees) are rounded half up.
 */
export function yuanToFen(s: string): number {
  if (s === '') return 0
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(s)
  if (!m) throw new WechatPayError(`bad bill amount ${JSON.stringify(s)}`)
  const frac = (m[3] ?? '').padEnd(3, '0')
  const fen = Number(m[2]) * 100 + Number(frac.slice(0, 2)) + (Number(frac[2]) >= 5 ? 1 : 0)
  return m[1] === '-' && fen !== 0 ? -fen : fen
}

/**
 * Splits a bill (UTF-8, optional BOM, CRLF or LF) into header, data rows and the summary: the
 * summary header is the first line after the header whose cells carry no backtick.
 */
export function parseBill(csv: string): ParsedBill {
  const lines = csv
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
  if (lines.length === 0) return { header: [], rows: [], summary: {} }
  const header = lines[0]!.split(',').map((h) => h.trim())
  const rows: Record<string, string>[] = []
  let summary: Record<string, string> = {}
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!
    if (!l.startsWith('`')) {
      const sh = l.split(',').map((h) => h.trim())
      const sv = (lines[i + 1] ?? '').split(',').map(cell)
      summary = Object.fromEntries(sh.map((h, j) => [h, sv[j] ?? '']))
      break
    }
    const cells = l.split(',').map(cell)
    rows.push(Object.fromEntries(header.map((h, j) => [h, cells[j] ?? ''])))
  }
  return { header, rows, summary }
}

/** Parses a trade bill (申请交易账单's file). */
export function parseTradeBill(csv: string): {
  rows: TradeBillRow[]
  summary: Record<string, string>
} {
  const bill = parseBill(csv)
  const rows = bill.rows.map((r) => ({
    tradeTime: r['交易时间'] ?? '',
    transactionId: r['微信订单号'] ?? '',
    outTradeNo: r['商户订单号'] ?? '',
    tradeState: r['交易状态'] ?? '',
    settlementFen: yuanToFen(r['应结订单金额'] ?? ''),
    refundId: r['微信退款单号'] ?? '',
    outRefundNo: r['商户退款单号'] ?? '',
    refundFen: yuanToFen(r['退款金额'] ?? ''),
    refundStatus: r['退款状态'] ?? '',
    totalFen: yuanToFen(r['订单金额'] ?? ''),
    raw: r,
  }))
  return { rows, summary: bill.summary }
}

/** Parses a fund-flow bill (申请资金账单's file). Accepts `(元)` and full-width `（元）` headers. */
export function parseFundFlowBill(csv: string): {
  rows: FundFlowBillRow[]
  summary: Record<string, string>
} {
  const bill = parseBill(csv.replace(/（元）/g, '(元)'))
  const rows = bill.rows.map((r) => ({
    bookedAt: r['记账时间'] ?? '',
    transactionId: r['微信支付业务单号'] ?? '',
    flowId: r['资金流水单号'] ?? '',
    businessName: r['业务名称'] ?? '',
    businessType: r['业务类型'] ?? '',
    direction: r['收支类型'] ?? '',
    amountFen: yuanToFen(r['收支金额(元)'] ?? ''),
    balanceFen: yuanToFen(r['账户结余(元)'] ?? ''),
    raw: r,
  }))
  return { rows, summary: bill.summary }
}
