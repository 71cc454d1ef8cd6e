import {
  ApiError,
  MiniProgramErrcode,
  MiniProgramError,
  NetworkError,
  SignatureError,
} from '@fen/wechatpay'
import { AppError } from '../errors'

/**
 * Turns an SDK error into the answer a shopper or operator gets: WeChat unreachable or busy → 503
 * (try again); anything else WeChat refused → 502 with its code. Not an SDK error → rethrown (a bug).
 */
export function wechatFailure(e: unknown): AppError {
  if (isTransient(e)) {
    return new AppError(
      'WECHAT_UNAVAILABLE',
      e instanceof NetworkError ? '微信支付暂时无法连接，请稍后重试' : '微信支付繁忙，请稍后重试',
    )
  }
  if (e instanceof SignatureError) return new AppError('WECHAT_ERROR', '微信支付应答验签失败')
  if (e instanceof ApiError)
    return new AppError('WECHAT_ERROR', `微信支付返回错误：${e.code} ${e.message}`)
  throw e
}

/** True for failures worth retrying later with the same parameters (network, 5xx, 429). */
export function isTransient(e: unknown): boolean {
  return (
    e instanceof NetworkError ||
    (e instanceof ApiError &&
      (e.status >= 500 || e.status === 429 || /SYSTEM_?ERROR|FREQUENCY_LIMITED/.test(e.code)))
  )
}

/**
 * The same for the mini-program server APIs (`api.weixin.qq.com`: get_order, …): unreachable or
 * busy → 503; any other errcode → 502 naming it. Not an SDK error → rethrown.
 */
export function miniProgramFailure(e: unknown): AppError {
  const busy: number[] = [
    MiniProgramErrcode.SYSTEM_BUSY,
    MiniProgramErrcode.SHIPPING_BUSY,
    MiniProgramErrcode.SHIPPING_BUSY_2,
  ]
  if (e instanceof NetworkError || (e instanceof MiniProgramError && busy.includes(e.errcode)))
    return new AppError('WECHAT_UNAVAILABLE', '微信暂时无法连接，请稍后重试')
  if (e instanceof MiniProgramError)
    return new AppError('WECHAT_ERROR', `微信返回错误：${e.errcode}`)
  throw e
}
