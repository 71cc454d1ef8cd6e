/**
 * `GET /api/admin/delivery-companies`: WeChat's carriers (get_delivery_list) for the console's
 * courier list, read from WeChat (the sandbox) once and kept for a day.
 */
import type { DeliveryCompanyList } from '@fen/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './harness'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h?.close())

const listCalls = async () =>
  (await h.control<{ path: string }[]>('GET', '/__sandbox/calls')).body.filter((c) =>
    c.path.startsWith('/cgi-bin/express/delivery/open_msg/get_delivery_list'),
  ).length

describe('the carriers an operator ships with', () => {
  it("are WeChat's list, read once a day", async () => {
    const first = await h.admin<DeliveryCompanyList>('GET', '/api/admin/delivery-companies')
    expect(first.status).toBe(200)
    expect(first.body.items).toContainEqual({ deliveryId: 'SF', name: '顺丰速运' })
    expect(await listCalls()).toBe(1)
    const again = await h.admin<DeliveryCompanyList>('GET', '/api/admin/delivery-companies')
    expect(again.body).toEqual(first.body)
    expect(await listCalls()).toBe(1)
    h.advance(25 * 3600)
    await h.admin('GET', '/api/admin/delivery-companies')
    expect(await listCalls()).toBe(2)
  })
})
