import { randomUUID, sign as rsaSign, type KeyObject } from 'node:crypto'
import {
  buildResponseMessage,
  encryptResource,
  formatBeijingTime,
  formatV2Time,
  loadApiV3Key,
  parseCertificate,
  loadPrivateKey,
  platformSignatureHeaders,
  randomAlphanumeric,
  signV2,
  toXml,
  SIGNTEST_PREFIX,
  type Transaction,
} from '@fen/wechatpay'
import { CallLog } from './calls'
import { SandboxClock } from './clock'
import { WechatError } from './errors'
import { SandboxEvents } from './events'
import { Faults } from './faults'
import { newOpenid, newTransactionId } from './ids'
import {
  merchantView,
  type PlatformMode,
  type PlatformSigner,
  type SandboxKeys,
  type SandboxMerchant,
} from './keys'
import { Notifier, type OutgoingNotification } from './notifier'
import { Store, type Order, type Refund } from './state'
import { WeixinOps, type WeixinSettings } from './weixin/ops'

/** Options of a sandbox (all optional but `keys`). */
export interface SandboxOptions {
  keys: SandboxKeys
  /** Sandbox seconds per real second (default 1); 600 runs WeChat's 24 h retry schedule in 144 s. */
  timeScale?: number
  /**
   * In `both` (migration) mode, the share of notifications signed with the WeChat Pay public key
   * (WeChat ramps it 0.1% → 100% over a week). Default 0.5.
   */
  publicKeyNotificationShare?: number
  /** How long a notification reply may take, in real ms (default 5000; not scaled). */
  notifyTimeoutMs?: number
  /**
   * Refunds settle to SUCCESS this many sandbox seconds after creation, with a notification.
   * `false`: they stay PROCESSING until `POST /__sandbox/refunds/:out_refund_no`. Default 5.
   */
  refundSettleSeconds?: number | false
  /**
   * How many sandbox seconds after `time_expire` a payment may still complete (WeChat has been seen
   * completing payments 12–60 s late), even when the merchant closed the order after its expiry.
   * Default 60; `0` ends payments exactly at `time_expire`.
   */
  paymentGraceSeconds?: number
  /**
   * Whether the mini-program is bound to an Open Platform (开放平台) account: only then does
   * code2Session answer a `unionid`. Default false, as for a mini-program of its own.
   */
  openPlatformBound?: boolean
  /**
   * The mini-program side (access tokens, shipping, message push): `autoConfirmDays`,
   * `settlementDelaySeconds`, `shippingIngestSeconds`, `tradeManaged`, `push` (see WeixinOps).
   */
  weixin?: Partial<WeixinSettings>
  /** Where log lines go (default: nowhere). Never receives keys or secrets. */
  log?: (line: string) => void
  /** The built console page (default: this package's `console/dist`; see routes/page.ts). */
  consoleDir?: string
}

/**
 * WeChat's side: the state, the keys, and the behaviour shared by the API routes, the control API
 * and the page — "the user pays", settling refunds, building signed notifications.
 */
export class Sandbox {
  readonly keys: SandboxKeys
  readonly clock: SandboxClock
  readonly store = new Store()
  readonly faults = new Faults()
  /** Every call the merchant made to WeChat's side (`GET /__sandbox/calls`). */
  readonly calls = new CallLog()
  /** The live stream of calls and deliveries (`GET /__sandbox/events`). */
  readonly events = new SandboxEvents()
  readonly notifier: Notifier
  /** The mini-program server APIs: access tokens, shipping management, message push. */
  readonly weixin: WeixinOps
  readonly apiV3Key: KeyObject
  readonly merchantPublicKey: KeyObject
  readonly publicKeySigner: PlatformSigner
  readonly certificateSigners: PlatformSigner[]
  readonly refundSettleSeconds: number | false
  paymentGraceMs: number
  openPlatformBound: boolean
  readonly log: (line: string) => void
  readonly consoleDir: string | undefined
  platformMode: PlatformMode
  /** The platform certificate that signs (a rotation drill switches it). */
  activeCertificate: string
  /**
   * The serials `GET /v3/certificates` lists (default: every certificate of the keys). A rotation
   * drill lists only the old one first, so a merchant that downloaded then meets an unknown serial
   * once WeChat signs with the new one; switching `activeCertificate` lists it.
   */
  listedCertificates: string[]
  publicKeyNotificationShare: number
  /** Set once the HTTP server listens: used for bill download URLs. */
  baseUrl = ''
  /** The backup host's URL, when the sandbox also listens on `backupPort`. */
  backupUrl: string | undefined

  constructor(options: SandboxOptions) {
    this.keys = options.keys
    this.clock = new SandboxClock(options.timeScale ?? 1)
    this.apiV3Key = loadApiV3Key(options.keys.apiV3Key)
    this.merchantPublicKey = parseCertificate(options.keys.merchantCertificate).publicKey
    this.publicKeySigner = {
      serial: options.keys.platformPublicKeyId,
      privateKey: loadPrivateKey(options.keys.platformPrivateKey),
    }
    this.certificateSigners = options.keys.platformCertificates.map((c) => ({
      serial: c.serialNo,
      privateKey: loadPrivateKey(c.privateKey),
    }))
    if (this.certificateSigners.length === 0)
      throw new Error('the sandbox needs a platform certificate')
    this.activeCertificate = this.certificateSigners[0]!.serial
    this.listedCertificates = this.certificateSigners.map((s) => s.serial)
    this.platformMode = options.keys.platformMode ?? 'publicKey'
    this.publicKeyNotificationShare = options.publicKeyNotificationShare ?? 0.5
    this.refundSettleSeconds = options.refundSettleSeconds ?? 5
    this.paymentGraceMs = (options.paymentGraceSeconds ?? 60) * 1000
    this.openPlatformBound = options.openPlatformBound ?? false
    this.log = options.log ?? (() => undefined)
    this.consoleDir = options.consoleDir
    this.notifier = new Notifier({
      clock: this.clock,
      faults: this.faults,
      timeoutMs: options.notifyTimeoutMs ?? 5000,
      log: this.log,
      onAttempt: (data) => this.events.emit({ type: 'delivery', data }),
    })
    this.weixin = new WeixinOps(
      {
        clock: this.clock,
        keys: this.keys,
        store: this.store,
        log: this.log,
        onShipping: (data) => this.events.emit({ type: 'shipping', data }),
        onPush: (data) => this.events.emit({ type: 'push', data }),
      },
      options.weixin,
    )
  }

  /** What `GET /__sandbox/merchant` returns. */
  merchant(): SandboxMerchant {
    const push = this.weixin.settings.push
    return {
      ...merchantView(this.keys),
      platformMode: this.platformMode,
      ...(this.backupUrl ? { backupBaseUrl: this.backupUrl } : {}),
      ...(push ? { pushToken: push.token } : {}),
      ...(push?.encodingAESKey ? { pushEncodingAESKey: push.encodingAESKey } : {}),
    }
  }

  /** Empties all state, faults and the call log; keys, mode and clock stay. */
  reset(): void {
    this.notifier.reset()
    this.faults.clear()
    this.calls.clear()
    this.store.reset()
    this.weixin.reset()
  }

  close(): void {
    this.notifier.reset()
    this.clock.close()
  }

  // ---- signing ---------------------------------------------------------------------------

  #certificateSigner(): PlatformSigner {
    return this.certificateSigners.find((s) => s.serial === this.activeCertificate)!
  }

  /**
   * Who signs an API answer. Public-key mode: the public key. Certificate mode: the active platform
   * certificate. Migration (`both`): the public key only when the request asked for it with
   * `Wechatpay-Serial: PUB_KEY_ID_…`, as WeChat does once the merchant enables it.
   */
  responseSigner(requestSerial: string | undefined): PlatformSigner {
    if (this.platformMode === 'publicKey') return this.publicKeySigner
    if (this.platformMode === 'certificate') return this.#certificateSigner()
    return requestSerial === this.publicKeySigner.serial
      ? this.publicKeySigner
      : this.#certificateSigner()
  }

  /** Who signs a notification: in migration mode, the public key for a configurable share. */
  notificationSigner(): PlatformSigner {
    if (this.platformMode === 'publicKey') return this.publicKeySigner
    if (this.platformMode === 'certificate') return this.#certificateSigner()
    return Math.random() < this.publicKeyNotificationShare
      ? this.publicKeySigner
      : this.#certificateSigner()
  }

  /**
   * `Wechatpay-*` headers for a body; the timestamp is real time (see SandboxClock).
   *
   * The RSA signature is made on libuv's thread pool (`crypto.sign` with a callback), not on the
   * event loop: it is most of the work of every answer and notification (0.3–0.7 ms), and signing
   * off the loop lets a 2-core machine serve prepays on both cores (docs/benchmarks.md).
   */
  async sign(
    by: PlatformSigner,
    body: string | Buffer,
    probe = false,
  ): Promise<Record<string, string>> {
    const timestamp = Math.floor(Date.now() / 1000)
    const nonce = randomAlphanumeric(32)
    const message = buildResponseMessage(timestamp, nonce, body)
    const signature = await new Promise<string>((resolve, reject) =>
      rsaSign('sha256', message, by.privateKey, (err, sig) =>
        err ? reject(err) : resolve(sig.toString('base64')),
      ),
    )
    return platformSignatureHeaders({
      serial: by.serial,
      timestamp,
      nonce,
      signature: probe ? SIGNTEST_PREFIX + signature : signature,
    })
  }

  /** True when `serial` names a key this sandbox has (for the `Wechatpay-Serial` request header). */
  knowsSerial(serial: string): boolean {
    return (
      serial === this.publicKeySigner.serial ||
      this.certificateSigners.some((s) => s.serial === serial.toUpperCase())
    )
  }

  // ---- orders ------------------------------------------------------------------------------

  /** Finds an order by out_trade_no, prepay_id or code_url (control API, cashier, scan page). */
  findOrder(by: {
    out_trade_no?: string
    prepay_id?: string
    code_url?: string
  }): Order | undefined {
    if (by.out_trade_no) return this.store.orders.get(by.out_trade_no)
    if (by.prepay_id) return this.store.byPrepayId.get(by.prepay_id)
    if (by.code_url) return this.store.byCodeUrl.get(by.code_url)
    return undefined
  }

  /**
   * The user pays (or the payment fails). SUCCESS moves NOTPAY → SUCCESS and sends
   * TRANSACTION.SUCCESS. PAYERROR is a failed attempt: on a JSAPI / Native / App / H5 order it is
   * something the shopper's client sees (`requestPayment:fail …`), not a state — the order stays
   * NOTPAY and payable, and no notification is sent (PAYERROR, USERPAYING and REVOKED are states
   * of payment-code orders only, which the sandbox does not take). Throws a WechatError the control
   * API renders as 400.
   *
   * A payment completes up to `paymentGraceSeconds` after `time_expire`, even on an order the
   * merchant closed after its expiry (the close raced a payment the shopper had already confirmed);
   * `afterClose` lets any CLOSED order be paid (the close/pay race; see the control API).
   */
  pay(
    order: Order,
    result: 'SUCCESS' | 'PAYERROR' = 'SUCCESS',
    openid?: string,
    options: { afterClose?: boolean } = {},
  ): Transaction {
    const now = this.clock.now()
    if (order.state === 'SUCCESS' || order.state === 'REFUND')
      throw new WechatError(400, 'ORDERPAID', '订单已支付')
    const inGrace = now > order.expiresAt && now <= order.expiresAt + this.paymentGraceMs
    // A close after time_expire races a payment finishing in its grace; one before does not.
    const lateClose = order.state === 'CLOSED' && inGrace && order.closedAt! >= order.expiresAt
    if (order.state === 'CLOSED' && !options.afterClose && !lateClose) {
      throw new WechatError(400, 'ORDER_CLOSED', '订单已关闭')
    }
    if (now > order.expiresAt && !inGrace) {
      throw new WechatError(400, 'ORDER_EXPIRED', '订单已过期，请重新下单')
    }
    if (result === 'PAYERROR') {
      order.failedAttempts += 1
      this.log(`payment of ${order.outTradeNo} failed (the order stays ${order.state})`)
      return this.transaction(order)
    }
    order.state = 'SUCCESS'
    order.transactionId = newTransactionId(now)
    order.successTime = now
    order.bankType = 'OTHERS'
    order.payerOpenid ??= openid ?? newOpenid()
    this.store.byTransactionId.set(order.transactionId, order)
    this.log(
      `paid ${order.outTradeNo} (${order.totalFen} fen)${inGrace ? ' after time_expire' : ''}`,
    )
    this.notifyPayment(order)
    return this.transaction(order)
  }

  /**
   * The shopper pays an order that is already paid, once more: a second transaction of the same
   * out_trade_no and amount (重复支付), notified as TRANSACTION.SUCCESS with its own transaction_id,
   * refundable by that transaction_id. UNCONFIRMED how it arises at WeChat (one out_trade_no is
   * paid once; double charges reach merchants through client retries and re-created orders): the
   * sandbox only needs the merchant to see one, and to refund it.
   */
  payAgain(order: Order): Transaction {
    if (order.state !== 'SUCCESS' && order.state !== 'REFUND')
      throw new WechatError(400, 'ORDER_NOT_PAID', '订单未支付，不能重复支付')
    const now = this.clock.now()
    const second: Order = {
      ...order,
      state: 'SUCCESS',
      transactionId: newTransactionId(now),
      successTime: now,
      refunds: [],
      secondPayments: [],
    }
    order.secondPayments.push(second)
    this.store.byTransactionId.set(second.transactionId!, second)
    this.log(`paid ${order.outTradeNo} again (${order.totalFen} fen, ${second.transactionId})`)
    this.notifyPayment(second)
    return this.transaction(second)
  }

  /**
   * The APIv3 Transaction object of an order (query answer, notification resource), with the
   * fields real answers carry in each state (wechat-ops-api.md §7). Unpaid (NOTPAY, CLOSED):
   * `amount{payer_currency, total}`, `promotion_detail: []`, `scene_info{device_id: ""}`, and no
   * `transaction_id, trade_type, bank_type, success_time, payer, attach`. Paid: all of them,
   * `attach` as `""` when empty. Keys in alphabetical order, as raw captures list them.
   */
  transaction(order: Order): Transaction {
    const base = {
      appid: order.appid,
      mchid: order.mchid,
      out_trade_no: order.outTradeNo,
      promotion_detail: [],
      scene_info: { device_id: '' },
      trade_state: order.state,
      trade_state_desc: TRADE_STATE_DESC[order.state] ?? '',
    }
    if (order.transactionId === undefined) {
      return sortKeys({
        ...base,
        amount: { payer_currency: order.currency, total: order.totalFen },
      })
    }
    return sortKeys({
      ...base,
      amount: {
        currency: order.currency,
        payer_currency: order.currency,
        payer_total: order.totalFen,
        total: order.totalFen,
      },
      attach: order.attach ?? '',
      bank_type: order.bankType,
      payer: { openid: order.payerOpenid! },
      success_time: formatBeijingTime(order.successTime!),
      trade_type: order.tradeType,
      transaction_id: order.transactionId,
    })
  }

  // ---- notifications ---------------------------------------------------------------------

  notifyPayment(order: Order): void {
    if (order.api === 'v2') {
      this.notifier.enqueue(this.#v2PaymentNotification(order))
      return
    }
    this.notifier.enqueue(
      this.#v3Notification({
        eventType: 'TRANSACTION.SUCCESS',
        summary: '支付成功',
        originalType: 'transaction',
        resource: this.transaction(order),
        url: order.notifyUrl,
        outTradeNo: order.outTradeNo,
      }),
    )
  }

  notifyRefund(refund: Refund): void {
    const status = refund.status as 'SUCCESS' | 'ABNORMAL' | 'CLOSED'
    const order = refund.order
    this.notifier.enqueue(
      this.#v3Notification({
        eventType: `REFUND.${status}`,
        summary: REFUND_SUMMARY[status],
        originalType: 'refund',
        resource: {
          mchid: order.mchid,
          transaction_id: order.transactionId,
          out_trade_no: order.outTradeNo,
          refund_id: refund.refundId,
          out_refund_no: refund.outRefundNo,
          refund_status: status,
          ...(refund.successTime ? { success_time: formatBeijingTime(refund.successTime) } : {}),
          user_received_account: '支付用户零钱',
          amount: {
            total: order.totalFen,
            refund: refund.refundFen,
            payer_total: order.totalFen,
            payer_refund: refund.refundFen,
          },
        },
        url: refund.notifyUrl ?? order.notifyUrl,
        outTradeNo: order.outTradeNo,
        outRefundNo: refund.outRefundNo,
      }),
    )
  }

  #v3Notification(n: {
    eventType: string
    summary: string
    originalType: string
    resource: object
    url: string
    outTradeNo: string
    outRefundNo?: string
  }): OutgoingNotification {
    const id = randomUUID()
    const body = JSON.stringify({
      id,
      create_time: formatBeijingTime(this.clock.now()),
      resource_type: 'encrypt-resource',
      event_type: n.eventType,
      summary: n.summary,
      resource: encryptResource(this.apiV3Key, JSON.stringify(n.resource), {
        associatedData: n.originalType,
        originalType: n.originalType,
      }),
    })
    return {
      id,
      version: 'v3',
      eventType: n.eventType,
      outTradeNo: n.outTradeNo,
      outRefundNo: n.outRefundNo,
      url: n.url,
      body,
      // Each attempt is signed afresh (new timestamp and nonce) over the same body.
      headers: async (probe) => ({
        'Content-Type': 'application/json',
        'User-Agent': 'Mozilla/4.0',
        ...(await this.sign(this.notificationSigner(), body, probe)),
      }),
    }
  }

  #v2PaymentNotification(order: Order): OutgoingNotification {
    const signType = order.v2SignType ?? 'MD5'
    const fields: Record<string, string | number> = {
      appid: order.appid,
      mch_id: order.mchid,
      nonce_str: randomAlphanumeric(32),
      result_code: 'SUCCESS',
      return_code: 'SUCCESS',
      openid: order.payerOpenid!,
      is_subscribe: 'N',
      trade_type: order.tradeType,
      bank_type: order.bankType!,
      total_fee: order.totalFen,
      fee_type: order.currency,
      cash_fee: order.totalFen,
      transaction_id: order.transactionId!,
      out_trade_no: order.outTradeNo,
      time_end: formatV2Time(order.successTime!),
    }
    if (order.attach) fields.attach = order.attach
    if (signType !== 'MD5') fields.sign_type = signType
    const body = toXml({ ...fields, sign: signV2(fields, this.keys.apiV2Key, signType) })
    return {
      id: randomUUID(),
      version: 'v2',
      eventType: 'TRANSACTION.SUCCESS',
      outTradeNo: order.outTradeNo,
      url: order.notifyUrl,
      body,
      // APIv2 has no signature headers: a probe is a message whose `sign` is wrong.
      headers: async () => ({ 'Content-Type': 'text/xml', 'User-Agent': 'Mozilla/4.0' }),
      probeBody: () =>
        body.replace(
          /<sign><!\[CDATA\[[0-9A-F]+\]\]><\/sign>/,
          '<sign><![CDATA[WECHATPAY/SIGNTEST/0]]></sign>',
        ),
    }
  }

  // ---- refunds ---------------------------------------------------------------------------

  /** Moves a PROCESSING refund to its final status and notifies. A CLOSED refund gives its amount back. */
  settleRefund(refund: Refund, status: 'SUCCESS' | 'ABNORMAL' | 'CLOSED'): void {
    if (
      refund.status !== 'PROCESSING' &&
      !(refund.status === 'ABNORMAL' && status !== 'ABNORMAL')
    ) {
      throw new WechatError(
        400,
        'INVALID_REQUEST',
        `退款单状态为${refund.status}，不能改为${status}`,
      )
    }
    refund.status = status
    if (status === 'SUCCESS') refund.successTime = this.clock.now()
    // A failed (CLOSED) refund gives its amount back; with none left, the order is plain paid again.
    const order = refund.order
    if (status === 'CLOSED' && order.refunds.every((r) => r.status === 'CLOSED'))
      order.state = 'SUCCESS'
    this.log(`refund ${refund.outRefundNo} → ${status}`)
    this.notifyRefund(refund)
  }
}

/**
 * `trade_state_desc` as WeChat writes it (wechat-ops-api.md §7; CLOSED and REFUND were captured in
 * APIv2, the same text in APIv3 is a choice). APIv2 orderquery uses the same texts.
 */
export const TRADE_STATE_DESC: Partial<Record<string, string>> = {
  NOTPAY: '订单未支付',
  SUCCESS: '支付成功',
  CLOSED: '订单已关闭',
  REFUND: '订单发生过退款，退款详情请查询退款单',
}

/** An object with its keys in alphabetical order (raw WeChat answers list them so). */
function sortKeys<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T
}

const REFUND_SUMMARY = { SUCCESS: '退款成功', ABNORMAL: '退款异常', CLOSED: '退款关闭' } as const
