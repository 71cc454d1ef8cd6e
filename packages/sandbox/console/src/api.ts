// The console's only way to the sandbox: the read endpoints (GET /__sandbox/console/…) and the
// control API it shares with tests and the CLI. Same origin: the page is served under /__sandbox/.
import type {
  ConsoleCall,
  ConsoleOrderDetail,
  ConsoleOrderSummary,
  ConsoleOverview,
  ConsolePage,
  ConsoleRefund,
  ConsoleNotificationRecord,
} from '../../src/console-api'

/** A refused or failed request, with the sandbox's `code` and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message)
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/__sandbox/${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
  })
  const text = await res.text()
  let data: unknown
  try {
    data = text ? JSON.parse(text) : undefined
  } catch {
    data = undefined
  }
  if (!res.ok) {
    const e = (data ?? {}) as { code?: string; message?: string; errMsg?: string }
    throw new ApiError(res.status, e.code, e.message ?? e.errMsg ?? `HTTP ${res.status}`)
  }
  return data as T
}

/** `?a=1&b=2` without the empty ones. */
function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}

export type CallFilters = {
  q?: string
  method?: string
  path?: string
  status?: string
  out_trade_no?: string
}

/** What "the user pays" names: an order by one of its ids. */
export type PayTarget = { out_trade_no: string } | CashierTarget
/** How a cashier page names its order. */
export type CashierTarget = { code_url: string } | { prepay_id: string }

export interface FaultSpec {
  target: string
  kind: string
  count?: number
  rate?: number
  seed?: number
  seconds?: number
}

export const api = {
  overview: () => request<ConsoleOverview>('GET', 'console/overview'),
  orders: (params: { q?: string; state?: string; code_url?: string; prepay_id?: string }) =>
    request<ConsolePage<ConsoleOrderSummary>>('GET', `console/orders${query(params)}`),
  order: (outTradeNo: string) =>
    request<ConsoleOrderDetail>('GET', `console/orders/${encodeURIComponent(outTradeNo)}`),
  calls: (filters: CallFilters) =>
    request<ConsolePage<ConsoleCall>>('GET', `console/calls${query(filters)}`),
  refunds: (params: { status?: string; q?: string }) =>
    request<ConsolePage<ConsoleRefund>>('GET', `console/refunds${query(params)}`),
  notifications: (params: { status?: string; q?: string }) =>
    request<ConsolePage<ConsoleNotificationRecord>>('GET', `console/notifications${query(params)}`),

  pay: (target: PayTarget, result: 'SUCCESS' | 'PAYERROR') =>
    request<unknown>('POST', 'pay', { ...target, result }),
  settleRefund: (outRefundNo: string, status: 'SUCCESS' | 'ABNORMAL' | 'CLOSED') =>
    request<unknown>('POST', `refunds/${encodeURIComponent(outRefundNo)}`, { status }),
  resend: (id: string) =>
    request<ConsoleNotificationRecord>('POST', `notifications/${encodeURIComponent(id)}/resend`),
  addFault: (spec: FaultSpec) => request<unknown>('POST', 'faults', spec),
  clearFaults: () => request<void>('DELETE', 'faults'),
  clock: (change: { advanceSeconds?: number; scale?: number }) =>
    request<{ now: string; scale: number }>('POST', 'clock', change),
  reset: () => request<void>('POST', 'reset'),
}
