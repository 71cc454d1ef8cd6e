/**
 * Which keys may go where, without a key prefix: keys the sandbox at FEN_SANDBOX_URL reports are
 * sandbox keys whatever they look like (a keys file of one's own drives the whole server), and go
 * only to that non-WeChat host; keys set by hand are real unless they are the sandbox's own, and
 * go only to WeChat's production hosts. Also: variables meant for other parts never stop the
 * server, and sandbox mode listens on loopback.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Order, PayResponse } from '@fen/shared'
import {
  generateSandboxKeys,
  merchantView,
  readKeysFile,
  type SandboxKeys,
  type SandboxMerchant,
} from '@fen/sandbox'
import { TEST_KEY_PREFIX } from '@fen/wechatpay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config'
import { startHarness, type Harness } from './harness'

const JWT_SECRET = 'config-keys-test-jwt-secret-0123456789-abcdef'
const ADMIN_TOKEN = 'config-keys-test-admin-token'
const SANDBOX_URL = 'http://127.0.0.1:3100'

/** 32 characters that do not start with the test helpers' prefix. */
const plainKey = () => 'K' + randomBytes(24).toString('hex').slice(0, 31)

let dir: string
/** A keys file of one's own: keys with no FENTEST prefix, as someone's CI might keep. */
let ownKeys: SandboxKeys
let merchant: SandboxMerchant
const fetchMerchant = async () => merchant

/** Every setting given by hand, without the sandbox, from `m`'s keys (production URLs by default). */
function handSet(m: SandboxMerchant, extra: Record<string, string> = {}): Record<string, string> {
  return {
    WECHAT_APPID: m.appid,
    WECHAT_APPSECRET: m.appSecret,
    WECHATPAY_MCHID: m.mchid,
    WECHATPAY_SERIAL_NO: m.merchantSerialNo,
    WECHATPAY_PRIVATE_KEY: m.merchantPrivateKey,
    WECHATPAY_APIV3_KEY: m.apiV3Key,
    JWT_SECRET,
    ADMIN_TOKEN,
    PUBLIC_BASE_URL: 'https://shop.example.com',
    ...extra,
  }
}

async function refusal(env: Record<string, string>): Promise<string> {
  const error = await loadConfig(env, fetchMerchant).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ConfigError)
  return (error as ConfigError).message
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fen-config-keys-'))
  const file = join(dir, 'keys.json')
  writeFileSync(
    file,
    JSON.stringify({
      ...(await generateSandboxKeys()),
      apiV3Key: plainKey(),
      apiV2Key: plainKey(),
    }),
  )
  ownKeys = readKeysFile(file)
  merchant = merchantView(ownKeys)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('a sandbox with a keys file of its own', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ sandbox: { keys: ownKeys } })
  })
  afterAll(() => h?.close())

  it('drives the server through FEN_SANDBOX_URL: login → order → pay → PAID', async () => {
    expect(ownKeys.apiV3Key.startsWith(TEST_KEY_PREFIX)).toBe(false)
    expect(h.config.wechatpay.apiV3Key).toBe(ownKeys.apiV3Key)
    expect(h.config.wechatpay.baseUrl).toBe(h.sandbox.url)
    const token = await h.login()
    const created = await h.api<Order>('POST', '/api/orders', {
      token,
      body: { items: [{ productId: 1, quantity: 1 }] },
    })
    expect(created.status).toBe(201)
    const pay = await h.api<PayResponse>('POST', `/api/orders/${created.body.orderNo}/pay`, {
      token,
      body: { channel: 'jsapi' },
    })
    expect(pay.status).toBe(200)
    if (pay.body.channel !== 'jsapi') throw new Error('expected jsapi')
    const cashier = await h.control<{ errMsg: string }>(
      'POST',
      '/__sandbox/request-payment',
      pay.body.params,
    )
    expect(cashier.body.errMsg).toBe('requestPayment:ok')
    const paid = await h.until(async () => {
      const o = await h.api<Order>('GET', `/api/orders/${created.body.orderNo}`, { token })
      return o.body.status === 'PAID' && o.body
    })
    expect(paid.status).toBe('PAID')
  })
})

describe('sandbox keys never reach WeChat', () => {
  it("the sandbox's keys with WeChat's production pay host are refused", async () => {
    const message = await refusal({
      FEN_SANDBOX_URL: SANDBOX_URL,
      WECHATPAY_BASE_URL: 'https://api.mch.weixin.qq.com',
    })
    expect(message).toMatch(/^WECHATPAY_BASE_URL: test \(sandbox\) keys must not be used/m)
  })

  it('a "sandbox" at a WeChat production host is refused', async () => {
    const message = await refusal({ FEN_SANDBOX_URL: 'https://api.mch.weixin.qq.com' })
    expect(message).toMatch(/^WECHATPAY_BASE_URL: test \(sandbox\) keys must not be used/m)
    expect(message).toMatch(/^WECHAT_API_BASE_URL: test \(sandbox\) keys must not be used/m)
  })

  it('keys from a sandbox keys file, set by hand without the sandbox, still never go to WeChat when they carry the test prefix', async () => {
    const generated = merchantView(await generateSandboxKeys())
    const message = await refusal(handSet(generated))
    expect(message).toMatch(/^WECHATPAY_BASE_URL: test \(sandbox\) keys/m)
  })
})

describe('real keys never reach anything but WeChat', () => {
  it('keys set by hand (no test prefix) pointed at a sandbox URL without FEN_SANDBOX_URL are refused', async () => {
    const message = await refusal(
      handSet(merchant, { WECHATPAY_BASE_URL: SANDBOX_URL, WECHAT_API_BASE_URL: SANDBOX_URL }),
    )
    expect(message).toMatch(/^WECHATPAY_BASE_URL: real merchant keys must only be used/m)
    expect(message).toMatch(/^WECHAT_API_BASE_URL: real merchant keys must only be used/m)
  })

  it("a private key other than the sandbox's, beside FEN_SANDBOX_URL, is refused; the sandbox's own is accepted", async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const real = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const message = await refusal({
      FEN_SANDBOX_URL: SANDBOX_URL,
      WECHATPAY_PRIVATE_KEY: real,
      JWT_SECRET,
      ADMIN_TOKEN,
    })
    expect(message.split('\n')).toEqual([
      "WECHATPAY_PRIVATE_KEY: with FEN_SANDBOX_URL, must be the sandbox's own (it reports another); real merchant keys never go to the sandbox",
    ])
    // The same key as the sandbox's, written differently (PKCS#1 in a file): accepted.
    const pkcs1 = join(dir, 'merchant.pem')
    writeFileSync(
      pkcs1,
      createPrivateKey(merchant.merchantPrivateKey).export({ type: 'pkcs1', format: 'pem' }),
    )
    const config = await loadConfig(
      { FEN_SANDBOX_URL: SANDBOX_URL, WECHATPAY_PRIVATE_KEY: pkcs1, JWT_SECRET, ADMIN_TOKEN },
      fetchMerchant,
    )
    expect(config.wechatpay.baseUrl).toBe(SANDBOX_URL)
  })
})

describe('settings of other parts, and where the server listens', () => {
  it("FEN_H5_PORT (the H5 dev server's) and other variables neither stop nor warn", async () => {
    const config = await loadConfig(
      {
        FEN_SANDBOX_URL: SANDBOX_URL,
        JWT_SECRET,
        ADMIN_TOKEN,
        FEN_H5_PORT: '10087',
        FEN_SERVER_URL: 'http://127.0.0.1:3000',
        SANDBOX_URL,
      },
      fetchMerchant,
    )
    expect(config.warnings).toEqual([])
  })

  it('sandbox mode listens on 127.0.0.1 unless HOST says otherwise; production on every interface', async () => {
    const env = { FEN_SANDBOX_URL: SANDBOX_URL, JWT_SECRET, ADMIN_TOKEN }
    expect((await loadConfig(env, fetchMerchant)).host).toBe('127.0.0.1')
    expect((await loadConfig({ ...env, HOST: '0.0.0.0' }, fetchMerchant)).host).toBe('0.0.0.0')
    const real = await loadConfig(handSet(merchant))
    expect(real.host).toBe(undefined)
  })
})
