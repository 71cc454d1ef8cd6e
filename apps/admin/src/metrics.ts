// The few /metrics figures the dashboard shows, read from the Prometheus text format.

/** Sums of each metric's samples (over all label sets), by metric name. */
export function sumMetrics(text: string): Map<string, number> {
  const sums = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line)
    if (!m) continue
    const value = Number(m[2])
    if (Number.isFinite(value)) sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + value)
  }
  return sums
}

/** What the dashboard's 运行指标 card lists, with its Chinese name. */
export const SHOWN_METRICS: [name: string, label: string][] = [
  ['fen_http_requests_total', 'HTTP 请求总数'],
  ['fen_notifications_total', '收到的支付通知'],
  ['fen_payment_mismatches_total', '待核对的支付（金额/商户不符）'],
  ['fen_outbox_oldest_pending_seconds', '最早未投递事件（秒）'],
  ['fen_shipping_uploads_pending', '待上传的发货信息'],
  ['fen_shipping_uploads_refused', '被微信拒绝的发货信息'],
  ['fen_sweeper_runs_total', '订单巡检次数'],
  ['fen_wechat_pushes_total', '微信消息推送'],
]
