/**
 * One line naming an order's contents, the same everywhere the shopper reads it: the WeChat bill
 * (the server's prepay `description`), the cashier and the order list. It counts units, not lines,
 * because 件 means pieces: one line of 2 lattes is "拿铁 ×2", a latte and a mocha "拿铁 等2件商品".
 * WeChat caps `description` at 127 characters; the result never exceeds that.
 */
export function describeItems(items: readonly { title: string; quantity: number }[]): string {
  const first = items[0]?.title ?? 'Fen 订单'
  const units = items.reduce((n, i) => n + i.quantity, 0)
  const text =
    items.length > 1 ? `${first} 等${units}件商品` : units > 1 ? `${first} ×${units}` : first
  return [...text].slice(0, 127).join('')
}
