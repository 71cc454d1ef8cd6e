import { formatFen, schemas, ORDER_STATUS_LABELS } from '@fen/shared'

console.log(formatFen(2990)) // ¥29.90
console.log(ORDER_STATUS_LABELS.PAID) // 已支付
const body = schemas.CreateOrderRequest.safeParse({ items: [{ productId: 1, quantity: 2 }] })
console.log(body.success) // true — the server validates requests with these schemas
