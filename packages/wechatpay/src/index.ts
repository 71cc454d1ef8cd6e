/**
 * @fen/wechatpay — a typed WeChat Pay SDK for Node.js.
 *
 * - `WechatPay`: APIv3 client with resources (transactions, refunds, bills, certificates),
 *   notification parsing and `wx.requestPayment` parameters.
 * - `WechatPayV2`: the APIv2 (XML) client.
 * - `MiniProgramClient`: mini-program server APIs: code2Session login, the access_token
 *   (stable_token, shared), shipping management (`shipping`); message push (`parsePush`, …).
 * - Pure building blocks (signing strings, signers, verifiers, AEAD) for servers and the sandbox.
 * Test helpers live in `@fen/wechatpay/testing`.
 */
export { WechatPay } from './wechatpay'
export {
  WechatPayClient,
  DEFAULT_BASE_URL,
  BACKUP_BASE_URLS,
  type WechatPayClientOptions,
  type PlatformKeyOptions,
} from './core/client'
export type { ApiRequest, ApiResponse, RawResponse } from './core/api'
export {
  WechatPayError,
  ConfigError,
  InvalidArgumentError,
  ApiError,
  SignatureError,
  DecryptionError,
  NetworkError,
  TimeoutError,
  isApiError,
  isOrderPaidError,
  createApiError,
  type ApiErrorBody,
  type SignatureFailure,
} from './core/errors'
export {
  systemClock,
  randomNonce,
  randomAlphanumeric,
  unixSeconds,
  formatBeijingTime,
  type Clock,
  type NonceSource,
} from './core/clock'
export {
  fetchTransport,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from './core/transport'
export { TEST_KEY_PREFIX, isTestKey, PRODUCTION_HOSTS, isProductionUrl } from './core/test-keys'

export { buildRequestMessage, buildResponseMessage, buildPaySignMessage } from './auth/messages'
export {
  SIGNATURE_SCHEME,
  createRsaSigner,
  signRequest,
  signRequestAsync,
  formatAuthorization,
  parseAuthorization,
  type Signer,
  type RequestToSign,
  type AuthorizationParams,
} from './auth/signer'
export {
  loadPrivateKey,
  loadPublicKey,
  parseCertificate,
  normalizeSerial,
  type ParsedCertificate,
} from './auth/keys'
export {
  PublicKeyVerifier,
  CertificateVerifier,
  PlatformCertificateManager,
  CombinedVerifier,
  PUBLIC_KEY_ID_PREFIX,
  type Verifier,
  type PlatformCertificateManagerOptions,
} from './auth/verifiers'
export {
  verifySigned,
  verifySignature,
  readSignatureHeaders,
  readHeader,
  SIGNTEST_PREFIX,
  DEFAULT_TIMESTAMP_TOLERANCE_SECONDS,
  type SignatureHeaders,
  type HeaderSource,
  type TimestampPolicy,
} from './auth/verify'
export { signAsPlatform, platformSignatureHeaders } from './auth/platform-signing'
export {
  AEAD_AES_256_GCM,
  loadApiV3Key,
  decryptResource,
  encryptResource,
  type EncryptedResource,
} from './crypto/aead'

export {
  parseNotification,
  successReply,
  failureReply,
  type ParseNotificationInput,
} from './notify/parse'
export type {
  NotificationEnvelope,
  NotificationEvent,
  NotificationReply,
  RefundEventType,
  RefundNotificationResource,
} from './notify/types'

export {
  Transactions,
  type CallOptions,
  type PrepayRequest,
  type JsapiPrepayRequest,
  type H5PrepayRequest,
  type JsapiPrepayResponse,
  type NativePrepayResponse,
  type H5PrepayResponse,
  type AppPrepayResponse,
  type Transaction,
  type TradeState,
  type TradeType,
  type GoodsDetail,
  type SceneInfo,
  type H5SceneInfo,
  type PromotionDetail,
} from './resources/transactions'
export {
  Refunds,
  type CreateRefundRequest,
  type Refund,
  type RefundStatus,
  type RefundChannel,
  type FundsAccount,
} from './resources/refunds'
export {
  Bills,
  type BillDownload,
  type FundFlowAccountType,
  type FundFlowBill,
  type FundFlowBillRequest,
  type TradeBill,
  type TradeBillRequest,
  type TradeBillType,
} from './resources/bills'
export {
  BillDigestError,
  billFields,
  parseBill,
  parseFundFlowBill,
  parseTradeBill,
  yuanToFen,
  type FundFlowBillRow,
  type ParsedBill,
  type TradeBillRow,
  type UnparsedBillLine,
  type UnparsedReason,
} from './resources/bill-csv'
export { Certificates } from './resources/certificates'
export {
  downloadPlatformCertificates,
  type CertificateDownloadClient,
  type PlatformCertificateEntry,
  type PlatformCertificateList,
} from './auth/platform-certificates'
export {
  buildRequestPaymentParams,
  signRequestPaymentParams,
  buildAppPaymentParams,
  signAppPaymentParams,
  type RequestPaymentInput,
  type AppPaymentInput,
  type RequestPaymentParams,
  type AppPaymentParams,
} from './payments/request-payment'

export {
  WechatPayV2,
  v2NotificationReply,
  formatV2Time,
  parseV2Time,
  decryptV2RefundInfo,
  type WechatPayV2Options,
  type UnifiedOrderRequest,
  type UnifiedOrderResponse,
  type V2OrderQueryResponse,
  type V2RequestPaymentParams,
  type V2PayNotification,
} from './v2/client'
export { signV2, verifyV2, buildV2SignString, type V2SignType, type V2Params } from './v2/sign'
export { toXml, parseXml } from './v2/xml'

export {
  Code2SessionError,
  decryptOpenData,
  type MiniProgramSession,
  type Code2SessionFailure,
} from './miniprogram/code2session'
export {
  MiniProgramClient,
  DEFAULT_WECHAT_API_BASE_URL,
  type MiniProgramClientOptions,
} from './miniprogram/client'
export type {
  MiniProgramCallOptions,
  MiniProgramCaller,
  TransientRetryOptions,
  Sleep,
} from './miniprogram/call'
export {
  MiniProgramError,
  MiniProgramErrcode,
  TOKEN_REJECTED_ERRCODES,
  createMiniProgramError,
  isMiniProgramError,
} from './miniprogram/errors'
export {
  AccessTokenManager,
  MemoryAccessTokenStore,
  type AccessToken,
  type AccessTokenStore,
  type AccessTokenManagerOptions,
} from './miniprogram/access-token'
export {
  Shipping,
  LogisticsType,
  DeliveryMode,
  ShippingOrderState,
  maskContact,
  type ShippingOrderKey,
  type ShippingOrderLookup,
  type ShippingContact,
  type ShippingItem,
  type UploadShippingInfoRequest,
  type ShippedItem,
  type OrderShipping,
  type ShippingOrder,
  type GetOrderListRequest,
  type ShippingOrderPage,
  type NotifyConfirmReceiveRequest,
  type DeliveryCompany,
  type DeliveryList,
} from './miniprogram/shipping'
export {
  pushSignature,
  loadEncodingAESKey,
  encryptPushMessage,
  decryptPushMessage,
  type PushCryptoOptions,
} from './miniprogram/push-crypto'
export {
  verifyPushUrl,
  parsePush,
  buildPush,
  typePush,
  PUSH_SUCCESS_REPLY,
  type PushQuery,
  type PushCommon,
  type PushMessage,
  type ParsePushInput,
  type PushTimePolicy,
  type BuildPushInput,
  type TradeManageOrderFields,
  type TradeManageOrderSettlementEvent,
  type TradeManageRemindShippingEvent,
  type TradeManageRemindAccessApiEvent,
  type OtherPush,
} from './miniprogram/push'
