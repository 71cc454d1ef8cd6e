import { ADDRESS_LIMITS, schemas, type Address } from '@fen/shared'
import { ApiRequestError } from '@/http/request'

/**
 * The checkout form's fields and their checks, from the shared contract: the `Address` and
 * `Remark` schemas the server parses `POST /api/orders` with, and `ADDRESS_LIMITS` for the
 * inputs' max lengths. A problem is shown under its field, found before submitting or named by
 * the server (`address.phone: …`).
 */

/** An address field the shopper types (H5) — `postalCode` comes from WeChat's address book only. */
export type AddressField = keyof typeof ADDRESS_LIMITS
/** Where a problem is shown: an address field, or 备注. */
export type FormField = AddressField | 'postalCode' | 'remark'
export type FieldErrors = Partial<Record<FormField, string>>

export const ADDRESS_FIELDS: {
  key: AddressField
  label: string
  placeholder: string
  max: number
}[] = [
  { key: 'name', label: '收货人', placeholder: '姓名', max: ADDRESS_LIMITS.name },
  { key: 'phone', label: '电话', placeholder: '手机号或固定电话', max: ADDRESS_LIMITS.phone },
  { key: 'province', label: '省份', placeholder: '如 浙江省', max: ADDRESS_LIMITS.province },
  { key: 'city', label: '城市', placeholder: '如 杭州市', max: ADDRESS_LIMITS.city },
  { key: 'district', label: '区县', placeholder: '如 西湖区', max: ADDRESS_LIMITS.district },
  { key: 'detail', label: '详细地址', placeholder: '街道、门牌号', max: ADDRESS_LIMITS.detail },
]

const LABELS: Record<FormField, string> = {
  ...(Object.fromEntries(ADDRESS_FIELDS.map((f) => [f.key, f.label])) as Record<
    AddressField,
    string
  >),
  postalCode: '邮政编码',
  remark: '备注',
}

const isFormField = (k: unknown): k is FormField => typeof k === 'string' && k in LABELS

/**
 * Chinese words for the checks the shared schemas leave to zod's defaults (a blank or too long
 * field: `storable(max)` gives no message of its own); a schema's own message (请填写正确的手机号或
 * 固定电话) always wins over this.
 */
function message(issue: { code?: string; path?: PropertyKey[]; maximum?: unknown }): string {
  const field = issue.path?.[0]
  const label = isFormField(field) ? LABELS[field] : '该项'
  if (issue.code === 'too_small' || issue.code === 'invalid_type') return `请填写${label}`
  if (issue.code === 'too_big') return `${label}最多 ${String(issue.maximum)} 个字`
  return `${label}填写有误`
}

/** Each field's first problem, in the order the issues came. */
function byField(issues: readonly { path: PropertyKey[]; message: string }[]): FieldErrors {
  const errors: FieldErrors = {}
  for (const i of issues) {
    const field = i.path[0]
    if (isFormField(field) && !errors[field]) errors[field] = i.message
  }
  return errors
}

/**
 * Checks an address with the shared `Address` schema: the address as the server will store it
 * (trimmed), or a message per field.
 */
export function checkAddress(
  a: unknown,
): { ok: true; address: Address } | { ok: false; errors: FieldErrors } {
  const r = schemas.Address.safeParse(a, { error: message })
  return r.success ? { ok: true, address: r.data } : { ok: false, errors: byField(r.error.issues) }
}

/** Checks 备注 with the shared `Remark` schema: the trimmed remark ('' for none), or its problem. */
export function checkRemark(
  text: string,
): { ok: true; remark: string } | { ok: false; error: string } {
  const r = schemas.Remark.safeParse(text, { error: () => '备注填写有误' })
  return r.success
    ? { ok: true, remark: r.data ?? '' }
    : { ok: false, error: r.error.issues[0]!.message }
}

/**
 * The field a server refusal names: `INVALID_INPUT` with `address.phone: 请填写…` (the server's
 * parse names the first problem's path) → `{field: 'phone', message: '请填写…'}`; undefined for
 * any other error, which the page shows as a whole.
 */
export function fieldOfServerError(e: unknown): { field: FormField; message: string } | undefined {
  if (!(e instanceof ApiRequestError) || e.code !== 'INVALID_INPUT') return undefined
  const m = /^(address\.)?([A-Za-z]+): ([\s\S]+)$/.exec(e.message)
  if (!m) return undefined
  const field = m[2]
  // `remark` stands alone; the address's fields come as `address.<field>`.
  if (!isFormField(field) || (field === 'remark') === Boolean(m[1])) return undefined
  return { field, message: m[3]! }
}
