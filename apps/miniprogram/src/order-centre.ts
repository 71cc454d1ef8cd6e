import {
  formatFen,
  type Delivery,
  type FulfilmentStage,
  type Order,
  type OrderStatus,
  type RefundRequestView,
  type TimelineKind,
} from '@fen/shared'

/**
 * What the order centre (我的, 我的订单, the order page) shows of an order: its tab, its status in a
 * shopper's words, its timeline, and the progress of its refund requests. Pure functions of the
 * server's answers, so the pages only lay them out.
 */

export const ORDER_TABS = [
  { key: 'all', label: '全部' },
  { key: 'unpaid', label: '待付款' },
  { key: 'unshipped', label: '待发货' },
  { key: 'shipped', label: '待收货' },
  { key: 'aftersale', label: '退款/售后' },
] as const
export type OrderTab = (typeof ORDER_TABS)[number]['key']

export function isOrderTab(key: unknown): key is OrderTab {
  return ORDER_TABS.some((t) => t.key === key)
}

/** An order with a refund request or a refund (退款/售后), whatever its status now. */
export function hasAftersale(o: Order): boolean {
  return (
    o.refundedFen > 0 ||
    o.status === 'REFUNDING' ||
    Boolean(o.refundRequests?.length) ||
    o.timeline.some((e) => e.kind === 'refund_requested' || e.kind === 'refunded')
  )
}

/**
 * Tabs by what the shopper waits for, as the server's `fulfilment` says (packages/shared's
 * lifecycle rules decide it): a partly refunded order still waits for its parcel under 待发货 or
 * 待收货. 退款/售后 cuts across the others: a paid order with a refund request is both 待发货 and
 * 退款/售后, as the parcel may still go out if the request is rejected.
 */
export function inTab(o: Order, tab: OrderTab): boolean {
  switch (tab) {
    case 'all':
      return true
    case 'unpaid':
      return o.fulfilment === 'unpaid'
    case 'unshipped':
      return o.fulfilment === 'to_ship'
    case 'shipped':
      return o.fulfilment === 'shipped'
    case 'aftersale':
      return hasAftersale(o)
  }
}

/** The counts on 我的 (every tab but 全部). */
export function tabCounts(orders: readonly Order[]): Record<Exclude<OrderTab, 'all'>, number> {
  const count = (tab: OrderTab) => orders.filter((o) => inTab(o, tab)).length
  return {
    unpaid: count('unpaid'),
    unshipped: count('unshipped'),
    shipped: count('shipped'),
    aftersale: count('aftersale'),
  }
}

/** What the goods wait for, in a shopper's words (待发货), by the server's `fulfilment`. */
const FULFILMENT_WORDS: Record<Exclude<FulfilmentStage, 'none'>, string> = {
  unpaid: '待付款',
  to_ship: '待发货',
  shipped: '待收货',
  received: '已完成',
}

/** An order whose goods go nowhere (`fulfilment` none): what happened to its money. */
const ENDED_WORDS: Partial<Record<OrderStatus, string>> = {
  CLOSED: '已关闭',
  REFUNDING: '退款中',
  PARTIALLY_REFUNDED: '部分退款',
  REFUNDED: '已退款',
}

/**
 * The status as a shopper reads it: what happens next (待发货), not the ledger's word (已支付).
 * Read from the server's `fulfilment`, so a shipped, partly refunded order reads 待收货 (its
 * refund is `refundNote`), never 部分退款 alone. Words only: the server decided the stage.
 */
export function shopperStatus(o: Order): string {
  if (o.fulfilment !== 'none') return FULFILMENT_WORDS[o.fulfilment]
  return ENDED_WORDS[o.status] ?? '已关闭'
}

/**
 * The refund beside an order that still goes on (待发货, 待收货, 已完成): 已退款 ¥x, or 退款处理中;
 * '' when there is none, or when the refund is the whole story (已退款, 退款中 as the status).
 */
export function refundNote(o: Order): string {
  if (o.fulfilment === 'none' || o.fulfilment === 'unpaid') return ''
  const parts: string[] = []
  if (o.refundedFen > 0) parts.push(`已退款 ${formatFen(o.refundedFen)}`)
  if (o.status === 'REFUNDING') parts.push('退款处理中')
  return parts.join('，')
}

/** One line under the status on the order page. */
export function statusHint(o: Order): string {
  switch (o.fulfilment) {
    case 'unpaid':
      return `请在 ${shopTime(o.expiresAt).slice(11)} 前完成支付，逾时订单将自动关闭`
    case 'to_ship':
      return o.deliveryMethod === 'express'
        ? '商家正在备货，发货后可查看物流'
        : '商家正在准备，请留意取货通知'
    case 'shipped':
      return o.delivery?.logisticsType === 'pickup'
        ? '商品已备好，请到店取货，取货后请确认收货'
        : '商品已发出，收到后请确认收货'
    case 'received':
      return '交易已完成，感谢惠顾'
    case 'none':
      if (o.status === 'CLOSED') return '订单已关闭'
      if (o.status === 'REFUNDING') return '退款处理中，原路退回微信'
      return '款项已原路退回微信'
  }
}

const TIMELINE_LABELS: Record<TimelineKind, string> = {
  created: '下单',
  paid: '支付',
  shipped: '发货',
  received: '收货',
  completed: '完成',
  refund_requested: '申请退款',
  refunded: '退款',
  closed: '关闭',
}

export interface TimelineStep {
  kind: TimelineKind
  label: string
  /** When it happened; absent for a step still to come. */
  at?: string
}

/**
 * The order's timeline as the server recorded it, oldest first, followed by the steps still to come
 * on the way to 收货 (greyed out), unless the goods go no further (received, or closed or refunded:
 * the server's `fulfilment`).
 */
export function timelineSteps(o: Order): TimelineStep[] {
  // In the server's order (oldest first), not re-sorted by time: WeChat's success_time has whole
  // seconds, so a payment can read a moment earlier than the order's own creation.
  const done: TimelineStep[] = o.timeline.map((e) => ({
    kind: e.kind,
    label: TIMELINE_LABELS[e.kind],
    at: e.at,
  }))
  if (o.fulfilment === 'received' || o.fulfilment === 'none') return done
  const seen = new Set(done.map((s) => s.kind))
  const ahead = (['created', 'paid', 'shipped', 'received'] as const).filter((k) => !seen.has(k))
  return [...done, ...ahead.map((kind) => ({ kind, label: TIMELINE_LABELS[kind] }))]
}

export type RefundStage = 'reviewing' | 'refunding' | 'refunded' | 'rejected'

export const REFUND_STAGE_LABELS: Record<RefundStage, string> = {
  reviewing: '审核中',
  refunding: '已同意·退款中',
  refunded: '已退款',
  rejected: '已拒绝',
}

/**
 * Where a refund request stands. An approved request has started a refund at WeChat; it is 已退款
 * once the order's refunded amount covers it and the approved requests decided before it (refunds
 * complete asynchronously, and a failed one never adds to `refundedFen`).
 */
export function refundStage(
  r: RefundRequestView,
  o: Order,
  all: readonly RefundRequestView[],
): RefundStage {
  if (r.status === 'pending') return 'reviewing'
  if (r.status === 'rejected') return 'rejected'
  const decided = (x: RefundRequestView) => x.decidedAt ?? x.createdAt
  const upToThis = all
    .filter((x) => x.status === 'approved' && decided(x) <= decided(r))
    .reduce((n, x) => n + x.amountFen, 0)
  return upToThis <= o.refundedFen ? 'refunded' : 'refunding'
}

/** The carrier as WeChat's list names it (顺丰速运, from the server); its id when it has no name. */
export function carrierName(d: Pick<Delivery, 'expressCompany' | 'expressCompanyName'>): string {
  return d.expressCompanyName ?? d.expressCompany ?? ''
}

/** An image path from the server (`/static/products/…`) as a URL the app can load. */
export function imageSrc(url: string): string {
  return url.startsWith('/') ? FEN_API_BASE + url : url
}

/** `2026-11-22T08:00:00Z` → `2026-11-22 16:00` in Beijing time, the shop's time zone. */
export function shopTime(iso: string): string {
  const d = new Date(new Date(iso).getTime() + 8 * 3600_000)
  return d.toISOString().slice(0, 16).replace('T', ' ')
}

/** How many units the order holds (共 N 件). */
export function unitCount(o: Order): number {
  return o.items.reduce((n, i) => n + i.quantity, 0)
}
