import { expect } from 'vitest'
import type { Harness } from '../harness'

/** Points the sandbox's 消息推送 at the harness's endpoint, with its Token and key (安全模式). */
export async function pushTo(harness: Harness): Promise<void> {
  const push = harness.config.wechat.push!
  const res = await harness.control('POST', '/__sandbox/settings', {
    push: {
      url: `${harness.url}/api/wechat/push`,
      token: push.token,
      encodingAESKey: push.aesKey,
      format: 'json',
    },
  })
  expect(res.status).toBe(200)
}
