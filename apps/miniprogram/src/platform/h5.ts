import QRCode from 'qrcode'
import type { Platform } from './types'

/**
 * A browser: no WeChat client, so payment is by Native QR (`code_url`, scanned with WeChat) and
 * polling. Logging in needs WeChat: outside the sandbox the H5 shop asks to be opened in WeChat.
 */
export const h5Platform: Platform = {
  channels: ['native'],
  async login() {
    throw new Error('请在微信中打开以登录')
  },
  async requestPayment() {
    return { status: 'failed', reason: '浏览器中请使用扫码支付' }
  },
  qrImage: (codeUrl) => QRCode.toDataURL(codeUrl, { margin: 1, width: 480 }),
}
