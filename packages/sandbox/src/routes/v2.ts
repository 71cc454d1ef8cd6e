import { createHash } from 'node:crypto'
import {
  formatV2Time,
  parseV2Time,
  parseXml,
  randomAlphanumeric,
  signV2,
  toXml,
  verifyV2,
  type V2SignType,
} from '@fen/wechatpay'
import { TRADE_STATE_DESC, type Sandbox } from '../sandbox'
import type { Route, SandboxRequest, SandboxReply } from '../http'
import { DEFAULT_ORDER_LIFE_MS, type Order } from '../state'
import { h5PayUrl } from './transactions'

/** A `return_code=FAIL` answer: communication-level, unsigned (bad XML, bad sign). */
function returnFail(message: string): SandboxReply {
  return xml(toXml({ return_code: 'FAIL', return_msg: message }))
}

function xml(body: string): SandboxReply {
  return { status: 200, raw: body, contentType: 'text/xml; charset=utf-8' }
}

/** A signed answer; `err` makes it a business failure (`result_code=FAIL`). */
function answer(
  sandbox: Sandbox,
  signType: V2SignType,
  fields: Record<string, string | number | undefined>,
  err?: [code: string, description: string],
): SandboxReply {
  const params: Record<string, string | number | undefined> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: sandbox.keys.appid,
    mch_id: sandbox.keys.mchid,
    nonce_str: randomAlphanumeric(32),
    result_code: err ? 'FAIL' : 'SUCCESS',
    ...(err ? { err_code: err[0], err_code_des: err[1] } : fields),
  }
  return xml(toXml({ ...params, sign: signV2(params, sandbox.keys.apiV2Key, signType) }))
}

const V2_TRADE_TYPES = ['JSAPI', 'NATIVE', 'APP', 'MWEB'] as const
type V2TradeType = (typeof V2_TRADE_TYPES)[number]

type Checked = { fields: Record<string, string>; signType: V2SignType } | SandboxReply

/**
 * Parses and checks an APIv2 request: XML, `sign_type`, `sign` with the APIv2 key, and the
 * merchant. Returns a failure answer instead when something is wrong, as WeChat does.
 */
async function check(req: SandboxRequest, required: string[]): Promise<Checked> {
  const { sandbox } = req
  if (req.fault?.kind === 'error500') return returnFail('系统繁忙,请稍后再试')
  if (req.fault?.kind === 'error429') return returnFail('频率限制')
  let fields: Record<string, string>
  try {
    fields = await parseXml(req.body.toString('utf8'))
  } catch {
    return returnFail('XML格式错误')
  }
  const signType = (fields.sign_type ?? 'MD5') as V2SignType
  if (signType !== 'MD5' && signType !== 'HMAC-SHA256') return returnFail('sign_type参数错误')
  if (!verifyV2(fields, sandbox.keys.apiV2Key, signType)) return returnFail('签名错误')
  if (fields.mch_id !== sandbox.keys.mchid)
    return answer(sandbox, signType, {}, ['MCHID_NOT_EXIST', '商户号不存在'])
  if (fields.appid !== sandbox.keys.appid) {
    return answer(sandbox, signType, {}, ['APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配'])
  }
  for (const name of required) {
    if (!fields[name]) return answer(sandbox, signType, {}, ['LACK_PARAMS', `缺少参数${name}`])
  }
  return { fields, signType }
}

const isReply = (c: Checked): c is SandboxReply => 'status' in c

/** The APIv2 view of an order's state (orderquery). */
function queryFields(order: Order): Record<string, string | number | undefined> {
  const paid = order.transactionId !== undefined
  return {
    device_info: undefined,
    out_trade_no: order.outTradeNo,
    trade_state: order.state,
    trade_state_desc: TRADE_STATE_DESC[order.state],
    total_fee: order.totalFen,
    fee_type: order.currency,
    trade_type: order.tradeType,
    attach: order.attach,
    ...(paid
      ? {
          transaction_id: order.transactionId,
          openid: order.payerOpenid,
          is_subscribe: 'N',
          bank_type: order.bankType,
          cash_fee: order.totalFen,
          time_end: formatV2Time(order.successTime!),
        }
      : {}),
  }
}

export const v2Routes: Route[] = [
  {
    method: 'POST',
    path: '/pay/unifiedorder',
    kind: 'v2',
    handler: async (req) => {
      const c = await check(req, [
        'nonce_str',
        'body',
        'out_trade_no',
        'total_fee',
        'spbill_create_ip',
        'notify_url',
        'trade_type',
      ])
      if (isReply(c)) return c
      const { sandbox } = req
      const f = c.fields
      const fail = (code: string, des: string) => answer(sandbox, c.signType, {}, [code, des])
      // Format errors are communication-level in APIv2: return_code FAIL, "参数格式校验错误".
      if (!/^[0-9A-Za-z_\-|*]{6,32}$/.test(f.out_trade_no!)) return returnFail('参数格式校验错误')
      if (!/^[1-9]\d{0,9}$/.test(f.total_fee!)) return returnFail('参数格式校验错误')
      if (!(V2_TRADE_TYPES as readonly string[]).includes(f.trade_type!))
        return returnFail('参数格式校验错误')
      if (f.trade_type === 'JSAPI' && !f.openid) return fail('LACK_PARAMS', 'JSAPI支付必须传openid')
      // H5 (MWEB) orders carry the page they come from; WeChat's field table marks it required.
      if (f.trade_type === 'MWEB' && !f.scene_info)
        return fail('LACK_PARAMS', 'H5支付必须传scene_info')
      const now = sandbox.clock.now()
      // The order's parameters, not the call's: nonce, sign and the payer's IP differ between tries.
      const fingerprint = createHash('sha256')
        .update(
          JSON.stringify(
            Object.entries(f)
              .filter(([k]) => !['sign', 'nonce_str', 'spbill_create_ip'].includes(k))
              .sort(),
          ),
        )
        .digest('hex')
      let order = sandbox.store.orders.get(f.out_trade_no!)
      if (order) {
        if (order.state === 'SUCCESS' || order.state === 'REFUND')
          return fail('ORDERPAID', '该订单已支付')
        if (order.state === 'CLOSED') return fail('ORDERCLOSED', '该订单已关闭')
        if (order.fingerprint !== fingerprint) return fail('INVALID_REQUEST', '201 商户订单号重复')
      } else {
        const expire = (f.time_expire && parseV2Time(f.time_expire)?.getTime()) || NaN
        order = sandbox.store.addOrder({
          api: 'v2',
          outTradeNo: f.out_trade_no!,
          appid: f.appid!,
          mchid: f.mch_id!,
          description: f.body!,
          attach: f.attach,
          totalFen: Number(f.total_fee),
          currency: f.fee_type ?? 'CNY',
          notifyUrl: f.notify_url!,
          tradeType: f.trade_type as V2TradeType,
          payerOpenid: f.openid,
          createdAt: now,
          expiresAt: Number.isNaN(expire)
            ? now + DEFAULT_ORDER_LIFE_MS
            : Math.max(expire, now + 60_000),
          fingerprint,
          v2SignType: c.signType,
        })
        sandbox.log(`v2 order ${order.outTradeNo} ${order.tradeType} ${order.totalFen} fen`)
      }
      const prepayId = sandbox.store.issuePrepayId(order, now)
      if (order.tradeType === 'MWEB') order.h5Url = h5PayUrl(sandbox, prepayId)
      return answer(sandbox, c.signType, {
        trade_type: order.tradeType,
        prepay_id: prepayId,
        code_url: order.tradeType === 'NATIVE' ? sandbox.store.issueCodeUrl(order) : undefined,
        mweb_url: order.h5Url,
      })
    },
  },
  {
    method: 'POST',
    path: '/pay/orderquery',
    kind: 'v2',
    handler: async (req) => {
      const c = await check(req, ['nonce_str'])
      if (isReply(c)) return c
      const { sandbox } = req
      const f = c.fields
      const order = f.transaction_id
        ? sandbox.store.byTransactionId.get(f.transaction_id)
        : f.out_trade_no
          ? sandbox.store.orders.get(f.out_trade_no)
          : undefined
      if (!f.transaction_id && !f.out_trade_no) {
        return answer(sandbox, c.signType, {}, [
          'LACK_PARAMS',
          'transaction_id和out_trade_no必须填一个',
        ])
      }
      if (!order) return answer(sandbox, c.signType, {}, ['ORDERNOTEXIST', '此交易订单号不存在'])
      return answer(sandbox, c.signType, queryFields(order))
    },
  },
  {
    method: 'POST',
    path: '/pay/closeorder',
    kind: 'v2',
    handler: async (req) => {
      const c = await check(req, ['nonce_str', 'out_trade_no'])
      if (isReply(c)) return c
      const { sandbox } = req
      const order = sandbox.store.orders.get(c.fields.out_trade_no!)
      // An unknown order answers like a close that worked, as the APIv3 close does (204).
      if (!order) return answer(sandbox, c.signType, {})
      if (order.state === 'SUCCESS' || order.state === 'REFUND') {
        return answer(sandbox, c.signType, {}, ['ORDERPAID', '订单已支付，不能发起关单'])
      }
      if (order.state === 'CLOSED')
        return answer(sandbox, c.signType, {}, ['ORDERCLOSED', '订单已关闭，无需重复关闭'])
      order.state = 'CLOSED'
      order.closedAt = sandbox.clock.now()
      sandbox.log(`v2 closed ${order.outTradeNo}`)
      return answer(sandbox, c.signType, {})
    },
  },
]
