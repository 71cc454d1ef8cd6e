/**
 * Every error the Fen API answers with is `{code, message}` and a 4xx/5xx status. `code` is one of
 * these; `message` is for people (Chinese for shopper-facing errors) and may change.
 */
export const ERROR_CODES = {
  /** The body, query or a header is malformed (400). */
  INVALID_INPUT: 400,
  /** No or bad token (401). */
  UNAUTHORIZED: 401,
  /** The admin token is missing or wrong (401). */
  ADMIN_UNAUTHORIZED: 401,
  /** The login code is invalid, expired or already used (400). */
  LOGIN_CODE_INVALID: 400,
  /** WeChat refused this user's login (403). */
  LOGIN_BLOCKED: 403,
  /** Too many requests from this address (429). */
  RATE_LIMITED: 429,
  /** No such product, or not for sale (404). */
  PRODUCT_NOT_FOUND: 404,
  /** Not enough stock for a line (409). */
  OUT_OF_STOCK: 409,
  /** No such order for this user (404; also another user's order). */
  ORDER_NOT_FOUND: 404,
  /** The shopper already has as many unpaid orders as allowed: pay or cancel one first (409). */
  TOO_MANY_OPEN_ORDERS: 409,
  /**
   * The order would give the shopper more units of a product than its purchase limit (限购), counting
   * their unpaid orders: buy fewer, or pay or cancel one first (409).
   */
  PURCHASE_LIMIT_EXCEEDED: 409,
  /** The order cannot be paid now: closed, about to expire, or made under another payment API (409). */
  ORDER_NOT_PAYABLE: 409,
  /** The order was already paid (409). */
  ORDER_ALREADY_PAID: 409,
  /** The order was already prepaid through another channel (409). */
  PAY_CHANNEL_LOCKED: 409,
  /** The same Idempotency-Key was used for a different request (409). */
  IDEMPOTENCY_KEY_REUSED: 409,
  /** The refund asked for is more than can be refunded, or the order is not refundable (409). */
  REFUND_NOT_ALLOWED: 409,
  /** Another refund of this order is being submitted to WeChat right now: retry shortly (409). */
  REFUND_IN_PROGRESS: 409,
  /** The order cannot be shipped: not paid yet, or refunded or being refunded (409). */
  ORDER_NOT_SHIPPABLE: 409,
  /** The order was already shipped, with other delivery details (409). */
  ORDER_ALREADY_SHIPPED: 409,
  /** WeChat does not (yet) say the shopper confirmed receipt; or the order was never shipped (409). */
  RECEIPT_NOT_CONFIRMED: 409,
  /** WeChat answered with an error we cannot resolve here (502). */
  WECHAT_ERROR: 502,
  /** WeChat could not be reached, or is busy (503). */
  WECHAT_UNAVAILABLE: 503,
  /** No such route (404). */
  NOT_FOUND: 404,
  /** The route exists, but not for this method (405). */
  METHOD_NOT_ALLOWED: 405,
  /** The request body did not arrive in time (408). */
  REQUEST_TIMEOUT: 408,
  /** The request body is too large (413). */
  PAYLOAD_TOO_LARGE: 413,
  /** Something failed on our side (500). Nothing is half-written. */
  INTERNAL: 500,
  /** No such outbox event (404). */
  EVENT_NOT_FOUND: 404,
  /** No such refund request (404; also one of another shopper's order). */
  REFUND_REQUEST_NOT_FOUND: 404,
  /** The order already has a refund request waiting for a decision (409). */
  REFUND_REQUEST_PENDING: 409,
  /** The refund request was decided the other way already: approved, or rejected (409). */
  REFUND_REQUEST_DECIDED: 409,
} as const

export type ErrorCode = keyof typeof ERROR_CODES

/** The body of every error answer. */
export interface ErrorBody {
  code: ErrorCode
  message: string
}
