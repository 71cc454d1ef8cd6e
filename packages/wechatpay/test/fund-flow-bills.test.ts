/**
 * Fund-flow bills (申请资金账单) and the typed bill options: `fundFlowBill` GETs
 * `/v3/bill/fundflowbill` with its query and verifies the answer; `download` fetches either kind
 * of bill and checks its SHA1.
 */
import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  SignatureError,
  WechatPay,
  WechatPayError,
  type FundFlowAccountType,
  type TradeBillType,
} from '../src'
import type { TestMerchant } from '../src/testing'
import { createFakeWechat, fakeClientOptions } from './support/fake-wechat'
import { testMerchant } from './support/merchant'

const NOW = Date.now()
const clock = () => NOW
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex')

let m: TestMerchant
beforeAll(async () => {
  m = await testMerchant()
})

function setup() {
  const fake = createFakeWechat(m, { clock })
  return { fake, wxpay: new WechatPay(fakeClientOptions(m, fake, clock)) }
}

const csv = Buffer.from(
  '\uFEFF记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号\r\n' +
    '`2026-12-01 13:54:01,`4200000920,`4200000920,`交易,`交易,`收入,`0.01,`0.01,`system,`,`FEN1\r\n' +
    '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n`1,`1,`0.01,`0,`0.00\r\n',
  'utf8',
)

describe('bills.fundFlowBill', () => {
  it('GETs /v3/bill/fundflowbill with bill_date, account_type and tar_type, signed', async () => {
    const { fake, wxpay } = setup()
    const answer = {
      hash_type: 'SHA1',
      hash_value: sha1(csv),
      download_url: 'https://api.mch.weixin.qq.com/v3/billdownload/file?token=t1',
    }
    fake.route('GET', '/v3/bill/fundflowbill', { body: answer })
    for (const account of ['BASIC', 'OPERATION', 'FEES'] satisfies FundFlowAccountType[]) {
      expect(
        await wxpay.bills.fundFlowBill({
          bill_date: '2026-12-01',
          account_type: account,
          tar_type: 'GZIP',
        }),
      ).toEqual(answer)
    }
    expect(fake.requests.map((r) => r.path)).toEqual(
      ['BASIC', 'OPERATION', 'FEES'].map(
        (a) => `/v3/bill/fundflowbill?bill_date=2026-12-01&account_type=${a}&tar_type=GZIP`,
      ),
    )
    expect(fake.requests.every((r) => r.authorized)).toBe(true)

    await wxpay.bills.fundFlowBill({ bill_date: '2026-12-01' })
    expect(fake.requests.at(-1)!.path).toBe('/v3/bill/fundflowbill?bill_date=2026-12-01')
  })

  it('refuses an unsigned answer, as every 2xx', async () => {
    const { fake, wxpay } = setup()
    fake.route('GET', '/v3/bill/fundflowbill', {
      body: { hash_type: 'SHA1', hash_value: 'x', download_url: 'https://x/' },
      signature: 'omit',
    })
    await expect(wxpay.bills.fundFlowBill({ bill_date: '2026-12-01' })).rejects.toBeInstanceOf(
      SignatureError,
    )
  })

  it('its file downloads like a trade bill: gunzipped and SHA1-checked', async () => {
    const { fake, wxpay } = setup()
    fake.route('GET', '/v3/bill/fundflowbill', {
      body: {
        hash_type: 'SHA1',
        hash_value: sha1(csv),
        download_url: 'https://api.mch.weixin.qq.com/v3/billdownload/file?token=t2',
      },
    })
    fake.route('GET', '/v3/billdownload/file', { body: gzipSync(csv), signature: 'omit' })
    const bill = await wxpay.bills.fundFlowBill({ bill_date: '2026-12-01', tar_type: 'GZIP' })
    expect((await wxpay.bills.download(bill)).equals(csv)).toBe(true)
    await expect(
      wxpay.bills.download({ ...bill, hash_value: sha1(Buffer.from('other')) }),
    ).rejects.toBeInstanceOf(WechatPayError)
  })
})

describe('bills.tradeBill bill types', () => {
  it('sends every documented bill_type', async () => {
    const { fake, wxpay } = setup()
    fake.route('GET', '/v3/bill/tradebill', {
      body: { hash_type: 'SHA1', hash_value: 'x', download_url: 'https://x/' },
    })
    const types = [
      'ALL',
      'SUCCESS',
      'REFUND',
      'RECHARGE_REFUND',
      'ALL_SPECIAL',
      'SUC_SPECIAL',
      'REF_SPECIAL',
    ] satisfies TradeBillType[]
    for (const bill_type of types)
      await wxpay.bills.tradeBill({ bill_date: '2026-12-01', bill_type })
    expect(
      fake.requests.map((r) => new URL(r.path, 'http://x').searchParams.get('bill_type')),
    ).toEqual(types)
  })
})
