// Every action asks first, then shows what the server said: its own message when it refused.
import { ElMessage, ElMessageBox } from 'element-plus'
import { ApiError } from './api'

/** Asks `question`; on 确定 runs `action`. True when it ran and succeeded. */
export async function confirmThen(
  question: string,
  action: () => Promise<unknown>,
  done = '操作成功',
): Promise<boolean> {
  try {
    await ElMessageBox.confirm(question, '请确认', {
      confirmButtonText: '确定',
      cancelButtonText: '取消',
      type: 'warning',
    })
  } catch {
    return false // cancelled
  }
  return run(action, done)
}

/** Runs `action` and reports success or the server's refusal. */
export async function run(action: () => Promise<unknown>, done = '操作成功'): Promise<boolean> {
  try {
    await action()
    ElMessage.success(done)
    return true
  } catch (e) {
    const message = e instanceof ApiError ? `操作被拒绝：${e.message}（${e.code}）` : String(e)
    ElMessage({ type: 'error', message, duration: 8000, showClose: true })
    return false
  }
}
