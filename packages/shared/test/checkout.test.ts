import { describe, expect, it } from 'vitest'
import { schemas } from '../src'

const address = {
  name: '林小满',
  phone: '13800138000',
  province: '广东省',
  city: '广州市',
  district: '天河区',
  detail: '体育西路 191 号',
}

describe('checkout schemas', () => {
  it('phones: mainland mobiles and landlines with an area code', () => {
    const ok = (phone: string) => schemas.Address.safeParse({ ...address, phone }).success
    for (const p of [
      '13800138000',
      '19912345678',
      '020-81167888',
      '02081167888',
      '0755-1234567',
      '010-12345678-123',
    ])
      expect(ok(p), p).toBe(true)
    for (const p of [
      '1380013800',
      '12800138000',
      '138001380000',
      '81167888',
      '20-81167888',
      '+8613800138000',
      '',
    ])
      expect(ok(p), p).toBe(false)
  })

  it('address text is trimmed and bounded; rare 4-byte 汉字 are fine, NUL is not', () => {
    expect(schemas.Address.parse({ ...address, name: ' 林小满 ' }).name).toBe('林小满')
    expect(schemas.Address.safeParse({ ...address, name: ' ' }).success).toBe(false)
    expect(schemas.Address.safeParse({ ...address, detail: '𠀾'.repeat(10) }).success).toBe(true)
    expect(schemas.Address.safeParse({ ...address, detail: 'a\u0000' }).success).toBe(false)
  })

  it('an express order needs the address; one product twice only with different specs', () => {
    const line = { productId: 6, quantity: 1 }
    const parse = (body: unknown) => schemas.CreateOrderRequest.safeParse(body).success
    expect(parse({ items: [line], deliveryMethod: 'express' })).toBe(false)
    expect(parse({ items: [line], deliveryMethod: 'express', address })).toBe(true)
    expect(parse({ items: [line], deliveryMethod: 'pickup' })).toBe(true)
    expect(parse({ items: [line, line] })).toBe(false)
    expect(
      parse({
        items: [
          { ...line, spec: { 温度: '热' } },
          { ...line, spec: { 温度: '冰' } },
        ],
      }),
    ).toBe(true)
    // Key order does not make two specs different.
    expect(
      parse({
        items: [
          { ...line, spec: { 温度: '冰', 杯型: '大杯' } },
          { ...line, spec: { 杯型: '大杯', 温度: '冰' } },
        ],
      }),
    ).toBe(false)
  })
})
