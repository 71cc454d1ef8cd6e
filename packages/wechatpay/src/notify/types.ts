import type { EncryptedResource } from '../crypto/aead'
import type { Transaction } from '../resources/transactions'

/** The outer JSON body WeChat POSTs to `notify_url`. */
export interface NotificationEnvelope {
  id: string
  create_time: string
  event_type: string
  resource_type: string
  summary: string
  resource: EncryptedResource
}

/** The decrypted resource of a `REFUND.*` notification. Note `refund_status` (the query says `status`). */
export interface RefundNotificationResource {
  mchid: string
  transaction_id: string
  out_trade_no: string
  refund_id: string
  out_refund_no: string
  refund_status: 'SUCCESS' | 'CLOSED' | 'ABNORMAL'
  success_time?: string
  user_received_account: string
  amount: { total: number; refund: number; payer_total: number; payer_refund: number }
  channel?: string
  funds_account?: string
  create_time?: string
}

interface EventBase {
  /** WeChat's notification id: the same id on every retry, so store it to deduplicate. */
  id: string
  createTime: string
  summary: string
}

export type RefundEventType = 'REFUND.SUCCESS' | 'REFUND.ABNORMAL' | 'REFUND.CLOSED'

/** A verified, decrypted notification, narrowed by `type`. */
export type NotificationEvent =
  | (EventBase & {
      type: 'transaction'
      eventType: 'TRANSACTION.SUCCESS'
      transaction: Transaction
    })
  | (EventBase & { type: 'refund'; eventType: RefundEventType; refund: RefundNotificationResource })
  /** Any other event type (other products): the decrypted resource, unparsed. */
  | (EventBase & { type: 'other'; eventType: string; resource: unknown })

/** What to answer WeChat with. */
export interface NotificationReply {
  status: number
  headers: Record<string, string>
  body: string
}
