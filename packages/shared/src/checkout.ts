import { z } from 'zod'
import { isoTime, storable } from './fields'

/**
 * What checkout adds to an order (`POST /api/orders`, issue #13): the shopper's address, how the
 * order reaches them, a remark, the spec chosen per line; and the order's timeline as the order
 * pages show it. Re-exported by schemas.ts.
 */

/** A mainland mobile number (11 digits from 13–19). */
const MOBILE = /^1[3-9]\d{9}$/
/** A landline: area code 0xx or 0xxx, a 7–8 digit number, an optional extension (`010-12345678-123`). */
const LANDLINE = /^0\d{2,3}-?\d{7,8}(-\d{1,6})?$/

/** How long each field of an address may be: the schema below and the checkout form both use these. */
export const ADDRESS_LIMITS = {
  name: 20,
  phone: 20,
  province: 20,
  city: 20,
  district: 20,
  detail: 120,
} as const

/**
 * A delivery address, as `wx.chooseAddress` gives it (userName → name, telNumber → phone,
 * provinceName/cityName/countyName → province/city/district, detailInfo → detail).
 */
export const Address = z.object({
  name: storable(ADDRESS_LIMITS.name),
  phone: z
    .string()
    .trim()
    .refine((p) => MOBILE.test(p) || LANDLINE.test(p), '请填写正确的手机号或固定电话'),
  province: storable(ADDRESS_LIMITS.province),
  city: storable(ADDRESS_LIMITS.city),
  district: storable(ADDRESS_LIMITS.district),
  detail: storable(ADDRESS_LIMITS.detail),
  postalCode: z
    .string()
    .regex(/^\d{6}$/, '邮政编码为 6 位数字')
    .optional(),
})
export type Address = z.infer<typeof Address>

/** express: shipped to the address (which it needs); pickup: collected at the shop. */
export const DELIVERY_METHODS = ['express', 'pickup'] as const
export const DeliveryMethod = z.enum(DELIVERY_METHODS)
export type DeliveryMethod = z.infer<typeof DeliveryMethod>

/**
 * The spec chosen for a line, by spec name: `{温度: '冰', 杯型: '大杯'}`. The server checks it
 * against the product's specs and fills in the first option of any left out.
 */
export const LineSpec = z
  .record(z.string().min(1).max(20), z.string().min(1).max(20))
  .refine((s) => Object.keys(s).length <= 8, '规格最多 8 项')
export type LineSpec = z.infer<typeof LineSpec>

/** A remark for the shop (少冰, 不要吸管): up to 200 characters; blank is the same as none. */
export const Remark = z
  .string()
  .trim()
  .max(200, '备注最多 200 字')
  .refine((s) => !s.includes('\u0000') && !/\p{Cs}/u.test(s), '含有无法保存的字符')
  .optional()

export const TIMELINE_KINDS = [
  'created',
  'paid',
  'shipped',
  'received',
  'refund_requested',
  'refunded',
  'closed',
  'completed',
] as const
export type TimelineKind = (typeof TIMELINE_KINDS)[number]

/** One step of an order's life, oldest first in `Order.timeline`. */
export const TimelineEntry = z.object({ kind: z.enum(TIMELINE_KINDS), at: isoTime })
export type TimelineEntry = z.infer<typeof TimelineEntry>
