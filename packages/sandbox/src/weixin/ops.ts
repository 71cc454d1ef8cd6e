import { createHash } from 'node:crypto'
import type { SandboxClock } from '../clock'
import type { SandboxKeys } from '../keys'
import type { Order, Store } from '../state'
import { WeixinError } from './answers'
import { Pusher, type PushConfig, type PushEvent, type PushRecord } from './pusher'
import {
  applyUpload,
  newShippingRecord,
  orderState,
  shippingOrderView,
  type CheckedUpload,
  type LogisticsTypeCode,
  type OrderState,
  type ShippingRecord,
} from './shipping'
import { AccessTokens } from './tokens'

/**
 * Days after shipping until WeChat confirms receipt by itself, per logistics type, when the
 * `autoConfirmDays` setting is not given: T+10 for express, T+2 for same-city, virtual and pickup.
 * UNCONFIRMED (wechat-ops-api.md §1.6: one AI-written community answer; no official period).
 */
export const DEFAULT_AUTO_CONFIRM_DAYS: Record<LogisticsTypeCode, number> = {
  1: 10,
  2: 2,
  3: 2,
  4: 2,
}

/** The switches of the mini-program side (`/__sandbox/settings`, kept across resets). */
export interface WeixinSettings {
  /** Days from shipping to automatic receipt confirmation; `null`: {@link DEFAULT_AUTO_CONFIRM_DAYS}. */
  autoConfirmDays: number | null
  /** Sandbox seconds from receipt confirmation to settlement (交易完成, the second push). Default 0. */
  settlementDelaySeconds: number
  /** Sandbox seconds after payment before the shipping system knows the order (10060001 before). Default 0. */
  shippingIngestSeconds: number
  /** What `is_trade_managed` (and `…confirmation_completed`) answer. Default true. */
  tradeManaged: boolean
  /** Where 消息推送 goes; `null`: nowhere. */
  push: PushConfig | null
}

/** A shipping change, as the event stream and the log report it. */
export interface ShippingEvent {
  out_trade_no: string
  transaction_id: string
  /** What happened. */
  action:
    | 'uploaded'
    | 'shipped'
    | 'reshipped'
    | 'confirmed'
    | 'auto_confirmed'
    | 'settled'
    | 'reminded'
    | 'state_forced'
  order_state: OrderState
  at: string
}

/**
 * What {@link WeixinOps} uses of the sandbox that builds it: the clock, the mini-program's and
 * merchant's ids, the payments (to look orders up, never to change them), the log, and where its
 * shipping changes and push attempts are reported (the sandbox's event stream).
 */
export interface WeixinOpsDeps {
  clock: SandboxClock
  keys: Pick<SandboxKeys, 'appid' | 'mchid'>
  store: Pick<Store, 'orders' | 'byTransactionId' | 'refundedFen'>
  log: (line: string) => void
  /** Called with every shipping change. */
  onShipping: (data: ShippingEvent) => void
  /** Called with every push attempt. */
  onPush: (data: PushEvent) => void
}

/**
 * The mini-program server side of WeChat (`api.weixin.qq.com` beyond login): access tokens,
 * shipping management with receipt confirmation and settlement on the sandbox clock, and message
 * pushes to the developer server. Reached as `sandbox.weixin`.
 */
export class WeixinOps {
  readonly #sb: WeixinOpsDeps
  readonly tokens: AccessTokens
  readonly pusher: Pusher
  /** Shipping records by out_trade_no, made when a payment is first looked at or uploaded. */
  readonly #records = new Map<string, ShippingRecord>()
  /** `set_msg_jump_path`'s path (empty: WeChat's own page). */
  msgJumpPath = ''
  settings: WeixinSettings

  constructor(deps: WeixinOpsDeps, settings: Partial<WeixinSettings> = {}) {
    this.#sb = deps
    this.tokens = new AccessTokens(deps.clock)
    this.pusher = new Pusher({
      clock: deps.clock,
      appid: deps.keys.appid,
      log: deps.log,
      onAttempt: deps.onPush,
    })
    this.settings = {
      autoConfirmDays: null,
      settlementDelaySeconds: 0,
      shippingIngestSeconds: 0,
      tradeManaged: true,
      push: null,
      ...settings,
    }
  }

  /** Forgets shipping and pushes (a reset); tokens and settings stay, as the app's credentials do. */
  reset(): void {
    for (const r of this.#records.values()) this.#cancelTasks(r)
    this.#records.clear()
    this.pusher.clear()
    this.msgJumpPath = ''
  }

  // ---- orders ----------------------------------------------------------------------------

  /**
   * The payment's shipping record, when WeChat's shipping system knows it: a paid JSAPI payment of
   * this mini-program, `shippingIngestSeconds` after payment. Otherwise 10060001 (支付单不存在),
   * which is also what a payment still being ingested answers.
   */
  known(order: Order | undefined): ShippingRecord {
    const sb = this.#sb
    if (
      !order ||
      order.transactionId === undefined ||
      order.tradeType !== 'JSAPI' ||
      order.appid !== sb.keys.appid ||
      sb.clock.now() < order.successTime! + this.settings.shippingIngestSeconds * 1000
    ) {
      throw new WeixinError(10060001)
    }
    let record = this.#records.get(order.outTradeNo)
    if (!record || record.order !== order) {
      record = newShippingRecord(order)
      this.#records.set(order.outTradeNo, record)
    }
    return record
  }

  /** The order a key names, or undefined (another merchant's key names none). */
  find(key: { transactionId: string } | { mchid: string; outTradeNo: string }): Order | undefined {
    const store = this.#sb.store
    if ('transactionId' in key) return store.byTransactionId.get(key.transactionId)
    return key.mchid === this.#sb.keys.mchid ? store.orders.get(key.outTradeNo) : undefined
  }

  /** The shipping record of an order if one exists (no 10060001): for the control API's views. */
  recordOf(order: Order): ShippingRecord | undefined {
    const r = this.#records.get(order.outTradeNo)
    return r && r.order === order ? r : undefined
  }

  state(record: ShippingRecord): OrderState {
    return orderState(record, this.#sb.store.refundedFen(record.order))
  }

  /** `get_order`'s `order`. */
  view(record: ShippingRecord): Record<string, unknown> {
    return shippingOrderView(record, this.state(record), this.#sb.keys.mchid)
  }

  /** Every payment the shipping system knows, oldest payment first (for `get_order_list`). */
  knownRecords(): ShippingRecord[] {
    const out: ShippingRecord[] = []
    for (const order of this.#sb.store.orders.values()) {
      try {
        out.push(this.known(order))
      } catch {
        // not (yet) in the shipping system
      }
    }
    return out.sort(
      (a, b) =>
        a.order.successTime! - b.order.successTime! ||
        (a.order.transactionId! < b.order.transactionId! ? -1 : 1),
    )
  }

  // ---- shipping flow -----------------------------------------------------------------------

  /** `upload_shipping_info` after its checks. */
  upload(u: CheckedUpload): void {
    const key =
      u.key.type === 1
        ? { mchid: u.key.mchid, outTradeNo: u.key.outTradeNo }
        : { transactionId: u.key.transactionId }
    const record = this.known(this.find(key))
    const now = this.#sb.clock.now()
    const { finished } = applyUpload(record, this.state(record), u, now)
    if (!finished) {
      this.#emit(record, 'uploaded')
      return
    }
    this.#emit(record, finished === 'first' ? 'shipped' : 'reshipped')
    this.#scheduleAutoConfirm(record)
    // Pushed when shipping completes (once: a re-ship only moves the auto-confirm date).
    if (finished === 'first') this.#pushSettlement(record, 'shipped')
  }

  /**
   * The shopper confirms receipt (`wx.openBusinessView` 确认收货), or WeChat does it automatically.
   * Answers as the confirmation component reports back: `cancel` when the order is not awaiting
   * receipt, `fail` when `openid` is given and is not the payer's.
   */
  confirm(
    record: ShippingRecord,
    how: 'shopper' | 'auto',
    openid?: string,
  ): { status: 'success' | 'fail' | 'cancel'; errormsg?: string } {
    if (openid !== undefined && openid !== record.order.payerOpenid) {
      return { status: 'fail', errormsg: '当前用户不是该订单的支付用户' }
    }
    if (this.state(record) !== 2) return { status: 'cancel', errormsg: '订单不是待确认收货状态' }
    const now = this.#sb.clock.now()
    this.#cancelTasks(record)
    record.state = 3
    delete record.forcedState
    record.confirmedAt = now
    // WeChat documents 1 = automatic, 2 = manual (developers report the reverse: UNCONFIRMED).
    record.confirmMethod = how === 'auto' ? 1 : 2
    this.#emit(record, how === 'auto' ? 'auto_confirmed' : 'confirmed')
    const delay = this.settings.settlementDelaySeconds * 1000
    // Settled at the instant it was due (with no delay, the confirmation's own: the clock is read
    // once, so the two times agree even while real time passes).
    if (delay === 0) this.#settle(record, now)
    else record.settlement = this.#sb.clock.at(now + delay, () => this.#settle(record, now + delay))
    return { status: 'success' }
  }

  /** `notify_confirm_receive`: once per order, express only, after the ship time. */
  remind(record: ShippingRecord, receivedTime: number): void {
    if (this.state(record) !== 2) throw new WeixinError(10060028)
    if (record.logisticsType !== 1) throw new WeixinError(10060032)
    if (receivedTime <= Math.floor(record.shippedAt! / 1000)) throw new WeixinError(10060029)
    if (record.remindedReceivedTime !== undefined) throw new WeixinError(10060030)
    record.remindedReceivedTime = receivedTime
    this.#emit(record, 'reminded')
  }

  /** The control API's override of `order_state` / `in_complaint` (e.g. 6 资金待结算, 5 已退款). */
  force(
    record: ShippingRecord,
    change: { order_state?: OrderState; in_complaint?: boolean },
  ): void {
    if (change.in_complaint !== undefined) record.inComplaint = change.in_complaint
    if (change.order_state !== undefined) record.forcedState = change.order_state
    this.#emit(record, 'state_forced')
  }

  /** The auto-confirm instant of a shipped order (sandbox ms), or undefined. */
  autoConfirmAt(record: ShippingRecord): number | undefined {
    if (record.shippedAt === undefined || record.logisticsType === undefined) return undefined
    const days = this.settings.autoConfirmDays ?? DEFAULT_AUTO_CONFIRM_DAYS[record.logisticsType]
    return record.shippedAt + days * 86_400_000
  }

  /** Applies a settings change: pending auto-confirmations move to the new period. */
  updateSettings(change: Partial<WeixinSettings>): void {
    Object.assign(this.settings, change)
    if (change.autoConfirmDays !== undefined) {
      for (const r of this.#records.values()) {
        if (r.state === 2 && r.autoConfirm) this.#scheduleAutoConfirm(r)
      }
    }
  }

  #scheduleAutoConfirm(record: ShippingRecord): void {
    record.autoConfirm?.cancel()
    const at = this.autoConfirmAt(record)
    if (at === undefined) return
    record.autoConfirm = this.#sb.clock.at(at, () => {
      record.autoConfirm = undefined
      if (this.#records.get(record.order.outTradeNo) !== record) return // forgotten by a reset
      this.confirm(record, 'auto')
    })
  }

  #settle(record: ShippingRecord, at: number): void {
    record.settlement = undefined
    if (this.#records.get(record.order.outTradeNo) !== record || record.state !== 3) return
    record.state = 4
    record.settledAt = at
    this.#emit(record, 'settled')
    this.#pushSettlement(record, 'settled')
  }

  #cancelTasks(record: ShippingRecord): void {
    record.autoConfirm?.cancel()
    record.settlement?.cancel()
    record.autoConfirm = undefined
    record.settlement = undefined
  }

  #emit(record: ShippingRecord, action: ShippingEvent['action']): void {
    const data: ShippingEvent = {
      out_trade_no: record.order.outTradeNo,
      transaction_id: record.order.transactionId!,
      action,
      order_state: this.state(record),
      at: new Date(this.#sb.clock.now()).toISOString(),
    }
    this.#sb.log(`shipping of ${data.out_trade_no}: ${action} (order_state ${data.order_state})`)
    this.#sb.onShipping(data)
  }

  // ---- pushes ------------------------------------------------------------------------------

  /** The mini-program's original id (gh_…), the `ToUserName` of every push: derived from the appid. */
  get originalId(): string {
    return 'gh_' + createHash('sha256').update(this.#sb.keys.appid).digest('hex').slice(0, 12)
  }

  /**
   * The fields of a push about `event`, as WeChat sends it (§1.5). `FromUserName` is the payer's
   * openid for order events; for the app-level reminder it is a fixed system openid (a choice).
   */
  message(
    event: string,
    record: ShippingRecord | undefined,
    extra: Record<string, string | number> = {},
    stage?: 'shipped' | 'settled',
  ): Record<string, string | number> {
    const now = Math.floor(this.#sb.clock.now() / 1000)
    const common = {
      ToUserName: this.originalId,
      FromUserName: record?.order.payerOpenid ?? SYSTEM_OPENID,
      CreateTime: now,
      MsgType: 'event',
      Event: event,
    }
    if (!record) return { ...common, ...extra }
    const o = record.order
    const order = {
      transaction_id: o.transactionId!,
      merchant_id: this.#sb.keys.mchid,
      sub_merchant_id: '0',
      merchant_trade_no: o.outTradeNo,
      pay_time: Math.floor(o.successTime! / 1000),
    }
    if (event === 'trade_manage_order_settlement') {
      const shipped = record.shippedAt !== undefined ? Math.floor(record.shippedAt / 1000) : now
      if (stage === 'settled' || (stage === undefined && record.settledAt !== undefined)) {
        return {
          ...common,
          ...order,
          shipped_time: shipped,
          confirm_receive_method: record.confirmMethod ?? 2,
          confirm_receive_time: Math.floor((record.confirmedAt ?? now * 1000) / 1000),
          settlement_time: Math.floor((record.settledAt ?? now * 1000) / 1000),
          ...extra,
        }
      }
      const autoAt = this.autoConfirmAt(record)
      const estimate =
        autoAt === undefined
          ? now
          : Math.floor(autoAt / 1000) + this.settings.settlementDelaySeconds
      return {
        ...common,
        ...order,
        shipped_time: shipped,
        estimated_settlement_time: estimate,
        ...extra,
      }
    }
    return { ...common, ...order, ...extra }
  }

  /** Sends a push to the configured server (undefined when none is configured). */
  push(
    message: Record<string, string | number>,
    outTradeNo?: string,
  ): Promise<PushRecord> | undefined {
    const config = this.settings.push
    if (!config) return undefined
    return this.pusher.send(config, message, outTradeNo)
  }

  #pushSettlement(record: ShippingRecord, stage: 'shipped' | 'settled'): void {
    void this.push(
      this.message('trade_manage_order_settlement', record, {}, stage),
      record.order.outTradeNo,
    )
  }
}

/** The `FromUserName` of app-level pushes (no user is involved): a fixed, openid-shaped value. */
export const SYSTEM_OPENID = 'oWxSandboxSystem000000000000'
