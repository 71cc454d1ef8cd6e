import {
  DISCREPANCY_KINDS,
  formatFen,
  type Discrepancy,
  type DiscrepancyKind,
  type ReconciliationResult,
} from '@fen/shared'
import {
  ApiError,
  BillDigestError,
  parseTradeBill,
  type BillDownload,
  type Bills,
  type TradeBillRow,
  type UnparsedReason,
} from '@fen/wechatpay'
import { createHash } from 'node:crypto'
import { AppError } from '../errors'
import { loggable } from '../logger'
import {
  findReconciliation,
  ordersByNo,
  paymentsByTransactionId,
  paymentsPaidBetween,
  refundsByOutRefundNo,
  refundsSucceededBetween,
  saveReconciliation,
  type KeptBillFile,
  type StoredReconciliation,
} from '../repositories/reconciliation'
import type { ServiceContext } from './context'
import { wechatFailure } from './wechat-errors'

const DAY_MS = 86_400_000

/** The instants a Beijing day spans: [00:00+08:00, next 00:00+08:00). */
export function beijingDayBounds(date: string): { from: Date; to: Date } {
  const from = Date.parse(`${date}T00:00:00+08:00`)
  return { from: new Date(from), to: new Date(from + DAY_MS) }
}

/** A downloaded bill, or why there is none. */
type Fetched = { file: KeptBillFile } | { none: 'not_ready' | 'no_statement' }

/**
 * Daily reconciliation (对账): one Beijing day's ALL trade bill from WeChat Pay against our
 * payments and successful refunds, by WeChat's success times (`payments.paid_at`,
 * `refunds.settled_at` hold them). The BASIC fund-flow bill of the day is downloaded and kept
 * beside it for the accountant; it is not compared (it books the same movements in the account's
 * terms). A run stores its result, discrepancies and files in one transaction, replacing the day's
 * earlier run; a bill whose SHA1 does not match is refused and nothing is stored.
 */
export class ReconciliationService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly bills: Bills,
  ) {}

  /** The day's stored result, or `not_run`. */
  async result(date: string): Promise<ReconciliationResult> {
    return (
      (await findReconciliation(this.ctx.db, date)) ?? {
        date,
        status: 'not_run',
        counts: { ours: 0, theirs: 0, matched: 0, discrepancies: 0 },
        discrepancies: [],
      }
    )
  }

  /**
   * Reconciles `date` now and stores the result. Throws AppError WECHAT_ERROR / WECHAT_UNAVAILABLE
   * when WeChat fails or a file's digest does not match, and any other error as it is (the day
   * keeps its earlier result). Every failure is counted (`failed`) and logged as an ALERT.
   */
  async run(date: string): Promise<StoredReconciliation> {
    try {
      return await this.#run(date)
    } catch (e) {
      // Nothing was stored and the job tries again on its next run; a day that keeps failing
      // (WeChat, a damaged file, the database, a bug) must not fail in silence.
      const { metrics, logger } = this.ctx
      metrics.reconciliationRuns.inc({ status: 'failed' })
      if (e instanceof BillDigestError) {
        logger.error(
          { date, expected: e.expected, actual: e.actual },
          'ALERT: bill file digest mismatch; the file was refused and nothing was recorded (retried on the next run)',
        )
        throw new AppError('WECHAT_ERROR', '账单文件的 SHA1 与微信支付给出的摘要不符，已拒绝该文件')
      }
      logger.error(
        { date, err: loggable(e) },
        'ALERT: reconciliation failed; nothing was recorded (retried on the next run)',
      )
      // WeChat's failures as 502/503; anything else is rethrown as it is (a 500).
      throw wechatFailure(e)
    }
  }

  /** One run of {@link run}, which counts and reports its failures. */
  async #run(date: string): Promise<StoredReconciliation> {
    const { metrics, logger } = this.ctx
    const trade = await this.#fetch(
      () => this.bills.tradeBill({ bill_date: date, bill_type: 'ALL', tar_type: 'GZIP' }),
      'trade_all',
    )
    const fundFlow =
      'file' in trade
        ? await this.#fetch(
            () =>
              this.bills.fundFlowBill({ bill_date: date, account_type: 'BASIC', tar_type: 'GZIP' }),
            'fund_flow_basic',
          )
        : undefined

    const ranAt = this.ctx.clock().toISOString()
    const notReady = (f: Fetched | undefined) =>
      f !== undefined && 'none' in f && f.none === 'not_ready'
    let result: StoredReconciliation
    // The fund-flow bill not ready while the trade bill is: the day is retried whole.
    if (notReady(trade) || notReady(fundFlow)) result = { ...emptyResult(date, 'not_ready'), ranAt }
    else if ('file' in trade) result = { ...(await this.#compare(date, trade.file.content)), ranAt }
    else result = { ...(await this.#noStatement(date)), ranAt }
    const files = result.status === 'not_ready' ? [] : [trade, fundFlow].flatMap(fileOf)
    await saveReconciliation(this.ctx.db, result, files)

    metrics.reconciliationRuns.inc({ status: result.status })
    if (result.discrepancies.length > 0) {
      logger.error(
        {
          date,
          counts: result.counts,
          kinds: countKinds(result.discrepancies),
          // The first few are enough to start; the admin API lists them all.
          discrepancies: result.discrepancies.slice(0, 20),
        },
        'ALERT: reconciliation found discrepancies between the WeChat Pay bill and our records',
      )
    } else {
      logger.info({ date, status: result.status, counts: result.counts }, 'reconciliation done')
    }
    return result
  }

  /**
   * 申请账单 then 下载账单: the file, checked against its digest by the SDK; or STATEMENT_CREATING
   * (not ready) / NO_STATEMENT_EXIST (none). "None" is believed only when WeChat signed it.
   */
  async #fetch(apply: () => Promise<BillDownload>, kind: KeptBillFile['kind']): Promise<Fetched> {
    let bill: BillDownload
    try {
      bill = await apply()
    } catch (e) {
      if (e instanceof ApiError && e.code === 'STATEMENT_CREATING') return { none: 'not_ready' }
      if (e instanceof ApiError && e.code === 'NO_STATEMENT_EXIST' && e.signed)
        return { none: 'no_statement' }
      throw e
    }
    const bytes = await this.bills.download(bill)
    return {
      file: {
        kind,
        sha1: createHash('sha1').update(bytes).digest('hex'),
        content: bytes.toString('utf8'),
      },
    }
  }

  /** WeChat has no bill of the day: nothing to do without records here, a discrepancy with them. */
  async #noStatement(date: string): Promise<ReconciliationResult> {
    const { from, to } = beijingDayBounds(date)
    const [ours, ourRefunds] = await Promise.all([
      paymentsPaidBetween(this.ctx.db, from, to),
      refundsSucceededBetween(this.ctx.db, from, to),
    ])
    const count = ours.length + ourRefunds.length
    if (count === 0) return emptyResult(date, 'no_bill')
    const discrepancies: Discrepancy[] = [
      {
        kind: 'no_statement',
        detail: `微信支付没有 ${date} 的账单，但本地当天有 ${ours.length} 笔支付、${ourRefunds.length} 笔退款`,
      },
    ]
    return {
      date,
      status: 'discrepancies',
      counts: { ours: count, theirs: 0, matched: 0, discrepancies: 1 },
      discrepancies,
    }
  }

  /** Compares each bill row with our record, and our day's records with the bill. */
  async #compare(date: string, csv: string): Promise<ReconciliationResult> {
    const db = this.ctx.db
    const { rows, unparsed } = parseTradeBill(csv)
    // An ALL bill has one row per payment (交易状态 SUCCESS) and one per refund (REFUND).
    const refundRows = rows.filter((r) => r.tradeState === 'REFUND')
    const paymentRows = rows.filter((r) => r.tradeState !== 'REFUND')
    const { from, to } = beijingDayBounds(date)
    const [dayPayments, dayRefunds, billedPayments, billedRefunds] = await Promise.all([
      paymentsPaidBetween(db, from, to),
      refundsSucceededBetween(db, from, to),
      paymentsByTransactionId(
        db,
        paymentRows.map((r) => r.transactionId),
      ),
      refundsByOutRefundNo(
        db,
        refundRows.map((r) => r.outRefundNo),
      ),
    ])
    const payments = new Map([...dayPayments, ...billedPayments].map((p) => [p.transactionId, p]))
    const refunds = new Map([...dayRefunds, ...billedRefunds].map((r) => [r.outRefundNo, r]))
    const unpaidHere = paymentRows.filter((r) => !payments.has(r.transactionId))
    const orders = new Map(
      (
        await ordersByNo(
          db,
          unpaidHere.map((r) => r.outTradeNo),
        )
      ).map((o) => [o.orderNo, o]),
    )

    // A line that is not a readable row cannot be matched: the operator reads it (the file is kept).
    const discrepancies: Discrepancy[] = unparsed.map((u): Discrepancy => ({
      kind: 'unparseable_row',
      rawLine: u.raw,
      detail: `账单第 ${u.line} 行无法解析（${UNPARSED_REASON[u.reason]}），请对照账单文件人工核对`,
    }))
    let matched = 0
    const seenPayments = new Set<string>()
    const seenRefunds = new Set<string>()
    for (const row of paymentRows) {
      const ids = { outTradeNo: row.outTradeNo, transactionId: row.transactionId }
      const ours = payments.get(row.transactionId)
      if (ours) {
        seenPayments.add(row.transactionId)
        if (ours.amountFen === row.totalFen) matched++
        else
          discrepancies.push({
            kind: 'amount_differs',
            ...ids,
            oursFen: ours.amountFen,
            theirsFen: row.totalFen,
            detail: `支付金额不一致：本地 ${formatFen(ours.amountFen)}，微信 ${formatFen(row.totalFen)}`,
          })
        continue
      }
      const order = orders.get(row.outTradeNo)
      discrepancies.push(
        order
          ? {
              kind: 'status_differs',
              ...ids,
              theirsFen: row.totalFen,
              detail: `微信记为已支付（${row.tradeState}），本地订单为 ${order.status}，没有这笔支付`,
            }
          : {
              kind: 'missing_here',
              ...ids,
              theirsFen: row.totalFen,
              detail: `微信账单中的支付在本地没有记录（${formatFen(row.totalFen)}）`,
            },
      )
    }
    for (const row of refundRows) {
      const d = this.#refundRow(row, refunds, seenRefunds)
      if (d) discrepancies.push(d)
      else matched++
    }

    for (const p of dayPayments) {
      if (seenPayments.has(p.transactionId)) continue
      discrepancies.push({
        kind: 'missing_at_wechat',
        outTradeNo: p.orderNo,
        transactionId: p.transactionId,
        oursFen: p.amountFen,
        detail: `本地的支付不在微信 ${date} 的账单中（${formatFen(p.amountFen)}）`,
      })
    }
    for (const r of dayRefunds) {
      if (seenRefunds.has(r.outRefundNo)) continue
      discrepancies.push({
        kind: 'missing_at_wechat',
        outTradeNo: r.orderNo,
        outRefundNo: r.outRefundNo,
        oursFen: r.amountFen,
        detail: `本地的退款不在微信 ${date} 的账单中（${formatFen(r.amountFen)}）`,
      })
    }
    return {
      date,
      status: discrepancies.length > 0 ? 'discrepancies' : 'matched',
      counts: {
        ours: payments.size + refunds.size,
        theirs: rows.length + unparsed.length,
        matched,
        discrepancies: discrepancies.length,
      },
      discrepancies,
    }
  }

  /** One refund row against our refund: undefined when they agree. */
  #refundRow(
    row: TradeBillRow,
    refunds: Map<string, { outRefundNo: string; amountFen: number; status: string }>,
    seen: Set<string>,
  ): Discrepancy | undefined {
    const ids = {
      outTradeNo: row.outTradeNo,
      outRefundNo: row.outRefundNo,
      transactionId: row.transactionId,
    }
    const ours = refunds.get(row.outRefundNo)
    if (!ours) {
      return {
        kind: 'missing_here',
        ...ids,
        theirsFen: row.refundFen,
        detail: `微信账单中的退款在本地没有记录（${formatFen(row.refundFen)}）`,
      }
    }
    seen.add(row.outRefundNo)
    if (ours.status !== 'SUCCESS') {
      return {
        kind: 'status_differs',
        ...ids,
        oursFen: ours.amountFen,
        theirsFen: row.refundFen,
        detail: `微信记为退款成功（${row.refundStatus}），本地退款为 ${ours.status}`,
      }
    }
    if (ours.amountFen !== row.refundFen) {
      return {
        kind: 'amount_differs',
        ...ids,
        oursFen: ours.amountFen,
        theirsFen: row.refundFen,
        detail: `退款金额不一致：本地 ${formatFen(ours.amountFen)}，微信 ${formatFen(row.refundFen)}`,
      }
    }
    return undefined
  }
}

/** Why a bill line could not be read, for the operator. */
const UNPARSED_REASON: Record<UnparsedReason, string> = {
  no_backtick: '不是以反引号开头的账单行',
  field_count: '列数与表头不符',
  bad_amount: '金额格式不正确或超出范围',
  missing_id: '缺少订单号或退款单号',
}

function emptyResult(
  date: string,
  status: 'not_ready' | 'no_bill',
): Omit<ReconciliationResult, 'ranAt'> {
  return {
    date,
    status,
    counts: { ours: 0, theirs: 0, matched: 0, discrepancies: 0 },
    discrepancies: [],
  }
}

const fileOf = (f: Fetched | undefined): KeptBillFile[] => (f && 'file' in f ? [f.file] : [])

function countKinds(ds: Discrepancy[]): Partial<Record<DiscrepancyKind, number>> {
  const counts: Partial<Record<DiscrepancyKind, number>> = {}
  for (const kind of DISCREPANCY_KINDS) {
    const n = ds.filter((d) => d.kind === kind).length
    if (n > 0) counts[kind] = n
  }
  return counts
}
