/**
 * When a bill exists (wechat-ops-api.md §4): day D's bills are generated from 09:00 on D+1 and
 * ready at 10:00 Beijing time, by the sandbox clock — before that 400 STATEMENT_CREATING; a day
 * without trades (or without rows of the asked type) has no bill: 400 NO_STATEMENT_EXIST. Every
 * documented bill_type is taken.
 */
import { describe, expect, it } from 'vitest'
import { beijingDate, type Answer, type ErrorBody } from './support/independent-client'
import { useFidelitySandbox } from './support/fidelity'

const f = useFidelitySandbox()

interface Bill {
  hash_type: string
  hash_value: string
  download_url: string
}

const tradeBill = (date: string, query = '') =>
  f.v3.get<Bill & ErrorBody>(`/v3/bill/tradebill?bill_date=${date}${query}`)
const fundFlowBill = (date: string) =>
  f.v3.get<Bill & ErrorBody>(`/v3/bill/fundflowbill?bill_date=${date}`)

function expectCode(a: Answer<ErrorBody>, status: number, code: string): void {
  expect({ status: a.status, code: a.json.code }).toEqual({ status, code })
  expect(a.json.message.length).toBeGreaterThan(0)
}

/** Moves the sandbox clock to `hh:mm:ss` Beijing time on the day after `date`. */
async function advanceToNextDay(date: string, hhmmss: string): Promise<void> {
  const target = Date.parse(`${date}T${hhmmss}+08:00`) + 86_400_000
  await f.advance(Math.max(0, (target - (await f.now())) / 1000))
}

const dayBefore = (date: string) => beijingDate(Date.parse(`${date}T12:00:00+08:00`) - 86_400_000)
const dayAfter = (date: string) => beijingDate(Date.parse(`${date}T12:00:00+08:00`) + 86_400_000)

describe('bill availability', () => {
  it('STATEMENT_CREATING until 10:00 Beijing time the next day, then the bill', async () => {
    const no = await f.prepay()
    const date = (await f.pay(no)).json.success_time!.slice(0, 10)
    expectCode(await tradeBill(date), 400, 'STATEMENT_CREATING')
    expectCode(await fundFlowBill(date), 400, 'STATEMENT_CREATING')

    await advanceToNextDay(date, '09:59:00')
    expectCode(await tradeBill(date), 400, 'STATEMENT_CREATING')

    await advanceToNextDay(date, '10:00:30')
    const bill = await tradeBill(date)
    expect(bill.status).toBe(200)
    expect(f.signed(bill)).toBe(true)
    expect(bill.json.hash_value).toMatch(/^[0-9a-f]{40}$/)
    expect((await fundFlowBill(date)).status).toBe(200)

    // A future day is a wrong date, not one being generated.
    expectCode(await tradeBill(dayAfter(dayAfter(date))), 400, 'INVALID_REQUEST')
  })

  it('NO_STATEMENT_EXIST for a day without trades, and for a type without rows', async () => {
    const no = await f.prepay()
    const date = (await f.pay(no)).json.success_time!.slice(0, 10)
    await advanceToNextDay(date, '12:00:00')
    const quiet = dayBefore(date)
    expectCode(await tradeBill(quiet), 400, 'NO_STATEMENT_EXIST')
    expectCode(await fundFlowBill(quiet), 400, 'NO_STATEMENT_EXIST')
    // A payment and no refund: the REFUND bills have no rows; there are no recharge coupons.
    for (const type of ['REFUND', 'REF_SPECIAL', 'RECHARGE_REFUND'])
      expectCode(await tradeBill(date, `&bill_type=${type}`), 400, 'NO_STATEMENT_EXIST')
    // The accounts the sandbox never moves have no fund-flow bill.
    for (const account of ['OPERATION', 'FEES']) {
      expectCode(
        await f.v3.get(`/v3/bill/fundflowbill?bill_date=${date}&account_type=${account}`),
        400,
        'NO_STATEMENT_EXIST',
      )
    }
  })

  it('takes every documented bill_type: *_SPECIAL bill as their plain type', async () => {
    const no = await f.prepay()
    const date = (await f.pay(no)).json.success_time!.slice(0, 10)
    await advanceToNextDay(date, '12:00:00')
    const all = await tradeBill(date, '&bill_type=ALL')
    const success = await tradeBill(date, '&bill_type=SUCCESS')
    expect((await tradeBill(date, '&bill_type=ALL_SPECIAL')).json.hash_value).toBe(
      all.json.hash_value,
    )
    expect((await tradeBill(date, '&bill_type=SUC_SPECIAL')).json.hash_value).toBe(
      success.json.hash_value,
    )
    const bad = await tradeBill(date, '&bill_type=EVERYTHING')
    expectCode(bad, 400, 'PARAM_ERROR')
    expect((bad.json.detail as { field: string }).field).toBe('bill_type')
    expectCode(
      await f.v3.get(`/v3/bill/fundflowbill?bill_date=${date}&account_type=CASH`),
      400,
      'PARAM_ERROR',
    )
  })
})
