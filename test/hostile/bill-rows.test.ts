/**
 * Issue #23, item 3: odd rows in WeChat Pay's trade bill. One day's bill, made by the sandbox from
 * real payments, carries a product name with a comma (`手冲咖啡豆,250g` in 商品名称), a row billing
 * 2,147,483,648 fen (one past PostgreSQL's int4), and rows no parser can read (planted with the
 * sandbox's `raw` bill edit). The day must reconcile — the readable rows compared, each unreadable
 * one stored as an `unparseable_row` discrepancy holding its line — and the admin API must answer
 * 200, never 500.
 */
import type { ReconciliationResult } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { formatBeijingTime } from '@fen/wechatpay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adminOrder,
  createOrder,
  metric,
  prepayNative,
  sandboxPay,
  untilStatus,
} from '../api/support'

let h: Harness
let coffeeBeans: number

beforeAll(async () => {
  h = await startHarness()
  // The console has no product editor yet: the shop's catalogue is its database.
  const inserted = await h.database.db.execute(
    `insert into products (title, price_fen, stock) values ('手冲咖啡豆,250g', 6800, 100) returning id`,
  )
  coffeeBeans = Number((inserted as unknown as { rows: { id: number }[] }).rows[0]!.id)
})
afterAll(() => h?.close())

/** A paid order of one `productId` (Native: the sandbox's user scans and pays). */
async function paidOrder(productId: number): Promise<{ orderNo: string; totalFen: number }> {
  const shopper = await h.login()
  const order = await createOrder(h, shopper, [{ productId, quantity: 1 }])
  await sandboxPay(h, { code_url: await prepayNative(h, shopper, order.orderNo) })
  await untilStatus(h, order.orderNo, 'PAID')
  return { orderNo: order.orderNo, totalFen: order.totalFen }
}

/** Moves the server's and the sandbox's clocks to 10:05 Beijing time the day after `date`. */
async function toNextMorning(date: string): Promise<void> {
  const target = Date.parse(`${date}T10:05:00+08:00`) + 86_400_000
  const seconds = (target - h.now().getTime()) / 1000
  h.advance(seconds)
  expect((await h.control('POST', '/__sandbox/clock', { advanceSeconds: seconds })).status).toBe(
    200,
  )
}

/** A row of the ALL layout (27 fields, each behind its backtick), with `over` by column. */
function row(over: Record<number, string>): string {
  const cells = [
    '2026-12-02 12:00:00',
    'wxd678efh567hg6787',
    '1230000109',
    '0',
    '',
    '4200000001202612020000000099',
    'F20261202ODD',
    'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    'JSAPI',
    'SUCCESS',
    'OTHERS',
    'CNY',
    '1.00',
    '0.00',
    '0',
    '0',
    '0.00',
    '0.00',
    '',
    '',
    '商品',
    '',
    '0.00600',
    '0.60%',
    '1.00',
    '0.00',
    '',
  ].map((c, i) => over[i] ?? c)
  return cells.map((c) => '`' + c).join(',')
}

const TWO_POW_31 = 2_147_483_648

/** Today's Beijing date, by the server's clock. */
const today = () => formatBeijingTime(h.now()).slice(0, 10)

/** Plants `edits` in the day's bill, moves to the next morning, runs the day through the admin API. */
async function reconcile(day: string, edits: object[]): Promise<ReconciliationResult> {
  for (const e of edits)
    expect(
      (await h.control('POST', '/__sandbox/bill-edits', { bill_date: day, ...e })).status,
    ).toBe(201)
  await toNextMorning(day)
  const run = await h.admin<ReconciliationResult>('POST', '/api/admin/reconciliation', {
    date: day,
  })
  expect(run.status, JSON.stringify(run.body)).toBe(200)
  // Stored as answered (2^31 fen and raw lines read back from the database).
  const stored = await h.admin<ReconciliationResult>('GET', `/api/admin/reconciliation?date=${day}`)
  expect(stored.body).toEqual(run.body)
  expect((await h.control('DELETE', '/__sandbox/bill-edits')).status).toBe(204)
  return run.body
}

describe('a trade bill with odd rows', () => {
  it('a comma in 商品名称 stays in its field: the row matches', async () => {
    const day = today()
    await paidOrder(coffeeBeans)
    const r = await reconcile(day, [])
    expect(r).toMatchObject({
      status: 'matched',
      counts: { ours: 1, theirs: 1, matched: 1, discrepancies: 0 },
    })
  })

  it('a row of 2,147,483,648 fen is an amount_differs, stored whole', async () => {
    const day = today()
    const big = await paidOrder(3)
    const r = await reconcile(day, [
      { kind: 'amount', out_trade_no: big.orderNo, amount: TWO_POW_31 },
    ])
    expect(r.counts).toEqual({ ours: 1, theirs: 1, matched: 0, discrepancies: 1 })
    expect(r.discrepancies).toEqual([
      {
        kind: 'amount_differs',
        outTradeNo: big.orderNo,
        transactionId: (await adminOrder(h, big.orderNo)).transactionId,
        oursFen: big.totalFen,
        theirsFen: TWO_POW_31,
        detail: expect.stringContaining('¥21474836.48'),
      },
    ])
  })

  it('rows no parser can read become unparseable_row discrepancies holding their line; the rest of the day reconciles', async () => {
    const day = today()
    const beans = await paidOrder(coffeeBeans)
    const other = await paidOrder(3)
    const ODD_LINES = [
      // No backtick at all, commas inside.
      '这不是账单行,,,',
      // Backticked, but 3 fields where the header has 27.
      '`2026-12-02 12:00:00,`wxd678efh567hg6787,`only three',
      // 27 fields, 订单金额 not an amount.
      row({ 24: '12.3.4' }),
      // 27 fields, 订单金额 beyond any integer fen a number holds exactly.
      row({ 24: '99999999999999999999.99' }),
    ]
    const r = await reconcile(
      day,
      ODD_LINES.map((line) => ({ kind: 'raw', line })),
    )
    expect(r.status).toBe('discrepancies')
    // The 2 payment rows matched; the 4 unreadable rows are rows of the bill too.
    expect(r.counts).toEqual({ ours: 2, theirs: 6, matched: 2, discrepancies: 4 })
    expect(r.discrepancies.map((d) => [d.kind, d.rawLine])).toEqual(
      ODD_LINES.map((line) => ['unparseable_row', line]),
    )
    for (const d of r.discrepancies) expect(d.detail).toMatch(/^账单第 \d+ 行无法解析/)
    expect(
      r.discrepancies.some((d) => [beans.orderNo, other.orderNo].includes(d.outTradeNo!)),
    ).toBe(false)
    expect(await metric(h, 'fen_reconciliation_discrepancies{kind="unparseable_row"}')).toBe(4)
    expect(await metric(h, 'fen_reconciliation_runs_total{status="failed"}')).toBe(0)
  })
})
