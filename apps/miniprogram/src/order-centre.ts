import type { Order, OrderStatus, RefundRequestView, TimelineKind } from '@fen/shared'

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
 * Tabs by what the shopper waits for. 退款/售后 cuts across the others: a paid order with a refund
 * request is both 待发货 and 退款/售后, as the parcel may still go out if the request is rejected.
 */
export function inTab(o: Order, tab: OrderTab): boolean {
  switch (tab) {
    case 'all':
      return true
    case 'unpaid':
      return o.status === 'PENDING'
    case 'unshipped':
      return o.status === 'PAID'
    case 'shipped':
      return o.status === 'SHIPPED'
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

/** The status as a shopper reads it: what happens next (待发货), not the ledger's word (已支付). */
export const SHOPPER_STATUS: Record<OrderStatus, string> = {
  PENDING: '待付款',
  PAID: '待发货',
  SHIPPED: '待收货',
  COMPLETED: '已完成',
  CLOSED: '已关闭',
  REFUNDING: '退款中',
  PARTIALLY_REFUNDED: '部分退款',
  REFUNDED: '已退款',
}

/** One line under the status on the order page. */
export function statusHint(o: Order): string {
  switch (o.status) {
    case 'PENDING':
      return `请在 ${shopTime(o.expiresAt).slice(11)} 前完成支付，逾时订单将自动关闭`
    case 'PAID':
      return o.deliveryMethod === 'express'
        ? '商家正在备货，发货后可查看物流'
        : '商家正在准备，请留意取货通知'
    case 'SHIPPED':
      return '商品已发出，收到后请确认收货'
    case 'COMPLETED':
      return '交易已完成，感谢惠顾'
    case 'CLOSED':
      return '订单已关闭'
    case 'REFUNDING':
      return '退款处理中，原路退回微信'
    case 'PARTIALLY_REFUNDED':
      return '部分金额已原路退回'
    case 'REFUNDED':
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
 * on the way to 收货 (greyed out), unless the order is closed or refunded and goes no further.
 */
export function timelineSteps(o: Order): TimelineStep[] {
  // In the server's order (oldest first), not re-sorted by time: WeChat's success_time has whole
  // seconds, so a payment can read a moment earlier than the order's own creation.
  const done: TimelineStep[] = o.timeline.map((e) => ({
    kind: e.kind,
    label: TIMELINE_LABELS[e.kind],
    at: e.at,
  }))
  const ended = ['CLOSED', 'REFUNDED', 'COMPLETED'].includes(o.status)
  if (ended) return done
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

/** Statuses a shopper may ask a refund of (the server has the last word). */
const REFUNDABLE: readonly OrderStatus[] = ['PAID', 'SHIPPED', 'COMPLETED', 'PARTIALLY_REFUNDED']

/** What is left to ask for: the total less refunds and requests still under review. */
export function refundableFen(o: Order, requests: readonly RefundRequestView[]): number {
  const reviewing = requests
    .filter((r) => r.status === 'pending')
    .reduce((n, r) => n + r.amountFen, 0)
  return Math.max(0, o.totalFen - o.refundedFen - reviewing)
}

/** 申请退款 is offered when the status allows it, nothing is under review, and money is left. */
export function canRequestRefund(o: Order, requests: readonly RefundRequestView[]): boolean {
  return (
    REFUNDABLE.includes(o.status) &&
    !requests.some((r) => r.status === 'pending') &&
    refundableFen(o, requests) > 0
  )
}

/**
 * A yuan amount as typed ("12", "12.5", "12.50") in fen, by string arithmetic (no float rounding);
 * undefined for anything else.
 */
export function parseYuan(text: string): number | undefined {
  const m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(text.trim())
  if (!m) return undefined
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
}

/** Carriers by WeChat's delivery_id (the ones a coffee shop ships with); others show the id. */
const CARRIERS: Record<string, string> = {
  SF: '顺丰速运',
  ZTO: '中通快递',
  YTO: '圆通速递',
  STO: '申通快递',
  YD: '韵达速递',
  JTSD: '极兔速递',
  EMS: '中国邮政 EMS',
  JD: '京东物流',
  DBL: '德邦快递',
}

export function carrierName(deliveryId: string): string {
  return CARRIERS[deliveryId] ?? deliveryId
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
