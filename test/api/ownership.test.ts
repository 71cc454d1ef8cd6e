import type { Order } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h.close())

describe("another shopper's order", () => {
  it('is a 404 for every order endpoint, and stays untouched', async () => {
    const alice = await h.login()
    const bob = await h.login()
    const created = await h.api<Order>('POST', '/api/orders', {
      token: alice,
      body: { items: [{ productId: 3, quantity: 1 }] },
    })
    expect(created.status).toBe(201)
    const no = created.body.orderNo

    for (const [method, path, body] of [
      ['GET', `/api/orders/${no}`, undefined],
      ['POST', `/api/orders/${no}/pay`, { channel: 'native' }],
      ['POST', `/api/orders/${no}/cancel`, undefined],
    ] as const) {
      const res = await h.api<{ code: string }>(method, path, {
        token: bob,
        ...(body ? { body } : {}),
      })
      expect(res.status, `${method} ${path}`).toBe(404)
      expect(res.body.code).toBe('ORDER_NOT_FOUND')
    }
    const bobs = await h.api<Order[]>('GET', '/api/orders', { token: bob })
    expect(bobs.body).toEqual([])
    const still = await h.api<Order>('GET', `/api/orders/${no}`, { token: alice })
    expect(still.body.status).toBe('PENDING')
  })
})
