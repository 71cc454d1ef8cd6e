import { buildPaySignMessage, signV2, type V2SignType } from '@fen/wechatpay'
import { createVerify, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'
import { WechatError, decodePathParam } from '../errors'
import {
  BILL_DOWNLOAD_ONLY_FAULTS,
  NOTIFICATION_FAULTS,
  PATH_FAULTS,
  WEIXIN_ONLY_FAULTS,
} from '../faults'
import { newLoginCode, newOpenid, newTransactionId } from '../ids'
import type { PlatformMode } from '../keys'
import type { Route, SandboxReply, SandboxRequest } from '../http'
import type { BillEdit, Order } from '../state'
import { isCalendarDate } from './bills'
import { refundView } from './refunds'
import {
  applyWeixinSettings,
  orderShippingView,
  weixinSettingsShape,
  weixinSettingsView,
  parse,
  json,
} from './weixin-control'

/** What the sandbox page and tests read: orders with their refunds. */
function orderView(req: SandboxRequest, o: Order): object {
  return {
    api: o.api,
    out_trade_no: o.outTradeNo,
    trade_type: o.tradeType,
    trade_state: o.state,
    description: o.description,
    total: o.totalFen,
    prepay_id: o.prepayId,
    code_url: o.codeUrl,
    transaction_id: o.transactionId,
    failed_attempts: o.failedAttempts,
    notify_url: o.notifyUrl,
    created_at: new Date(o.createdAt).toISOString(),
    expires_at: new Date(o.expiresAt).toISOString(),
    refunds: o.refunds.map((r) => refundView(req.sandbox, r)),
    // 发货信息管理: absent until the shipping system looked at the payment.
    shipping: orderShippingView(req.sandbox, o),
    ...(o.secondPayments.length > 0
      ? {
          second_payments: o.secondPayments.map((p) => ({
            transaction_id: p.transactionId,
            trade_state: p.state,
            refunds: p.refunds.map((r) => refundView(req.sandbox, r)),
          })),
        }
      : {}),
  }
}

/** What `/__sandbox/settings` shows: the behaviours a test may switch. */
function settingsView(req: SandboxRequest): object {
  return {
    openPlatformBound: req.sandbox.openPlatformBound,
    paymentGraceSeconds: req.sandbox.paymentGraceMs / 1000,
    ...weixinSettingsView(req.sandbox),
  }
}

const payTarget = z
  .object({
    out_trade_no: z.string().optional(),
    prepay_id: z.string().optional(),
    code_url: z.string().optional(),
    result: z.enum(['SUCCESS', 'PAYERROR']).default('SUCCESS'),
    openid: z.string().optional(),
    afterClose: z.boolean().default(false),
    /** Pay an order that is already paid once more (a second transaction; see Sandbox.payAgain). */
    secondPayment: z.boolean().default(false),
  })
  .refine((b) => b.out_trade_no ?? b.prepay_id ?? b.code_url, {
    message: 'give out_trade_no, prepay_id or code_url',
  })
  .refine((b) => !b.secondPayment || (b.result === 'SUCCESS' && !b.afterClose), {
    message: 'secondPayment goes with result SUCCESS, without afterClose',
    path: ['secondPayment'],
  })

const billEdit = z
  .object({
    bill_date: z.string().refine(isCalendarDate, 'YYYY-MM-DD, a real day'),
    kind: z.enum(['amount', 'drop', 'foreign', 'raw']),
    out_trade_no: z.string().min(1).max(32).optional(),
    out_refund_no: z.string().min(1).max(64).optional(),
    amount: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
    // One line of the file: no line break in it.
    line: z
      .string()
      .min(1)
      .max(4096)
      .regex(/^[^\r\n]*$/, 'one line: no CR or LF')
      .optional(),
  })
  .refine(
    (e) =>
      e.kind === 'raw'
        ? e.line !== undefined &&
          e.out_trade_no === undefined &&
          e.out_refund_no === undefined &&
          e.amount === undefined
        : e.line === undefined,
    { message: 'raw takes line (and nothing else); line goes with raw only', path: ['line'] },
  )
  .refine((e) => e.kind === 'foreign' || e.kind === 'raw' || e.out_trade_no !== undefined, {
    message: 'amount and drop name the row: out_trade_no (and out_refund_no for a refund row)',
    path: ['out_trade_no'],
  })
  .refine((e) => e.kind === 'drop' || e.kind === 'raw' || e.amount !== undefined, {
    message: 'amount and foreign need amount (fen)',
    path: ['amount'],
  })
  .refine((e) => e.kind !== 'foreign' || e.out_refund_no === undefined, {
    message: 'a foreign row is a payment: no out_refund_no',
    path: ['out_refund_no'],
  })

/** A bill edit as `/__sandbox/bill-edits` lists it. */
function billEditView(e: BillEdit): object {
  if (e.kind === 'raw') return { bill_date: e.billDate, kind: e.kind, line: e.line }
  return {
    bill_date: e.billDate,
    kind: e.kind,
    out_trade_no: e.outTradeNo,
    ...('outRefundNo' in e && e.outRefundNo !== undefined ? { out_refund_no: e.outRefundNo } : {}),
    ...('transactionId' in e ? { transaction_id: e.transactionId } : {}),
    ...('amountFen' in e ? { amount: e.amountFen } : {}),
  }
}

const requestPayment = z.object({
  appId: z.string(),
  timeStamp: z.string(),
  nonceStr: z.string(),
  package: z.string(),
  signType: z.enum(['RSA', 'MD5', 'HMAC-SHA256']),
  paySign: z.string(),
  result: z.enum(['SUCCESS', 'PAYERROR', 'CANCEL']).default('SUCCESS'),
})

/**
 * `wx.requestPayment` as the WeChat client performs it: check `paySign` (RSA with the merchant's
 * key for APIv3 orders; MD5 or HMAC-SHA256 with the APIv2 key, of the same type as unifiedorder,
 * for APIv2 orders), the appId and the prepay's life; then the user pays, fails or cancels.
 */
function cashier(req: SandboxRequest): SandboxReply {
  const { sandbox } = req
  const p = parse(requestPayment, req)
  const failure = (detail: string) => json({ errMsg: `requestPayment:fail ${detail}` }, 400)
  const prepayId = p.package.startsWith('prepay_id=') ? p.package.slice('prepay_id='.length) : ''
  const order = sandbox.store.byPrepayId.get(prepayId)
  if (!order) return failure('prepay_id 不存在')
  if (order.prepayId !== prepayId || sandbox.clock.now() >= order.prepayExpiresAt) {
    return failure('prepay_id 已过期')
  }
  if (p.appId !== order.appid) return failure('appId 与下单时的 appid 不一致')
  if (!/^\d{10}$/.test(p.timeStamp)) return failure('timeStamp 应为10位秒级时间戳字符串')
  let signed: boolean
  if (order.api === 'v3') {
    if (p.signType !== 'RSA') return failure('signType 应为 RSA')
    const message = buildPaySignMessage(p.appId, p.timeStamp, p.nonceStr, p.package)
    const signature = Buffer.from(p.paySign, 'base64')
    signed =
      signature.length > 0 &&
      createVerify('RSA-SHA256').update(message).verify(sandbox.merchantPublicKey, signature)
  } else {
    if (p.signType !== order.v2SignType)
      return failure(`signType 应与统一下单一致（${order.v2SignType}）`)
    const expected = Buffer.from(
      signV2(
        {
          appId: p.appId,
          timeStamp: p.timeStamp,
          nonceStr: p.nonceStr,
          package: p.package,
          signType: p.signType,
        },
        sandbox.keys.apiV2Key,
        p.signType as V2SignType,
      ),
    )
    const given = Buffer.from(p.paySign)
    signed = expected.length === given.length && timingSafeEqual(expected, given)
  }
  if (!signed) return failure('支付验证签名失败')
  if (p.result === 'CANCEL') return json({ errMsg: 'requestPayment:fail cancel' })
  // The client starts no payment after time_expire; only one already confirmed completes late.
  if (sandbox.clock.now() > order.expiresAt) return failure('订单已过期，请重新下单')
  try {
    sandbox.pay(order, p.result === 'PAYERROR' ? 'PAYERROR' : 'SUCCESS')
  } catch (e) {
    if (e instanceof WechatError) return failure(e.message)
    throw e
  }
  return p.result === 'PAYERROR'
    ? json({ errMsg: 'requestPayment:fail 支付失败，请稍后再试' })
    : json({ errMsg: 'requestPayment:ok' })
}

export const controlRoutes: Route[] = [
  {
    method: 'GET',
    path: '/__sandbox/merchant',
    kind: 'control',
    handler: ({ sandbox }) => json(sandbox.merchant()),
  },
  {
    method: 'POST',
    path: '/__sandbox/login-codes',
    kind: 'control',
    handler: (req) => {
      const b = parse(
        z.object({
          openid: z.string().min(1).max(128).optional(),
          errcode: z.number().int().optional(),
        }),
        req,
      )
      const code = newLoginCode()
      const openid = b.openid ?? newOpenid()
      req.sandbox.store.loginCodes.set(code, {
        code,
        openid,
        createdAt: req.sandbox.clock.now(),
        used: false,
        errcode: b.errcode,
      })
      return json({ code, openid })
    },
  },
  {
    method: 'POST',
    path: '/__sandbox/pay',
    kind: 'control',
    handler: (req) => {
      const b = parse(payTarget, req)
      const order = req.sandbox.findOrder(b)
      if (!order) throw new WechatError(404, 'ORDER_NOT_EXIST', '订单不存在')
      if (b.secondPayment) return json(req.sandbox.payAgain(order))
      return json(req.sandbox.pay(order, b.result, b.openid, { afterClose: b.afterClose }))
    },
  },
  { method: 'POST', path: '/__sandbox/request-payment', kind: 'control', handler: cashier },
  {
    method: 'GET',
    path: '/__sandbox/notifications',
    kind: 'control',
    handler: ({ sandbox, query }) =>
      json(sandbox.notifier.list(query.get('out_trade_no') ?? undefined)),
  },
  {
    method: 'GET',
    path: '/__sandbox/calls',
    kind: 'control',
    handler: ({ sandbox, query }) =>
      json(sandbox.calls.list(query.get('out_trade_no') ?? undefined)),
  },
  {
    method: 'POST',
    path: '/__sandbox/notifications/:id/resend',
    kind: 'control',
    handler: async ({ sandbox, params }) => {
      const record = await sandbox.notifier.resend(params.id!)
      if (!record) throw new WechatError(404, 'NOT_FOUND', 'no such notification')
      return json(record)
    },
  },
  {
    method: 'POST',
    path: '/__sandbox/clock',
    kind: 'control',
    handler: (req) => {
      // At most 100 years at a time, so sandbox time stays a valid date.
      const b = parse(
        z
          .object({
            advanceSeconds: z
              .number()
              .nonnegative()
              .max(100 * 365 * 86400)
              .optional(),
            scale: z.number().positive().max(1_000_000).optional(),
          })
          .refine((c) => c.advanceSeconds !== undefined || c.scale !== undefined, {
            message: 'give advanceSeconds, scale or both',
            path: ['advanceSeconds'],
          }),
        req,
      )
      if (b.scale !== undefined) req.sandbox.clock.setScale(b.scale)
      if (b.advanceSeconds !== undefined) req.sandbox.clock.advance(b.advanceSeconds)
      return json({
        now: new Date(req.sandbox.clock.now()).toISOString(),
        scale: req.sandbox.clock.scale,
      })
    },
  },
  {
    method: 'GET',
    path: '/__sandbox/clock',
    kind: 'control',
    handler: ({ sandbox }) =>
      json({ now: new Date(sandbox.clock.now()).toISOString(), scale: sandbox.clock.scale }),
  },
  {
    method: 'POST',
    path: '/__sandbox/refunds/:no',
    kind: 'control',
    handler: (req) => {
      const b = parse(z.object({ status: z.enum(['SUCCESS', 'ABNORMAL', 'CLOSED']) }), req)
      const refund = req.sandbox.store.refunds.get(
        decodePathParam(
          req.params.no!,
          () => new WechatError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在'),
        ),
      )
      if (!refund) throw new WechatError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在')
      req.sandbox.settleRefund(refund, b.status)
      return json(refundView(req.sandbox, refund))
    },
  },
  {
    method: 'POST',
    path: '/__sandbox/reset',
    kind: 'control',
    handler: ({ sandbox }) => {
      sandbox.reset()
      return { status: 204 }
    },
  },
  {
    method: 'POST',
    path: '/__sandbox/faults',
    kind: 'control',
    handler: (req) => {
      const b = parse(
        z
          .object({
            target: z.string().min(1),
            kind: z.string(),
            count: z.number().int().positive().optional(),
            rate: z.number().positive().max(1).optional(),
            seed: z
              .number()
              .int()
              .min(0)
              .max(2 ** 32 - 1)
              .optional(),
            seconds: z.number().positive().optional(),
            errcode: z.number().int().optional(),
          })
          .refine((f) => f.count === undefined || f.rate === undefined, {
            message: 'give count or rate, not both',
            path: ['count'],
          })
          .refine((f) => f.seed === undefined || f.rate !== undefined, {
            message: 'seed goes with rate',
            path: ['seed'],
          }),
        req,
      )
      const allowed: readonly string[] =
        b.target === 'notifications' ? NOTIFICATION_FAULTS : PATH_FAULTS
      if (!allowed.includes(b.kind)) {
        throw new WechatError(
          400,
          'INVALID_INPUT',
          `kind for ${b.target} is one of ${allowed.join(', ')}`,
        )
      }
      if (b.target !== 'notifications' && !b.target.startsWith('/')) {
        throw new WechatError(
          400,
          'INVALID_INPUT',
          'target is "notifications" or a path prefix starting with /',
        )
      }
      if (WEIXIN_ONLY_FAULTS.includes(b.kind) && !/^\/(wxa|cgi-bin)\//.test(b.target)) {
        throw new WechatError(
          400,
          'INVALID_INPUT',
          `kind ${b.kind} is for the mini-program APIs: a target under /wxa/ or /cgi-bin/`,
        )
      }
      if (BILL_DOWNLOAD_ONLY_FAULTS.includes(b.kind) && !b.target.startsWith('/v3/billdownload')) {
        throw new WechatError(
          400,
          'INVALID_INPUT',
          `kind ${b.kind} is for the bill download: target /v3/billdownload`,
        )
      }
      // The schema allows count or rate, not both; Faults counts 1 when neither is given.
      const { count, rate, seed, seconds, errcode } = b
      req.sandbox.faults.add({
        target: b.target,
        kind: b.kind as never,
        count,
        rate,
        seed,
        seconds,
        ...(errcode !== undefined ? { errcode } : {}),
      })
      return json({ armed: req.sandbox.faults.list() })
    },
  },
  {
    method: 'DELETE',
    path: '/__sandbox/faults',
    kind: 'control',
    handler: ({ sandbox }) => {
      sandbox.faults.clear()
      return { status: 204 }
    },
  },
  {
    method: 'GET',
    path: '/__sandbox/faults',
    kind: 'control',
    handler: ({ sandbox }) => json(sandbox.faults.list()),
  },
  {
    method: 'POST',
    path: '/__sandbox/bill-edits',
    kind: 'control',
    handler: (req) => {
      const b = parse(billEdit, req)
      const { sandbox } = req
      const at = Date.parse(`${b.bill_date}T12:00:00+08:00`)
      const row = {
        outTradeNo: b.out_trade_no!,
        ...(b.out_refund_no ? { outRefundNo: b.out_refund_no } : {}),
      }
      const edit: BillEdit =
        b.kind === 'raw'
          ? { billDate: b.bill_date, kind: 'raw', line: b.line! }
          : b.kind === 'amount'
            ? { billDate: b.bill_date, kind: 'amount', ...row, amountFen: b.amount! }
            : b.kind === 'drop'
              ? { billDate: b.bill_date, kind: 'drop', ...row }
              : {
                  billDate: b.bill_date,
                  kind: 'foreign',
                  outTradeNo: b.out_trade_no ?? `FOREIGN${newTransactionId(at).slice(-12)}`,
                  transactionId: newTransactionId(at),
                  amountFen: b.amount!,
                }
      sandbox.store.billEdits.push(edit)
      return json(billEditView(edit), 201)
    },
  },
  {
    method: 'GET',
    path: '/__sandbox/bill-edits',
    kind: 'control',
    handler: ({ sandbox }) => json(sandbox.store.billEdits.map(billEditView)),
  },
  {
    method: 'DELETE',
    path: '/__sandbox/bill-edits',
    kind: 'control',
    handler: ({ sandbox }) => {
      sandbox.store.billEdits = []
      return { status: 204 }
    },
  },
  {
    method: 'POST',
    path: '/__sandbox/platform',
    kind: 'control',
    handler: (req) => {
      const { sandbox } = req
      const b = parse(
        z.object({
          mode: z.enum(['publicKey', 'certificate', 'both']).optional(),
          activeCertificate: z.string().optional(),
          /** Which certificates `GET /v3/certificates` lists (the rotation drill). */
          listedCertificates: z.array(z.string()).min(1).optional(),
          publicKeyNotificationShare: z.number().min(0).max(1).optional(),
        }),
        req,
      )
      const known = (serial: string) => sandbox.certificateSigners.some((s) => s.serial === serial)
      if (b.activeCertificate !== undefined && !known(b.activeCertificate)) {
        throw new WechatError(
          400,
          'INVALID_INPUT',
          'activeCertificate is not one of the platform certificates',
        )
      }
      if (b.listedCertificates !== undefined && !b.listedCertificates.every(known)) {
        throw new WechatError(
          400,
          'INVALID_INPUT',
          'listedCertificates are serials of the platform certificates',
        )
      }
      if (b.listedCertificates !== undefined)
        sandbox.listedCertificates = [...new Set(b.listedCertificates)]
      if (b.activeCertificate !== undefined) sandbox.activeCertificate = b.activeCertificate
      // WeChat lists the certificate it signs with: a rotation publishes the new one.
      if (!sandbox.listedCertificates.includes(sandbox.activeCertificate))
        sandbox.listedCertificates = [...sandbox.listedCertificates, sandbox.activeCertificate]
      if (b.mode) sandbox.platformMode = b.mode as PlatformMode
      if (b.publicKeyNotificationShare !== undefined)
        sandbox.publicKeyNotificationShare = b.publicKeyNotificationShare
      return json({
        mode: sandbox.platformMode,
        activeCertificate: sandbox.activeCertificate,
        listedCertificates: sandbox.listedCertificates,
        publicKeyNotificationShare: sandbox.publicKeyNotificationShare,
      })
    },
  },
  {
    method: 'POST',
    path: '/__sandbox/settings',
    kind: 'control',
    handler: (req) => {
      const b = parse(
        z.object({
          openPlatformBound: z.boolean().optional(),
          paymentGraceSeconds: z.number().int().min(0).max(86_400).optional(),
          ...weixinSettingsShape,
        }),
        req,
      )
      applyWeixinSettings(req.sandbox, b)
      if (b.openPlatformBound !== undefined) req.sandbox.openPlatformBound = b.openPlatformBound
      if (b.paymentGraceSeconds !== undefined)
        req.sandbox.paymentGraceMs = b.paymentGraceSeconds * 1000
      return json(settingsView(req))
    },
  },
  {
    method: 'GET',
    path: '/__sandbox/settings',
    kind: 'control',
    handler: (req) => json(settingsView(req)),
  },
  {
    method: 'GET',
    path: '/__sandbox/state',
    kind: 'control',
    handler: (req) =>
      json({
        now: new Date(req.sandbox.clock.now()).toISOString(),
        orders: [...req.sandbox.store.orders.values()].reverse().map((o) => orderView(req, o)),
        notifications: req.sandbox.notifier.list().reverse(),
        faults: req.sandbox.faults.list(),
        pushes: req.sandbox.weixin.pusher.list().reverse(),
      }),
  },
]
