// Fixtures typed by the shared contracts, and a route table for the mocked server.
import type {
  ErrorBody,
  ErrorCode,
  LoginResponse,
  Order,
  OrderStatus,
  HomeResponse,
  PayResponse,
  Product,
} from '@fen/shared'
import { ERROR_CODES, fulfilmentStage, shopperActions, type OrderFacts } from '@fen/shared'
import type { RequestAnswer, RequestCall } from './taro-mock'

export const TOKEN_KEY = 'fen.token'

export const products: Product[] = [
  {
    id: 1,
    title: '手冲咖啡豆',
    priceFen: 2990,
    stock: 5,
    purchaseLimit: 20,
    images: [],
    description: '',
  },
  {
    id: 2,
    title: '马克杯',
    priceFen: 1500,
    stock: 2,
    purchaseLimit: 20,
    images: [],
    description: '',
  },
  { id: 3, title: '滤纸', priceFen: 5, stock: 0, purchaseLimit: 20, images: [], description: '' },
]

export function order(overrides: Partial<Order> = {}): Order {
  return {
    orderNo: 'FEN20261122000001',
    status: 'PENDING',
    totalFen: 7480,
    refundedFen: 0,
    items: [
      { productId: 1, title: '手冲咖啡豆', quantity: 2, unitPriceFen: 2990 },
      { productId: 2, title: '马克杯', quantity: 1, unitPriceFen: 1500 },
    ],
    createdAt: '2026-11-22T08:00:00.000Z',
    expiresAt: '2026-11-22T08:30:00.000Z',
    deliveryMethod: 'pickup',
    timeline: [{ kind: 'created', at: '2026-11-22T08:00:00.000Z' }],
    actions: ['pay', 'cancel'],
    refundableFen: 0,
    fulfilment: 'unpaid',
    ...overrides,
  }
}

/** What the server's rules say of an order in `status` with nothing refunded (as its views do). */
function decided(status: OrderStatus): Pick<Order, 'actions' | 'refundableFen' | 'fulfilment'> {
  const facts: OrderFacts = {
    status,
    totalFen: 7480,
    deliveryMethod: 'pickup',
    shipped: status === 'SHIPPED' || status === 'COMPLETED',
    received: status === 'COMPLETED',
    paidAfterClose: false,
    refunds: [],
    refundRequestPending: false,
  }
  const paid = !['PENDING', 'CLOSED'].includes(status)
  return {
    actions: shopperActions(facts),
    refundableFen: paid ? 7480 : 0,
    fulfilment: fulfilmentStage(facts),
  }
}

export function withStatus(status: OrderStatus, overrides: Partial<Order> = {}): Order {
  return order({
    status,
    ...decided(status),
    ...(status === 'PAID' ? { paidAt: '2026-11-22T08:01:00.000Z' } : {}),
    ...(status === 'CLOSED' ? { closedAt: '2026-11-22T08:30:00.000Z' } : {}),
    ...overrides,
  })
}

export const jsapiAnswer: PayResponse & { channel: 'jsapi' } = {
  channel: 'jsapi',
  params: {
    appId: 'wx0000000000000001',
    timeStamp: '1795334400',
    nonceStr: 'n0nce5tr',
    package: 'prepay_id=wx22080000000000000000000000000001',
    signType: 'RSA',
    paySign: 'c2lnbmF0dXJl',
  },
}

export const nativeAnswer: PayResponse = {
  channel: 'native',
  codeUrl: 'weixin://wxpay/bizpayurl?pr=abc123',
  expiresAt: '2026-11-22T08:30:00.000Z',
}

export function loginAnswer(token: string): RequestAnswer {
  const data: LoginResponse = { token, expiresAt: '2026-11-23T08:00:00.000Z', user: { id: 7 } }
  return { statusCode: 200, data }
}

export function ok(data: unknown): RequestAnswer {
  return { statusCode: 200, data }
}

/** An error answer as the server sends it: the code's status and `{code, message}`. */
export function fail(code: ErrorCode, message: string): RequestAnswer {
  const data: ErrorBody = { code, message }
  return { statusCode: ERROR_CODES[code], data }
}

/** A route table: `'GET /api/products'` → an answer (or a function of the call). */
export function routes(
  table: Record<string, RequestAnswer | ((call: RequestCall) => RequestAnswer)>,
): (call: RequestCall) => RequestAnswer {
  return (call) => {
    const route = table[`${call.method} ${call.path}`]
    if (route === undefined) {
      return fail('NOT_FOUND', `no route for ${call.method} ${call.path}`)
    }
    return typeof route === 'function' ? route(call) : route
  }
}

/** The catalogue as the shop shows it: images, categories, specs (src/api/products.ts). */
export const catalogue: Product[] = [
  {
    id: 1,
    title: '冷萃咖啡',
    priceFen: 2800,
    stock: 5,
    purchaseLimit: 20,
    imageUrl: '/static/products/cold-brew.svg',
    images: ['/static/products/cold-brew.svg', '/static/products/cold-brew-2.svg'],
    category: 'coffee',
    description: '低温慢萃 12 小时',
    specs: [
      { name: '温度', options: ['冰', '去冰'] },
      { name: '杯型', options: ['中杯', '大杯'] },
    ],
  },
  {
    id: 2,
    title: '挂耳咖啡 10 包',
    priceFen: 2990,
    stock: 2,
    purchaseLimit: 20,
    imageUrl: '/static/products/drip-bags.svg',
    images: ['/static/products/drip-bags.svg'],
    category: 'beans',
    description: '中深烘焙，热水一冲即得',
  },
  {
    id: 3,
    title: '可颂',
    priceFen: 1200,
    stock: 0,
    purchaseLimit: 20,
    images: [],
    category: 'bakery',
    description: '法式黄油可颂',
  },
]

export const home: HomeResponse = {
  banners: [
    { id: 'autumn', title: '秋日冷萃上新', imageUrl: '/static/products/banner.svg', productId: 1 },
  ],
  categories: [
    { id: 'coffee', name: '咖啡' },
    { id: 'beans', name: '咖啡豆' },
    { id: 'bakery', name: '烘焙' },
  ],
  products: catalogue,
}
