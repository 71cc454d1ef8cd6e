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

/**
 * Why a bill line could not be read as a row: it does not start with a backtick
 * (`no_backtick`); its field count differs from the header's (`field_count`: a comma or backtick
 * where WeChat's format has none); an amount is not yuan, or too large to be exact fen
 * (`bad_amount`); an id the row is matched by is empty (`missing_id`).
 */
export type UnparsedReason = 'no_backtick' | 'field_count' | 'bad_amount' | 'missing_id'

/** A line of a bill that is not a readable row: kept as it was, with its 1-based line number. */
export interface UnparsedBillLine {
  line: number
  raw: string
  reason: UnparsedReason
  message: string
}

/**
 * A parsed bill: data rows keyed by their Chinese header, the lines that are not readable rows,
 * and the summary row keyed likewise.
 */
export interface ParsedBill {
  header: string[]
  rows: Record<string, string>[]
  unparsed: UnparsedBillLine[]
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

/**
 * The fields of a data or summary line. Every field starts with a backtick (so spreadsheets keep
 * long numbers as text; it is not data), so fields are separated by ",`" — never split on every
 * comma: a comma inside a field (商品名称 `手冲咖啡豆,250g`, 商户数据包) stays in it. A trailing
 * separator with no field after it is dropped. Undefined when the line does not start with a
 * backtick.
 */
export function billFields(line: string): string[] | undefined {
  if (!line.startsWith('`')) return undefined
  const body = line.endsWith(',') ? line.slice(1, -1) : line.slice(1)
  return body.split(',`').map((f) => f.trim())
}

/** A bill line that is not a readable row, as an error the row parsers collect. */
class UnreadableRow extends WechatPayError {
  constructor(
    readonly reason: UnparsedReason,
    message: string,
  ) {
    super(message)
    this.name = 'UnreadableRow'
  }
}

/**
 * Converts a bill amount in yuan (`0.01`, `-0.00006`) to integer fen, without floats: the CSV is
 * the only place WeChat uses yuan. Digits past the second decimal (fees) are rounded half up.
 * Throws WechatPayError for text that is not an amount, or an amount too large to be exact fen.
 */
export function yuanToFen(s: string): number {
  if (s === '') return 0
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(s)
  if (!m) throw new WechatPayError(`bad bill amount ${JSON.stringify(s)}`)
  const frac = (m[3] ?? '').padEnd(3, '0')
  const fen = Number(m[2]) * 100 + Number(frac.slice(0, 2)) + (Number(frac[2]) >= 5 ? 1 : 0)
  // Past 2^53 a number skips integers: the sum above could be some other amount.
  if (!Number.isSafeInteger(fen))
    throw new WechatPayError(`bill amount ${JSON.stringify(s)} is too large to be exact fen`)
  return m[1] === '-' && fen !== 0 ? -fen : fen
}

/** The cells of a plain (header) line; a trailing comma adds no column. */
function headerCells(line: string): string[] {
  const cells = line.split(',').map((h) => h.trim())
  return cells.at(-1) === '' ? cells.slice(0, -1) : cells
}

/** A data line whose fields match the header, keyed by it, with where it came from. */
interface BillLine {
  line: number
  raw: string
  cells: Record<string, string>
}

/** A bill cut into lines: readable data lines, the unreadable ones, and the summary. */
function readBill(csv: string): {
  header: string[]
  lines: BillLine[]
  unparsed: UnparsedBillLine[]
  summary: Record<string, string>
} {
  const all = csv
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((raw, i) => ({ raw, line: i + 1 }))
    .filter((l) => l.raw.trim() !== '')
  const first = all[0]
  if (!first) return { header: [], lines: [], unparsed: [], summary: {} }
  const header = headerCells(first.raw)
  // The summary is the file's end: a plain header line, then one backticked line. Found from the
  // end, so an odd line among the rows is not taken for it (and the rows after it lost).
  let summary: Record<string, string> = {}
  let end = all.length
  const [summaryHeader, summaryValues] = all.slice(-2)
  if (
    all.length >= 3 &&
    summaryHeader &&
    summaryValues &&
    !summaryHeader.raw.startsWith('`') &&
    summaryValues.raw.startsWith('`')
  ) {
    const values = billFields(summaryValues.raw)!
    summary = Object.fromEntries(headerCells(summaryHeader.raw).map((h, j) => [h, values[j] ?? '']))
    end -= 2
  }
  const lines: BillLine[] = []
  const unparsed: UnparsedBillLine[] = []
  for (const { raw, line } of all.slice(1, end)) {
    const fields = billFields(raw)
    if (!fields) {
      unparsed.push({
        line,
        raw,
        reason: 'no_backtick',
        message: 'the line does not start with a backtick',
      })
    } else if (fields.length !== header.length) {
      unparsed.push({
        line,
        raw,
        reason: 'field_count',
        message: `${fields.length} fields, the header has ${header.length}`,
      })
    } else {
      lines.push({ line, raw, cells: Object.fromEntries(header.map((h, j) => [h, fields[j]!])) })
    }
  }
  return { header, lines, unparsed, summary }
}

/**
 * Splits a bill (UTF-8, optional BOM, CRLF or LF) into header, data rows and the summary (the
 * last two lines: a plain header and one backticked line). A line that is not a row of the
 * header's fields is not guessed at: it is returned in `unparsed`, and the other rows are read.
 */
export function parseBill(csv: string): ParsedBill {
  const bill = readBill(csv)
  return {
    header: bill.header,
    rows: bill.lines.map((l) => l.cells),
    unparsed: bill.unparsed,
    summary: bill.summary,
  }
}

/** Reads each data line with `toRow`; a line it throws UnreadableRow for joins `unparsed`. */
function readRows<T>(
  csv: string,
  toRow: (cells: Record<string, string>) => T,
): { rows: T[]; unparsed: UnparsedBillLine[]; summary: Record<string, string> } {
  const bill = readBill(csv)
  const rows: T[] = []
  const unparsed = [...bill.unparsed]
  for (const { line, raw, cells } of bill.lines) {
    try {
      rows.push(toRow(cells))
    } catch (e) {
      if (!(e instanceof UnreadableRow)) throw e
      unparsed.push({ line, raw, reason: e.reason, message: e.message })
    }
  }
  unparsed.sort((a, b) => a.line - b.line)
  return { rows, unparsed, summary: bill.summary }
}

/** The column `name` as fen; not an amount → UnreadableRow `bad_amount`. */
function amount(cells: Record<string, string>, name: string): number {
  try {
    return yuanToFen(cells[name] ?? '')
  } catch (e) {
    throw new UnreadableRow('bad_amount', `${name}: ${(e as Error).message}`)
  }
}

/** The column `name`, which a row is matched by; empty → UnreadableRow `missing_id`. */
function id(cells: Record<string, string>, name: string): string {
  const v = cells[name] ?? ''
  if (v === '') throw new UnreadableRow('missing_id', `${name} is empty`)
  return v
}

/**
 * Parses a trade bill (申请交易账单's file). A line that is not a readable row (see
 * {@link UnparsedReason}; a row without 微信订单号 or 商户订单号, or a refund row without 商户退款单号,
 * cannot be matched either) is returned in `unparsed` with its text; the other rows are read.
 */
export function parseTradeBill(csv: string): {
  rows: TradeBillRow[]
  unparsed: UnparsedBillLine[]
  summary: Record<string, string>
} {
  return readRows(csv, (r) => {
    const tradeState = r['交易状态'] ?? ''
    return {
      tradeTime: r['交易时间'] ?? '',
      transactionId: id(r, '微信订单号'),
      outTradeNo: id(r, '商户订单号'),
      tradeState,
      settlementFen: amount(r, '应结订单金额'),
      refundId: r['微信退款单号'] ?? '',
      outRefundNo: tradeState === 'REFUND' ? id(r, '商户退款单号') : (r['商户退款单号'] ?? ''),
      refundFen: amount(r, '退款金额'),
      refundStatus: r['退款状态'] ?? '',
      totalFen: amount(r, '订单金额'),
      raw: r,
    }
  })
}

/**
 * Parses a fund-flow bill (申请资金账单's file). Accepts `(元)` and full-width `（元）` headers. A
 * line that is not a readable row is returned in `unparsed`, as for the trade bill.
 */
export function parseFundFlowBill(csv: string): {
  rows: FundFlowBillRow[]
  unparsed: UnparsedBillLine[]
  summary: Record<string, string>
} {
  return readRows(csv.replace(/（元）/g, '(元)'), (r) => ({
    bookedAt: r['记账时间'] ?? '',
    transactionId: r['微信支付业务单号'] ?? '',
    flowId: r['资金流水单号'] ?? '',
    businessName: r['业务名称'] ?? '',
    businessType: r['业务类型'] ?? '',
    direction: r['收支类型'] ?? '',
    amountFen: amount(r, '收支金额(元)'),
    balanceFen: amount(r, '账户结余(元)'),
    raw: r,
  }))
}
