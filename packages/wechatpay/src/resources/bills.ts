import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import type { WechatPayClient } from '../core/client'
import { BillDigestError } from './bill-csv'
import type { CallOptions } from './transactions'

/**
 * `bill_type` of a trade bill: ALL (the default; payments and refunds, not recharge-coupon
 * refunds), SUCCESS (payments), REFUND (refunds), RECHARGE_REFUND (refunds of recharge coupons),
 * and the 个性化 (special) variants ALL_SPECIAL, SUC_SPECIAL, REF_SPECIAL.
 */
export type TradeBillType =
  'ALL' | 'SUCCESS' | 'REFUND' | 'RECHARGE_REFUND' | 'ALL_SPECIAL' | 'SUC_SPECIAL' | 'REF_SPECIAL'

/** 申请交易账单. `bill_date` is `YYYY-MM-DD`, within the last 3 months. */
export interface TradeBillRequest {
  bill_date: string
  bill_type?: TradeBillType
  tar_type?: 'GZIP'
}

/** The account of a fund-flow bill: BASIC (基本账户, the default), OPERATION (运营账户), FEES (手续费账户). */
export type FundFlowAccountType = 'BASIC' | 'OPERATION' | 'FEES'

/** 申请资金账单. `bill_date` is `YYYY-MM-DD`, within the last 3 months. */
export interface FundFlowBillRequest {
  bill_date: string
  account_type?: FundFlowAccountType
  tar_type?: 'GZIP'
}

/** Where to fetch a bill file, and the digest of its (decompressed) content. */
export interface BillDownload {
  hash_type: 'SHA1'
  hash_value: string
  download_url: string
}

/** The answer of {@link Bills.tradeBill}. */
export type TradeBill = BillDownload
/** The answer of {@link Bills.fundFlowBill}. */
export type FundFlowBill = BillDownload

/**
 * `/v3/bill/tradebill`, `/v3/bill/fundflowbill` and the bill file download. Day D's bills are
 * ready from 10:00 Beijing time on D+1: before that WeChat answers 400 `STATEMENT_CREATING`; a
 * day without trades has no bill (400 `NO_STATEMENT_EXIST`).
 */
export class Bills {
  constructor(private readonly client: WechatPayClient) {}

  /**
   * 申请交易账单: returns the download URL (valid briefly) and the SHA1 of the file.
   * @see https://pay.weixin.qq.com/docs/merchant/apis/mini-program-payment/trade-bill.html
   */
  async tradeBill(req: TradeBillRequest, options?: CallOptions): Promise<TradeBill> {
    const res = await this.client.request<TradeBill>({
      method: 'GET',
      path: '/v3/bill/tradebill',
      query: { bill_date: req.bill_date, bill_type: req.bill_type, tar_type: req.tar_type },
      ...options,
    })
    return res.data
  }

  /**
   * 申请资金账单: the download URL and SHA1 of one day's fund-flow bill of an account.
   * @see https://pay.weixin.qq.com/docs/merchant/apis/mini-program-payment/fund-bill.html
   */
  async fundFlowBill(req: FundFlowBillRequest, options?: CallOptions): Promise<FundFlowBill> {
    const res = await this.client.request<FundFlowBill>({
      method: 'GET',
      path: '/v3/bill/fundflowbill',
      query: { bill_date: req.bill_date, account_type: req.account_type, tar_type: req.tar_type },
      ...options,
    })
    return res.data
  }

  /**
   * 下载账单 (trade or fund-flow): fetches the file (a signed request whose answer WeChat does not sign), gunzips it
   * when it is gzip, and checks its SHA1 against `hash_value` — the integrity check that replaces
   * the signature here. Returns the CSV bytes (UTF-8 with BOM; amounts in yuan).
   *
   * Only the path and query of `download_url` are used, against the client's base URL, so the
   * signed request never goes to a host the client was not configured for.
   */
  async download(bill: BillDownload, options?: CallOptions): Promise<Buffer> {
    const url = new URL(bill.download_url)
    // The query is kept verbatim: re-encoding it could change the token's bytes.
    let path = url.pathname + url.search
    if (this.client.basePath && path.startsWith(this.client.basePath + '/')) {
      path = path.slice(this.client.basePath.length)
    }
    const res = await this.client.send({ method: 'GET', path, verify: false, ...options })
    const isGzip = res.body.length >= 2 && res.body[0] === 0x1f && res.body[1] === 0x8b
    const content = isGzip ? gunzipSync(res.body) : res.body
    const digest = createHash('sha1').update(content).digest('hex')
    if (bill.hash_type !== 'SHA1' || digest !== bill.hash_value.toLowerCase()) {
      throw new BillDigestError(bill.hash_value, digest)
    }
    return content
  }
}
