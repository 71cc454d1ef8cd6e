import { z } from 'zod'
import { paramError, WechatError } from './errors'

/**
 * Parses a JSON body against a schema, answering like WeChat: 400 PARAM_ERROR whose `detail.field`
 * names the first bad field as a JSON pointer (`/amount/total`).
 */
export function parseJsonBody<T>(schema: z.ZodType<T>, raw: Buffer): T {
  let value: unknown
  try {
    value = JSON.parse(raw.toString('utf8'))
  } catch {
    throw new WechatError(400, 'PARAM_ERROR', '请求体不是合法的JSON', {
      location: 'body',
      issue: 'not JSON',
    })
  }
  const fourByte = findFourByte(value, '')
  if (fourByte !== undefined) {
    throw paramError(fourByte || '/', '字符集不合法，不支持4字节UTF-8字符（如表情符号）')
  }
  const result = schema.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]!
    const field = '/' + issue.path.map(String).join('/')
    throw paramError(field, describeIssue(issue), valueAt(value, issue.path))
  }
  return result.data
}

/** WeChat accepts only 1–3-byte UTF-8 code points: the JSON pointer of the first string with more. */
function findFourByte(value: unknown, pointer: string): string | undefined {
  if (typeof value === 'string') return /[\u{10000}-\u{10FFFF}]/u.test(value) ? pointer : undefined
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findFourByte(value[i], `${pointer}/${i}`)
      if (hit !== undefined) return hit
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const hit = findFourByte(v, `${pointer}/${k}`)
      if (hit !== undefined) return hit
    }
  }
  return undefined
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? '缺少必填参数' : `类型错误，应为${issue.expected}`
    case 'too_big':
      return `长度或数值超过上限${String(issue.maximum)}`
    case 'too_small':
      return `长度或数值低于下限${String(issue.minimum)}`
    case 'invalid_format':
      return '格式不正确'
    default:
      return issue.message
  }
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v: unknown = root
  for (const key of path)
    v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined
  return typeof v === 'object' ? undefined : v
}

/** A string of 1..max characters (WeChat counts characters, UNCONFIRMED; we do too). */
export const str = (max: number, min = 1) => z.string().min(min).max(max)

/** RFC 3339 with an offset, as `time_expire` takes it. */
export const rfc3339 = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/)
  .refine((s) => !Number.isNaN(Date.parse(s)))

export const OUT_TRADE_NO = z.string().regex(/^[0-9A-Za-z_\-|*]{6,32}$/)
export const OUT_REFUND_NO = z.string().regex(/^[0-9A-Za-z_\-|*@]{1,64}$/)

/** `notify_url`: http(s), no query string. (WeChat requires HTTPS; the sandbox allows http for local work.) */
export const notifyUrl = z
  .string()
  .max(255)
  .refine((s) => {
    try {
      const u = new URL(s)
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.search === ''
    } catch {
      return false
    }
  })
