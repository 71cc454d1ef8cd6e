/**
 * One shopper cannot hold all the stock with unpaid orders: at most ORDER_MAX_OPEN_PER_USER open
 * (PENDING) orders at once, at most ORDER_MAX_QUANTITY_PER_LINE of one product per order — even
 * when the requests arrive all at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './harness'

let h: Harness
beforeAll(async () => {
  h = await startHarness({
    env: { ORDER_MAX_OPEN_PER_USER: '3', ORDER_MAX_QUANTITY_PER_LINE: '5' },
  })
})
afterAll(() => h?.close())

const create = (token: string, quantity = 1) =>
  h.api<{ code: string; orderNo: string }>('POST', '/api/orders', {
    token,
    body: { items: [{ productId: 1, quantity }] },
  })

describe('open orders per shopper', () => {
  it('ten creates at once: three succeed, the rest are 409 TOO_MANY_OPEN_ORDERS', async () => {
    const token = await h.login('o-limits-burst')
    const answers = await Promise.all(Array.from({ length: 10 }, () => create(token)))
    const statuses = answers.map((a) => a.status).sort()
    expect(statuses).toEqual([201, 201, 201, 409, 409, 409, 409, 409, 409, 409])
    for (const a of answers.filter((x) => x.status === 409))
      expect(a.body.code).toBe('TOO_MANY_OPEN_ORDERS')
  })

  it('cancelling one makes room for another; other shoppers are not affected', async () => {
    const token = await h.login('o-limits-cancel')
    const first = await create(token)
    await create(token)
    await create(token)
    expect((await create(token)).status).toBe(409)
    const cancel = await h.api('POST', `/api/orders/${first.body.orderNo}/cancel`, { token })
    expect(cancel.status).toBe(200)
    expect((await create(token)).status).toBe(201)
    expect((await create(await h.login('o-limits-other'))).status).toBe(201)
  })
})

describe('quantity per line', () => {
  it('more than ORDER_MAX_QUANTITY_PER_LINE of one product → 400 INVALID_INPUT naming the limit', async () => {
    const token = await h.login('o-limits-quantity')
    const res = await create(token, 6)
    expect(res.status).toBe(400)
    expect(res.body.code).toBe('INVALID_INPUT')
    expect((res.body as { message?: string }).message).toContain('5')
    expect((await create(token, 5)).status).toBe(201)
  })
})
