// 确认订单's address form, as a browser shows it (H5: no WeChat address book): each field is
// checked with the shared Address schema, and each problem — found here or named by the server —
// shows under its field.
import { describe, expect, it, vi } from 'vitest'
import type { Component } from 'vue'
import { type DOMWrapper, flushPromises, mount } from '@vue/test-utils'
import { ADDRESS_LIMITS } from '@fen/shared'
import { checkAddress } from '@/address'
import CheckoutPage from '@/pages/checkout/index.vue'
import { cart } from '@/stores/cart'
import { taro } from './taro-mock'
import { TOKEN_KEY, catalogue, fail, ok, order, routes } from './fixtures'

// The H5 platform's shape: Native QR, and no chooseAddress (so the page asks with a form).
vi.mock('@/platform', () => ({
  platform: {
    channels: ['native'],
    login: async () => 'code',
    requestPayment: async () => ({ status: 'failed', reason: '浏览器中请使用扫码支付' }),
  },
}))

const { Taro } = taro

async function tap(el: DOMWrapper<Element>) {
  await el.trigger('tap')
  await flushPromises()
}

async function mounted(page: Component) {
  const w = mount(page)
  await flushPromises()
  return w
}

async function type(el: DOMWrapper<Element>, value: string) {
  el.element.dispatchEvent(Object.assign(new Event('input'), { detail: { value } }))
  await flushPromises()
}

const address = {
  name: '林小满',
  phone: '13800138000',
  province: '浙江省',
  city: '杭州市',
  district: '西湖区',
  detail: '文三路 90 号',
}

async function expressForm() {
  cart.setProducts(catalogue)
  cart.checkoutNow({ productId: 2, quantity: 1 })
  taro.storage.set(TOKEN_KEY, 'tok')
  const w = await mounted(CheckoutPage)
  await tap(w.find('.method-express'))
  return w
}

async function fill(w: Awaited<ReturnType<typeof expressForm>>, a: Record<string, string>) {
  for (const [k, v] of Object.entries(a)) await type(w.find(`.addr-${k}`), v)
}

const fieldErrors = (w: Awaited<ReturnType<typeof expressForm>>) =>
  Object.fromEntries(
    w.findAll('.field-error').map((e) => [
      e
        .classes()
        .find((c) => c.startsWith('field-error-'))!
        .slice(12),
      e.text(),
    ]),
  )

describe('checkout address form (H5)', () => {
  it('checks every field with the shared schema before sending, each problem under its field', async () => {
    const w = await expressForm()
    await type(w.find('.addr-detail'), '   ')
    await tap(w.find('.submit'))
    expect(fieldErrors(w)).toEqual({
      name: '请填写收货人',
      phone: '请填写正确的手机号或固定电话',
      province: '请填写省份',
      city: '请填写城市',
      district: '请填写区县',
      detail: '请填写详细地址',
    })
    expect(w.find('.field-name .field-error').exists()).toBe(true)
    expect(w.find('.message').exists()).toBe(false)
    expect(taro.requestsTo('/api/orders', 'POST')).toHaveLength(0)

    await fill(w, { ...address, phone: '123' })
    // Typing into a field clears its problem; a wrong phone is caught before sending.
    expect(fieldErrors(w)).toEqual({})
    await tap(w.find('.submit'))
    expect(fieldErrors(w)).toEqual({ phone: '请填写正确的手机号或固定电话' })
    expect(w.find('.field-phone').classes()).toContain('invalid')
    expect(taro.requestsTo('/api/orders', 'POST')).toHaveLength(0)

    taro.onRequest(routes({ 'POST /api/orders': ok(order({ orderNo: 'FENFRM000001' })) }))
    await type(w.find('.addr-phone'), '0571-88888888')
    await tap(w.find('.submit'))
    expect(fieldErrors(w)).toEqual({})
    expect(taro.requestsTo('/api/orders', 'POST')[0]!.body).toMatchObject({
      address: { ...address, phone: '0571-88888888' },
    })
  })

  it("checkAddress: the schema's own messages first, Chinese words for zod's defaults", () => {
    expect(checkAddress({ ...address, detail: '路'.repeat(121), postalCode: '31' })).toEqual({
      ok: false,
      errors: { detail: '详细地址最多 120 个字', postalCode: '邮政编码为 6 位数字' },
    })
    expect(checkAddress({ ...address, name: ' 林小满 ' })).toEqual({ ok: true, address })
  })

  it("the inputs' max lengths are the shared ADDRESS_LIMITS (详细地址 120)", async () => {
    const w = await expressForm()
    for (const [k, max] of Object.entries(ADDRESS_LIMITS))
      expect(w.find(`.addr-${k}`).attributes('maxlength')).toBe(String(max))
  })

  it('a refusal naming a field (INVALID_INPUT address.phone: …) shows under that field, not at the bottom', async () => {
    const w = await expressForm()
    await fill(w, address)
    taro.answer(fail('INVALID_INPUT', 'address.phone: 请填写正确的手机号或固定电话'))
    await tap(w.find('.submit'))
    expect(fieldErrors(w)).toEqual({ phone: '请填写正确的手机号或固定电话' })
    expect(w.find('.message').exists()).toBe(false)

    // Each 提交订单 checks afresh: the next refusal's field only.
    taro.answer(fail('INVALID_INPUT', 'remark: 含有无法保存的字符'))
    await tap(w.find('.submit'))
    expect(fieldErrors(w)).toEqual({ remark: '含有无法保存的字符' })
    // A refusal naming no field of the form is said as a whole.
    taro.answer(fail('INVALID_INPUT', 'items.0.quantity: 数量有误'))
    await tap(w.find('.submit'))
    expect(w.find('.message').text()).toBe('items.0.quantity: 数量有误')
  })

  it('the typed address, 备注 and 配送方式 survive a reload until the order is made', async () => {
    const w = await expressForm()
    await fill(w, { name: '林小满', phone: '1380013' })
    await type(w.find('.remark-input'), '拿铁少冰')
    w.unmount()

    const again = await mounted(CheckoutPage)
    expect(again.find('.method.on').text()).toBe('快递配送')
    expect(again.find('.addr-name').attributes('value')).toBe('林小满')
    expect(again.find('.addr-phone').attributes('value')).toBe('1380013')
    expect(again.find('.remark-input').attributes('value')).toBe('拿铁少冰')

    await fill(again, { ...address })
    taro.onRequest(routes({ 'POST /api/orders': ok(order({ orderNo: 'FENFRM000002' })) }))
    await tap(again.find('.submit'))
    expect(Taro.redirectTo).toHaveBeenCalledWith({
      url: '/pages/checkout/index?orderNo=FENFRM000002',
    })
    expect(taro.storage.has('fen.checkout.draft')).toBe(false)
    // The address used is offered next time; the draft is gone.
    expect(taro.storage.get('fen.address')).toEqual(address)
  })
})
