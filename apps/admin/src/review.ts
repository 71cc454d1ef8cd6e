// After-sales review (售后审核): an operator's two decisions on a shopper's refund request, each
// asked first. The review page and an order's page both decide through these.
import type { RefundRequestView } from '@fen/shared'
import { ElMessageBox } from 'element-plus'
import { approveRefundRequest, rejectRefundRequest } from './api'
import { confirmThen } from './confirm'
import { yuan } from './format'

/** Approves `r` once confirmed (its refund starts). True when the server approved it. */
export function approveRequest(r: RefundRequestView): Promise<boolean> {
  return confirmThen(
    `同意订单 ${r.orderNo} 的售后申请并退款 ${yuan(r.amountFen)}？`,
    () => approveRefundRequest(r.id),
    '已同意，退款已发起',
  )
}

/** Asks why (the shopper sees it), then rejects `r` once confirmed. True when the server rejected it. */
export async function rejectRequest(r: RefundRequestView): Promise<boolean> {
  let reason: string
  try {
    reason = (
      await ElMessageBox.prompt('请填写拒绝原因（顾客可见）', '拒绝售后申请', {
        confirmButtonText: '下一步',
        cancelButtonText: '取消',
        inputValidator: (v) => (v && v.trim() ? true : '请填写原因'),
      })
    ).value.trim()
  } catch {
    return false // cancelled
  }
  return confirmThen(`拒绝订单 ${r.orderNo} 的售后申请（原因：${reason}）？`, () =>
    rejectRefundRequest(r.id, reason),
  )
}
