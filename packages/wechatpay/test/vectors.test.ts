import { createPublicKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  CertificateVerifier,
  ConfigError,
  buildRequestMessage,
  createRsaSigner,
  decryptOpenData,
  formatAuthorization,
  loadApiV3Key,
  loadPrivateKey,
  parseCertificate,
  readSignatureHeaders,
  signRequest,
  signV2,
  buildV2SignString,
  verifySigned,
  verifySignature,
} from '../src'
import {
  GO_NOTIFICATION,
  GO_TEST_CERTIFICATE,
  GO_TEST_PRIVATE_KEY,
  OPEN_DATA_VECTOR,
  RSA_VECTORS,
  V2_PAYSIGN_VECTOR,
  V2_SIGN_VECTOR,
} from './fixtures/vectors'

describe('published vectors (wechatpay-api.md §12)', () => {
  describe('APIv2 signing (§12.1)', () => {
    it('builds the documented signing string', () => {
      expect(buildV2SignString(V2_SIGN_VECTOR.params, V2_SIGN_VECTOR.key)).toBe(
        V2_SIGN_VECTOR.signString,
      )
    })
    it('signs with MD5 → 9A0A8659…', () => {
      expect(signV2(V2_SIGN_VECTOR.params, V2_SIGN_VECTOR.key, 'MD5')).toBe(V2_SIGN_VECTOR.md5)
    })
    it('signs with HMAC-SHA256 → 6A9AE165…', () => {
      expect(signV2(V2_SIGN_VECTOR.params, V2_SIGN_VECTOR.key, 'HMAC-SHA256')).toBe(
        V2_SIGN_VECTOR.hmacSha256,
      )
    })
    it('signs the v2 mini-program paySign → 22D9B4E5…', () => {
      expect(signV2(V2_PAYSIGN_VECTOR.params, V2_PAYSIGN_VECTOR.key, 'MD5')).toBe(
        V2_PAYSIGN_VECTOR.md5,
      )
    })
  })

  describe('SHA256withRSA (§12.2)', () => {
    const signer = createRsaSigner(GO_TEST_PRIVATE_KEY)
    const publicKey = createPublicKey(loadPrivateKey(GO_TEST_PRIVATE_KEY))

    for (const v of RSA_VECTORS) {
      it(`reproduces ${v.name}`, () => {
        expect(signer.sign(v.message)).toBe(v.signature)
        expect(verifySignature(publicKey, Buffer.from(v.message), v.signature)).toBe(true)
      })
    }

    it('builds the documented GET /v3/certificates string and signs it into the header', () => {
      const message = buildRequestMessage(
        'GET',
        '/v3/certificates',
        1554208460,
        '593BEC0C930BF1AFEB40B4A08C8FB242',
        '',
      )
      expect(message).toBe(RSA_VECTORS[1].message)
      const header = signRequest({
        signer,
        mchid: '1900009191',
        serialNo: '1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C',
        method: 'GET',
        url: '/v3/certificates',
        body: '',
        timestamp: 1554208460,
        nonce: '593BEC0C930BF1AFEB40B4A08C8FB242',
      })
      expect(header).toBe(
        'WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",' +
          `timestamp="1554208460",serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",signature="${RSA_VECTORS[1].signature}"`,
      )
    })

    it('formats the Authorization header like the Go SDK test', () => {
      expect(
        formatAuthorization({
          mchid: '1234567890',
          nonce_str: 'A1B2C3D4E5F6G7',
          timestamp: '1624523846',
          serial_no: '0123456789ABC',
          signature: 'sig',
        }),
      ).toBe(
        'WECHATPAY2-SHA256-RSA2048 mchid="1234567890",nonce_str="A1B2C3D4E5F6G7",timestamp="1624523846",serial_no="0123456789ABC",signature="sig"',
      )
    })

    it('the test certificate carries the test key, serial D7CE59D1F522D701', () => {
      const cert = parseCertificate(GO_TEST_CERTIFICATE)
      expect(cert.serialNo).toBe('D7CE59D1F522D701')
      expect(cert.publicKey.export({ type: 'spki', format: 'pem' })).toBe(
        publicKey.export({ type: 'spki', format: 'pem' }),
      )
    })
  })

  describe('a real signed notification (wechatpay-go notify_test)', () => {
    const verifier = new CertificateVerifier(
      [GO_TEST_CERTIFICATE],
      () => GO_NOTIFICATION.now * 1000,
    )
    const headers = readSignatureHeaders(GO_NOTIFICATION.headers)

    it('verifies over the raw body bytes', async () => {
      await expect(
        verifySigned(headers, Buffer.from(GO_NOTIFICATION.body), verifier, {
          nowSeconds: GO_NOTIFICATION.now,
        }),
      ).resolves.toBeUndefined()
    })

    it('fails once the body is re-serialised (key order and escaping change)', async () => {
      const reserialised = JSON.stringify(JSON.parse(GO_NOTIFICATION.body), null, 1)
      await expect(
        verifySigned(headers, reserialised, verifier, { nowSeconds: GO_NOTIFICATION.now }),
      ).rejects.toMatchObject({ reason: 'mismatch' })
    })

    it('its 16-byte test APIv3 key is refused: the real key is 32 bytes (AES-256)', () => {
      expect(() => loadApiV3Key(GO_NOTIFICATION.apiV3Key16)).toThrow(ConfigError)
      expect(() => loadApiV3Key(GO_NOTIFICATION.apiV3Key16)).toThrow(/32 bytes; this one is 16/)
    })
  })

  describe('mini-program open data (§12.5)', () => {
    it('decrypts the official example with its session_key', () => {
      const data = decryptOpenData<{
        openId: string
        watermark: { appid: string; timestamp: number }
      }>(
        OPEN_DATA_VECTOR.sessionKey,
        OPEN_DATA_VECTOR.encryptedData,
        OPEN_DATA_VECTOR.iv,
        OPEN_DATA_VECTOR.appid,
      )
      expect(data.openId).toBe(OPEN_DATA_VECTOR.openId)
      expect(data.watermark).toEqual({
        appid: OPEN_DATA_VECTOR.appid,
        timestamp: OPEN_DATA_VECTOR.watermarkTimestamp,
      })
    })

    it('refuses data watermarked for another appid', () => {
      expect(() =>
        decryptOpenData(
          OPEN_DATA_VECTOR.sessionKey,
          OPEN_DATA_VECTOR.encryptedData,
          OPEN_DATA_VECTOR.iv,
          'wx0000000000000000',
        ),
      ).toThrow(/another appid/)
    })
  })
})
