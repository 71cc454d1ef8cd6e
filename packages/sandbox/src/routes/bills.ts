import { createHash, randomBytes } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { formatBeijingTime } from '@fen/wechatpay'
import { WechatError, paramError } from '../errors'
import type { Sandbox } from '../sandbox'
import type { Route } from '../http'
import type { Order, Refund } from '../state'

/** A bill download URL works for 30 seconds (sandbox time), per WeChat's field docs. */
const DOWNLOAD_TTL_MS = 30_000

const HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,' +
  '应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,' +
  '手续费,费率,订单金额,申请退款金额,费率备注'
const SUMMARY_HEADER =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额'
/** The sandbox charges the common 0.6% fee, in the bill only. */
const FEE_RATE = 0.006

const yuan = (fen: number) => (fen / 100).toFixed(2)
const fee = (fen: number) => ((fen * FEE_RATE) / 100).toFixed(5)
const line = (cells: (string | number)[]) => cells.map((c) => '`' + c).join(',')

/**
 * The trade bill of one Beijing day, in WeChat's CSV layout (§5.6): UTF-8 with BOM, a header row,
 * one backtick-prefixed row per payment (by its success time) and per refund (by its success
 * time), then the summary. Amounts in yuan.
 */
export function tradeBillCsv(sandbox: Sandbox, billDate: string, billType: string): string {
  const rows: string[] = []
  let settled = 0
  let refunded = 0
  let fees = 0
  let ordered = 0
  let applied = 0
  const onDay = (ms: number | undefined) =>
    ms !== undefined && formatBeijingTime(ms).slice(0, 10) === billDate
  for (const o of sandbox.store.orders.values()) {
    if (billType !== 'REFUND' && onDay(o.successTime)) {
      settled += o.totalFen
      ordered += o.totalFen
      fees += o.totalFen * FEE_RATE
      rows.push(billRow(o, o.successTime!))
    }
    if (billType === 'SUCCESS') continue
    for (const r of o.refunds) {
      if (r.status !== 'SUCCESS' || !onDay(r.successTime)) continue
      refunded += r.refundFen
      applied += r.refundFen
      fees -= r.refundFen * FEE_RATE
      rows.push(billRow(o, r.successTime!, r))
    }
  }
  const summary = line([
    rows.length,
    yuan(settled),
    yuan(refunded),
    '0.00',
    (fees / 100).toFixed(5),
    yuan(ordered),
    yuan(applied),
  ])
  return '\uFEFF' + [HEADER, ...rows, SUMMARY_HEADER, summary].join('\r\n') + '\r\n'
}

/** One row of the ALL layout: a payment, or (with `refund`) one of its refunds. */
function billRow(o: Order, at: number, refund?: Refund): string {
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
    refund ? '0.00' : yuan(o.totalFen),
    '0.00',
    refund ? refund.refundId : '0',
    refund ? refund.outRefundNo : '0',
    refund ? yuan(refund.refundFen) : '0.00',
    '0.00',
    refund ? 'ORIGINAL' : '',
    refund ? 'SUCCESS' : '',
    o.description,
    o.attach ?? '',
    refund ? `-${fee(refund.refundFen)}` : fee(o.totalFen),
    '0.60%',
    yuan(o.totalFen),
    refund ? yuan(refund.refundFen) : '0.00',
    '',
  ])
}

/** `YYYY-MM-DD` naming a real day (`Date.parse` would accept 2026-02-30). */
function isCalendarDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false
  const d = new Date(`${s}T00:00:00Z`)
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s
}

export const billRoutes: Route[] = [
  {
    method: 'GET',
    path: '/v3/bill/tradebill',
    kind: 'v3',
    handler: (req) => {
      const { sandbox, query } = req
      const billDate = query.get('bill_date') ?? ''
      if (!isCalendarDate(billDate)) throw paramError('bill_date', '格式应为YYYY-MM-DD', billDate)
      const billType = query.get('bill_type') ?? 'ALL'
      if (!['ALL', 'SUCCESS', 'REFUND'].includes(billType))
        throw paramError('bill_type', '取值不正确', billType)
      const tarType = query.get('tar_type')
      if (tarType !== null && tarType !== 'GZIP')
        throw paramError('tar_type', '取值不正确', tarType)
      const today = formatBeijingTime(sandbox.clock.now()).slice(0, 10)
      if (billDate >= today) {
        throw new WechatError(400, 'INVALID_REQUEST', '账单日期不正确，只能下载今天以前的账单')
      }
      // Bills are kept for three months.
      const earliest = new Date(sandbox.clock.now() + 8 * 3600_000)
      earliest.setUTCMonth(earliest.getUTCMonth() - 3)
      if (billDate < earliest.toISOString().slice(0, 10)) {
        throw new WechatError(
          400,
          'INVALID_REQUEST',
          '账单日期超出可下载范围，只能下载三个月以内的账单，请检查bill_date',
        )
      }
      const csv = Buffer.from(tradeBillCsv(sandbox, billDate, billType), 'utf8')
      const token = randomBytes(24).toString('base64url')
      sandbox.store.billFiles.set(token, {
        content: tarType === 'GZIP' ? gzipSync(csv) : csv,
        expiresAt: sandbox.clock.now() + DOWNLOAD_TTL_MS,
      })
      return {
        status: 200,
        body: {
          // The digest is of the original (decompressed) file: "原始账单（gzip需要解压缩）的摘要值".
          hash_type: 'SHA1',
          hash_value: createHash('sha1').update(csv).digest('hex'),
          download_url: `${sandbox.baseUrl}/v3/billdownload/file?token=${token}`,
        },
      }
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
      // WeChat does not sign the file: its integrity is the digest from the first step.
      return {
        status: 200,
        raw: file.content,
        contentType: 'application/octet-stream',
        unsigned: true,
      }
    },
  },
]
