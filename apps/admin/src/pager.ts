// Cursor paging for the admin lists: the API only goes forward (nextCursor), so the pager keeps
// the cursors of the pages already seen to go back.
import { ref, shallowRef } from 'vue'
import { ApiError, type Page } from './api'

export function usePager<T>(load: (cursor: string | undefined) => Promise<Page<T>>) {
  const items = shallowRef<T[]>([])
  const loading = ref(false)
  const error = ref('')
  /** The cursor each seen page was loaded with (undefined for the first). */
  const trail = ref<(string | undefined)[]>([])
  const next = ref<string | null>(null)

  async function show(cursor: string | undefined): Promise<boolean> {
    loading.value = true
    error.value = ''
    try {
      const page = await load(cursor)
      items.value = page.items
      next.value = page.nextCursor
      return true
    } catch (e) {
      error.value = e instanceof ApiError || e instanceof Error ? e.message : String(e)
      return false
    } finally {
      loading.value = false
    }
  }

  return {
    items,
    loading,
    error,
    /** 1-based number of the page shown. */
    pageNo: () => trail.value.length,
    hasNext: () => next.value !== null,
    hasPrev: () => trail.value.length > 1,
    /** The first page (again), e.g. after the filters changed. */
    async first() {
      trail.value = [undefined]
      await show(undefined)
    },
    async forward() {
      const c = next.value
      if (c === null) return
      if (await show(c)) trail.value = [...trail.value, c]
    },
    async back() {
      if (trail.value.length < 2) return
      const prev = trail.value.slice(0, -1)
      if (await show(prev.at(-1))) trail.value = prev
    },
    /** The page shown, loaded again (after an action changed its rows). */
    async reload() {
      await show(trail.value.at(-1))
    },
  }
}

/** What usePager returns: a list page's state and moves (PagedTable shows it). */
export type Pager<T> = ReturnType<typeof usePager<T>>
