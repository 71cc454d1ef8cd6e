import { randomBytes } from 'node:crypto'
import type { SandboxReply } from '../reply'

/**
 * How `api.weixin.qq.com` answers: always HTTP 200 with JSON, `errcode` 0 and `errmsg` "ok" on
 * success, and on failure an errcode with WeChat's text followed by ` rid: …`
 * (wechat-ops-api.md, header and §1.3 / §2). The texts are WeChat's where the shared docs quote
 * them and short English descriptions otherwise.
 */
export const WEIXIN_ERRMSG: Record<number, string> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40013: 'invalid appid',
  40097: 'invalid args',
  40125: 'invalid appsecret',
  41001: 'access_token missing',
  41002: 'appid missing',
  41004: 'appsecret missing',
  42001: 'access_token expired',
  43002: 'require POST method',
  44002: 'empty post data',
  45009: 'reach max api daily quota limit',
  45011: 'api minute-quota reach limit mustslower retry next minute',
  47001: 'data format error',
  10060001: '支付单不存在',
  10060002: '支付单已完成发货，无法继续发货',
  10060003: '支付单已使用重新发货机会',
  10060004: '支付单处于不可发货的状态',
  10060005: '物流类型有误',
  10060006: '非快递发货不允许分拆发货',
  10060007: '分拆发货必须指定 is_all_delivered',
  10060008: '商品描述 item_desc 不能为空',
  10060009: '商品描述 item_desc 过长',
  10060011: 'last_index 有误',
  10060012: 'system busy',
  10060014: '参数错误',
  10060019: 'system busy',
  10060023: '发货信息未更新',
  10060024: '物流信息列表过长',
  10060025: '物流公司编码过长',
  10060026: '物流单号过长',
  10060028: '当前订单不满足确认收货提醒条件（订单未发货）',
  10060029: '确认收货时间不能早于发货时间',
  10060030: '确认收货提醒已使用',
  10060031: '支付单不属于 payer.openid',
  10060032: '仅快递发货的订单可以提醒确认收货',
  268485194: 'order_number_type 有误',
  268485195: 'order_number_type 为 2 时 transaction_id 不能为空',
  268485196: 'order_number_type 为 1 时 mchid 不能为空',
  268485197: 'order_number_type 为 1 时 out_trade_no 不能为空',
  268485216: 'upload_time 必须为 RFC 3339 格式',
  268485224: 'delivery_mode 有误',
  268485226: '快递发货 tracking_no 不能为空',
  268485227: '快递发货 express_company 不能为空',
  268485228: '统一发货模式下物流信息列表长度必须为 1',
  268546000: 'type 有误',
  268546001: 'delay_to 有误',
  268546002: '不存在未发货的支付单',
}

/** A ` rid: xxxxxxxx-xxxxxxxx-xxxxxxxx` suffix, as real errmsgs carry. */
export function rid(): string {
  return [4, 4, 4].map((n) => randomBytes(n).toString('hex')).join('-')
}

/** An `api.weixin.qq.com` failure: HTTP 200, `{errcode, errmsg: "… rid: …"}`. */
export class WeixinError extends Error {
  constructor(
    readonly errcode: number,
    /** Appended to WeChat's text after ", " (which field, why): names no secret. */
    readonly hint?: string,
  ) {
    super(`${WEIXIN_ERRMSG[errcode] ?? 'error'}${hint ? `, ${hint}` : ''}`)
  }

  reply(): SandboxReply {
    return weixinReply({ errcode: this.errcode, errmsg: `${this.message} rid: ${rid()}` })
  }
}

/** A JSON answer of `api.weixin.qq.com` (always HTTP 200). */
export function weixinReply(body: object): SandboxReply {
  return { status: 200, body }
}

/** Success: `{errcode: 0, errmsg: "ok", …fields}`. */
export function weixinOk(fields: object = {}): SandboxReply {
  return weixinReply({ errcode: 0, errmsg: 'ok', ...fields })
}
