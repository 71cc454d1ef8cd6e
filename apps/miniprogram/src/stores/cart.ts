import { computed, reactive, watch } from 'vue'
import Taro from '@tarojs/taro'
import { formatSpec, type Product } from '@fen/shared'

/** The chosen options of a product's specs, e.g. {温度: '冰', 杯型: '大杯'}. */
export type SpecChoice = Record<string, string>

/** One line of the cart: a product in one spec choice. */
export interface CartLine {
  productId: number
  spec?: SpecChoice
  quantity: number
  /** Ticked for 去结算. */
  selected: boolean
}

/** What an order is made of: never a price (the server prices the order). */
export interface OrderLine {
  productId: number
  quantity: number
  spec?: SpecChoice
}

/** Where the device keeps the cart, so that a reload (H5) or a relaunch finds it again. */
const CART_KEY = 'fen.cart'
/** …and what is being checked out, so that a reload of 确认订单 still has its lines. */
const CHECKOUT_KEY = 'fen.checkout'
/** The tab bar's 购物车 entry (app.config.ts `tabBar.list`). */
const CART_TAB = 1

/** The same product in the same choice is one line: its key. */
export function lineKey(productId: number, spec?: SpecChoice): string {
  const choice = Object.entries(spec ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
  return `${productId}|${choice}`
}

function stored(): CartLine[] {
  const raw = Taro.getStorageSync(CART_KEY) as unknown
  return Array.isArray(raw) ? (raw as CartLine[]) : []
}

function storedCheckout(): { lines: OrderLine[]; fromCart: boolean } {
  const raw = Taro.getStorageSync(CHECKOUT_KEY) as { lines?: unknown; fromCart?: unknown } | ''
  return raw && Array.isArray(raw.lines)
    ? { lines: raw.lines as OrderLine[], fromCart: raw.fromCart === true }
    : { lines: [], fromCart: false }
}

const checkoutKept = storedCheckout()
const state = reactive({
  /** The catalogue as last loaded (home, detail or cart page). */
  products: [] as Product[],
  lines: stored(),
  /** What 去结算 or 立即购买 hands to the checkout page (kept in storage until ordered). */
  checkout: checkoutKept.lines,
  /** Whether those came from the cart (去结算), so that ordering them takes them out of it. */
  checkoutFromCart: checkoutKept.fromCart,
})

const productOf = (id: number) => state.products.find((p) => p.id === id)
/** The most of a product one order may take: its stock, and the server's 限购 (purchaseLimit). */
const maxOf = (id: number) => {
  const p = productOf(id)
  return p ? Math.min(p.stock, p.purchaseLimit) : 0
}
/** Whether 限购 (not the stock) is what stops the product's quantity: the shop says so. */
const limitedOf = (id: number) => {
  const p = productOf(id)
  return p !== undefined && p.stock > 0 && p.purchaseLimit <= p.stock
}

const units = computed(() => state.lines.reduce((n, l) => n + l.quantity, 0))
const selectedLines = computed(() => state.lines.filter((l) => l.selected))

/** Sums lines at the listed prices: an estimate; the server's total is what is paid. */
function estimate(lines: readonly OrderLine[]): number {
  return lines.reduce((sum, l) => sum + (productOf(l.productId)?.priceFen ?? 0) * l.quantity, 0)
}

export const cart = {
  state,
  productOf,
  /** A line's spec as the shop shows it everywhere (冰/大杯): in the product's order of specs. */
  specLabel: (l: { productId: number; spec?: SpecChoice }) =>
    formatSpec(l.spec, productOf(l.productId)?.specs),
  maxOf,
  limitedOf,
  /**
   * Replaces the catalogue. A line whose product is no longer listed is dropped and a quantity
   * above the new stock (or 限购) is lowered, so the cart only ever holds what the shopper can order.
   */
  setProducts(products: Product[]) {
    state.products = products
    state.lines = state.lines
      .map((l) => ({ ...l, quantity: Math.min(l.quantity, maxOf(l.productId)) }))
      .filter((l) => l.quantity > 0)
  },
  /** Adds `quantity` of a product in a choice (a new line, or more of the same line). */
  add(productId: number, quantity: number, spec?: SpecChoice): number {
    const key = lineKey(productId, spec)
    const line = state.lines.find((l) => lineKey(l.productId, l.spec) === key)
    const inCart = state.lines
      .filter((l) => l.productId === productId)
      .reduce((n, l) => n + l.quantity, 0)
    const added = Math.max(0, Math.min(quantity, maxOf(productId) - inCart))
    if (added === 0) return 0
    if (line) line.quantity += added
    else state.lines.push({ productId, quantity: added, selected: true, ...(spec ? { spec } : {}) })
    return added
  },
  /** Sets a line's quantity within 1..stock and 限购 (remove() takes a line away). */
  setQuantity(line: CartLine, quantity: number) {
    const others = state.lines
      .filter((l) => l !== line && l.productId === line.productId)
      .reduce((n, l) => n + l.quantity, 0)
    line.quantity = Math.max(1, Math.min(Math.floor(quantity), maxOf(line.productId) - others))
  },
  remove(line: CartLine) {
    state.lines = state.lines.filter((l) => l !== line)
  },
  /** Ticks every line, or none. */
  selectAll(selected: boolean) {
    for (const l of state.lines) l.selected = selected
  },
  clear() {
    state.lines = []
    state.checkout = []
    state.checkoutFromCart = false
  },
  /** 去结算: the ticked lines go to checkout. */
  checkoutSelected() {
    state.checkout = selectedLines.value.map(({ productId, quantity, spec }) => ({
      productId,
      quantity,
      ...(spec ? { spec } : {}),
    }))
    state.checkoutFromCart = true
  },
  /** 立即购买: one line straight to checkout, the cart left as it is. */
  checkoutNow(line: OrderLine) {
    state.checkout = [line]
    state.checkoutFromCart = false
  },
  /** The order is made: the cart lines it took leave the cart (a 立即购买 took none). */
  ordered() {
    if (state.checkoutFromCart) {
      const keys = new Set(state.checkout.map((l) => lineKey(l.productId, l.spec)))
      state.lines = state.lines.filter((l) => !keys.has(lineKey(l.productId, l.spec)))
    }
    state.checkout = []
  },
  /** Units in the cart: the tab bar's badge. */
  units,
  selectedLines,
  estimate,
  selectedEstimateFen: computed(() => estimate(selectedLines.value)),
}

/** The 购物车 tab's badge, kept to the cart's units. Fails harmlessly where there is no tab bar. */
export function syncCartBadge(): void {
  const n = units.value
  try {
    const done = n
      ? Taro.setTabBarBadge({ index: CART_TAB, text: n > 99 ? '99+' : String(n) })
      : Taro.removeTabBarBadge({ index: CART_TAB })
    void Promise.resolve(done).catch(() => undefined)
  } catch {
    // H5 before its tab bar exists: the next tab page's show sets the badge
  }
}

watch(
  () => state.lines,
  (lines) => {
    Taro.setStorageSync(CART_KEY, lines)
    syncCartBadge()
  },
  { deep: true },
)

watch(
  () => [state.checkout, state.checkoutFromCart] as const,
  ([lines, fromCart]) => {
    if (lines.length) Taro.setStorageSync(CHECKOUT_KEY, { lines, fromCart })
    else Taro.removeStorageSync(CHECKOUT_KEY)
  },
  { deep: true },
)
