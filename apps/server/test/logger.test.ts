import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../src/logger'

/** A logger writing to an array of parsed lines. */
function capture(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, logger: createLogger('info', stream) }
}

describe('the server logger', () => {
  it('censors secret keys at the top level and nested, and leaves the logged object as it was', () => {
    const { lines, logger } = capture()
    const logged = {
      token: 'jwt-top',
      request: { headers: { authorization: 'WECHATPAY2-SHA256-RSA2048 mchid="1"' }, path: '/x' },
      users: [{ openid: 'o1', sessionKey: 'sk-1' }],
      config: { apiV3Key: 'k'.repeat(32), port: 3000 },
    }
    const before = structuredClone(logged)
    logger.info(logged, 'something')
    expect(lines).toHaveLength(1)
    const line = lines[0]!
    expect(line.token).toBe('[redacted]')
    expect(line.request).toEqual({ headers: { authorization: '[redacted]' }, path: '/x' })
    expect(line.users).toEqual([{ openid: 'o1', sessionKey: '[redacted]' }])
    expect(line.config).toEqual({ apiV3Key: '[redacted]', port: 3000 })
    expect(JSON.stringify(line)).not.toMatch(/jwt-top|sk-1|kkkk|mchid/)
    expect(logged).toEqual(before)
  })

  it('passes a line without secrets through unchanged, with its message and level', () => {
    const { lines, logger } = capture()
    logger.info({ method: 'POST', path: '/api/pay/notify', status: 204, ms: 3 }, 'request')
    expect(lines[0]).toMatchObject({
      level: 30,
      service: 'fen-server',
      method: 'POST',
      path: '/api/pay/notify',
      status: 204,
      ms: 3,
      msg: 'request',
    })
  })
})
