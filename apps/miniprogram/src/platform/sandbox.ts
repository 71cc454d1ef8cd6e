import Taro from '@tarojs/taro'
import type { RequestPaymentParams } from '@fen/shared'
import type { PayingOrder, PayOutcome, Platform } from './types'
import { outcomeOf } from './weapp'

/**
 * Sandbox mode (a build-time flag): WeChat's side is the Fen sandbox. Login codes come from
 * `POST /__sandbox/login-codes`, and `wx.requestPayment` becomes the simulated cashier page
 * (确认支付 / 取消 / 支付失败), which hands the parameters to `POST /__sandbox/request-payment` — the
 * same checks the WeChat client makes. Compiled into sandbox builds only.
 */
async function sandboxCall<T>(path: string, body: unknown): Promise<{ status: number; data: T }> {
  const res = await Taro.request({
    url: FEN_SANDBOX_URL + path,
    method: 'POST',
    data: JSON.stringify(body),
    header: { 'content-type': 'application/json' },
    dataType: 'json',
  })
  return { status: res.statusCode, data: res.data as T }
}

/** Where the device keeps its sandbox shopper's openid. */
const SANDBOX_OPENID_KEY = 'fen.sandbox.openid'

/** A payment waiting for the cashier page's answer. */
export interface CashierRequest {
  params: RequestPaymentParams
  order: PayingOrder
  settle(outcome: PayOutcome): void
}

let waiting: CashierRequest | undefined

/** The cashier page's side: the payment it is showing. */
export function pendingCashier(): CashierRequest | undefined {
  return waiting
}

/** What the cashier page's address carries: the order and `wx.requestPayment`'s parameters. */
export interface CashierAddress {
  orderNo: string
  params: RequestPaymentParams
}

const PARAM_KEYS = ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'] as const
const SIGN_TYPES: readonly string[] = ['RSA', 'MD5', 'HMAC-SHA256']

/**
 * The cashier page's address. It carries the payment (as the WeChat client holds it while its
 * sheet shows), so that a reload (H5) finds the same payment again: nothing in it is secret, and
 * the sandbox checks `paySign` as WeChat does.
 */
export function cashierUrl(a: CashierAddress): string {
  const query = [
    `orderNo=${encodeURIComponent(a.orderNo)}`,
    ...PARAM_KEYS.map((k) => `${k}=${encodeURIComponent(a.params[k])}`),
  ]
  return `/pages/sandbox-cashier/index?${query.join('&')}`
}

/** The payment a cashier page's query names (Taro leaves the values encoded); undefined if none. */
export function cashierFromQuery(
  query: Record<string, string | undefined>,
): CashierAddress | undefined {
  const value = (k: string) => {
    const v = query[k]
    return v ? decodeURIComponent(v) : ''
  }
  const params = Object.fromEntries(PARAM_KEYS.map((k) => [k, value(k)]))
  if (!value('orderNo') || PARAM_KEYS.some((k) => !params[k])) return undefined
  if (!SIGN_TYPES.includes(params.signType!)) return undefined
  return { orderNo: value('orderNo'), params: params as unknown as RequestPaymentParams }
}

/** Hands the parameters to the sandbox as the WeChat client would, with the shopper's answer. */
async function askSandbox(
  params: RequestPaymentParams,
  result: 'SUCCESS' | 'PAYERROR' | 'CANCEL',
): Promise<PayOutcome> {
  try {
    const r = await sandboxCall<{ errMsg?: string }>('/__sandbox/request-payment', {
      ...params,
      result,
    })
    return outcomeOf(r.data?.errMsg)
  } catch {
    return { status: 'failed', reason: '无法连接沙箱' }
  }
}

/**
 * The cashier page's buttons: ask the sandbox to pay, fail or cancel; leave the cashier page; then
 * settle the wait. Leaving first matters: the payer's next step (redirect to the result page) must
 * not race the cashier's own navigateBack. `leave: false` when the page is already unloading.
 */
export async function answerCashier(
  result: 'SUCCESS' | 'PAYERROR' | 'CANCEL',
  leave = true,
): Promise<PayOutcome> {
  const current = waiting
  if (!current) return { status: 'cancelled' }
  waiting = undefined
  const outcome = await askSandbox(current.params, result)
  if (leave) {
    const gone = cashierGone()
    await Taro.navigateBack()
    await gone
  }
  current.settle(outcome)
  return outcome
}

/**
 * The cashier page's buttons when no payer waits for it: the page was reloaded (H5), and the
 * checkout page that opened it is gone. The answer goes to the sandbox as ever; then the shopper is
 * taken where the payer would have gone: the result page when paid, else back to the pay step
 * (`?orderNo=`) with what happened.
 */
export async function answerReloadedCashier(
  a: CashierAddress,
  result: 'SUCCESS' | 'PAYERROR' | 'CANCEL',
): Promise<PayOutcome> {
  const outcome = await askSandbox(a.params, result)
  const no = encodeURIComponent(a.orderNo)
  const url =
    outcome.status === 'paid'
      ? `/pages/result/index?orderNo=${no}`
      : outcome.status === 'cancelled'
        ? `/pages/checkout/index?orderNo=${no}&payOutcome=cancelled`
        : `/pages/checkout/index?orderNo=${no}&payOutcome=failed&reason=${encodeURIComponent(outcome.reason)}`
  await Taro.redirectTo({ url })
  return outcome
}

let onCashierUnloaded: (() => void) | undefined

/** The cashier page's onUnload: its exit is over. */
export function cashierUnloaded(): void {
  onCashierUnloaded?.()
  onCashierUnloaded = undefined
}

/**
 * Resolves when the cashier page has unloaded. H5's navigateBack resolves as soon as it has asked
 * the history to go back, while the page's exit animation still runs; a redirectTo (to the result
 * page) issued then left the checkout page stationed and hidden, and the browser's back button
 * later showed a blank page (bug 2). The page's onUnload comes when the exit is over, on weapp and
 * H5 alike. Bounded at 3 s so that a lost unload never hangs a payment.
 */
function cashierGone(): Promise<void> {
  return new Promise<void>((resolve) => {
    const fallback = setTimeout(resolve, 3000)
    onCashierUnloaded = () => {
      clearTimeout(fallback)
      resolve()
    }
  })
}

/** Wraps a platform so that WeChat's side is the sandbox. */
export function withSandbox(base: Platform): Platform {
  return {
    // In a browser the sandbox's cashier makes JSAPI possible too.
    channels: base.channels.includes('jsapi') ? base.channels : ['jsapi', ...base.channels],
    // The device keeps its sandbox shopper: asking for a code without an openid makes a new
    // shopper each time, and a reload (H5) or a DevTools recompile would find no orders.
    async login() {
      const openid = (Taro.getStorageSync(SANDBOX_OPENID_KEY) as string | undefined) || undefined
      const r = await sandboxCall<{ code: string; openid: string }>(
        '/__sandbox/login-codes',
        openid ? { openid } : {},
      )
      if (r.status !== 200 || !r.data?.code) throw new Error('沙箱登录失败')
      if (r.data.openid) Taro.setStorageSync(SANDBOX_OPENID_KEY, r.data.openid)
      return r.data.code
    },
    // WeChat's 确认收货 page, played by a modal and the sandbox (the shopper confirms there).
    async openReceiptConfirm(c) {
      const { confirm } = await Taro.showModal({
        title: '模拟确认收货',
        content: '沙箱：代替微信的确认收货页。确认后，沙箱记下“已确认收货”。',
        cancelText: '暂不确认',
        confirmText: '确认收货',
      })
      if (!confirm) return 'cancelled'
      const r = await sandboxCall<{ message?: string }>('/__sandbox/confirm-receipt', {
        out_trade_no: c.extraData.merchant_trade_no,
      })
      if (r.status !== 200) throw new Error(r.data?.message ?? '沙箱确认收货失败')
      return 'opened'
    },
    switchUser() {
      Taro.removeStorageSync(SANDBOX_OPENID_KEY)
    },
    sandboxOpenid() {
      return (Taro.getStorageSync(SANDBOX_OPENID_KEY) as string | undefined) || undefined
    },
    requestPayment(params, order) {
      waiting?.settle({ status: 'cancelled' })
      return new Promise<PayOutcome>((settle) => {
        waiting = { params, order, settle }
        void Taro.navigateTo({ url: cashierUrl({ orderNo: order.orderNo, params }) })
      })
    },
    ...(base.qrImage ? { qrImage: base.qrImage } : {}),
    ...(base.chooseAddress ? { chooseAddress: base.chooseAddress } : {}),
    async simulateScan(codeUrl, result) {
      const r = await sandboxCall<{ message?: string }>('/__sandbox/pay', {
        code_url: codeUrl,
        result,
      })
      if (r.status !== 200) throw new Error(r.data?.message ?? '模拟扫码失败')
    },
  }
}
