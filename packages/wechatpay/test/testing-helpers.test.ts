import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as rsaSign,
  verify as rsaVerify,
  X509Certificate,
  type KeyObject,
} from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  PublicKeyVerifier,
  SIGNATURE_SCHEME,
  SignatureError,
  CertificateVerifier,
  parseCertificate,
  verifySigned,
  type SignatureHeaders,
} from '../src'
import {
  createCertificate,
  generateTestMerchant,
  signResponse,
  type TestMerchant,
} from '../src/testing'
import { testMerchant } from './support/merchant'

const DAY = 24 * 3600_000
const SERIAL = /^[0-9A-F]{40}$/

let merchant: TestMerchant

beforeAll(async () => {
  merchant = await testMerchant()
})

/** True when `privateKey` signs what `publicKey` verifies. */
function pairs(privateKey: KeyObject | string, publicKey: KeyObject | string): boolean {
  const data = Buffer.from('配对检查 pairing check')
  return rsaVerify('sha256', data, publicKey, rsaSign('sha256', data, privateKey))
}

/** Every certificate of the merchant with the serial and private key it should carry. */
function allCertificates(m: TestMerchant) {
  return [
    {
      serialNo: m.merchantSerialNo,
      certificate: m.merchantCertificate,
      privateKey: m.merchantPrivateKey,
    },
    ...m.platformCertificates,
  ]
}

describe('generateTestMerchant', () => {
  it('makes 32-character APIv3 and APIv2 keys', () => {
    expect(merchant.apiV3Key).toMatch(/^[A-Za-z0-9]{32}$/)
    expect(merchant.apiV2Key).toMatch(/^[A-Za-z0-9]{32}$/)
    expect(Buffer.byteLength(merchant.apiV3Key)).toBe(32)
    expect(merchant.apiV3Key).not.toBe(merchant.apiV2Key)
  })

  it('makes plausible ids', () => {
    expect(merchant.platformPublicKeyId).toMatch(/^PUB_KEY_ID_\d+$/)
    expect(merchant.mchid).toMatch(/^\d{10}$/)
    expect(merchant.appid).toMatch(/^wx[0-9a-f]{16}$/)
    expect(merchant.appSecret).toMatch(/^[0-9a-f]{32}$/)
  })

  it('makes 40-hex upper-case serials, all distinct', () => {
    const serials = allCertificates(merchant).map((c) => c.serialNo)
    expect(serials).toHaveLength(3) // merchant + the two platform certificates asked for
    for (const serial of serials) expect(serial).toMatch(SERIAL)
    expect(new Set(serials).size).toBe(serials.length)
  })

  it('makes certificates Node parses, with the matching serialNumber', () => {
    for (const { serialNo, certificate } of allCertificates(merchant)) {
      const cert = new X509Certificate(certificate)
      expect(cert.serialNumber.toUpperCase()).toBe(serialNo)
      expect(parseCertificate(certificate).serialNo).toBe(serialNo)
    }
    const platform = new X509Certificate(merchant.platformCertificates[0]!.certificate)
    expect(platform.subject).toContain('CN=Tenpay.com sign')
    const own = new X509Certificate(merchant.merchantCertificate)
    expect(own.subject).toContain(`CN=${merchant.mchid}`)
    expect(own.subject).toContain('O=微信商户系统')
  })

  it('makes certificates valid for about 5 years, starting about a day ago', () => {
    for (const { certificate } of allCertificates(merchant)) {
      const cert = new X509Certificate(certificate)
      const from = Date.parse(cert.validFrom)
      const to = Date.parse(cert.validTo)
      expect(Math.abs(to - from - 5 * 365 * DAY)).toBeLessThanOrEqual(DAY)
      expect(Math.abs(Date.now() - DAY - from)).toBeLessThan(3600_000)
    }
  })

  it('makes certificates whose public key matches the private key', () => {
    for (const { certificate, privateKey } of allCertificates(merchant)) {
      const cert = new X509Certificate(certificate)
      expect(pairs(privateKey, cert.publicKey)).toBe(true)
      expect(cert.checkPrivateKey(createPrivateKey(privateKey))).toBe(true)
    }
    // And not anyone else's.
    expect(
      pairs(
        merchant.platformCertificates[0]!.privateKey,
        new X509Certificate(merchant.platformCertificates[1]!.certificate).publicKey,
      ),
    ).toBe(false)
  })

  it('makes self-signed certificates that verify their own signature', () => {
    for (const { certificate } of allCertificates(merchant)) {
      const cert = new X509Certificate(certificate)
      expect(cert.verify(cert.publicKey)).toBe(true)
      expect(cert.issuer).toBe(cert.subject)
    }
  })

  it('pairs the WeChat Pay public key with its private half', () => {
    expect(merchant.platformPublicKey).toContain('-----BEGIN PUBLIC KEY-----')
    expect(pairs(merchant.platformPrivateKey, merchant.platformPublicKey)).toBe(true)
    expect(createPublicKey(merchant.platformPublicKey).asymmetricKeyDetails?.modulusLength).toBe(
      2048,
    )
  })

  it('honours mchid, appid, the certificate count and notBefore', async () => {
    const notBefore = Date.parse('2024-03-01T00:00:00Z')
    const custom = await generateTestMerchant({
      mchid: '1900009191',
      appid: 'wxd678efh567hg6787',
      platformCertificateCount: 1,
      notBefore,
    })
    expect(custom.mchid).toBe('1900009191')
    expect(custom.appid).toBe('wxd678efh567hg6787')
    expect(custom.platformCertificates).toHaveLength(1)
    expect(custom.platformPublicKeyId).toContain('1900009191')
    const cert = new X509Certificate(custom.platformCertificates[0]!.certificate)
    expect(Date.parse(cert.validFrom)).toBe(notBefore)
    expect(Date.parse(cert.validTo)).toBe(notBefore + 5 * 365 * DAY)
  })
})

describe('createCertificate', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const base = {
    publicKey,
    signingKey: privateKey,
    subject: { C: 'CN', O: 'Tenpay.com', OU: 'Tenpay.com CA Center', CN: 'Tenpay.com sign' },
    notBefore: new Date('2024-01-01T00:00:00Z'),
    notAfter: new Date('2029-01-01T00:00:00Z'),
  }

  it('handles a serial whose first byte is ≥ 0x80 (positive INTEGER)', () => {
    for (const serialNo of [
      '80' + 'A'.repeat(38),
      'F0E1D2C3B4A5968778695A4B3C2D1E0F00112233',
      'FF',
    ]) {
      const pem = createCertificate({ ...base, serialNo })
      const cert = new X509Certificate(pem)
      expect(cert.serialNumber.toUpperCase()).toBe(serialNo)
      expect(parseCertificate(pem).serialNo).toBe(serialNo)
      expect(cert.verify(publicKey)).toBe(true)
    }
  })

  it('writes dates from 2050 on as GeneralizedTime', () => {
    const notBefore = new Date('2051-02-03T04:05:06Z')
    const notAfter = new Date('2061-07-08T09:10:11Z')
    const cert = new X509Certificate(
      createCertificate({ ...base, serialNo: '1A2B3C', notBefore, notAfter }),
    )
    expect(Date.parse(cert.validFrom)).toBe(notBefore.getTime())
    expect(Date.parse(cert.validTo)).toBe(notAfter.getTime())
    const der = cert.raw.toString('latin1')
    expect(der).toContain('\x18\x0f20510203040506Z')
    expect(der).toContain('\x18\x0f20610708091011Z')
    expect(cert.verify(publicKey)).toBe(true)
  })

  it('writes dates before 2050 as UTCTime, also across the boundary', () => {
    const notBefore = new Date('2049-12-31T23:59:59Z')
    const notAfter = new Date('2050-01-01T00:00:00Z')
    const cert = new X509Certificate(
      createCertificate({ ...base, serialNo: '2B', notBefore, notAfter }),
    )
    const der = cert.raw.toString('latin1')
    expect(der).toContain('\x17\x0d491231235959Z')
    expect(der).toContain('\x18\x0f20500101000000Z')
    expect(Date.parse(cert.validFrom)).toBe(notBefore.getTime())
    expect(Date.parse(cert.validTo)).toBe(notAfter.getTime())
  })

  it('writes a Chinese subject and a separate issuer, signed by the issuer key', () => {
    const issuerKeys = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const cert = new X509Certificate(
      createCertificate({
        ...base,
        serialNo: '3C',
        signingKey: issuerKeys.privateKey,
        subject: { C: 'CN', O: '财付通支付科技有限公司', CN: 'Tenpay.com sign' },
        issuer: { C: 'CN', O: 'Tenpay.com', CN: 'Tenpay.com Root CA' },
      }),
    )
    expect(cert.subject).toContain('O=财付通支付科技有限公司')
    expect(cert.issuer).toContain('CN=Tenpay.com Root CA')
    expect(cert.verify(issuerKeys.publicKey)).toBe(true)
    expect(cert.verify(publicKey)).toBe(false)
  })
})

describe('signResponse', () => {
  const NOW = 1_722_850_421
  const body = '{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}'

  function sigHeaders(h: Record<string, string>): SignatureHeaders {
    return {
      timestamp: h['Wechatpay-Timestamp']!,
      nonce: h['Wechatpay-Nonce']!,
      signature: h['Wechatpay-Signature']!,
      serial: h['Wechatpay-Serial']!,
    }
  }

  it('returns Wechatpay-* headers that verifySigned accepts (public key)', async () => {
    const headers = signResponse({
      body,
      privateKey: merchant.platformPrivateKey,
      serial: merchant.platformPublicKeyId,
      timestamp: NOW,
      nonce: 'd824f2e086d3c1df967785d13fcd22ef',
    })
    expect(headers).toMatchObject({
      'Wechatpay-Timestamp': String(NOW),
      'Wechatpay-Nonce': 'd824f2e086d3c1df967785d13fcd22ef',
      'Wechatpay-Serial': merchant.platformPublicKeyId,
      'Wechatpay-Signature-Type': SIGNATURE_SCHEME,
    })
    const verifier = new PublicKeyVerifier(merchant.platformPublicKeyId, merchant.platformPublicKey)
    await expect(
      verifySigned(sigHeaders(headers), body, verifier, { nowSeconds: NOW }),
    ).resolves.toBeUndefined()
    await expect(
      verifySigned(sigHeaders(headers), body + ' ', verifier, { nowSeconds: NOW }),
    ).rejects.toBeInstanceOf(SignatureError)
  })

  it('defaults to now and a 32-character nonce, verifying with a platform certificate', async () => {
    const platform = merchant.platformCertificates[0]!
    const headers = signResponse({
      body,
      privateKey: platform.privateKey,
      serial: platform.serialNo,
    })
    expect(headers['Wechatpay-Nonce']).toMatch(/^[A-Za-z0-9]{32}$/)
    const now = Math.floor(Date.now() / 1000)
    expect(Math.abs(Number(headers['Wechatpay-Timestamp']) - now)).toBeLessThanOrEqual(1)
    const verifier = new CertificateVerifier([platform.certificate], () => now * 1000)
    await expect(
      verifySigned(sigHeaders(headers), Buffer.from(body), verifier, { nowSeconds: now }),
    ).resolves.toBeUndefined()
  })
})

describe('test-key marking', () => {
  it('marks every generated APIv3 and APIv2 key, and tells production hosts apart', async () => {
    const { generateTestMerchant } = await import('../src/testing')
    const { TEST_KEY_PREFIX, isTestKey, isProductionUrl } = await import('../src')
    const m = await generateTestMerchant()
    expect(m.apiV3Key.startsWith(TEST_KEY_PREFIX) && m.apiV3Key.length).toBe(32)
    expect(isTestKey(m.apiV2Key)).toBe(true)
    expect(isTestKey('abcdefghijklmnopqrstuvwxyz012345')).toBe(false)
    expect(isProductionUrl('https://api.mch.weixin.qq.com')).toBe(true)
    expect(isProductionUrl('https://api.weixin.qq.com/sns/jscode2session')).toBe(true)
    expect(isProductionUrl('http://127.0.0.1:3100')).toBe(false)
    expect(isProductionUrl('not a url')).toBe(false)
  })
})
