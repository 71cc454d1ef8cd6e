/**
 * Daily reconciliation (issue #12) against the sandbox's bills, built from its own payments and
 * refunds: a disagreement is planted with `POST /__sandbox/bill-edits` (or by keeping a refund
 * notification from us), a damaged download with the `corrupt` fault. Each test works on the
 * Beijing day the clocks are on, then moves the server's and the sandbox's clocks together to the
 * next morning, so the bill of that day is (or is about to be) ready.
 */
import type {
  AdminOrderDetail,
  Order,
  PayResponse,
  Refund,
  ReconciliationResult,
} from '@fen/shared'
import { formatBeijingTime } from '@fen/wechatpay'
import { eq } from 'drizzle-orm'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { billFiles } from '../src/db/schema'
import { reconcileOnce } from '../src/jobs/reconciliation'
import { latestReconciliation } from '../src/repositories/reconciliation'
import { ADMIN_TOKEN, startHarness, type Harness } from './harness'

let h: Harness
/** What the server logged, as JSON lines (the harness logs nothing). */
const logged: { level: number; msg: string; [field: string]: unknown }[] = []

beforeAll(async () => {
  // Earlier than WeChat's 10:00, so the job meets STATEMENT_CREATING first.
  h = await startHarness({ env: { RECONCILE_AFTER: '09:30' } })
  h.services.ctx.logger = pino(
    { level: 'info' },
    { write: (line) => logged.push(JSON.parse(line)) },
  )
})

const alerts = (prefix: string) => logged.filter((l) => l.msg.startsWith(`ALERT: ${prefix}`))
afterAll(() => h?.close())

const today = () => formatBeijingTime(h.now()).slice(0, 10)
const job = () => reconcileOnce(h.services.ctx, h.services.reconciliation)

/** Moves both clocks to `hh:mm` Beijing time on the day after `date`. */
async function moveToNextDay(date: string, hhmm: string): Promise<void> {
  const target = Date.parse(`${date}T${hhmm}:00+08:00`) + 86_400_000
  const seconds = (target - h.now().getTime()) / 1000
  expect(seconds).toBeGreaterThanOrEqual(0)
  h.advance(seconds)
  expect((await h.control('POST', '/__sandbox/clock', { advanceSeconds: seconds })).status).toBe(
    200,
  )
}

/** A paid order of a new shopper (the clocks move by days: yesterday's login has expired). */
async function paidOrder(productId = 4): Promise<{ orderNo: string; totalFen: number }> {
  const shopper = await h.login()
  const created = await h.api<Order>('POST', '/api/orders', {
    token: shopper,
    body: { items: [{ productId, quantity: 1 }] },
  })
  expect(created.status).toBe(201)
  const no = created.body.orderNo
  const pay = await h.api<PayResponse>('POST', `/api/orders/${no}/pay`, {
    token: shopper,
    body: { channel: 'jsapi' },
  })
  if (pay.body.channel !== 'jsapi') throw new Error('expected jsapi')
  const cashier = await h.control<{ errMsg: string }>(
    'POST',
    '/__sandbox/request-payment',
    pay.body.params,
  )
  expect(cashier.body.errMsg).toBe('requestPayment:ok')
  await h.until(async () => (await detail(no)).status === 'PAID')
  return { orderNo: no, totalFen: created.body.totalFen }
}

async function detail(orderNo: string): Promise<AdminOrderDetail> {
  return (await h.admin<AdminOrderDetail>('GET', `/api/admin/orders/${orderNo}`)).body
}

/** A refund settled at WeChat; with `notify: false` its notification never reaches us. */
async function settledRefund(orderNo: string, amountFen: number, notify = true): Promise<string> {
  const r = await h.admin<Refund>('POST', `/api/admin/orders/${orderNo}/refunds`, {
    amountFen,
    reason: '对账测试',
  })
  expect(r.status).toBe(201)
  const no = r.body.outRefundNo
  if (!notify) {
    const armed = await h.control('POST', '/__sandbox/faults', {
      target: 'notifications',
      kind: 'drop',
      count: 1,
    })
    expect(armed.status).toBe(200)
  }
  expect((await h.control('POST', `/__sandbox/refunds/${no}`, { status: 'SUCCESS' })).status).toBe(
    200,
  )
  if (notify)
    await h.until(
      async () =>
        (await detail(orderNo)).refunds.find((x) => x.outRefundNo === no)?.status === 'SUCCESS',
    )
  return no
}

const getResult = (date: string) =>
  h.admin<ReconciliationResult>('GET', `/api/admin/reconciliation?date=${date}`)
const runNow = (date: string) =>
  h.admin<ReconciliationResult>('POST', '/api/admin/reconciliation', { date })

async function metric(name: string): Promise<string[]> {
  const res = await fetch(`${h.url}/metrics`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })
  return (await res.text()).split('\n').filter((l) => l.startsWith(name))
}

async function billCalls(): Promise<number> {
  const calls = (await h.control<{ path: string }[]>('GET', '/__sandbox/calls')).body
  return calls.filter((c) => c.path.startsWith('/v3/bill')).length
}

describe('the reconciliation job', () => {
  it('does not run before RECONCILE_AFTER; then not_ready until WeChat has the bill; retried to matched', async () => {
    const day = today()
    const a = await paidOrder()
    const refundNo = await settledRefund(a.orderNo, 500)

    await moveToNextDay(day, '09:00')
    const callsBefore = await billCalls()
    expect(await job()).toEqual({ date: day, outcome: 'too_early' })
    expect(await billCalls()).toBe(callsBefore)
    expect((await getResult(day)).body).toMatchObject({ date: day, status: 'not_run' })

    // After RECONCILE_AFTER, before WeChat's 10:00: STATEMENT_CREATING.
    await moveToNextDay(day, '09:40')
    expect(await job()).toEqual({ date: day, outcome: 'not_ready' })
    const notReady = await getResult(day)
    expect(notReady.body).toMatchObject({ status: 'not_ready', discrepancies: [] })
    expect(notReady.body.ranAt).toBeDefined()

    await moveToNextDay(day, '10:10')
    expect(await job()).toEqual({ date: day, outcome: 'matched' })
    const matched = (await getResult(day)).body
    expect(matched).toMatchObject({
      date: day,
      status: 'matched',
      counts: { ours: 2, theirs: 2, matched: 2, discrepancies: 0 },
      discrepancies: [],
    })
    // A final result is not run again.
    expect(await job()).toEqual({ date: day, outcome: 'already_done' })

    // Both bills are kept: the trade bill compared, and the BASIC fund-flow bill.
    const files = await h.database.db.select().from(billFiles).where(eq(billFiles.billDate, day))
    expect(files.map((f) => f.kind).sort()).toEqual(['fund_flow_basic', 'trade_all'])
    for (const f of files) {
      expect(f.sha1).toMatch(/^[0-9a-f]{40}$/)
      expect(f.content).toContain(a.orderNo)
    }
    expect(files.find((f) => f.kind === 'fund_flow_basic')!.content).toContain(refundNo)
    expect(await metric('fen_reconciliation_runs_total{status="not_ready"}')).toEqual([
      'fen_reconciliation_runs_total{status="not_ready"} 1',
    ])
  })

  it('finds exactly the one planted mismatch among payments and refunds; a rerun replaces the result', async () => {
    const day = today()
    const a = await paidOrder(4)
    const b = await paidOrder(3)
    const c = await paidOrder(1)
    const refundA = await settledRefund(a.orderNo, 990)
    await settledRefund(b.orderNo, b.totalFen)
    // WeChat's bill says c was paid 1.00 yuan more than it was.
    const plant = await h.control('POST', '/__sandbox/bill-edits', {
      bill_date: day,
      kind: 'amount',
      out_trade_no: c.orderNo,
      amount: c.totalFen + 100,
    })
    expect(plant.status).toBe(201)

    await moveToNextDay(day, '10:05')
    expect(await job()).toEqual({ date: day, outcome: 'discrepancies' })
    const found = (await getResult(day)).body
    expect(found.status).toBe('discrepancies')
    expect(found.counts).toEqual({ ours: 5, theirs: 5, matched: 4, discrepancies: 1 })
    expect(found.discrepancies).toEqual([
      {
        kind: 'amount_differs',
        outTradeNo: c.orderNo,
        transactionId: (await detail(c.orderNo)).transactionId,
        oursFen: c.totalFen,
        theirsFen: c.totalFen + 100,
        detail: expect.stringContaining('支付金额不一致'),
      },
    ])
    expect(found.discrepancies.some((d) => d.outRefundNo === refundA)).toBe(false)
    const [alert, ...more] = alerts('reconciliation found discrepancies')
    expect(more).toEqual([])
    expect(alert).toMatchObject({ level: 50, date: day, kinds: { amount_differs: 1 } })
    expect(await metric('fen_reconciliation_discrepancies{kind="amount_differs"}')).toEqual([
      'fen_reconciliation_discrepancies{kind="amount_differs"} 1',
    ])
    expect(await latestReconciliation(h.database.db)).toEqual(found)

    // The edit withdrawn and the day run again: the new result replaces the old one whole.
    expect((await h.control('DELETE', '/__sandbox/bill-edits')).status).toBe(204)
    const rerun = await runNow(day)
    expect(rerun.status).toBe(200)
    expect(rerun.body).toMatchObject({
      status: 'matched',
      counts: { ours: 5, theirs: 5, matched: 5, discrepancies: 0 },
      discrepancies: [],
    })
    expect((await getResult(day)).body).toEqual(rerun.body)
    expect(await metric('fen_reconciliation_discrepancies{kind="amount_differs"}')).toEqual([
      'fen_reconciliation_discrepancies{kind="amount_differs"} 0',
    ])
  })

  it('tells missing_here, missing_at_wechat and status_differs apart', async () => {
    const day = today()
    const kept = await paidOrder()
    const dropped = await paidOrder()
    // The refund succeeds at WeChat, but its notification never reaches us: PROCESSING here.
    const unheard = await settledRefund(kept.orderNo, 300, false)
    for (const edit of [
      { bill_date: day, kind: 'drop', out_trade_no: dropped.orderNo },
      { bill_date: day, kind: 'foreign', out_trade_no: 'NOTOURS000001', amount: 1234 },
    ])
      expect((await h.control('POST', '/__sandbox/bill-edits', edit)).status).toBe(201)

    await moveToNextDay(day, '10:05')
    const r = await runNow(day)
    expect(r.status).toBe(200)
    expect(r.body.status).toBe('discrepancies')
    const byKind = Object.fromEntries(r.body.discrepancies.map((d) => [d.kind, d]))
    expect(Object.keys(byKind).sort()).toEqual([
      'missing_at_wechat',
      'missing_here',
      'status_differs',
    ])
    expect(byKind.missing_here).toMatchObject({ outTradeNo: 'NOTOURS000001', theirsFen: 1234 })
    expect(byKind.missing_at_wechat).toMatchObject({
      outTradeNo: dropped.orderNo,
      oursFen: dropped.totalFen,
    })
    expect(byKind.status_differs).toMatchObject({
      outRefundNo: unheard,
      oursFen: 300,
      theirsFen: 300,
      detail: expect.stringContaining('PROCESSING'),
    })
    expect(r.body.counts).toEqual({ ours: 3, theirs: 3, matched: 1, discrepancies: 3 })
    expect((await h.control('DELETE', '/__sandbox/bill-edits')).status).toBe(204)
  })

  it('NO_STATEMENT_EXIST on a day with payments is a no_statement discrepancy; without any, no_bill', async () => {
    const day = today()
    const a = await paidOrder()
    // WeChat's bill of the day loses its only row: WeChat has no bill.
    expect(
      (
        await h.control('POST', '/__sandbox/bill-edits', {
          bill_date: day,
          kind: 'drop',
          out_trade_no: a.orderNo,
        })
      ).status,
    ).toBe(201)
    await moveToNextDay(day, '10:05')
    expect(await job()).toEqual({ date: day, outcome: 'discrepancies' })
    const r = (await getResult(day)).body
    expect(r.counts).toEqual({ ours: 1, theirs: 0, matched: 0, discrepancies: 1 })
    expect(r.discrepancies).toEqual([
      { kind: 'no_statement', detail: expect.stringContaining('1 笔支付') },
    ])
    expect((await h.control('DELETE', '/__sandbox/bill-edits')).status).toBe(204)

    // A day without trades anywhere (the day before the first test's).
    const quiet = formatBeijingTime(Date.parse(`${day}T12:00:00+08:00`) - 10 * 86_400_000).slice(
      0,
      10,
    )
    const none = await runNow(quiet)
    expect(none.status).toBe(200)
    expect(none.body).toMatchObject({ date: quiet, status: 'no_bill', discrepancies: [] })
  })

  it('refuses a bill file whose SHA1 does not match: nothing recorded, retried by the job', async () => {
    const day = today()
    await paidOrder()
    await moveToNextDay(day, '10:05')
    expect(
      (
        await h.control('POST', '/__sandbox/faults', {
          target: '/v3/billdownload',
          kind: 'corrupt',
          count: 1,
        })
      ).status,
    ).toBe(200)
    const refused = await runNow(day)
    expect(refused.status).toBe(502)
    expect(refused.body).toMatchObject({ code: 'WECHAT_ERROR' })
    expect(alerts('bill file digest mismatch')).toEqual([
      expect.objectContaining({ level: 50, date: day }),
    ])
    expect((await getResult(day)).body.status).toBe('not_run')
    expect(await h.database.db.select().from(billFiles).where(eq(billFiles.billDate, day))).toEqual(
      [],
    )
    expect(await metric('fen_reconciliation_runs_total{status="failed"}')).toEqual([
      'fen_reconciliation_runs_total{status="failed"} 1',
    ])

    expect(await job()).toEqual({ date: day, outcome: 'matched' })
  })

  it('any failed run — WeChat down, the database refusing — is an ALERT and counts as failed; nothing is stored', async () => {
    const day = today()
    await paidOrder()
    await moveToNextDay(day, '10:05')
    const failedRuns = async () =>
      Number(
        (await metric('fen_reconciliation_runs_total{status="failed"}'))[0]?.split(' ')[1] ?? 0,
      )
    const failedAlerts = () => alerts('reconciliation failed')
    const runsBefore = await failedRuns()
    const alertsBefore = failedAlerts().length

    // WeChat answers 500 to every try of the trade bill.
    expect(
      (
        await h.control('POST', '/__sandbox/faults', {
          target: '/v3/bill/tradebill',
          kind: 'error500',
          count: 10,
        })
      ).status,
    ).toBe(200)
    const down = await runNow(day)
    expect({ status: down.status, code: (down.body as unknown as { code: string }).code }).toEqual({
      status: 503,
      code: 'WECHAT_UNAVAILABLE',
    })
    expect((await h.control('DELETE', '/__sandbox/faults')).status).toBe(204)

    // The database refuses the result (as int4 once refused 2^31 fen): the job's run fails.
    const db = h.database.db
    await db.execute(
      'alter table reconciliations add constraint refuse_for_test check (false) not valid',
    )
    try {
      await expect(job()).rejects.toThrow()
    } finally {
      await db.execute('alter table reconciliations drop constraint refuse_for_test')
    }

    const [wechat, database, ...more] = failedAlerts().slice(alertsBefore)
    expect(more).toEqual([])
    expect(wechat).toMatchObject({ level: 50, date: day, err: { message: expect.any(String) } })
    expect(database).toMatchObject({
      level: 50,
      date: day,
      err: { message: expect.stringContaining('refuse_for_test') },
    })
    expect(await failedRuns()).toBe(runsBefore + 2)
    expect((await getResult(day)).body.status).toBe('not_run')

    // The next run, with WeChat and the database well again, reconciles the day.
    expect(await job()).toEqual({ date: day, outcome: 'matched' })
  })
})

describe('the admin API', () => {
  it('answers not_run for a day never reconciled', async () => {
    const r = await getResult('2026-01-02')
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      date: '2026-01-02',
      status: 'not_run',
      counts: { ours: 0, theirs: 0, matched: 0, discrepancies: 0 },
      discrepancies: [],
    })
  })

  it('rejects a bad date and a wrong token', async () => {
    for (const q of ['', '?date=2026-1-2', '?date=2026-02-30', '?date=yesterday']) {
      const r = await h.admin<{ code: string }>('GET', `/api/admin/reconciliation${q}`)
      expect({ q, status: r.status, code: r.body.code }).toEqual({
        q,
        status: 400,
        code: 'INVALID_INPUT',
      })
    }
    for (const body of [{}, { date: '2026-13-01' }, { date: 20260102 }]) {
      const r = await h.admin<{ code: string }>('POST', '/api/admin/reconciliation', body)
      expect({ status: r.status, code: r.body.code }).toEqual({
        status: 400,
        code: 'INVALID_INPUT',
      })
    }
    for (const [method, token] of [
      ['GET', 'wrong-token'],
      ['POST', undefined],
    ] as const) {
      const r = await h.api<{ code: string }>(method, '/api/admin/reconciliation?date=2026-01-02', {
        ...(token ? { token } : {}),
        body: method === 'POST' ? { date: '2026-01-02' } : undefined,
      })
      expect({ status: r.status, code: r.body.code }).toEqual({
        status: 401,
        code: 'ADMIN_UNAUTHORIZED',
      })
    }
  })
})
