import type { KeyObject } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { generateTestMerchant, type TestMerchant } from '@fen/wechatpay/testing'

/** Which WeChat Pay key signs: the public key, platform certificates, or both (migration). */
export type PlatformMode = 'publicKey' | 'certificate' | 'both'

/**
 * Everything the sandbox holds: the test merchant's keys and WeChat's own. The file behind
 * `SANDBOX_KEYS` and `.sandbox/keys.json` has exactly this shape. TEST KEYS ONLY.
 */
export interface SandboxKeys extends TestMerchant {
  platformMode: PlatformMode
}

/** A key WeChat's side signs with: a platform certificate's or the public key's (its id). */
export interface PlatformSigner {
  serial: string
  privateKey: KeyObject
}

/**
 * What `GET /__sandbox/merchant` returns: the merchant's view, as a real merchant would hold it —
 * no WeChat private keys.
 */
export type SandboxMerchant = Omit<SandboxKeys, 'platformPrivateKey' | 'platformCertificates'> & {
  platformCertificates: { serialNo: string; certificate: string }[]
  /** The sandbox's backup host, when it runs one (WeChat's api2.mch.weixin.qq.com). */
  backupBaseUrl?: string
  /**
   * The 消息推送 Token the sandbox signs its pushes with, while push is configured: what the
   * developer typed into the mini-program console, so the server can verify them.
   */
  pushToken?: string
  /** The 消息推送 EncodingAESKey, while push is configured in 安全模式. */
  pushEncodingAESKey?: string
}

/** The merchant's view of the keys: WeChat's private halves left out. */
export function merchantView(keys: SandboxKeys): SandboxMerchant {
  const { platformPrivateKey: _private, platformCertificates, ...merchant } = keys
  return {
    ...merchant,
    platformCertificates: platformCertificates.map(({ serialNo, certificate }) => ({
      serialNo,
      certificate,
    })),
  }
}

/** New keys: two platform certificates so a rotation drill needs no setup. */
export async function generateSandboxKeys(
  platformMode: PlatformMode = 'publicKey',
): Promise<SandboxKeys> {
  const merchant = await generateTestMerchant({ platformCertificateCount: 2 })
  return { ...merchant, platformMode }
}

/**
 * The keys in `file`, or new ones written there (the first start). A file that exists but is not a
 * complete keys file is an error, never silently replaced.
 */
export async function loadOrCreateKeys(
  file: string,
): Promise<{ keys: SandboxKeys; created: boolean }> {
  if (existsSync(file)) return { keys: readKeysFile(file), created: false }
  const keys = await generateSandboxKeys()
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 })
  return { keys, created: true }
}

const REQUIRED: (keyof SandboxKeys)[] = [
  'mchid',
  'appid',
  'appSecret',
  'apiV3Key',
  'apiV2Key',
  'merchantSerialNo',
  'merchantPrivateKey',
  'merchantCertificate',
  'platformPublicKeyId',
  'platformPublicKey',
  'platformPrivateKey',
  'platformCertificates',
]

/** Reads and checks a keys file; the message names the first missing field. */
export function readKeysFile(file: string): SandboxKeys {
  let parsed: Partial<SandboxKeys>
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new Error(`sandbox keys file ${file} is not JSON`, { cause })
  }
  for (const key of REQUIRED) {
    if (parsed[key] === undefined) throw new Error(`sandbox keys file ${file} has no ${key}`)
  }
  const certs = parsed.platformCertificates ?? []
  if (!Array.isArray(certs) || certs.some((c) => !c.serialNo || !c.certificate || !c.privateKey)) {
    throw new Error(
      `sandbox keys file ${file}: each platformCertificates entry needs serialNo, certificate, privateKey`,
    )
  }
  return { platformMode: 'publicKey', ...parsed } as SandboxKeys
}
