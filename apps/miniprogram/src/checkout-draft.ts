import Taro from '@tarojs/taro'
import type { Address, DeliveryMethod, Order } from '@fen/shared'
import type { AddressField } from '@/address'

/**
 * What 确认订单 keeps across a reload (H5) or a relaunch: the form as filled in so far, until the
 * order is made. The lines being checked out are the cart store's (src/stores/cart.ts); once the
 * order is made, the pay step is addressed by its number (`?orderNo=`) and re-read from the server.
 */
export interface CheckoutDraft {
  delivery: DeliveryMethod
  remark: string
  /** The address as typed (H5's form), field by field. */
  form: Record<AddressField, string>
  /** The address picked from WeChat's address book (weapp). */
  chosen?: Address
}

const DRAFT_KEY = 'fen.checkout.draft'

/** The draft kept on this device, if any. */
export function loadDraft(): CheckoutDraft | undefined {
  const raw = Taro.getStorageSync(DRAFT_KEY) as unknown
  if (!raw || typeof raw !== 'object') return undefined
  const d = raw as Partial<CheckoutDraft>
  if (d.delivery !== 'express' && d.delivery !== 'pickup') return undefined
  if (typeof d.remark !== 'string' || !d.form || typeof d.form !== 'object') return undefined
  return d as CheckoutDraft
}

export function saveDraft(draft: CheckoutDraft): void {
  Taro.setStorageSync(DRAFT_KEY, draft)
}

/** The order is made: the draft is done with. */
export function clearDraft(): void {
  Taro.removeStorageSync(DRAFT_KEY)
}

let handedOver: Order | undefined

/**
 * The order just made, handed from the form to the pay step (the same page, `?orderNo=`) so that
 * it shows at once; a reload finds nothing here and asks the server.
 */
export function handOver(order: Order): void {
  handedOver = order
}

/** The handed-over order if it is `orderNo` (taken once). */
export function takeHandedOver(orderNo: string): Order | undefined {
  const o = handedOver?.orderNo === orderNo ? handedOver : undefined
  handedOver = undefined
  return o
}
