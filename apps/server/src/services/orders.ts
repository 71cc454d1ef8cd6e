import { createHash, randomInt } from 'node:crypto'
import { loggable } from '../logger'
import {
  describeItems,
  formatSpec,
  type CreateOrderRequest,
  type Order,
  type PayChannel,
  type PayResponse,
  type ProductSpec,
} from '@fen/shared'
import { formatV2Time, isApiError, isOrderPaidError } from '@fen/wechatpay'
import type { Config } from '../config'
import { AppError } from '../errors'
import {
  findByIdempotencyKey,
  findOrder,
  findUserOrder,
  insertOrder,
  itemsOfOrder,
  listUserOrders,
  openOrdersOf,
  recordPrepay,
  type OrderItemRow,
  type OrderRow,
} from '../repositories/orders'
import { findProduct, reserveStock } from '../repositories/products'
import { lockUser } from '../repositories/users'
import type { Shopper } from './auth'
import type { ServiceContext } from './context'
import type { PaymentService } from './payments'
import { orderViews } from './order-views'
import { orderView } from './views'
import { wechatFailure } from './wechat-errors'

/** A PENDING order is re-checked with WeChat when its last check is older than this. */
const SYNC_AFTER_MS = 3000
/** A prepay_id (and a code_url) lives 2 hours at WeChat. */
const PREPAY_TTL_MS = 2 * 3600_000
/** No new prepay for an order this close to expiry, nor reuse of a prepay this close to its end. */
const PAY_MARGIN_MS = 60_000
/** The most one order may cost (WeChat's amount field is a 32-bit integer of fen). */
const MAX_TOTAL_FEN = 2_147_483_647

/**
 * 限购 as the shop is told it (`Product.purchaseLimit`): the units of one product a shopper may
 * have in unpaid orders (ORDER_MAX_UNITS_PER_PRODUCT), and never more than one line takes.
 */
export function purchaseLimit(limits: Config['orderLimits']): number {
  return Math.min(limits.maxUnitsPerProduct ?? Infinity, limits.maxQuantityPerLine)
}

/** `FEN` + Beijing `yyyyMMddHHmmss` + 8 random digits: 25 characters, a valid `out_trade_no`. */
function newOrderNo(now: Date): string {
  return `FEN${formatV2Time(now)}${String(randomInt(0, 100_000_000)).padStart(8, '0')}`
}

/**
 * The shopper's side of orders. The server prices every order from its own catalogue (the client
 * sends product ids and quantities, never an amount) and reserves stock in the same transaction.
 */
export class OrderService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly payments: PaymentService,
  ) {}

  /**
   * Creates an order. With an `Idempotency-Key`, a retry of the same request returns the same
   * order, and the same key with a different request is refused.
   */
  async create(userId: number, req: CreateOrderRequest, idempotencyKey?: string): Promise<Order> {
    // One lock order (by product): no deadlocks between concurrent creates.
    const lines = [...req.items].sort((a, b) => a.productId - b.productId)
    const { maxQuantityPerLine, maxOpenOrdersPerUser, maxUnitsPerProduct } =
      this.ctx.config.orderLimits
    const over = lines.find((l) => l.quantity > maxQuantityPerLine)
    if (over) {
      throw new AppError(
        'INVALID_INPUT',
        `商品 ${over.productId}：每单每件商品最多 ${maxQuantityPerLine} 件`,
      )
    }
    /** Units of each product this order asks for (a product may be on several lines, by spec). */
    const asked = new Map<number, number>()
    for (const l of lines) asked.set(l.productId, (asked.get(l.productId) ?? 0) + l.quantity)
    const deliveryMethod = req.deliveryMethod ?? 'pickup'
    const remark = req.remark || undefined
    const requestHash = createHash('sha256')
      .update(JSON.stringify([lines, req.address ?? null, deliveryMethod, remark ?? null]))
      .digest('hex')
    if (idempotencyKey) {
      const existing = await this.#replay(userId, idempotencyKey, requestHash)
      if (existing) return existing
    }
    const now = this.ctx.clock()
    let created: { order: OrderRow; items: OrderItemRow[] } | undefined
    // Order numbers are random within a second: two orders drawing the same one (about once a
    // quarter of an hour at 500 orders/s) would fail the primary key, so the loser draws again.
    for (let attempt = 1; !created; attempt++) {
      const orderNo = newOrderNo(now)
      try {
        created = await this.ctx.db.transaction(async (tx) => {
          // Unpaid orders hold stock: one shopper may hold only so many at once, and only so many
          // units of one product. The user's row lock makes concurrent creates count one after
          // another.
          if (!(await lockUser(tx, userId)))
            throw new AppError('UNAUTHORIZED', '用户不存在，请重新登录')
          const open = await openOrdersOf(tx, userId, maxUnitsPerProduct ? [...asked.keys()] : [])
          if (open.count >= maxOpenOrdersPerUser) {
            throw new AppError(
              'TOO_MANY_OPEN_ORDERS',
              `未支付的订单已有 ${maxOpenOrdersPerUser} 个，请先支付或取消`,
            )
          }
          const items = []
          const seen = new Set<string>()
          let total = 0
          /** Every line virtual: the shipping job ships the order once it is PAID. */
          let virtualGoods = true
          for (const line of lines) {
            const reserved = await reserveStock(tx, line.productId, line.quantity)
            if (!reserved) {
              const product = await findProduct(tx, line.productId)
              if (!product || !product.active) {
                throw new AppError('PRODUCT_NOT_FOUND', `商品 ${line.productId} 不存在或已下架`)
              }
              throw new AppError(
                'OUT_OF_STOCK',
                `「${product.title}」库存不足，仅剩 ${product.stock} 件`,
              )
            }
            const held = open.units.get(line.productId) ?? 0
            if (maxUnitsPerProduct && held + asked.get(line.productId)! > maxUnitsPerProduct) {
              throw new AppError(
                'PURCHASE_LIMIT_EXCEEDED',
                `「${reserved.title}」每人限购 ${maxUnitsPerProduct} 件` +
                  (held ? `，未支付的订单里已有 ${held} 件，请先支付或取消` : ''),
              )
            }
            // A bad spec throws here, inside the transaction: the stock taken so far goes back.
            const spec = chosenSpec(reserved, line.spec)
            const specLabel = formatSpec(spec, reserved.specs ?? undefined)
            if (seen.has(`${line.productId}|${specLabel}`)) {
              throw new AppError('INVALID_INPUT', `「${reserved.title}」同一规格请合并为一行`)
            }
            seen.add(`${line.productId}|${specLabel}`)
            total += reserved.priceFen * line.quantity
            virtualGoods &&= reserved.isVirtual
            items.push({
              orderNo,
              productId: line.productId,
              title: reserved.title,
              unitPriceFen: reserved.priceFen,
              quantity: line.quantity,
              imageUrl: reserved.imageUrl,
              spec,
              specLabel,
            })
          }
          if (total > MAX_TOTAL_FEN) throw new AppError('INVALID_INPUT', '订单金额超出上限')
          const inserted = await insertOrder(
            tx,
            {
              orderNo,
              userId,
              status: 'PENDING',
              totalFen: total,
              apiVersion: this.ctx.gateway.apiVersion,
              createdAt: now,
              expiresAt: new Date(now.getTime() + this.ctx.config.orderTtlSeconds * 1000),
              idempotencyKey: idempotencyKey ?? null,
              requestHash,
              address: req.address ?? null,
              deliveryMethod,
              remark: remark ?? null,
              virtualGoods,
            },
            items,
          )
          return inserted
        })
      } catch (e) {
        if (attempt < 3 && sqlState(e) === '23505' && constraintOf(e) === 'orders_pkey') continue
        // Two requests with one key at once: the loser finds the winner's order.
        if (idempotencyKey && sqlState(e) === '23505') {
          const existing = await this.#replay(userId, idempotencyKey, requestHash)
          if (existing) return existing
        }
        // A valid token for a user who is gone (a reset database): log in again.
        if (sqlState(e) === '23503') throw new AppError('UNAUTHORIZED', '用户不存在，请重新登录')
        throw e
      }
    }
    // A new order has its lines and nothing else yet (no delivery, refund or request): its view
    // needs no further reads.
    return orderView(created.order, created.items)
  }

  async #replay(userId: number, key: string, requestHash: string): Promise<Order | undefined> {
    const existing = await findByIdempotencyKey(this.ctx.db, userId, key)
    if (!existing) return undefined
    if (existing.requestHash !== requestHash) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key 已用于另一个订单')
    }
    return this.#view(existing)
  }

  async list(userId: number): Promise<Order[]> {
    return orderViews(this.ctx.db, await listUserOrders(this.ctx.db, userId))
  }

  /**
   * One order of this user (another user's is 404). A PENDING order WeChat knows about and that
   * was not checked for a few seconds is first synced with WeChat, so a late or lost notification
   * never leaves the shopper waiting. If WeChat cannot be reached, the order is shown as we have it.
   */
  async get(userId: number, orderNo: string): Promise<Order> {
    let order = await this.#own(userId, orderNo)
    const now = this.ctx.clock().getTime()
    const stale = !order.lastSyncedAt || now - order.lastSyncedAt.getTime() >= SYNC_AFTER_MS
    if (order.status === 'PENDING' && order.channel && stale) {
      try {
        await this.payments.sync(orderNo)
        order = (await findOrder(this.ctx.db, orderNo))!
      } catch (e) {
        this.ctx.logger.warn(
          { orderNo, err: loggable(e) },
          'order sync with WeChat failed; showing local state',
        )
      }
    }
    return this.#view(order)
  }

  /**
   * Prepays the order at WeChat (JSAPI or Native) and returns what the client needs. A prepay still
   * valid is reused; an order prepaid through one channel cannot switch to the other.
   */
  async pay(
    shopper: Shopper,
    orderNo: string,
    channel: PayChannel,
    clientIp: string,
  ): Promise<PayResponse> {
    const order = await this.#own(shopper.id, orderNo)
    this.#assertPayable(order, channel)
    const now = this.ctx.clock()
    const reusable =
      order.prepayExpiresAt && order.prepayExpiresAt.getTime() - now.getTime() > PAY_MARGIN_MS
    if (reusable && channel === 'jsapi' && order.prepayId) {
      return { channel, params: await this.ctx.gateway.requestPaymentParams(order.prepayId) }
    }
    if (reusable && channel === 'native' && order.codeUrl) {
      return { channel, codeUrl: order.codeUrl, expiresAt: order.prepayExpiresAt!.toISOString() }
    }
    const items = await itemsOfOrder(this.ctx.db, orderNo)
    const input = {
      orderNo,
      description: describeItems(items),
      totalFen: order.totalFen,
      expiresAt: order.expiresAt,
      notifyUrl: `${this.ctx.config.publicBaseUrl}/api/pay/notify`,
      clientIp,
    }
    const prepayExpiresAt = new Date(
      Math.min(now.getTime() + PREPAY_TTL_MS, order.expiresAt.getTime()),
    )
    let response: PayResponse
    let recorded: OrderRow | undefined
    try {
      if (channel === 'jsapi') {
        const r = await this.ctx.gateway.prepayJsapi({ ...input, openid: shopper.openid })
        recorded = await recordPrepay(this.ctx.db, orderNo, {
          channel,
          prepayId: r.prepayId,
          prepayExpiresAt,
        })
        response = { channel, params: r.params }
      } else {
        const r = await this.ctx.gateway.prepayNative(input)
        recorded = await recordPrepay(this.ctx.db, orderNo, {
          channel,
          codeUrl: r.codeUrl,
          prepayExpiresAt,
        })
        response = { channel, codeUrl: r.codeUrl, expiresAt: prepayExpiresAt.toISOString() }
      }
    } catch (e) {
      if (isOrderPaidError(e)) {
        await this.payments.sync(orderNo).catch(() => undefined)
        throw new AppError('ORDER_ALREADY_PAID', '订单已支付')
      }
      if (isApiError(e, 'ORDER_CLOSED') || isApiError(e, 'ORDERCLOSED')) {
        throw new AppError('ORDER_NOT_PAYABLE', '订单已关闭，请重新下单')
      }
      // Our prepays of one order differ only in their channel: WeChat refusing the order number
      // as used with other parameters means the other channel won a race with this request.
      if (isOrderNoUsed(e)) {
        const current = await findOrder(this.ctx.db, orderNo)
        if (current) this.#assertPayable(current, channel)
        throw new AppError('PAY_CHANNEL_LOCKED', '该订单已通过另一种方式发起支付')
      }
      throw wechatFailure(e)
    }
    if (!recorded) {
      // The order moved on while we prepaid (closed, paid, or prepaid through the other channel).
      const current = (await findOrder(this.ctx.db, orderNo))!
      if (current.status === 'CLOSED') await this.ctx.gateway.close(orderNo).catch(() => undefined)
      this.#assertPayable(current, channel)
      throw new AppError('ORDER_NOT_PAYABLE', '订单状态已变化，请刷新后重试')
    }
    return response
  }

  /** Cancels a PENDING order: closed at WeChat first, then here; stock released. Idempotent. */
  async cancel(userId: number, orderNo: string): Promise<Order> {
    const order = await this.#own(userId, orderNo)
    if (order.status === 'PENDING') {
      let result
      try {
        result = await this.payments.close(orderNo, '用户取消')
      } catch (e) {
        throw wechatFailure(e)
      }
      if (result === 'paid') throw new AppError('ORDER_ALREADY_PAID', '订单已支付，不能取消')
    }
    // Re-read: a payment may have won a race with this cancel.
    const current = (await findOrder(this.ctx.db, orderNo))!
    if (current.status !== 'CLOSED')
      throw new AppError('ORDER_ALREADY_PAID', '订单已支付，不能取消')
    return this.#view(current)
  }

  #assertPayable(order: OrderRow, channel: PayChannel): void {
    if (order.status === 'CLOSED') throw new AppError('ORDER_NOT_PAYABLE', '订单已关闭，请重新下单')
    if (order.status !== 'PENDING') throw new AppError('ORDER_ALREADY_PAID', '订单已支付')
    if (order.expiresAt.getTime() - this.ctx.clock().getTime() < PAY_MARGIN_MS) {
      throw new AppError('ORDER_NOT_PAYABLE', '订单即将过期，请重新下单')
    }
    if (order.apiVersion !== this.ctx.gateway.apiVersion) {
      throw new AppError('ORDER_NOT_PAYABLE', '订单的支付方式已变更，请重新下单')
    }
    if (order.channel && order.channel !== channel) {
      throw new AppError(
        'PAY_CHANNEL_LOCKED',
        order.channel === 'jsapi' ? '该订单已在微信内发起支付' : '该订单已生成支付二维码',
      )
    }
  }

  async #own(userId: number, orderNo: string): Promise<OrderRow> {
    const order = await findUserOrder(this.ctx.db, userId, orderNo)
    if (!order) throw new AppError('ORDER_NOT_FOUND', '订单不存在')
    return order
  }

  async #view(order: OrderRow): Promise<Order> {
    const [view] = await orderViews(this.ctx.db, [order])
    return view!
  }
}

/**
 * The spec of a line, checked against the product's specs: every name must be one of them and
 * every value one of its options; specs left out get their first option. Undefined for a product
 * without specs (any spec given for one is refused).
 */
function chosenSpec(
  product: { title: string; specs: ProductSpec[] | null },
  given: Record<string, string> | undefined,
): Record<string, string> | undefined {
  const specs = product.specs ?? []
  const names = Object.keys(given ?? {})
  const unknown = names.find((n) => !specs.some((s) => s.name === n))
  if (unknown !== undefined) {
    throw new AppError(
      'INVALID_INPUT',
      specs.length
        ? `「${product.title}」没有「${unknown}」这个规格`
        : `「${product.title}」没有可选的规格`,
    )
  }
  if (!specs.length) return undefined
  const spec: Record<string, string> = {}
  for (const s of specs) {
    const value = given?.[s.name] ?? s.options[0]!
    if (!s.options.includes(value)) {
      throw new AppError(
        'INVALID_INPUT',
        `「${product.title}」的${s.name}只能选 ${s.options.join('、')}`,
      )
    }
    spec[s.name] = value
  }
  return spec
}

/** WeChat's "this out_trade_no was used with other parameters" (v3 OUT_TRADE_NO_USED; v2 201 商户订单号重复). */
function isOrderNoUsed(e: unknown): boolean {
  return (
    isApiError(e, 'OUT_TRADE_NO_USED') ||
    (isApiError(e, 'INVALID_REQUEST') && (e as Error).message.includes('订单号重复'))
  )
}

/** The PostgreSQL SQLSTATE of an error, through drizzle's wrapping (23505 unique, 23503 foreign key). */
function sqlState(e: unknown): string | undefined {
  const err = e as { code?: unknown; cause?: { code?: unknown } }
  const code = typeof err?.code === 'string' ? err.code : err?.cause?.code
  return typeof code === 'string' ? code : undefined
}

/** The constraint a PostgreSQL error names (drizzle wraps the driver's error as its cause). */
function constraintOf(e: unknown): string | undefined {
  const err = e as { constraint?: unknown; cause?: { constraint?: unknown } }
  const name = typeof err?.constraint === 'string' ? err.constraint : err?.cause?.constraint
  return typeof name === 'string' ? name : undefined
}
