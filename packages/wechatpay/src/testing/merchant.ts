import { generateKeyPair, randomInt, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { randomAlphanumeric } from '../core/clock'
import { TEST_KEY_PREFIX } from '../core/test-keys'
import { createCertificate } from './certificate'

const generateRsa = promisify(generateKeyPair)

/**
 * Everything a merchant holds, for tests: ids, keys, certificates. The same field names as the
 * sandbox's `GET /__sandbox/merchant` and its keys file. All PEM strings. TEST KEYS ONLY.
 */
export interface TestMerchant {
  mchid: string
  appid: string
  appSecret: string
  apiV3Key: string
  apiV2Key: string
  merchantSerialNo: string
  merchantPrivateKey: string
  merchantCertificate: string
  platformPublicKeyId: string
  platformPublicKey: string
  /** WeChat's half: what signs as the public key (the sandbox keeps it; merchants never see it). */
  platformPrivateKey: string
  platformCertificates: { serialNo: string; certificate: string; privateKey: string }[]
}

export interface GenerateTestMerchantOptions {
  mchid?: string
  appid?: string
  /** Two make a certificate-rotation drill. Default 1. */
  platformCertificateCount?: number
  /** Validity start of the certificates (ms since epoch). Default: one day before now. */
  notBefore?: number
}

/**
 * Generates a complete test merchant: an RSA-2048 merchant key and certificate, a WeChat Pay public
 * key pair with a `PUB_KEY_ID_…` id, and platform certificates with their keys. The key pairs are
 * generated in parallel on the thread pool (about 0.1–0.5 s in all).
 */
export async function generateTestMerchant(
  options: GenerateTestMerchantOptions = {},
): Promise<TestMerchant> {
  const count = options.platformCertificateCount ?? 1
  const pairs = await Promise.all(
    Array.from({ length: 2 + count }, () => generateRsa('rsa', { modulusLength: 2048 })),
  )
  const [merchant, publicKeyPair, ...platform] = pairs as {
    publicKey: KeyObject
    privateKey: KeyObject
  }[]
  const mchid = options.mchid ?? `19${digits(8)}`
  const notBefore = new Date(options.notBefore ?? Date.now() - 24 * 3600_000)
  const notAfter = new Date(notBefore.getTime() + 5 * 365 * 24 * 3600_000)
  const merchantSerialNo = randomSerial()
  return {
    mchid,
    appid: options.appid ?? `wx${hex(16).toLowerCase()}`,
    appSecret: hex(32).toLowerCase(),
    // Marked, so a server can tell test keys from real ones (see TEST_KEY_PREFIX).
    apiV3Key: TEST_KEY_PREFIX + randomAlphanumeric(32 - TEST_KEY_PREFIX.length),
    apiV2Key: TEST_KEY_PREFIX + randomAlphanumeric(32 - TEST_KEY_PREFIX.length),
    merchantSerialNo,
    merchantPrivateKey: pem(merchant!.privateKey),
    merchantCertificate: createCertificate({
      publicKey: merchant!.publicKey,
      signingKey: merchant!.privateKey,
      serialNo: merchantSerialNo,
      subject: { C: 'CN', O: '微信商户系统', OU: 'Fen test merchant', CN: mchid },
      notBefore,
      notAfter,
    }),
    platformPublicKeyId: `PUB_KEY_ID_${'0'.repeat(14)}${mchid.padStart(10, '0')}${digits(10)}`,
    platformPublicKey: publicKeyPair!.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    platformPrivateKey: pem(publicKeyPair!.privateKey),
    platformCertificates: platform.map((pair) => {
      const serialNo = randomSerial()
      return {
        serialNo,
        certificate: createCertificate({
          publicKey: pair.publicKey,
          signingKey: pair.privateKey,
          serialNo,
          subject: { C: 'CN', O: 'Tenpay.com', OU: 'Fen sandbox platform', CN: 'Tenpay.com sign' },
          notBefore,
          notAfter,
        }),
        privateKey: pem(pair.privateKey),
      }
    }),
  }
}

function pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString()
}

/** 40 upper-case hex characters, first digit 1–7 so the DER INTEGER needs no sign byte. */
function randomSerial(): string {
  return randomInt(1, 8).toString(16).toUpperCase() + hex(39)
}

function hex(n: number): string {
  let s = ''
  while (s.length < n) s += randomInt(0, 16).toString(16)
  return s.toUpperCase()
}

function digits(n: number): string {
  let s = ''
  while (s.length < n) s += String(randomInt(0, 10))
  return s
}
