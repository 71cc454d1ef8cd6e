import { z } from 'zod'

/**
 * The building blocks every schema file uses (schemas.ts, catalogue.ts, …): kept apart so those
 * files import them without importing one another.
 */

/** Text that can travel to WeChat: WeChat refuses 4-byte UTF-8 (most emoji). */
export const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !/[\u{10000}-\u{10FFFF}]/u.test(s), '不支持表情符号等四字节字符')
    // NUL and half of a UTF-16 pair: PostgreSQL cannot store either (JSON can escape both). The SDK
    // refuses the same in notifications (`unstorable` in packages/wechatpay/src/notify/parse.ts).
    .refine((s) => !s.includes('\u0000') && !/\p{Cs}/u.test(s), '含有无法保存的字符')

export const fen = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
export const isoTime = z.iso.datetime()

export const ProductId = z.number().int().positive().max(2_147_483_647)

/**
 * Text we only store and show (an address, a remark), never send to WeChat: trimmed, 1–`max`
 * characters; 4-byte characters are fine (rare 汉字 in names and places are 4-byte), but NUL and
 * half of a UTF-16 pair are refused (PostgreSQL cannot store them).
 */
export const storable = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !s.includes('\u0000') && !/\p{Cs}/u.test(s), '含有无法保存的字符')
