import {
  PUSH_SUCCESS_REPLY,
  parsePush,
  verifyPushUrl,
  type PushMessage,
  type PushQuery,
} from '@fen/wechatpay'
import { storeNotification, type Outcome } from '../repositories/events'
import { findOrder } from '../repositories/orders'
import { claimPushReceipt, releasePushReceipt } from '../repositories/push-receipts'
import { malformedField } from '../wechat/push-shapes'
import type { ServiceContext } from './context'
import { receiveInbound, refuse, type InboundEndpoint } from './inbound'
import type { ShippingService } from './shipping'

/** What the push endpoint answers. */
export interface PushReply {
  status: number
  body: string
}

/**
 * How far a push's `timestamp` may be from now, in seconds, either way (WeChat's window for its
 * signatures). Older pushes are refused; newer ones are remembered this long to refuse replays.
 */
export const PUSH_WINDOW_S = 300

/**
 * Real time in Unix seconds: what WeChat signs pushes with. Not the app clock, which tests move
 * (the sandbox signs with real time too, as it does every signature).
 */
const wallSeconds = () => Math.floor(Date.now() / 1000)

/** What a push outcome is counted as, besides {@link Outcome}. */
type PushOutcome = Outcome | 'unverified' | 'stale' | 'malformed' | 'replayed'

/**
 * WeChat's message push (消息推送, 安全模式) at `/api/wechat/push`: the URL check, and signed,
 * encrypted pushes — verified, decrypted, checked fresh and seen once (every instance shares the
 * replay cache, `push_receipts`), then dispatched by event. Of shipping management's events, a
 * settlement is applied through shipping (`ShippingService.complete`, `markReportedByWechat`);
 * reminders are logged and counted; anything else is acknowledged and ignored.
 *
 * The settlement's checks (merchant, order, transaction) stay here, with the push: they judge
 * whether what the push claims agrees with our order, and what they find is recorded under the
 * push's own identity (its transaction and stage, or its signature).
 */
export class WechatPushService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly shipping: ShippingService,
  ) {}

  /**
   * `GET /api/wechat/push`: WeChat's URL check. Echoes `echostr` when signed with our Token within
   * the last {@link PUSH_WINDOW_S} seconds, once: the signature does not cover `echostr`, so a
   * signed check replayed with other text is refused rather than reflected.
   */
  async verifyUrl(query: PushQuery): Promise<PushReply> {
    const push = this.ctx.config.wechat.push
    if (!push) return { status: 404, body: 'message push is not configured' }
    const checked = await receiveInbound(this.ctx.logger, this.#inbound('url_check'), () =>
      verifyPushUrl(query, push.token, {
        nowSeconds: wallSeconds(),
        toleranceSeconds: PUSH_WINDOW_S,
      }),
    )
    if (!checked.ok) return checked.reply
    const fresh = await this.#firstSight(`url:${queryParam(query, 'signature')}`, query)
    if (!fresh) {
      this.ctx.metrics.wechatPushes.inc({ event: 'url_check', outcome: 'replayed' })
      this.ctx.logger.warn('push URL check refused: a replay of a check already answered')
      return { status: 401, body: 'replayed' }
    }
    return { status: 200, body: checked.value }
  }

  /**
   * `POST /api/wechat/push`: a signed, 安全模式-encrypted push. Unverified or more than
   * {@link PUSH_WINDOW_S} seconds from now → 401; unreadable, or a field no push could carry
   * (checked before anything is stored) → 400; nothing applied. The same signed push again (a
   * replay, caught by every instance through the database) → `success`, nothing applied.
   * Shipping-management events are applied (settlement → COMPLETED) or logged and counted
   * (reminders); anything else is acknowledged and ignored. WeChat retries what we do not answer
   * within 5 s, signed afresh: every effect here is a compare-and-set, so a retry changes nothing.
   */
  async receive(query: PushQuery, raw: Buffer): Promise<PushReply> {
    const push = this.ctx.config.wechat.push
    if (!push) return { status: 404, body: 'message push is not configured' }
    const parsed = await receiveInbound(this.ctx.logger, this.#inbound('unknown'), () =>
      parsePush({
        query,
        body: raw,
        token: push.token,
        crypto: { encodingAESKey: push.aesKey, appid: this.ctx.config.wechat.appid },
        nowSeconds: wallSeconds(),
        toleranceSeconds: PUSH_WINDOW_S,
      }),
    )
    if (!parsed.ok) return parsed.reply
    const message = parsed.value
    const event = message.Event ?? message.MsgType
    const problem = malformedField(message)
    if (problem)
      return refuse(this.ctx.logger, this.#inbound(event), {
        kind: 'malformed',
        status: 400,
        problem,
      })
    // 安全模式: `msg_signature` covers the timestamp, the nonce and the encrypted message.
    const key = `push:${queryParam(query, 'msg_signature')}`
    if (!(await this.#firstSight(key, query))) {
      this.ctx.metrics.wechatPushes.inc({ event, outcome: 'replayed' })
      this.ctx.logger.warn({ event }, 'push ignored: a replay of a push already received')
      return { status: 200, body: PUSH_SUCCESS_REPLY }
    }
    let outcome: Outcome
    try {
      outcome = await this.#apply(message, key)
    } catch (e) {
      // Not handled: WeChat's retry of these very bytes must be, not taken for a replay.
      await releasePushReceipt(this.ctx.db, key).catch(() => undefined)
      throw e
    }
    this.ctx.metrics.wechatPushes.inc({ event, outcome })
    return { status: 200, body: PUSH_SUCCESS_REPLY }
  }

  /**
   * How a push (or URL check) is refused before anything is applied (services/inbound.ts):
   * counted by `event` as `unverified`, `stale` or `malformed`, answered in plain text.
   */
  #inbound(event: string): InboundEndpoint<PushReply> {
    const urlCheck = event === 'url_check'
    return {
      fields: { event },
      count: (r) => {
        const outcome: PushOutcome =
          r.kind === 'malformed' ? 'malformed' : r.stale ? 'stale' : 'unverified'
        this.ctx.metrics.wechatPushes.inc({ event, outcome })
      },
      message: (r) =>
        r.kind === 'malformed'
          ? `${urlCheck ? 'push URL check' : 'push'} refused: malformed`
          : urlCheck
            ? `push URL check refused: ${r.stale ? 'stale timestamp' : 'bad signature'}`
            : `push refused: ${r.stale ? 'stale timestamp' : 'not verified'}`,
      reply: (r) =>
        r.kind === 'malformed'
          ? { status: 400, body: 'malformed push' }
          : { status: 401, body: r.stale ? 'stale timestamp' : 'invalid signature' },
    }
  }

  /** Records a verified push (or URL check) by its signature; false when it was seen before. */
  #firstSight(key: string, query: PushQuery): Promise<boolean> {
    const signedAt = Number(queryParam(query, 'timestamp'))
    return claimPushReceipt(
      this.ctx.db,
      { key, signedAt: new Date(signedAt * 1000) },
      new Date((wallSeconds() - PUSH_WINDOW_S) * 1000),
    )
  }

  /** Applies a verified, well-formed push seen for the first time (`key`: its signature). */
  async #apply(m: PushMessage, key: string): Promise<Outcome> {
    switch (m.type) {
      case 'trade_manage_remind_access_api':
        this.ctx.logger.warn(
          { event: m.type, msg: m.msg },
          'WeChat reminds us to report shipping (trade_manage_remind_access_api)',
        )
        return 'applied'
      case 'trade_manage_remind_shipping':
        this.ctx.logger.warn(
          { event: m.type, orderNo: m.merchant_trade_no, msg: m.msg },
          'WeChat reminds us an order is still unshipped (trade_manage_remind_shipping)',
        )
        return 'applied'
      case 'trade_manage_order_settlement':
        return this.#settlement(m, key)
      default:
        return 'ignored'
    }
  }

  /**
   * `trade_manage_order_settlement`: at stage `shipped`, WeChat has our report (marks the upload
   * done if our try never heard back); at stage `settled`, receipt was confirmed → COMPLETED.
   * The push names the merchant, the order and the transaction: all must be ours and agree.
   * Recorded with what happened: by transaction and stage (WeChat's retries, signed afresh, find
   * the first one's row), and each refused push in a row of its own (by its signature `key`).
   */
  async #settlement(
    m: Extract<PushMessage, { type: 'trade_manage_order_settlement' }>,
    key: string,
  ): Promise<Outcome> {
    const orderNo = m.merchant_trade_no
    const id = `push:${m.type}:${m.stage}:${m.transaction_id}`
    const record = (outcome: Outcome, detail?: string): Promise<boolean> =>
      storeNotification(this.ctx.db, {
        id: detail ? `${id}:rejected:${key}` : id,
        eventType: `push.${m.type}.${m.stage}`,
        orderNo,
        outcome,
        ...(detail ? { detail } : {}),
      })
    const rejected = async (problem: string): Promise<Outcome> => {
      await record('rejected', problem)
      this.ctx.logger.error(
        { orderNo, problem },
        'ALERT: settlement push not applied, needs review',
      )
      return 'rejected'
    }
    const order = await findOrder(this.ctx.db, orderNo)
    if (!order) return rejected(`unknown order ${orderNo}`)
    if (m.merchant_id !== this.ctx.config.wechatpay.mchid)
      return rejected(`merchant_id ${m.merchant_id} is not ours`)
    if (order.transactionId !== m.transaction_id)
      return rejected(
        `transaction ${m.transaction_id} is not the order's ${order.transactionId ?? '(unpaid)'}`,
      )
    if (m.stage === 'shipped') {
      const marked = await this.shipping.markReportedByWechat(orderNo)
      const fresh = await record(marked ? 'applied' : 'ignored')
      return marked ? 'applied' : fresh ? 'ignored' : 'duplicate'
    }
    const at =
      m.confirm_receive_time !== undefined
        ? new Date(m.confirm_receive_time * 1000)
        : this.ctx.clock()
    if (await this.shipping.complete(orderNo, at, 'push')) {
      await record('applied')
      return 'applied'
    }
    // Completed before (by an earlier push or the shopper's confirm-receipt), or never shipped.
    const now = await findOrder(this.ctx.db, orderNo)
    if (now?.completedAt) {
      await record('duplicate')
      return 'duplicate'
    }
    return rejected(`order ${orderNo} is ${now?.status ?? 'gone'}: never shipped, not completed`)
  }
}

/** One value of a push's query (Koa gives repeated names as arrays: the first counts). */
function queryParam(query: PushQuery, name: string): string {
  const v = query instanceof URLSearchParams ? query.get(name) : query[name]
  return (Array.isArray(v) ? v[0] : v) ?? ''
}
