/**
 * `GET /v3/bill/fundflowbill` (wechat-ops-api.md §4): the BASIC account's movements of one day,
 * built from the sandbox's own payments and refunds — the documented 11 columns, every value
 * backtick-prefixed, the balance after each movement, the summary — behind a 30 s download URL,
 * with the SHA1 of the decompressed file.
 */
import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { control, type ErrorBody } from './support/independent-client'
import { useFidelitySandbox } from './support/fidelity'

const f = useFidelitySandbox()

interface Bill {
  hash_type: string
  hash_value: string
  download_url: string
}

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex')

async function download(url: string) {
  const u = new URL(url)
  return f.v3.get(`${u.pathname}${u.search}`)
}

describe('the fund-flow bill', () => {
  it('lists the day’s payments and refunds of the BASIC account with running balances', async () => {
    const a = await f.prepay({ amount: { total: 10_000, currency: 'CNY' } })
    const b = await f.prepay({ amount: { total: 50, currency: 'CNY' } })
    const txA = (await f.pay(a)).json
    const txB = (await f.pay(b)).json
    const refund = await f.refund(a, 2_500, 10_000)
    expect(refund.status).toBe(200)
    const rno = refund.json.out_refund_no
    expect((await control(f.sb.url, 'POST', `/refunds/${rno}`, { status: 'SUCCESS' })).status).toBe(
      200,
    )
    const date = txA.success_time!.slice(0, 10)
    await f.advance(2 * 86_400)

    const bill = await f.v3.get<Bill & ErrorBody>(
      `/v3/bill/fundflowbill?bill_date=${date}&account_type=BASIC`,
    )
    expect(bill.status).toBe(200)
    expect(f.signed(bill)).toBe(true)
    expect(bill.json.hash_type).toBe('SHA1')
    const file = await download(bill.json.download_url)
    expect(file.status).toBe(200)
    expect(sha1(file.raw)).toBe(bill.json.hash_value)

    const lines = file.raw
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .split('\r\n')
    expect(lines.pop()).toBe('')
    expect(lines[0]).toBe(
      '记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号',
    )
    const rows = lines.slice(1, 4).map((l) => l.split(','))
    for (const r of rows) {
      expect(r).toHaveLength(11)
      expect(r.every((cell) => cell.startsWith('`'))).toBe(true)
    }
    const cells = rows.map((r) => r.map((c) => c.slice(1)))
    expect(cells.map((r) => [r[3], r[5], r[6], r[7], r[10]])).toEqual([
      ['交易', '收入', '100.00', '100.00', a],
      ['交易', '收入', '0.50', '100.50', b],
      ['退款', '支出', '25.00', '75.50', rno],
    ])
    expect(cells[0]![1]).toBe(txA.transaction_id)
    expect(cells[1]![1]).toBe(txB.transaction_id)
    expect(cells[2]![1]).toBe(refund.json.refund_id)
    expect(cells[2]![8]).toBe(`${f.m.mchid}API`)
    expect(cells[2]![9]).toBe('退款总金额25.00元;含手续费0.15元')
    expect(lines[4]).toBe('资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额')
    expect(lines[5]).toBe('`3,`2,`100.50,`1,`25.00')
    expect(lines).toHaveLength(6)

    // GZIP: the same digest, of the decompressed file.
    const gz = await f.v3.get<Bill>(`/v3/bill/fundflowbill?bill_date=${date}&tar_type=GZIP`)
    expect(gz.json.hash_value).toBe(bill.json.hash_value)
    const gzFile = await download(gz.json.download_url)
    expect(sha1(gunzipSync(gzFile.raw))).toBe(bill.json.hash_value)
  })

  it('balances carry over from earlier days', async () => {
    const first = await f.prepay({ amount: { total: 300, currency: 'CNY' } })
    expect((await f.pay(first)).status).toBe(200)
    await f.advance(86_400)
    const second = await f.prepay({ amount: { total: 200, currency: 'CNY' } })
    const date = (await f.pay(second)).json.success_time!.slice(0, 10)
    await f.advance(2 * 86_400)
    const bill = await f.v3.get<Bill>(`/v3/bill/fundflowbill?bill_date=${date}`)
    expect(bill.status).toBe(200)
    const text = (await download(bill.json.download_url)).raw.toString('utf8')
    const row = text.split('\r\n').find((l) => l.includes(second))!
    expect(
      row
        .split(',')
        .map((c) => c.slice(1))
        .slice(6, 8),
    ).toEqual(['2.00', '5.00'])
  })
})
