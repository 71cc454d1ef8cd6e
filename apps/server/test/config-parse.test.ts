/**
 * Sandbox mode in two steps: readSandbox makes the one network call (the sandbox's
 * `GET /__sandbox/merchant`), then parseConfig — a function of the environment and what the
 * sandbox reported — checks everything. loadConfig is the two in a row.
 */
import { merchantView, type SandboxMerchant } from '@fen/sandbox'
import { describe, expect, inject, it } from 'vitest'
import { ConfigError, loadConfig, parseConfig, readSandbox } from '../src/config'
import { realMerchantEnv } from './support/config'

const merchant = merchantView(inject('fenSandboxKeys'))
const SANDBOX_URL = 'http://127.0.0.1:3100'
const env = {
  FEN_SANDBOX_URL: SANDBOX_URL,
  JWT_SECRET: 'config-parse-jwt-secret-0123456789-abcdef',
  ADMIN_TOKEN: 'config-parse-admin-token-0123',
}

/** A fetchMerchant that records the URLs it is asked for. */
function recording(answer: () => Promise<SandboxMerchant> = async () => merchant) {
  const asked: string[] = []
  return {
    asked,
    fetch: async (url: string) => {
      asked.push(url)
      return answer()
    },
  }
}

/** The ConfigError parseConfig throws (failing the test if it returns or throws another). */
function refusal(run: () => unknown): string {
  try {
    run()
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return (e as ConfigError).message
  }
  throw new Error('parseConfig should have thrown a ConfigError')
}

describe('readSandbox', () => {
  it('asks FEN_SANDBOX_URL once and reports its merchant, or why it could not', async () => {
    const ok = recording()
    expect(await readSandbox(env, ok.fetch)).toEqual({ url: SANDBOX_URL, merchant })
    expect(ok.asked).toEqual([SANDBOX_URL])

    const down = recording(async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:3100')
    })
    expect(await readSandbox(env, down.fetch)).toEqual({
      url: SANDBOX_URL,
      error: 'connect ECONNREFUSED 127.0.0.1:3100',
    })
  })

  it('asks nothing without FEN_SANDBOX_URL, beside a malformed setting, or with credentials in it', async () => {
    const r = recording()
    expect(await readSandbox(realMerchantEnv(merchant), r.fetch)).toBeUndefined()
    expect(await readSandbox({ ...env, PORT: 'abc' }, r.fetch)).toBeUndefined()
    expect(
      await readSandbox({ ...env, FEN_SANDBOX_URL: 'http://fen:pw@127.0.0.1:3100' }, r.fetch),
    ).toBeUndefined()
    expect(r.asked).toEqual([])
  })
})

describe('parseConfig', () => {
  it('builds the configuration from the environment and the report alone, as loadConfig does', async () => {
    const config = parseConfig(env, { url: SANDBOX_URL, merchant })
    expect(config.wechatpay.mchid).toBe(merchant.mchid)
    expect(config.wechatpay.baseUrl).toBe(SANDBOX_URL)
    expect(config).toEqual(await loadConfig(env, async () => merchant))
    // Outside sandbox mode there is nothing to report.
    const real = realMerchantEnv(merchant)
    expect(parseConfig(real)).toEqual(await loadConfig(real))
  })

  it('names a sandbox that could not be read, after the problems found before it', () => {
    const down = { url: SANDBOX_URL, error: 'connect ECONNREFUSED 127.0.0.1:3100' }
    expect(refusal(() => parseConfig(env, down))).toBe(
      'FEN_SANDBOX_URL: could not read http://127.0.0.1:3100/__sandbox/merchant (is `pnpm sandbox` running?): connect ECONNREFUSED 127.0.0.1:3100',
    )
    expect(
      refusal(() => parseConfig({ ...env, NODE_ENV: 'production' }, down)).split('\n'),
    ).toEqual([
      'FEN_SANDBOX_URL: the sandbox is for development; unset it in production',
      'FEN_SANDBOX_URL: could not read http://127.0.0.1:3100/__sandbox/merchant (is `pnpm sandbox` running?): connect ECONNREFUSED 127.0.0.1:3100',
    ])
  })

  it("without a report for FEN_SANDBOX_URL it throws a caller's error, not a ConfigError", () => {
    for (const report of [undefined, { url: 'http://127.0.0.1:3999', merchant }]) {
      let error: unknown
      try {
        parseConfig(env, report)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(Error)
      expect(error).not.toBeInstanceOf(ConfigError)
      expect((error as Error).message).toMatch(/pass what readSandbox reported/)
    }
  })
})
