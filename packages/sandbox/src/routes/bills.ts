import { createHash, randomBytes } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { formatBeijingTime } from '@fen/wechatpay'
import { WechatError, paramError } from '../errors'
import type { Sandbox } from '../sandbox'
import type { Route, SandboxReply, SandboxRequest } from '../http'
import type { Order, Refund } from '../state'

/** A bill download URL works for 30 seconds (sandbox time), per WeChat's field docs. */
const DOWNLOAD_TTL_MS = 30_000

const HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,' +
  '应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,' +
  '手续费,费率,订单金额,申请退款金额,费率备注'
const SUMMARY_HEADER =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额'
/** The sandbox charges the common 0.6% fee, in the bills and in a refund's `refund_fee` only. */
const FEE_RATE = 0.006

/** 手续费退款金额 of a refund, in fen: its share of the fee, rounded. */
export const refundFeeFen = (refundFen: number) => Math.round(refundFen * FEE_RATE)

const yuan = (fen: number) => (fen / 100).toFixed(2)
const fee = (fen: number) => ((fen * FEE_RATE) / 100).toFixed(5)
const line = (cells: (string | number)[]) => cells.map((c) => '`' + c).join(',')

/** `bill_type` of the trade bill. `*_SPECIAL` (个性化账单) bill like their plain type here. */
const TRADE_BILL_TYPES = [
  'ALL',
  'SUCCESS',
  'REFUND',
  'RECHARGE_REFUND',
  'ALL_SPECIAL',
  'SUC_SPECIAL',
  'REF_SPECIAL',
] as const
type TradeBillType = (typeof TRADE_BILL_TYPES)[number]
const PLAIN_TYPE: Record<TradeBillType, 'ALL' | 'SUCCESS' | 'REFUND' | 'RECHARGE_REFUND'> = {
  ALL: 'ALL',
  SUCCESS: 'SUCCESS',
  REFUND: 'REFUND',
  RECHARGE_REFUND: 'RECHARGE_REFUND',
  ALL_SPECIAL: 'ALL',
  SUC_SPECIAL: 'SUCCESS',
  REF_SPECIAL: 'REFUND',
}

/** The parts of a bill file. */
type BillBody = { header: string; rows: string[]; summaryHeader: string; summary: string }

/** A bill file: UTF-8 with BOM, CRLF line ends, header, rows, summary header, summary. */
function billFile(b: BillBody): string {
  return '\uFEFF' + [b.header, ...b.rows, b.summaryHeader, b.summary].join('\r\n') + '\r\n'
}

const onDay = (billDate: string, ms: number | undefined) =>
  ms !== undefined && formatBeijingTime(ms).slice(0, 10) === billDate

/** What a trade-bill row shows of its payment: an order the sandbox holds, or a planted foreign one. */
type BilledPayment = Pick<
  Order,
  | 'appid'
  | 'mchid'
  | 'transactionId'
  | 'outTradeNo'
  | 'payerOpenid'
  | 'tradeType'
  | 'bankType'
  | 'currency'
  | 'description'
  | 'attach'
>

/** One row of a trade bill before it is written: `fen` is the amount it bills. */
interface TradeRow {
  at: number
  payment: BilledPayment
  refund?: Refund
  fen: number
}

/**
 * The trade bill of one Beijing day, in WeChat's CSV layout (wechat-ops-api.md §4): UTF-8 with
 * BOM, a plain header row, one backtick-prefixed row per payment (by its success time) and per
 * refund (by its success time), then the summary. Amounts in yuan. Empty string: no trades, so no
 * bill (WeChat answers NO_STATEMENT_EXIST). The sandbox has no recharge coupons, so a
 * RECHARGE_REFUND bill never exists. The day's bill edits (`POST /__sandbox/bill-edits`) are
 * applied before the summary is added up, so the summary agrees with the rows, as WeChat's does;
 * `raw` lines come first and are not counted (the sandbox cannot know what they bill).
 */
export function tradeBillCsv(sandbox: Sandbox, billDate: string, billType: string): string {
  const type = PLAIN_TYPE[billType as TradeBillType] ?? 'ALL'
  if (type === 'RECHARGE_REFUND') return ''
  let rows: TradeRow[] = []
  for (const o of sandbox.store.orders.values()) {
    if (type !== 'REFUND' && onDay(billDate, o.successTime))
      rows.push({ at: o.successTime!, payment: o, fen: o.totalFen })
    if (type === 'SUCCESS') continue
    for (const r of o.refunds) {
      if (r.status !== 'SUCCESS' || !onDay(billDate, r.successTime)) continue
      rows.push({ at: r.successTime!, payment: o, refund: r, fen: r.refundFen })
    }
  }
  rows = applyBillEdits(sandbox, billDate, type, rows)
  const rawLines = sandbox.store.billEdits.flatMap((e) =>
    e.kind === 'raw' && e.billDate === billDate ? [e.line] : [],
  )
  if (rows.length === 0 && rawLines.length === 0) return ''
  let settled = 0
  let refunded = 0
  let fees = 0
  for (const row of rows) {
    if (row.refund) refunded += row.fen
    else settled += row.fen
    fees += (row.refund ? -row.fen : row.fen) * FEE_RATE
  }
  const summary = line([
    rows.length,
    yuan(settled),
    yuan(refunded),
    '0.00',
    (fees / 100).toFixed(5),
    yuan(settled),
    yuan(refunded),
  ])
  return billFile({
    header: HEADER,
    rows: [...rawLines, ...rows.map(billRow)],
    summaryHeader: SUMMARY_HEADER,
    summary,
  })
}

/** The rows of a day's bill after that day's edits: amounts changed, rows dropped, foreign rows added. */
function applyBillEdits(
  sandbox: Sandbox,
  billDate: string,
  type: 'ALL' | 'SUCCESS' | 'REFUND',
  rows: TradeRow[],
): TradeRow[] {
  const is = (row: TradeRow, e: { outTradeNo: string; outRefundNo?: string | undefined }) =>
    row.payment.outTradeNo === e.outTradeNo && row.refund?.outRefundNo === e.outRefundNo
  let edited = rows
  for (const e of sandbox.store.billEdits) {
    if (e.billDate !== billDate || e.kind === 'raw') continue
    if (e.kind === 'amount')
      edited = edited.map((row) => (is(row, e) ? { ...row, fen: e.amountFen } : row))
    else if (e.kind === 'drop') edited = edited.filter((row) => !is(row, e))
    else if (type !== 'REFUND') {
      edited = [
        ...edited,
        {
          at: Date.parse(`${billDate}T12:00:00+08:00`),
          payment: {
            appid: sandbox.keys.appid,
            mchid: sandbox.keys.mchid,
            transactionId: e.transactionId,
            outTradeNo: e.outTradeNo,
            payerOpenid: undefined,
            tradeType: 'JSAPI',
            bankType: 'OTHERS',
            currency: 'CNY',
            description: '商品',
            attach: undefined,
          },
          fen: e.amountFen,
        },
      ]
    }
  }
  return edited
}

/** One row of the ALL layout: a payment, or one of its refunds, billing `fen`. */
function billRow({ at, payment: o, refund, fen }: TradeRow): string {
  const time = formatBeijingTime(at).slice(0, 19).replace('T', ' ')
  return line([
    time,
    o.appid,
    o.mchid,
    '0',
    '',
    o.transactionId!,
    o.outTradeNo,
    o.payerOpenid ?? '',
    o.tradeType,
    refund ? 'REFUND' : 'SUCCESS',
    o.bankType ?? 'OTHERS',
    o.currency,
    refund ? '0.00' : yuan(fen),
    '0.00',
    refund ? refund.refundId : '0',
    refund ? refund.outRefundNo : '0',
    refund ? yuan(fen) : '0.00',
    '0.00',
    refund ? 'ORIGINAL' : '',
    refund ? 'SUCCESS' : '',
    o.description,
    o.attach ?? '',
    refund ? `-${fee(fen)}` : fee(fen),
    '0.60%',
    refund ? yuan(refund.order.totalFen) : yuan(fen),
    refund ? yuan(fen) : '0.00',
    '',
  ])
}

const FUND_FLOW_HEADER =
  '记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号'
const FUND_FLOW_SUMMARY_HEADER = '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额'
const ACCOUNT_TYPES = ['BASIC', 'OPERATION', 'FEES'] as const

/** One movement of the basic account: a payment in, or a refund out. */
interface Movement {
  at: number
  fen: number
  order: Order
  refund?: Refund
}

/**
 * The fund-flow bill of one Beijing day and account (wechat-ops-api.md §4): one row per movement,
 * with the balance after it, then the summary. The sandbox books payments (收入, gross) and
 * successful refunds (支出) on the BASIC account; its OPERATION and FEES accounts never move, so
 * their bills never exist (empty string, as for a day without movements). Fees are not booked.
 */
export function fundFlowBillCsv(sandbox: Sandbox, billDate: string, accountType: string): string {
  if (accountType !== 'BASIC') return ''
  const movements: Movement[] = []
  for (const o of sandbox.store.orders.values()) {
    if (o.successTime !== undefined)
      movements.push({ at: o.successTime, fen: o.totalFen, order: o })
    for (const r of o.refunds) {
      if (r.status === 'SUCCESS')
        movements.push({ at: r.successTime!, fen: -r.refundFen, order: o, refund: r })
    }
  }
  movements.sort((a, b) => a.at - b.at)
  const rows: string[] = []
  let balance = 0
  const tally = { inCount: 0, inFen: 0, outCount: 0, outFen: 0 }
  for (const m of movements) {
    balance += m.fen
    if (!onDay(billDate, m.at)) continue
    const r = m.refund
    if (r) [tally.outCount, tally.outFen] = [tally.outCount + 1, tally.outFen - m.fen]
    else [tally.inCount, tally.inFen] = [tally.inCount + 1, tally.inFen + m.fen]
    rows.push(
      line([
        formatBeijingTime(m.at).slice(0, 19).replace('T', ' '),
        r ? r.refundId : m.order.transactionId!,
        m.order.transactionId!,
        r ? '退款' : '交易',
        r ? '退款' : '交易',
        r ? '支出' : '收入',
        yuan(Math.abs(m.fen)),
        yuan(balance),
        r ? `${m.order.mchid}API` : 'system',
        r ? `退款总金额${yuan(r.refundFen)}元;含手续费${yuan(refundFeeFen(r.refundFen))}元` : '',
        r ? r.outRefundNo : m.order.outTradeNo,
      ]),
    )
  }
  if (rows.length === 0) return ''
  const summary = line([
    rows.length,
    tally.inCount,
    yuan(tally.inFen),
    tally.outCount,
    yuan(tally.outFen),
  ])
  return billFile({
    header: FUND_FLOW_HEADER,
    rows,
    summaryHeader: FUND_FLOW_SUMMARY_HEADER,
    summary,
  })
}

/** `YYYY-MM-DD` naming a real day (`Date.parse` would accept 2026-02-30). */
export function isCalendarDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false
  const d = new Date(`${s}T00:00:00Z`)
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s
}

/** Day D's bills are ready at 10:00 Beijing time on D+1 (generated from 09:00; §4). */
const READY_HOUR_NEXT_DAY = 10

/**
 * Checks `bill_date` and `tar_type` as both bill APIs do, and whether the day's bill is ready:
 * a malformed date → PARAM_ERROR; a future date or one beyond 3 months → INVALID_REQUEST; a day
 * whose bill is not generated yet (today, or yesterday before 10:00 Beijing time, by the sandbox
 * clock) → STATEMENT_CREATING. Returns the date and whether to gzip.
 */
function billRequest(req: SandboxRequest): { billDate: string; gzip: boolean } {
  const { sandbox, query } = req
  const billDate = query.get('bill_date') ?? ''
  if (!isCalendarDate(billDate)) throw paramError('bill_date', '格式应为YYYY-MM-DD', billDate)
  const tarType = query.get('tar_type')
  if (tarType !== null && tarType !== 'GZIP') throw paramError('tar_type', '取值不正确', tarType)
  const now = sandbox.clock.now()
  const today = formatBeijingTime(now).slice(0, 10)
  if (billDate > today) {
    throw new WechatError(400, 'INVALID_REQUEST', '账单日期不正确，只能下载今天以前的账单')
  }
  // Bills are kept for three months.
  const earliest = new Date(now + 8 * 3600_000)
  earliest.setUTCMonth(earliest.getUTCMonth() - 3)
  if (billDate < earliest.toISOString().slice(0, 10)) {
    throw new WechatError(
      400,
      'INVALID_REQUEST',
      '账单日期超出可下载范围，只能下载三个月以内的账单，请检查bill_date',
    )
  }
  const readyAt =
    Date.parse(`${billDate}T${String(READY_HOUR_NEXT_DAY).padStart(2, '0')}:00:00+08:00`) +
    86_400_000
  if (now < readyAt) throw new WechatError(400, 'STATEMENT_CREATING', '账单生成中，请稍后再试')
  return { billDate, gzip: tarType === 'GZIP' }
}

/**
 * Keeps a bill file behind a download token (30 s) and answers its digest — SHA1 of the original,
 * decompressed file: "原始账单（gzip需要解压缩）的摘要值". An empty bill is no bill.
 */
function issueBill(sandbox: Sandbox, csv: string, gzip: boolean): SandboxReply {
  if (!csv) throw new WechatError(400, 'NO_STATEMENT_EXIST', '要下载的账单不存在')
  const content = Buffer.from(csv, 'utf8')
  const token = randomBytes(24).toString('base64url')
  sandbox.store.billFiles.set(token, {
    content,
    gzip,
    expiresAt: sandbox.clock.now() + DOWNLOAD_TTL_MS,
  })
  return {
    status: 200,
    body: {
      hash_type: 'SHA1',
      hash_value: createHash('sha1').update(content).digest('hex'),
      download_url: `${sandbox.baseUrl}/v3/billdownload/file?token=${token}`,
    },
  }
}

/** A copy of `content` with its middle byte changed (still UTF-8 often enough; only the digest matters). */
function damaged(content: Buffer): Buffer {
  const copy = Buffer.from(content)
  const i = Math.floor(copy.length / 2)
  copy[i] = copy[i]! ^ 0x01
  return copy
}

export const billRoutes: Route[] = [
  {
    method: 'GET',
    path: '/v3/bill/tradebill',
    kind: 'v3',
    handler: (req) => {
      const billType = req.query.get('bill_type') ?? 'ALL'
      if (!(TRADE_BILL_TYPES as readonly string[]).includes(billType))
        throw paramError('bill_type', '取值不正确', billType)
      const { billDate, gzip } = billRequest(req)
      return issueBill(req.sandbox, tradeBillCsv(req.sandbox, billDate, billType), gzip)
    },
  },
  {
    method: 'GET',
    path: '/v3/bill/fundflowbill',
    kind: 'v3',
    handler: (req) => {
      const accountType = req.query.get('account_type') ?? 'BASIC'
      if (!(ACCOUNT_TYPES as readonly string[]).includes(accountType))
        throw paramError('account_type', '取值不正确', accountType)
      const { billDate, gzip } = billRequest(req)
      return issueBill(req.sandbox, fundFlowBillCsv(req.sandbox, billDate, accountType), gzip)
    },
  },
  {
    method: 'GET',
    path: '/v3/billdownload/file',
    kind: 'v3',
    handler: (req) => {
      const file = req.sandbox.store.billFiles.get(req.query.get('token') ?? '')
      if (!file || req.sandbox.clock.now() > file.expiresAt) {
        throw new WechatError(400, 'INVALID_REQUEST', '下载地址已过期或不存在，请重新申请账单')
      }
      // A `corrupt` fault: the file arrives damaged (one byte of the CSV changed, before gzip), so
      // its SHA1 no longer matches the digest the bill API announced.
      const content = req.fault?.kind === 'corrupt' ? damaged(file.content) : file.content
      // WeChat does not sign the file: its integrity is the digest from the first step.
      return {
        status: 200,
        raw: file.gzip ? gzipSync(content) : content,
        contentType: 'application/octet-stream',
        unsigned: true,
      }
    },
  },
]
