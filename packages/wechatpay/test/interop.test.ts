/**
 * Our implementation checked by an independent one: the community SDK `wechatpay-axios-plugin`
 * (its Rsa, Aes, Formatter and Hash helpers), in both directions where both sides exist.
 */
import { createHash, X509Certificate, type KeyObject } from 'node:crypto'
import { Aes, Formatter, Hash, Rsa } from 'wechatpay-axios-plugin'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  CertificateVerifier,
  PublicKeyVerifier,
  buildRequestPaymentParams,
  createRsaSigner,
  decryptOpenData,
  decryptResource,
  decryptV2RefundInfo,
  encryptResource,
  loadApiV3Key,
  parseAuthorization,
  signRequest,
  signV2,
  verifySigned,
  type Signer,
} from '../src'
import type { TestMerchant } from '../src/testing'
import { OPEN_DATA_VECTOR, V2_PAYSIGN_VECTOR, V2_SIGN_VECTOR } from './fixtures/vectors'
import { testMerchant } from './support/merchant'

let m: TestMerchant
let signer: Signer
/** The merchant's public key, as WeChat's gateway gets it: from the merchant certificate. */
let merchantPublicKey: KeyObject

beforeAll(async () => {
  m = await testMerchant()
  signer = createRsaSigner(m.merchantPrivateKey)
  merchantPublicKey = new X509Certificate(m.merchantCertificate).publicKey
})

const TS = 1_700_000_000
const NONCE = '593BEC0C930BF1AFEB40B4A08C8FB242'

function signatureOf(authorization: string): string {
  return parseAuthorization(authorization).signature
}

describe('APIv3 request signatures (Rsa.verify over Formatter.request)', () => {
  it('verifies our Authorization for a POST with a Chinese JSON body', () => {
    const url = '/v3/pay/transactions/jsapi'
    const body = JSON.stringify({
      appid: m.appid,
      mchid: m.mchid,
      description: 'Image形象店-深圳腾大-QQ公仔',
      out_trade_no: '1217752501201407033233368018',
      notify_url: 'https://www.weixin.qq.com/wxpay/pay.php',
      amount: { total: 100, currency: 'CNY' },
      payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    })
    const header = signRequest({
      signer,
      mchid: m.mchid,
      serialNo: m.merchantSerialNo,
      method: 'POST',
      url,
      body,
      timestamp: TS,
      nonce: NONCE,
    })
    const signature = signatureOf(header)
    expect(
      Rsa.verify(Formatter.request('POST', url, TS, NONCE, body), signature, merchantPublicKey),
    ).toBe(true)
    // The plugin's check is not a rubber stamp: one changed character of the body fails.
    expect(
      Rsa.verify(
        Formatter.request('POST', url, TS, NONCE, body.replace('深圳', '广州')),
        signature,
        merchantPublicKey,
      ),
    ).toBe(false)
    expect(
      Rsa.verify(Formatter.request('POST', url, TS + 1, NONCE, body), signature, merchantPublicKey),
    ).toBe(false)
  })

  it('verifies our Authorization for a GET with a query (empty body)', () => {
    const url = '/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=' + m.mchid
    const header = signRequest({
      signer,
      mchid: m.mchid,
      serialNo: m.merchantSerialNo,
      method: 'GET',
      url,
      body: '',
      timestamp: TS,
      nonce: NONCE,
    })
    const signature = signatureOf(header)
    expect(
      Rsa.verify(Formatter.request('GET', url, TS, NONCE, ''), signature, merchantPublicKey),
    ).toBe(true)
    expect(Rsa.verify(Formatter.request('GET', url, TS, NONCE), signature, merchantPublicKey)).toBe(
      true,
    )
    // The query is part of what is signed.
    const withoutQuery = url.split('?')[0]!
    expect(
      Rsa.verify(
        Formatter.request('GET', withoutQuery, TS, NONCE, ''),
        signature,
        merchantPublicKey,
      ),
    ).toBe(false)
  })

  it('our header carries the same parameters the plugin would send', () => {
    const header = signRequest({
      signer,
      mchid: m.mchid,
      serialNo: m.merchantSerialNo,
      method: 'GET',
      url: '/v3/certificates',
      body: '',
      timestamp: TS,
      nonce: NONCE,
    })
    const signature = signatureOf(header)
    const theirs = Formatter.authorization(m.mchid, NONCE, signature, TS, m.merchantSerialNo)
    expect(parseAuthorization(header)).toEqual(parseAuthorization(theirs))
  })
})

describe('Formatter.authorization → parseAuthorization', () => {
  it('parses the plugin header (its own parameter order)', () => {
    const signature = Rsa.sign(
      Formatter.request('GET', '/v3/certificates', TS, NONCE),
      m.merchantPrivateKey,
    )
    const header = Formatter.authorization(m.mchid, NONCE, signature, TS, m.merchantSerialNo)
    expect(header).toMatch(/^WECHATPAY2-SHA256-RSA2048 mchid="\d+",serial_no=/)
    expect(parseAuthorization(header)).toEqual({
      mchid: m.mchid,
      nonce_str: NONCE,
      timestamp: String(TS),
      serial_no: m.merchantSerialNo,
      signature,
    })
    // And the plugin's signature is the one our signer makes (PKCS#1 v1.5 is deterministic).
    expect(signature).toBe(signer.sign(`GET\n/v3/certificates\n${TS}\n${NONCE}\n\n`))
  })
})

describe('APIv3 paySign (wx.requestPayment)', () => {
  it('the plugin verifies our paySign over its own message construction', () => {
    const p = buildRequestPaymentParams({
      appId: m.appid,
      prepayId: 'wx201410272009395522657a690389285100',
      signer,
      timestamp: 1414561699,
      nonce: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
    })
    expect(p.signType).toBe('RSA')
    const message = Formatter.joinedByLineFeed(p.appId, p.timeStamp, p.nonceStr, p.package)
    expect(message).toBe(
      `${m.appid}\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n`,
    )
    expect(Rsa.verify(message, p.paySign, merchantPublicKey)).toBe(true)
    expect(
      Rsa.verify(
        Formatter.joinedByLineFeed(p.appId, p.timeStamp, p.nonceStr, 'prepay_id=other'),
        p.paySign,
        merchantPublicKey,
      ),
    ).toBe(false)
  })
})

describe('AEAD_AES_256_GCM', () => {
  const plaintext = JSON.stringify({
    mchid: '1900000109',
    out_trade_no: '1217752501201407033233368018',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    amount: { total: 100, payer_total: 100, currency: 'CNY' },
  })

  it('the plugin decrypts our encryptResource', () => {
    const r = encryptResource(loadApiV3Key(m.apiV3Key), plaintext, {
      associatedData: 'transaction',
      nonce: 'fdasflkja484',
      originalType: 'transaction',
    })
    expect(Aes.AesGcm.decrypt(r.ciphertext, m.apiV3Key, r.nonce, r.associated_data)).toBe(plaintext)
    // With the wrong associated data the plugin refuses it too.
    expect(() => Aes.AesGcm.decrypt(r.ciphertext, m.apiV3Key, r.nonce, 'refund')).toThrow()
  })

  it('the plugin decrypts our encryptResource with a random nonce and empty AAD', () => {
    const r = encryptResource(loadApiV3Key(m.apiV3Key), plaintext)
    expect(r.nonce).toMatch(/^[A-Za-z0-9]{12}$/)
    expect(Aes.AesGcm.decrypt(r.ciphertext, m.apiV3Key, r.nonce, '')).toBe(plaintext)
  })

  it('our decryptResource decrypts the plugin encryption', () => {
    const nonce = 'Kj7QIyUiYx1q'
    const ciphertext = Aes.AesGcm.encrypt(plaintext, m.apiV3Key, nonce, 'transaction')
    expect(
      decryptResource(loadApiV3Key(m.apiV3Key), {
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext,
        nonce,
        associated_data: 'transaction',
      }),
    ).toBe(plaintext)
  })
})

describe('response signatures (Rsa.sign over Formatter.response)', () => {
  const body =
    '{"amount":{"currency":"CNY","payer_currency":"CNY","payer_total":1,"total":1},' +
    '"appid":"wxdace645e0bc2cXXX","mchid":"1900006XXX","out_trade_no":"44_2126281063_5504",' +
    '"trade_state":"SUCCESS","trade_state_desc":"支付成功"}'
  const nonce = 'EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz'

  it('our verifySigned accepts what the plugin signed as WeChat', async () => {
    const signature = Rsa.sign(Formatter.response(TS, nonce, body), m.platformPrivateKey)
    const verifier = new PublicKeyVerifier(m.platformPublicKeyId, m.platformPublicKey)
    const headers = { timestamp: String(TS), nonce, signature, serial: m.platformPublicKeyId }
    await expect(
      verifySigned(headers, Buffer.from(body, 'utf8'), verifier, { nowSeconds: TS + 10 }),
    ).resolves.toBeUndefined()
    await expect(verifySigned(headers, body, verifier, { nowSeconds: TS })).resolves.toBeUndefined()
    await expect(
      verifySigned(headers, body.replace('"total":1}', '"total":2}'), verifier, {
        nowSeconds: TS,
      }),
    ).rejects.toMatchObject({ reason: 'mismatch' })
  })

  it('also for an empty (204) body, signed by a platform certificate key', async () => {
    const cert = m.platformCertificates[0]!
    const signature = Rsa.sign(Formatter.response(TS, nonce, ''), cert.privateKey)
    const verifier = new PublicKeyVerifier(m.platformPublicKeyId, m.platformPublicKey)
    // Signed with a certificate key, presented under the public key id: must fail.
    await expect(
      verifySigned(
        { timestamp: String(TS), nonce, signature, serial: m.platformPublicKeyId },
        '',
        verifier,
        {
          nowSeconds: TS,
        },
      ),
    ).rejects.toMatchObject({ reason: 'mismatch' })
    // The test certificates are valid from a day ago; the verifier checks validity at its clock.
    const certs = new CertificateVerifier([cert.certificate], () => Date.now())
    await expect(
      verifySigned({ timestamp: String(TS), nonce, signature, serial: cert.serialNo }, '', certs, {
        nowSeconds: TS,
      }),
    ).resolves.toBeUndefined()
  })
})

describe('APIv2 signatures (Hash.sign)', () => {
  it.each(['MD5', 'HMAC-SHA256'] as const)('agrees with signV2 on the §12.1 vector (%s)', (t) => {
    const theirs = Hash.sign(t, { ...V2_SIGN_VECTOR.params }, V2_SIGN_VECTOR.key)
    expect(signV2(V2_SIGN_VECTOR.params, V2_SIGN_VECTOR.key, t)).toBe(theirs)
    expect(theirs).toBe(t === 'MD5' ? V2_SIGN_VECTOR.md5 : V2_SIGN_VECTOR.hmacSha256)
  })

  it('agrees on the v2 paySign example', () => {
    expect(Hash.sign('MD5', { ...V2_PAYSIGN_VECTOR.params }, V2_PAYSIGN_VECTOR.key)).toBe(
      signV2(V2_PAYSIGN_VECTOR.params, V2_PAYSIGN_VECTOR.key, 'MD5'),
    )
  })

  it.each(['MD5', 'HMAC-SHA256'] as const)(
    'agrees on a message with Chinese values, mixed-case names and an empty field (%s)',
    (t) => {
      const params = {
        appid: m.appid,
        mch_id: m.mchid,
        nonce_str: NONCE,
        body: '腾讯充值中心-QQ会员充值',
        attach: '深圳分店 & 广州分店',
        detail: '{"goods_detail":[{"goods_name":"iPhone6s 16G","quantity":1}]}',
        out_trade_no: '20150806125346',
        total_fee: '88',
        spbill_create_ip: '123.12.12.123',
        notify_url: 'http://www.weixin.qq.com/wxpay/pay.php?a=1&b=2',
        trade_type: 'JSAPI',
        openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
        sign_type: t,
        device_info: '',
        Upper: 'X',
      }
      expect(signV2(params, m.apiV2Key, t)).toBe(Hash.sign(t, { ...params }, m.apiV2Key))
      // `sign` itself is ignored by both.
      expect(signV2({ ...params, sign: 'OLD' }, m.apiV2Key, t)).toBe(
        Hash.sign(t, { ...params, sign: 'OLD' }, m.apiV2Key),
      )
    },
  )
})

describe('APIv2 refund req_info (Aes.AesEcb)', () => {
  it('our decryptV2RefundInfo decrypts the plugin encryption', async () => {
    const inner =
      '<root><out_refund_no><![CDATA[131811191610442717309]]></out_refund_no>' +
      '<out_trade_no><![CDATA[71106718111915575302817]]></out_trade_no>' +
      '<refund_fee><![CDATA[3960]]></refund_fee>' +
      '<refund_id><![CDATA[50000408942018111907145868882]]></refund_id>' +
      '<refund_recv_accout><![CDATA[支付用户零钱]]></refund_recv_accout>' +
      '<refund_status><![CDATA[SUCCESS]]></refund_status>' +
      '<success_time><![CDATA[2018-11-19 16:24:13]]></success_time>' +
      '<total_fee><![CDATA[3960]]></total_fee>' +
      '<transaction_id><![CDATA[4200000215201811190261405420]]></transaction_id></root>'
    // The plugin's PKCS#7 helper skips the padding block when the length is a multiple of 16
    // (WeChat always pads); keep this fixture off that edge so the ciphertext is standard.
    expect(Buffer.byteLength(inner, 'utf8') % 16).not.toBe(0)
    const key = createHash('md5').update(m.apiV2Key).digest('hex')
    const reqInfo = Aes.AesEcb.encrypt(inner, key)
    expect(Aes.AesEcb.decrypt(reqInfo, key)).toBe(inner)
    expect(await decryptV2RefundInfo(reqInfo, m.apiV2Key)).toEqual({
      out_refund_no: '131811191610442717309',
      out_trade_no: '71106718111915575302817',
      refund_fee: '3960',
      refund_id: '50000408942018111907145868882',
      refund_recv_accout: '支付用户零钱',
      refund_status: 'SUCCESS',
      success_time: '2018-11-19 16:24:13',
      total_fee: '3960',
      transaction_id: '4200000215201811190261405420',
    })
  })
})

describe('mini-program open data (Aes.AesCbc)', () => {
  it('agrees with decryptOpenData on the §12.5 vector', () => {
    const theirs = Aes.AesCbc.decrypt(
      OPEN_DATA_VECTOR.encryptedData,
      Buffer.from(OPEN_DATA_VECTOR.sessionKey, 'base64'),
      Buffer.from(OPEN_DATA_VECTOR.iv, 'base64'),
    )
    const ours = decryptOpenData(
      OPEN_DATA_VECTOR.sessionKey,
      OPEN_DATA_VECTOR.encryptedData,
      OPEN_DATA_VECTOR.iv,
      OPEN_DATA_VECTOR.appid,
    )
    expect(JSON.parse(theirs)).toEqual(ours)
    expect(ours).toMatchObject({
      openId: OPEN_DATA_VECTOR.openId,
      watermark: { appid: OPEN_DATA_VECTOR.appid, timestamp: OPEN_DATA_VECTOR.watermarkTimestamp },
    })
  })

  it('our decryptOpenData reads the plugin encryption', () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
    const iv = Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex')
    const payload = { phoneNumber: '13580006666', watermark: { appid: m.appid, timestamp: TS } }
    const encryptedData = Aes.AesCbc.encrypt(JSON.stringify(payload), key, iv)
    expect(
      decryptOpenData(key.toString('base64'), encryptedData, iv.toString('base64'), m.appid),
    ).toEqual(payload)
  })
})
