import { AppError } from '../errors'
import type { TimeKey } from '../repositories/admin-lists'

/**
 * Admin list cursors. A cursor names the last row of a page by its sort key — (created_at, key) for
 * orders and refunds, the id for events — and the next page is the rows strictly after it
 * (keyset pagination): rows inserted meanwhile land before the first page, never shift later pages,
 * and a deep page costs the same as the first. It travels as base64url JSON, opaque to clients.
 *
 * Times are kept to the millisecond: every row the app writes takes its created_at from the app
 * clock (a JS Date), so no two stored times differ by less.
 */

export function encodeTimeCursor(at: Date, key: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), key])).toString('base64url')
}

export function decodeTimeCursor(cursor: string | undefined): TimeKey | undefined {
  if (cursor === undefined) return undefined
  const v = parseCursor(cursor)
  if (
    Array.isArray(v) &&
    v.length === 2 &&
    typeof v[0] === 'string' &&
    typeof v[1] === 'string' &&
    isIsoTime(v[0])
  ) {
    return { at: new Date(v[0]), key: v[1] }
  }
  throw badCursor()
}

export function encodeIdCursor(id: number): string {
  return Buffer.from(JSON.stringify([id])).toString('base64url')
}

export function decodeIdCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined
  const v = parseCursor(cursor)
  if (Array.isArray(v) && v.length === 1 && Number.isSafeInteger(v[0]) && v[0] > 0) {
    return v[0] as number
  }
  throw badCursor()
}

/**
 * The page of `limit` rows out of `rows`, fetched with `limit + 1` so a last page is known without
 * a count: the cursor names the page's last row when more follow.
 */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  view: (r: R) => T,
  cursorOf: (r: R) => string,
): { items: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return {
    items: page.map(view),
    nextCursor: rows.length > limit && last !== undefined ? cursorOf(last) : null,
  }
}

/** Exactly what `toISOString` writes (Date.parse alone takes many other forms). */
function isIsoTime(s: string): boolean {
  const d = new Date(s)
  return !Number.isNaN(d.getTime()) && d.toISOString() === s
}

function parseCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw badCursor()
  }
}

const badCursor = () => new AppError('INVALID_INPUT', '翻页游标无效，请从第一页重新查询')
