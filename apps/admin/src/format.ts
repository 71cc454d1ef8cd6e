// How the console shows money, times and statuses (简体中文, Beijing time).
import {
  formatFen,
  type Address,
  type Delivery,
  type DeliveryMethod,
  type DiscrepancyKind,
  type FulfilmentStage,
  type OrderStatus,
  type PayChannel,
  type ReconciliationResult,
  type RefundRequestStatus,
  type RefundStatus,
} from '@fen/shared'

/** Integer fen as yuan, `¥12.34` (shared `formatFen`), and '—' for none. */
export function yuan(fen: number | undefined | null): string {
  return fen === undefined || fen === null ? '—' : formatFen(fen)
}

/** An ISO time as Beijing time, `2025-06-10 20:01:30`. */
export function beijingTime(iso: string | undefined | null): string {
  if (!iso) return '—'
  const d = new Date(new Date(iso).getTime() + 8 * 3_600_000)
  return d.toISOString().slice(0, 19).replace('T', ' ')
}

/** Today's Beijing date, YYYY-MM-DD (optionally `days` before). */
export function beijingDate(daysAgo = 0, now = new Date()): string {
  return new Date(now.getTime() + 8 * 3_600_000 - daysAgo * 86_400_000).toISOString().slice(0, 10)
}

type Tag = 'primary' | 'success' | 'warning' | 'danger' | 'info'

export const ORDER_STATUS: Record<OrderStatus, { label: string; tag: Tag }> = {
  PENDING: { label: '待支付', tag: 'warning' },
  PAID: { label: '已支付', tag: 'success' },
  CLOSED: { label: '已关闭', tag: 'info' },
  REFUNDING: { label: '退款中', tag: 'warning' },
  PARTIALLY_REFUNDED: { label: '部分退款', tag: 'primary' },
  REFUNDED: { label: '已退款', tag: 'info' },
  SHIPPED: { label: '已发货', tag: 'primary' },
  COMPLETED: { label: '已完成', tag: 'success' },
}

export const REFUND_STATUS: Record<RefundStatus, { label: string; tag: Tag }> = {
  SUBMITTING: { label: '提交中', tag: 'warning' },
  PROCESSING: { label: '退款处理中', tag: 'warning' },
  SUCCESS: { label: '退款成功', tag: 'success' },
  ABNORMAL: { label: '退款异常', tag: 'danger' },
  CLOSED: { label: '已关闭', tag: 'info' },
  FAILED: { label: '退款失败', tag: 'danger' },
}

export const REQUEST_STATUS: Record<RefundRequestStatus, { label: string; tag: Tag }> = {
  pending: { label: '待审核', tag: 'warning' },
  approved: { label: '已同意', tag: 'success' },
  rejected: { label: '已拒绝', tag: 'info' },
}

export const RECON_STATUS: Record<ReconciliationResult['status'], { label: string; tag: Tag }> = {
  matched: { label: '账单一致', tag: 'success' },
  discrepancies: { label: '存在差异', tag: 'danger' },
  not_ready: { label: '账单未出', tag: 'info' },
  no_bill: { label: '当日无账单', tag: 'info' },
  not_run: { label: '尚未对账', tag: 'info' },
}

export const DISCREPANCY_KIND: Record<DiscrepancyKind, string> = {
  missing_here: '本地缺失（微信有、我方无）',
  missing_at_wechat: '微信缺失（我方有、微信无）',
  amount_differs: '金额不一致',
  status_differs: '状态不一致',
  no_statement: '无对账单',
  unparseable_row: '账单行无法解析',
}

export const EVENT_TYPE: Record<string, string> = {
  'order.paid': '订单支付',
  'order.closed': '订单关闭',
  'order.refunded': '订单退款',
  'order.shipped': '订单发货',
  'order.completed': '确认收货',
}

export const DELIVERY_STATUS: Record<string, { label: string; tag: Tag }> = {
  pending: { label: '待投递', tag: 'warning' },
  delivered: { label: '已投递', tag: 'success' },
  failed: { label: '投递失败', tag: 'danger' },
}

export const LOGISTICS: Record<string, string> = {
  express: '快递',
  same_city: '同城配送',
  virtual: '虚拟发货',
  pickup: '到店自提',
}

/** How the order reaches the shopper, as the shop says it. */
export const DELIVERY_METHOD: Record<DeliveryMethod, string> = {
  express: '快递配送',
  pickup: '到店自取',
}

/** The delivery's report to WeChat's shipping management (发货信息管理). */
export const WECHAT_REPORT: Record<Delivery['wechatReport'], { label: string; tag: Tag }> = {
  uploaded: { label: '已上报微信', tag: 'success' },
  pending: { label: '上报中', tag: 'warning' },
  refused: { label: '微信拒收', tag: 'danger' },
  not_required: { label: '无需上报', tag: 'info' },
}

/** Where the goods stand (the server's `fulfilment`), apart from the money. */
export const FULFILMENT: Record<FulfilmentStage, { label: string; tag: Tag }> = {
  unpaid: { label: '待支付', tag: 'info' },
  to_ship: { label: '待发货', tag: 'warning' },
  shipped: { label: '待收货', tag: 'primary' },
  received: { label: '已收货', tag: 'success' },
  none: { label: '无需发货', tag: 'info' },
}

export const PAY_CHANNEL: Record<PayChannel, string> = {
  jsapi: '小程序支付',
  native: '扫码支付',
}

/** An address on one line: `广东省广州市天河区 体育西路 191 号`. */
export function addressLine(a: Pick<Address, 'province' | 'city' | 'district' | 'detail'>): string {
  return `${a.province}${a.city}${a.district} ${a.detail}`
}
