import type { Route } from '../server'

/**
 * The sandbox's own pages, for a person playing WeChat's side by hand:
 * - `/__sandbox/`: orders, refunds and notification attempts, with buttons to pay, fail, settle
 *   refunds and resend notifications;
 * - `/__sandbox/scan?code_url=…`: what scanning a Native QR code leads to;
 * - `/__sandbox/h5pay?prepay_id=…`: where an H5 payment's `h5_url` leads.
 * Plain HTML with inline script: no assets, no network beyond the sandbox itself.
 */

const STYLE = `
  body { font: 14px/1.5 -apple-system, "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif;
         margin: 0; color: #1f2328; background: #f6f7f9; }
  header { background: #07c160; color: #fff; padding: 12px 20px; }
  header h1 { margin: 0; font-size: 18px; }
  header p { margin: 2px 0 0; opacity: .9; }
  main { padding: 16px 20px; }
  section { background: #fff; border-radius: 8px; padding: 12px 16px; margin-bottom: 16px;
            box-shadow: 0 1px 2px rgba(0,0,0,.06); }
  h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
  th { color: #57606a; font-weight: 500; }
  code { font-size: 12px; }
  button { font: inherit; border: 0; border-radius: 4px; padding: 3px 10px; margin: 0 4px 4px 0;
           cursor: pointer; background: #07c160; color: #fff; }
  button.secondary { background: #e7e9ec; color: #1f2328; }
  button.danger { background: #fa5151; }
  .muted { color: #8c959f; }
  .ok { color: #07c160; } .bad { color: #fa5151; }
  .card { max-width: 360px; margin: 40px auto; text-align: center; }
  .amount { font-size: 32px; font-weight: 600; margin: 12px 0; }
`

function page(title: string, body: string, script: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style>${STYLE}</style></head><body>${body}<script>${script}</script></body></html>`
}

/** Shared by the pages: a JSON POST to the control API that shows errors. */
const CLIENT = `
  const post = async (path, body) => {
    const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body ?? {}) })
    const text = await res.text()
    const data = text ? JSON.parse(text) : {}
    if (!res.ok) throw new Error(data.message || data.errMsg || res.status)
    return data
  }
  const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])
  const yuan = (fen) => '¥' + (fen / 100).toFixed(2)
`

const DASHBOARD = page(
  'Fen sandbox · 微信支付沙箱',
  `<header><h1>Fen sandbox · 微信支付沙箱</h1><p id="meta">loading…</p></header>
<main>
  <section><h2>Orders 订单</h2><table><thead><tr><th>out_trade_no</th><th>type</th><th>amount</th>
    <th>state</th><th>refunds</th><th></th></tr></thead><tbody id="orders"></tbody></table></section>
  <section><h2>Notifications 回调通知</h2><table><thead><tr><th>event</th><th>out_trade_no</th>
    <th>status</th><th>attempts</th><th></th></tr></thead><tbody id="notifications"></tbody></table></section>
  <section><h2>Faults 故障注入</h2><div id="faults" class="muted"></div></section>
</main>`,
  `${CLIENT}
  const act = async (fn) => { try { await fn() } catch (e) { alert(e.message) } await load() }
  window.pay = (no, result) => act(() => post('/__sandbox/pay', { out_trade_no: no, result }))
  window.settle = (no, status) => act(() => post('/__sandbox/refunds/' + encodeURIComponent(no), { status }))
  window.resend = (id) => act(() => post('/__sandbox/notifications/' + id + '/resend'))
  async function load() {
    const s = await (await fetch('/__sandbox/state')).json()
    document.getElementById('meta').textContent = 'sandbox time ' + s.now
    document.getElementById('orders').innerHTML = s.orders.map((o) => {
      const payable = o.trade_state === 'NOTPAY' || o.trade_state === 'PAYERROR'
      const refunds = o.refunds.map((r) => esc(r.out_refund_no) + ' ' + yuan(r.amount.refund) + ' <b>' + r.status + '</b>' +
        (r.status === 'PROCESSING' || r.status === 'ABNORMAL'
          ? ' <button onclick="settle(\\'' + esc(r.out_refund_no) + '\\',\\'SUCCESS\\')">成功</button>' +
            '<button class="secondary" onclick="settle(\\'' + esc(r.out_refund_no) + '\\',\\'ABNORMAL\\')">异常</button>' +
            '<button class="danger" onclick="settle(\\'' + esc(r.out_refund_no) + '\\',\\'CLOSED\\')">关闭</button>' : '')).join('<br>')
      return '<tr><td><code>' + esc(o.out_trade_no) + '</code><br><span class="muted">' + esc(o.description) + '</span></td>' +
        '<td>' + o.api + ' ' + o.trade_type + '</td><td>' + yuan(o.total) + '</td><td><b>' + o.trade_state + '</b></td>' +
        '<td>' + (refunds || '<span class="muted">—</span>') + '</td><td>' +
        (payable ? '<button onclick="pay(\\'' + esc(o.out_trade_no) + '\\',\\'SUCCESS\\')">支付</button>' +
          '<button class="danger" onclick="pay(\\'' + esc(o.out_trade_no) + '\\',\\'PAYERROR\\')">支付失败</button>' : '') + '</td></tr>'
    }).join('') || '<tr><td colspan="6" class="muted">No orders yet. 暂无订单</td></tr>'
    document.getElementById('notifications').innerHTML = s.notifications.map((n) =>
      '<tr><td>' + esc(n.event_type) + ' <span class="muted">' + n.version + '</span></td><td><code>' + esc(n.out_trade_no) + '</code></td>' +
      '<td class="' + (n.status === 'delivered' ? 'ok' : n.status === 'pending' ? '' : 'bad') + '">' + n.status +
      (n.next_attempt_at ? '<br><span class="muted">next ' + esc(n.next_attempt_at) + '</span>' : '') + '</td><td>' +
      n.attempts.map((a) => esc(a.at.slice(11, 19)) + ' → ' + (a.status || '—') + ' ' + a.ms + 'ms' + (a.probe ? ' (probe)' : '') +
        (a.ok ? '' : ' <span class="muted">' + esc(a.reply.slice(0, 60)) + '</span>')).join('<br>') + '</td>' +
      '<td><button class="secondary" onclick="resend(\\'' + n.id + '\\')">重发</button></td></tr>'
    ).join('') || '<tr><td colspan="5" class="muted">No notifications yet. 暂无通知</td></tr>'
    document.getElementById('faults').textContent = s.faults.length
      ? s.faults.map((f) => f.target + ': ' + f.kind + (f.rate === undefined ? ' ×' + f.remaining : ' @' + Math.round(f.rate * 100) + '% (' + f.hits + ' hit)')).join(' · ') : 'none armed'
  }
  load(); setInterval(load, 2000)`,
)

/** A payment page for one order, found by `code_url` (scan) or `prepay_id` (H5). */
function cashierPage(title: string, lookup: string): string {
  return page(
    title,
    `<div class="card"><section><h2>${title}</h2><p id="desc" class="muted">…</p>
  <div class="amount" id="amount"></div><p id="state"></p>
  <p><button id="pay">确认支付</button><button class="danger" id="fail">支付失败</button></p></section></div>`,
    `${CLIENT}
  const key = ${lookup}
  const find = async () => (await (await fetch('/__sandbox/state')).json()).orders.find((o) => o[key.field] === key.value)
  async function show() {
    const o = await find()
    if (!o) { document.getElementById('desc').textContent = '订单不存在 (order not found)'; return }
    document.getElementById('desc').textContent = o.description + ' · ' + o.out_trade_no
    document.getElementById('amount').textContent = yuan(o.total)
    document.getElementById('state').innerHTML = '<b>' + o.trade_state + '</b>'
  }
  const go = (result) => post('/__sandbox/pay', { [key.field]: key.value, result }).then(show, (e) => alert(e.message))
  document.getElementById('pay').onclick = () => go('SUCCESS')
  document.getElementById('fail').onclick = () => go('PAYERROR')
  show()`,
  )
}

const html = (body: string) => ({ status: 200, raw: body, contentType: 'text/html; charset=utf-8' })

/** A cashier page for the order whose `field` equals the query parameter of the same name. */
function cashierRoute(path: string, title: string, field: 'code_url' | 'prepay_id'): Route {
  return {
    method: 'GET',
    pattern: new RegExp(`^/__sandbox/${path}$`),
    kind: 'page',
    handler: ({ query }) =>
      // JSON with `<` escaped: a query value cannot close the inline script.
      html(
        cashierPage(
          title,
          JSON.stringify({ field, value: query.get(field) ?? '' }).replace(/</g, '\\u003c'),
        ),
      ),
  }
}

export const pageRoutes: Route[] = [
  { method: 'GET', pattern: /^\/__sandbox\/?$/, kind: 'page', handler: () => html(DASHBOARD) },
  cashierRoute('scan', '扫码支付 · Native', 'code_url'),
  cashierRoute('h5pay', 'H5 支付', 'prepay_id'),
]
