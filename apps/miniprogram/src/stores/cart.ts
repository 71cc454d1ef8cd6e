import { computed, reactive } from 'vue'
import type { Product } from '@fen/shared'

/** What the shopper picked: product id → quantity, with the products as last loaded. */
const state = reactive({
  products: [] as Product[],
  quantities: {} as Record<number, number>,
})

export const cart = {
  state,
  /**
   * Replaces the catalogue. A picked product no longer listed is dropped and a quantity above the
   * new stock is lowered, so the cart only ever holds what the shopper can see and order.
   */
  setProducts(products: Product[]) {
    state.products = products
    for (const id of Object.keys(state.quantities).map(Number)) cart.set(id, state.quantities[id]!)
  },
  quantity(id: number): number {
    return state.quantities[id] ?? 0
  },
  /** Sets a quantity, kept within 0..min(stock, 99). */
  set(id: number, quantity: number) {
    const product = state.products.find((p) => p.id === id)
    const max = Math.min(product?.stock ?? 0, 99)
    const q = Math.max(0, Math.min(Math.floor(quantity), max))
    if (q === 0) delete state.quantities[id]
    else state.quantities[id] = q
  },
  clear() {
    state.quantities = {}
  },
  /** The lines to order: product id and quantity (never a price: the server prices the order). */
  lines: computed(() =>
    Object.entries(state.quantities).map(([id, quantity]) => ({ productId: Number(id), quantity })),
  ),
  /** The sum at the listed prices, shown as an estimate; the server's total is what is paid. */
  estimateFen: computed(() =>
    Object.entries(state.quantities).reduce((sum, [id, q]) => {
      const p = state.products.find((x) => x.id === Number(id))
      return sum + (p ? p.priceFen * q : 0)
    }, 0),
  ),
}
