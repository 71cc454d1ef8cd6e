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
  let outcome: PayOutcome
  try {
    const r = await sandboxCall<{ errMsg?: string }>('/__sandbox/request-payment', {
      ...current.params,
      result,
    })
    outcome = outcomeOf(r.data?.errMsg)
  } catch {
    outcome = { status: 'failed', reason: '无法连接沙箱' }
  }
  if (leave) await Taro.navigateBack()
  current.settle(outcome)
  return outcome
}

/** Wraps a platform so that WeChat's side is the sandbox. */
export function withSandbox(base: Platform): Platform {
  return {
    // In a browser the sandbox's cashier makes JSAPI possible too.
    channels: base.channels.includes('jsapi') ? base.channels : ['jsapi', ...base.channels],
    async login() {
      const r = await sandboxCall<{ code: string }>('/__sandbox/login-codes', {})
      if (r.status !== 200 || !r.data?.code) throw new Error('沙箱登录失败')
      return r.data.code
    },
    requestPayment(params, order) {
      waiting?.settle({ status: 'cancelled' })
      return new Promise<PayOutcome>((settle) => {
        waiting = { params, order, settle }
        void Taro.navigateTo({ url: '/pages/sandbox-cashier/index' })
      })
    },
    ...(base.qrImage ? { qrImage: base.qrImage } : {}),
    async simulateScan(codeUrl, result) {
      const r = await sandboxCall<{ message?: string }>('/__sandbox/pay', {
        code_url: codeUrl,
        result,
      })
      if (r.status !== 200) throw new Error(r.data?.message ?? '模拟扫码失败')
    },
  }
}
