// The console's views, in the URL's hash (#/orders, #/orders/<out_trade_no>, #/calls?…), so a
// view can be bookmarked or reloaded; the sandbox serves one page.
import { computed, ref } from 'vue'

export type View = 'orders' | 'order' | 'refunds' | 'notifications' | 'calls' | 'controls'

const hash = ref(location.hash)
window.addEventListener('hashchange', () => {
  hash.value = location.hash
})

/** The current view, its parameter (the order of `order`) and its query. */
export const route = computed(() => {
  const [path = '', search = ''] = hash.value.replace(/^#\/?/, '').split('?')
  const [name = '', param] = path.split('/')
  const views: View[] = ['orders', 'refunds', 'notifications', 'calls', 'controls']
  const view: View =
    name === 'orders' && param ? 'order' : views.includes(name as View) ? (name as View) : 'orders'
  return {
    view,
    param: param === undefined ? undefined : decodeURIComponent(param),
    query: new URLSearchParams(search),
  }
})

/** The hash of a view. */
export function href(view: View, param?: string, query?: Record<string, string>): string {
  const q = query ? new URLSearchParams(query).toString() : ''
  const name = view === 'order' ? 'orders' : view
  return `#/${name}${param === undefined ? '' : `/${encodeURIComponent(param)}`}${q ? `?${q}` : ''}`
}
