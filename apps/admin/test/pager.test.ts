import { describe, expect, it } from 'vitest'
import { ApiError, type Page } from '../src/api'
import { usePager } from '../src/pager'

/** A list of 1..7 in pages of 3, with cursors as the API gives them (opaque to the pager). */
const rows = [1, 2, 3, 4, 5, 6, 7]
const seen: (string | undefined)[] = []
async function load(cursor: string | undefined): Promise<Page<number>> {
  seen.push(cursor)
  if (cursor === 'broken') throw new ApiError(400, 'INVALID_INPUT', '翻页游标无效')
  const start = cursor ? Number(cursor.slice(1)) : 0
  const items = rows.slice(start, start + 3)
  return { items, nextCursor: start + 3 < rows.length ? `c${start + 3}` : null }
}

describe('usePager', () => {
  it('goes forward with nextCursor and back along the cursors seen', async () => {
    const p = usePager(load)
    await p.first()
    expect([p.items.value, p.pageNo(), p.hasPrev(), p.hasNext()]).toEqual([
      [1, 2, 3],
      1,
      false,
      true,
    ])
    await p.forward()
    await p.forward()
    expect([p.items.value, p.pageNo(), p.hasNext()]).toEqual([[7], 3, false])
    await p.forward() // no next page: nothing happens
    expect(p.pageNo()).toBe(3)
    await p.back()
    expect([p.items.value, p.pageNo()]).toEqual([[4, 5, 6], 2])
    await p.back()
    expect([p.items.value, p.pageNo(), p.hasPrev()]).toEqual([[1, 2, 3], 1, false])
    await p.reload()
    expect(seen.at(-1)).toBeUndefined()
  })

  it('keeps the page it showed when a load is refused, and shows the server message', async () => {
    const p = usePager<number>(async (cursor) => (cursor === 'c3' ? load('broken') : load(cursor)))
    await p.first()
    await p.forward()
    expect([p.items.value, p.pageNo(), p.error.value]).toEqual([[1, 2, 3], 1, '翻页游标无效'])
    expect(p.loading.value).toBe(false)
  })
})
