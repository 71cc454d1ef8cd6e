import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import type { WechatPayClient } from '../core/client'
import { WechatPayError } from '../core/errors'
import type { CallOptions } from './transactions'

/** 申请交易账单. `bill_date` is `YYYY-MM-DD`, within the last 3 months. */
export interface TradeBillRequest {
  bill_date: string
  bill_type?: 'ALL' | 'SUCCESS' | 'REFUND'
  tar_type?: 'GZIP'
}

/** Where to fetch the bill file, and the digest of its (decompressed) content. */
export interface TradeBill {
  hash_type: 'SHA1'
  hash_value: string
  download_url: string
}

/** `/v3/bill/tradebill` and the bill file download. */
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
   * 下载账单: fetches the file (a signed request whose answer WeChat does not sign), gunzips it
   * when it is gzip, and checks its SHA1 against `hash_value` — the integrity check that replaces
   * the signature here. Returns the CSV bytes (UTF-8 with BOM; amounts in yuan).
   *
   * Only the path and query of `download_url` are used, against the client's base URL, so the
   * signed request never goes to a host the client was not configured for.
   */
  async download(bill: TradeBill, options?: CallOptions): Promise<Buffer> {
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
      throw new WechatPayError(`bill file digest ${digest} does not match ${bill.hash_value}`)
    }
    return content
  }
}
