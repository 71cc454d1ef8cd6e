/**
 * What a merchant's reconciliation is tested against: `POST /__sandbox/bill-edits` plants a
 * disagreement in one day's trade bill (a row's amount changed, a row left out, a payment the
 * merchant never saw), the summary adding up the edited rows; and the `corrupt` fault damages a
 * bill download so its SHA1 no longer matches the announced digest.
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

async function tradeBill(date: string, gzip = false) {
  const bill = await f.v3.get<Bill & ErrorBody>(
    `/v3/bill/tradebill?bill_date=${date}${gzip ? '&tar_type=GZIP' : ''}`,
  )
  return bill
}

async function download(url: string): Promise<Buffer> {
  const u = new URL(url)
  const file = await f.v3.get(`${u.pathname}${u.search}`)
  expect(file.status).toBe(200)
  return file.raw
}

/** The data rows as {商户订单号, 商户退款单号, 交易状态, 订单金额, 退款金额}, and the summary cells. */
function rowsOf(csv: Buffer) {
  const lines = csv
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .split('\r\n')
    .filter(Boolean)
  const header = lines[0]!.split(',')
  const col = (cells: string[], name: string) => cells[header.indexOf(name)]!.slice(1)
  const data = lines.slice(1, -2).map((l) => l.split(','))
  return {
    rows: data.map((c) => ({
      outTradeNo: col(c, '商户订单号'),
      outRefundNo: col(c, '商户退款单号'),
      state: col(c, '交易状态'),
      total: col(c, '订单金额'),
      refund: col(c, '退款金额'),
    })),
    summary: lines
      .at(-1)!
      .split(',')
      .map((c) => c.slice(1)),
  }
}

describe('bill edits', () => {
  it('changes a row’s amount, drops a row, adds a foreign payment; the summary follows', async () => {
    const a = await f.prepay({ amount: { total: 1_000, currency: 'CNY' } })
    const b = await f.prepay({ amount: { total: 300, currency: 'CNY' } })
    const date = (await f.pay(a)).json.success_time!.slice(0, 10)
    await f.pay(b)
    const refund = await f.refund(a, 400, 1_000)
    const rno = refund.json.out_refund_no
    expect((await control(f.sb.url, 'POST', `/refunds/${rno}`, { status: 'SUCCESS' })).status).toBe(
      200,
    )
    const edits = [
      { bill_date: date, kind: 'amount', out_trade_no: a, out_refund_no: rno, amount: 450 },
      { bill_date: date, kind: 'drop', out_trade_no: b },
      { bill_date: date, kind: 'foreign', amount: 777 },
    ]
    for (const e of edits)
      expect((await control(f.sb.url, 'POST', '/bill-edits', e)).status).toBe(201)
    const listed = await control<{ kind: string; transaction_id?: string }[]>(
      f.sb.url,
      'GET',
      '/bill-edits',
    )
    expect(listed.json.map((e) => e.kind)).toEqual(['amount', 'drop', 'foreign'])
    expect(listed.json[2]!.transaction_id).toMatch(/^4200\d{24}$/)
    await f.advance(2 * 86_400)

    const bill = await tradeBill(date)
    expect(bill.status).toBe(200)
    const file = await download(bill.json.download_url)
    expect(sha1(file)).toBe(bill.json.hash_value)
    const { rows, summary } = rowsOf(file)
    expect(
      rows.map((r) => [r.state, r.outTradeNo === a ? 'a' : r.outTradeNo === b ? 'b' : 'x']),
    ).toEqual([
      ['SUCCESS', 'a'],
      ['REFUND', 'a'],
      ['SUCCESS', 'x'],
    ])
    expect(rows[1]!.refund).toBe('4.50')
    expect(rows[2]!.total).toBe('7.77')
    // 总交易单数, 应结订单总金额 (10.00 + 7.77), 退款总金额 (the edited 4.50).
    expect(summary.slice(0, 3)).toEqual(['3', '17.77', '4.50'])
    // The edits change the bill only, not the sandbox's orders.
    expect((await f.query(b)).json.trade_state).toBe('SUCCESS')

    // Every row of a day dropped: the day has no bill.
    expect((await control(f.sb.url, 'DELETE', '/bill-edits')).status).toBe(204)
    for (const e of [
      { bill_date: date, kind: 'drop', out_trade_no: a },
      { bill_date: date, kind: 'drop', out_trade_no: a, out_refund_no: rno },
      { bill_date: date, kind: 'drop', out_trade_no: b },
    ])
      expect((await control(f.sb.url, 'POST', '/bill-edits', e)).status).toBe(201)
    const none = await tradeBill(date)
    expect({ status: none.status, code: none.json.code }).toEqual({
      status: 400,
      code: 'NO_STATEMENT_EXIST',
    })
  })

  it('bills the prepay’s description and attach as they were, commas and all; a raw line comes first', async () => {
    const no = await f.prepay({ description: '手冲咖啡豆,250g', attach: 'gift=1,wrap=0' })
    const date = (await f.pay(no)).json.success_time!.slice(0, 10)
    const raw = { bill_date: date, kind: 'raw', line: 'not a bill row, at all' }
    const planted = await control(f.sb.url, 'POST', '/bill-edits', raw)
    expect({ status: planted.status, body: planted.json }).toEqual({ status: 201, body: raw })
    await f.advance(2 * 86_400)

    const bill = await tradeBill(date)
    const lines = (await download(bill.json.download_url)).toString('utf8').split('\r\n')
    expect(lines[1]).toBe('not a bill row, at all')
    // 商品名称 and 商户数据包, each behind the backtick that starts every field.
    expect(lines[2]).toContain(',`手冲咖啡豆,250g,`gift=1,wrap=0,`')
    // The raw line is not counted: 总交易单数 1.
    expect(lines.at(-2)!.split(',')[0]).toBe('`1')
    expect((await control(f.sb.url, 'DELETE', '/bill-edits')).status).toBe(204)
  })

  it('refuses an edit that names no row or lacks its amount', async () => {
    for (const bad of [
      { bill_date: '2026-01-01', kind: 'drop' },
      { bill_date: '2026-01-01', kind: 'amount', out_trade_no: 'A123456' },
      { bill_date: '2026-01-01', kind: 'foreign', amount: 1, out_refund_no: 'R1' },
      { bill_date: '1 Jan', kind: 'foreign', amount: 1 },
      { bill_date: '2026-02-30', kind: 'foreign', amount: 1 },
      { bill_date: '2026-01-01', kind: 'raw' },
      { bill_date: '2026-01-01', kind: 'raw', line: 'a\r\nb' },
      { bill_date: '2026-01-01', kind: 'raw', line: 'x', out_trade_no: 'A123456' },
      { bill_date: '2026-01-01', kind: 'foreign', amount: 1, line: 'x' },
    ]) {
      const r = await control<ErrorBody>(f.sb.url, 'POST', '/bill-edits', bad)
      expect({ status: r.status, code: r.json.code }).toEqual({
        status: 400,
        code: 'INVALID_INPUT',
      })
    }
  })
})

describe('the corrupt fault', () => {
  it('damages the next download (plain or gzip) so its SHA1 misses the digest; then downloads are whole', async () => {
    const no = await f.prepay()
    const date = (await f.pay(no)).json.success_time!.slice(0, 10)
    await f.advance(2 * 86_400)
    const armed = await control(f.sb.url, 'POST', '/faults', {
      target: '/v3/billdownload',
      kind: 'corrupt',
      count: 2,
    })
    expect(armed.status).toBe(200)

    const plain = await tradeBill(date)
    expect(sha1(await download(plain.json.download_url))).not.toBe(plain.json.hash_value)
    const gz = await tradeBill(date, true)
    expect(sha1(gunzipSync(await download(gz.json.download_url)))).not.toBe(gz.json.hash_value)

    const again = await tradeBill(date)
    expect(sha1(await download(again.json.download_url))).toBe(again.json.hash_value)
  })

  it('is for the bill download only', async () => {
    const r = await control<ErrorBody>(f.sb.url, 'POST', '/faults', {
      target: '/v3/pay/transactions',
      kind: 'corrupt',
    })
    expect({ status: r.status, code: r.json.code }).toEqual({ status: 400, code: 'INVALID_INPUT' })
  })
})
