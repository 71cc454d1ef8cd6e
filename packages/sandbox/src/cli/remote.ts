import type { CallRecord } from '../calls'
import type { DeliveryEvent } from '../notifier'
import { NOTIFICATION_FAULTS, PATH_FAULTS, type Fault } from '../faults'
import { CliError, control, parseDuration, readEvents, usage, type Output } from './common'

/** The commands that talk to a running sandbox through its control API. */

/** Until SIGINT/SIGTERM: an AbortSignal for a command that follows a stream (`listen`, `logs`). */
function untilInterrupted(): AbortController {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return controller
}

/**
 * `fen-sandbox listen [--forward-to URL]`: prints each notification attempt and its answer. With a
 * forward, the sandbox also sends every attempt to it while the stream is open; aborting the
 * stream (Ctrl-C) unregisters it.
 */
export async function listen(
  url: string,
  forwardTo: string | undefined,
  out: Output,
): Promise<void> {
  const controller = untilInterrupted()
  let forward: string | undefined
  await readEvents(
    url,
    forwardTo === undefined ? {} : { forward_to: forwardTo },
    controller.signal,
    ({ event, data }) => {
      if (event === 'ready') {
        forward = (data as { forward?: { id: string } }).forward?.id
        out.print(
          forwardTo === undefined
            ? `Ready. Printing every notification attempt from ${url}. Ctrl-C to stop.`
            : `Ready. Forwarding notifications to ${forwardTo} (${forward}). Ctrl-C to stop.`,
          { event: 'ready', url, ...(forward ? { forward: { id: forward, url: forwardTo } } : {}) },
        )
        return
      }
      if (event !== 'delivery') return
      const d = data as DeliveryEvent
      // With a forward, only its copies; without, the attempts to the orders' notify_url.
      if (forward === undefined ? d.forward !== undefined : d.forward !== forward) return
      out.print(deliveryLines(d), { event: 'delivery', ...d })
    },
  )
  if (!controller.signal.aborted) throw new CliError('the sandbox closed the event stream')
  out.print(forward ? `Stopped; the forward ${forward} is unregistered.` : 'Stopped.', {
    event: 'stopped',
    ...(forward ? { forward } : {}),
  })
}

function deliveryLines(d: DeliveryEvent): string {
  const a = d.attempt
  const about = d.out_refund_no
    ? `out_trade_no=${d.out_trade_no} out_refund_no=${d.out_refund_no}`
    : `out_trade_no=${d.out_trade_no}`
  const verdict = a.ok ? 'delivered' : a.probe ? 'probe (should be refused)' : 'not accepted'
  return (
    `${a.at}  --> ${d.event_type}${a.probe ? ' (probe)' : ''}  ${about}  [${d.id}]\n` +
    `${a.at}  <-- [${a.status || 'no answer'}] POST ${d.url} (${a.ms} ms) ${verdict}` +
    (a.reply ? `\n      ${a.reply}` : '')
  )
}

const PAYMENT_EVENTS = { 'payment.success': 'SUCCESS', 'payment.failed': 'PAYERROR' } as const
const REFUND_EVENTS = {
  'refund.success': 'SUCCESS',
  'refund.abnormal': 'ABNORMAL',
  'refund.closed': 'CLOSED',
} as const

/** `fen-sandbox trigger <event>`: plays WeChat's side of a payment or a refund. */
export async function trigger(
  url: string,
  event: string | undefined,
  flags: { 'out-trade-no'?: string; 'out-refund-no'?: string; openid?: string },
  out: Output,
): Promise<void> {
  const events = [...Object.keys(PAYMENT_EVENTS), ...Object.keys(REFUND_EVENTS)].join(', ')
  if (event === undefined) throw usage(`trigger needs an event: ${events}`)
  if (event in PAYMENT_EVENTS) {
    const no = flags['out-trade-no']
    if (!no) throw usage(`trigger ${event} needs --out-trade-no`)
    const result = PAYMENT_EVENTS[event as keyof typeof PAYMENT_EVENTS]
    const tx = await control<{ trade_state: string; transaction_id?: string }>(
      url,
      'POST',
      '__sandbox/pay',
      { out_trade_no: no, result, ...(flags.openid ? { openid: flags.openid } : {}) },
    )
    out.print(
      result === 'SUCCESS'
        ? `${no} paid (transaction_id ${tx.transaction_id}); its TRANSACTION.SUCCESS notification follows.`
        : `${no}: the payment failed (the shopper's client sees requestPayment:fail). No notification (WeChat sends none); the order stays NOTPAY and payable.`,
      tx,
    )
    return
  }
  if (event in REFUND_EVENTS) {
    const no = flags['out-refund-no']
    if (!no) throw usage(`trigger ${event} needs --out-refund-no`)
    const status = REFUND_EVENTS[event as keyof typeof REFUND_EVENTS]
    const refund = await control(url, 'POST', `__sandbox/refunds/${encodeURIComponent(no)}`, {
      status,
    })
    out.print(`refund ${no} → ${status}; its REFUND.${status} notification follows.`, refund)
    return
  }
  throw usage(`unknown event "${event}": one of ${events}`)
}

/**
 * `fen-sandbox logs`: the latest calls, then new ones as they are answered. The stream is opened
 * before the past calls are read, so no call falls between the two; seq numbers drop the repeats.
 */
export async function logs(
  url: string,
  flags: { 'out-trade-no'?: string; limit?: string; 'no-follow'?: boolean },
  out: Output,
): Promise<void> {
  const limit = flags.limit === undefined ? 20 : Number(flags.limit)
  if (!Number.isInteger(limit) || limit < 0) throw usage('--limit must be 0 or more')
  const no = flags['out-trade-no']
  const printed = new Set<number>()
  const show = (c: CallRecord) => {
    if (printed.has(c.seq)) return
    // A call still in flight is printed once it is answered (the stream sends it then).
    if (c.ms === undefined) return
    printed.add(c.seq)
    out.print(callLines(c), c)
  }
  const past = async () => {
    const query = no === undefined ? '' : `?out_trade_no=${encodeURIComponent(no)}`
    const calls = await control<CallRecord[]>(url, 'GET', `__sandbox/calls${query}`)
    for (const c of limit === 0 ? [] : calls.slice(-limit)) show(c)
    // Older than the limit: not repeated by the stream. (One in flight is printed when answered.)
    for (const c of calls) if (c.ms !== undefined) printed.add(c.seq)
  }
  if (flags['no-follow']) return past()

  const controller = untilInterrupted()
  const early: CallRecord[] = []
  let caughtUp = false
  const stream = readEvents(url, {}, controller.signal, ({ event, data }) => {
    if (event === 'ready') {
      void past().then(
        () => {
          caughtUp = true
          for (const c of early) show(c)
        },
        (e: unknown) => {
          controller.abort(e)
        },
      )
      return
    }
    if (event !== 'call') return
    const c = data as CallRecord
    if (no !== undefined && c.out_trade_no !== no) return
    if (caughtUp) show(c)
    else early.push(c)
  })
  await stream
  const reason: unknown = controller.signal.reason
  if (reason instanceof CliError) throw reason
  if (!controller.signal.aborted) throw new CliError('the sandbox closed the event stream')
}

function callLines(c: CallRecord): string {
  const head = [
    c.at,
    c.method,
    c.query ? `${c.path}?${c.query}` : c.path,
    c.status === undefined ? 'no answer' : String(c.status),
    `${c.ms} ms`,
    ...(c.out_trade_no ? [`out_trade_no=${c.out_trade_no}`] : []),
    ...(c.fault ? [`fault=${c.fault}`] : []),
  ].join('  ')
  return [
    head,
    ...(c.request_body ? [`  → ${c.request_body}`] : []),
    ...(c.response_body ? [`  ← ${c.response_body}`] : []),
  ].join('\n')
}

/** `fen-sandbox clock [show | advance <duration>]` */
export async function clock(url: string, args: string[], out: Output): Promise<void> {
  const [action = 'show', duration, ...rest] = args
  if (rest.length > 0) throw usage(`clock: unexpected ${rest.join(' ')}`)
  let answer: { now: string; scale: number }
  if (action === 'show') {
    answer = await control(url, 'GET', '__sandbox/clock')
  } else if (action === 'advance') {
    if (duration === undefined) throw usage('clock advance needs a duration, e.g. 2h or 15m')
    const seconds = parseDuration(duration)
    if (seconds === undefined) throw usage(`not a duration: "${duration}" (try 90s, 15m, 2h, 1d)`)
    answer = await control(url, 'POST', '__sandbox/clock', { advanceSeconds: seconds })
  } else {
    throw usage(`clock: unknown action "${action}" (show or advance)`)
  }
  // Loaded here only: the SDK is most of what the other commands would load.
  const { formatBeijingTime } = await import('@fen/wechatpay')
  out.print(
    `sandbox time ${formatBeijingTime(new Date(answer.now))} (running ${answer.scale}× real time)`,
    answer,
  )
}

/** `fen-sandbox faults [list | add <kind> [target] … | clear]` */
export async function faults(
  url: string,
  args: string[],
  flags: {
    target?: string
    count?: string
    rate?: string
    seed?: string
    seconds?: string
    errcode?: string
  },
  out: Output,
): Promise<void> {
  const [action = 'list', kind, positionalTarget, ...rest] = args
  if (rest.length > 0) throw usage(`faults: unexpected ${rest.join(' ')}`)
  if (action === 'list') {
    const armed = await control<Fault[]>(url, 'GET', '__sandbox/faults')
    out.print(faultLines(armed), armed)
    return
  }
  if (action === 'clear') {
    await control(url, 'DELETE', '__sandbox/faults')
    out.print('All faults cleared.', { armed: [] })
    return
  }
  if (action !== 'add') throw usage(`faults: unknown action "${action}" (list, add or clear)`)
  const kinds = [...new Set<string>([...PATH_FAULTS, ...NOTIFICATION_FAULTS])]
  if (kind === undefined || !kinds.includes(kind)) {
    throw usage(`faults add needs a kind: one of ${kinds.join(', ')}`)
  }
  const onlyNotifications = !(PATH_FAULTS as readonly string[]).includes(kind)
  const onlyPaths = !(NOTIFICATION_FAULTS as readonly string[]).includes(kind)
  const target =
    flags.target ??
    positionalTarget ??
    (onlyNotifications ? 'notifications' : onlyPaths ? '/' : undefined)
  if (target === undefined) {
    throw usage(
      `faults add ${kind} needs a target: "notifications" or a path prefix such as /v3/pay`,
    )
  }
  const n = (flag: keyof typeof flags) => {
    const text = flags[flag]
    if (text === undefined) return undefined
    const value = Number(text)
    if (!Number.isFinite(value)) throw usage(`--${flag} must be a number, not "${text}"`)
    return value
  }
  const spec = {
    target,
    kind,
    count: n('count'),
    rate: n('rate'),
    seed: n('seed'),
    seconds: n('seconds'),
    errcode: n('errcode'),
  }
  const { armed } = await control<{ armed: Fault[] }>(url, 'POST', '__sandbox/faults', spec)
  out.print(faultLines(armed), { armed })
}

function faultLines(armed: Fault[]): string {
  if (armed.length === 0) return 'No faults armed.'
  return [
    'Armed faults (tried in this order):',
    ...armed.map((f) => {
      const how =
        f.rate === undefined
          ? `${f.remaining} left`
          : `rate ${f.rate}, seed ${f.seed}, ${f.hits} hit${f.hits === 1 ? '' : 's'}`
      return `  ${f.kind} on ${f.target}  (${how}${f.seconds === undefined ? '' : `, ${f.seconds} s`})`
    }),
  ].join('\n')
}

/**
 * `fen-sandbox confirm-receipt <out_trade_no> [--openid <id>]`: the shopper confirms receipt of a
 * shipped mini-program order (what \`wx.openBusinessView\` 确认收货 does).
 */
export async function confirmReceipt(
  url: string,
  outTradeNo: string,
  openid: string | undefined,
  out: Output,
): Promise<void> {
  const r = await control<{ status: string; errormsg?: string; order: { order_state: number } }>(
    url,
    'POST',
    '__sandbox/confirm-receipt',
    { out_trade_no: outTradeNo, ...(openid ? { openid } : {}) },
  )
  out.print(
    r.status === 'success'
      ? `Receipt of ${outTradeNo} confirmed: order_state ${r.order.order_state}.`
      : `Not confirmed (${r.status}): ${r.errormsg ?? ''}`,
    r,
  )
  if (r.status !== 'success')
    throw new CliError(`confirm-receipt: ${r.status}`, 1, r.status.toUpperCase())
}

/** `fen-sandbox reset` */
export async function reset(url: string, out: Output): Promise<void> {
  await control(url, 'POST', '__sandbox/reset')
  out.print(
    'Sandbox reset: orders, refunds, login codes, notifications, faults and the call log are forgotten.',
    { reset: true },
  )
}
