/**
 * An answer in WeChat's error shape: HTTP status and `{code, message, detail?}` (APIv3 §6.1).
 * Thrown by handlers; the pipeline renders it.
 */
export class WechatError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message)
  }

  body(): { code: string; message: string; detail?: unknown } {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail }
  }
}

/** 400 PARAM_ERROR naming the field, the way WeChat's gateway does. */
export function paramError(field: string, issue: string, value?: unknown): WechatError {
  return new WechatError(400, 'PARAM_ERROR', `参数错误: ${field} ${issue}`, {
    field,
    ...(value === undefined ? {} : { value }),
    issue,
    location: field.startsWith('/') ? 'body' : 'query',
  })
}

/**
 * Decodes a percent-encoded path segment; malformed encoding (`%E0%A4%A`) is the caller's error,
 * answered with `onError()` instead of a 500.
 */
export function decodePathParam(raw: string, onError: () => WechatError): string {
  const decoded = tryDecodePathParam(raw)
  if (decoded === undefined) throw onError()
  return decoded
}

/** A percent-encoded path segment decoded, or undefined when its encoding is malformed. */
export function tryDecodePathParam(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw)
  } catch {
    return undefined
  }
}

export const orderNotExist = () => new WechatError(404, 'ORDER_NOT_EXIST', '订单不存在')
/** Spelling chosen where WeChat's v3 docs are silent: the APIv2 code, which v3 tutorials test for. */
export const orderPaid = () => new WechatError(400, 'ORDERPAID', '订单已支付')
export const orderClosed = () => new WechatError(400, 'ORDER_CLOSED', '订单已关闭')
