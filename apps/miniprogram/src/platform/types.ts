import type { Address, PayChannel, ReceiptConfirmation, RequestPaymentParams } from '@fen/shared'

/** How a `wx.requestPayment` ended, as the shop needs to know it. */
export type PayOutcome =
  { status: 'paid' } | { status: 'cancelled' } | { status: 'failed'; reason: string }

/** What the order being paid looks like, for a cashier to show. */
export interface PayingOrder {
  orderNo: string
  totalFen: number
  description: string
}

/**
 * What differs between where the shop runs: WeChat (weapp), a browser (H5), and the sandbox.
 * Chosen once, at build time (src/platform/index.ts).
 */
export interface Platform {
  /** The ways to pay here, the preferred first: weapp `jsapi`, H5 `native`. */
  readonly channels: readonly PayChannel[]
  /** A `wx.login` code (or the sandbox's). */
  login(): Promise<string>
  /** Runs `wx.requestPayment` with the server's parameters (jsapi). */
  requestPayment(params: RequestPaymentParams, order: PayingOrder): Promise<PayOutcome>
  /** A QR image (data URL) for a Native `code_url`; only where Native is a channel. */
  qrImage?(codeUrl: string): Promise<string>
  /**
   * 确认收货: `wx.openBusinessView({businessType: 'weappOrderConfirm'})` (weapp; the sandbox's
   * stand-in sheet in sandbox builds). 'opened' does not mean confirmed: WeChat's page can be left
   * without confirming, so the server checks with get_order. Absent where it cannot exist (H5).
   */
  openReceiptConfirm?(c: ReceiptConfirmation): Promise<'opened' | 'cancelled'>
  /**
   * WeChat's own address book (`wx.chooseAddress`): the shopper picks or adds one; undefined when
   * they back out. Absent in a browser (H5), where the checkout page asks with a form.
   */
  chooseAddress?(): Promise<Address | undefined>
  /** Sandbox only: forget this device's shopper, so that the next login makes a new one (切换用户). */
  switchUser?(): void
  /** Sandbox only: this device's sandbox shopper (its openid), once it has logged in. */
  sandboxOpenid?(): string | undefined
  /** Sandbox only: pay (or fail) a Native `code_url` as a scanning shopper would. */
  simulateScan?(codeUrl: string, result: 'SUCCESS' | 'PAYERROR'): Promise<void>
}
