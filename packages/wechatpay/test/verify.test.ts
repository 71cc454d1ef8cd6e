import { beforeAll, describe, expect, it } from 'vitest'
import {
  CertificateVerifier,
  PublicKeyVerifier,
  SIGNATURE_SCHEME,
  SignatureError,
  createRsaSigner,
  readHeader,
  readSignatureHeaders,
  signAsPlatform,
  verifySigned,
  type SignatureFailure,
  type SignatureHeaders,
  type Signer,
  type Verifier,
} from '../src'
import { signResponse, type TestMerchant } from '../src/testing'
import { testMerchant } from './support/merchant'

const NOW = 1_722_850_421
const NONCE = 'd824f2e086d3c1df967785d13fcd22ef'
const BODY = Buffer.from('{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1","说明":"支付成功"}')

let merchant: TestMerchant
let signer: Signer
let verifier: Verifier

beforeAll(async () => {
  merchant = await testMerchant()
  signer = createRsaSigner(merchant.platformPrivateKey)
  verifier = new PublicKeyVerifier(merchant.platformPublicKeyId, merchant.platformPublicKey)
})

/** Signature headers as WeChat would send them for `body` at `timestamp`. */
function signed(body: Buffer | string, timestamp: number | string = NOW): SignatureHeaders {
  const message = Buffer.concat([
    Buffer.from(`${timestamp}\n${NONCE}\n`),
    typeof body === 'string' ? Buffer.from(body) : body,
    Buffer.from('\n'),
  ])
  return {
    timestamp: String(timestamp),
    nonce: NONCE,
    signature: signer.sign(message),
    serial: merchant.platformPublicKeyId,
  }
}

async function failure(promise: Promise<unknown>): Promise<SignatureError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(SignatureError)
  return error as SignatureError
}

async function expectReason(promise: Promise<unknown>, reason: SignatureFailure): Promise<void> {
  expect((await failure(promise)).reason).toBe(reason)
}

describe('verifySigned over raw bytes (wechatpay-api.md §3)', () => {
  it('accepts a correct signature over the raw body', async () => {
    await expect(
      verifySigned(signed(BODY), BODY, verifier, { nowSeconds: NOW }),
    ).resolves.toBeUndefined()
    // The same bytes as a string verify too.
    await expect(
      verifySigned(signed(BODY), BODY.toString('utf8'), verifier, { nowSeconds: NOW }),
    ).resolves.toBeUndefined()
  })

  it('rejects a body with one byte changed as `mismatch`', async () => {
    const headers = signed(BODY)
    for (const index of [0, 10, BODY.length - 1]) {
      const tampered = Buffer.from(BODY)
      tampered[index] = (tampered[index] ?? 0) ^ 0x01
      const error = await failure(verifySigned(headers, tampered, verifier, { nowSeconds: NOW }))
      expect(error.reason).toBe('mismatch')
      expect(error.serial).toBe(merchant.platformPublicKeyId)
    }
  })

  it('rejects a signature made by another key, a changed nonce and garbage as `mismatch`', async () => {
    const other = createRsaSigner(merchant.platformCertificates[0]!.privateKey)
    const headers = signed(BODY)
    const message = Buffer.concat([Buffer.from(`${NOW}\n${NONCE}\n`), BODY, Buffer.from('\n')])
    await expectReason(
      verifySigned({ ...headers, signature: other.sign(message) }, BODY, verifier, {
        nowSeconds: NOW,
      }),
      'mismatch',
    )
    await expectReason(
      verifySigned({ ...headers, nonce: NONCE.toUpperCase() }, BODY, verifier, { nowSeconds: NOW }),
      'mismatch',
    )
    await expectReason(
      verifySigned({ ...headers, signature: '!!!' }, BODY, verifier, { nowSeconds: NOW }),
      'mismatch',
    )
  })

  it('verifies a 204 empty body signed over `ts\\nnonce\\n\\n`', async () => {
    const headers: SignatureHeaders = {
      timestamp: String(NOW),
      nonce: NONCE,
      signature: signer.sign(`${NOW}\n${NONCE}\n\n`),
      serial: merchant.platformPublicKeyId,
    }
    await expect(
      verifySigned(headers, Buffer.alloc(0), verifier, { nowSeconds: NOW }),
    ).resolves.toBeUndefined()
    await expect(verifySigned(headers, '', verifier, { nowSeconds: NOW })).resolves.toBeUndefined()
    // The signature does not cover a body of one newline.
    await expectReason(verifySigned(headers, '\n', verifier, { nowSeconds: NOW }), 'mismatch')
  })

  describe('the ±300 s timestamp window (§3.4)', () => {
    it('accepts a timestamp exactly 300 s off in either direction', async () => {
      for (const ts of [NOW - 300, NOW + 300]) {
        await expect(
          verifySigned(signed(BODY, ts), BODY, verifier, { nowSeconds: NOW }),
        ).resolves.toBeUndefined()
      }
    })

    it('rejects 301 s off in either direction as `stale_timestamp`', async () => {
      for (const ts of [NOW - 301, NOW + 301]) {
        await expectReason(
          verifySigned(signed(BODY, ts), BODY, verifier, { nowSeconds: NOW }),
          'stale_timestamp',
        )
      }
    })

    it('rejects a non-numeric timestamp as `stale_timestamp`', async () => {
      for (const ts of ['abc', `${NOW}.0`, `+${NOW}`, ` ${NOW}`, '1.7e9', '0x66b0a3f5', '']) {
        await expectReason(
          verifySigned(signed(BODY, ts), BODY, verifier, { nowSeconds: NOW }),
          'stale_timestamp',
        )
      }
    })

    it('honours a custom tolerance', async () => {
      const policy = { nowSeconds: NOW, toleranceSeconds: 10 }
      await expect(
        verifySigned(signed(BODY, NOW - 10), BODY, verifier, policy),
      ).resolves.toBeUndefined()
      await expectReason(
        verifySigned(signed(BODY, NOW - 11), BODY, verifier, policy),
        'stale_timestamp',
      )
    })

    it('`toleranceSeconds: false` disables the window', async () => {
      const policy = { nowSeconds: NOW, toleranceSeconds: false as const }
      await expect(
        verifySigned(signed(BODY, NOW - 86_400 * 365), BODY, verifier, policy),
      ).resolves.toBeUndefined()
      await expect(
        verifySigned(signed(BODY, NOW + 86_400), BODY, verifier, policy),
      ).resolves.toBeUndefined()
    })
  })

  it('rejects a `WECHATPAY/SIGNTEST/` probe as `signtest`, even if the rest were valid', async () => {
    const headers = signed(BODY)
    const probe = { ...headers, signature: 'WECHATPAY/SIGNTEST/' + headers.signature }
    const error = await failure(verifySigned(probe, BODY, verifier, { nowSeconds: NOW }))
    expect(error.reason).toBe('signtest')
    expect(error.serial).toBe(merchant.platformPublicKeyId)
    // Checked before the timestamp and the serial.
    await expectReason(
      verifySigned(
        { ...probe, timestamp: String(NOW - 10_000), serial: 'UNKNOWN' },
        BODY,
        verifier,
        {
          nowSeconds: NOW,
        },
      ),
      'signtest',
    )
  })

  it('rejects an unknown serial as `unknown_serial`', async () => {
    const headers = { ...signed(BODY), serial: 'PUB_KEY_ID_0000000000000000000000000000000001' }
    const error = await failure(verifySigned(headers, BODY, verifier, { nowSeconds: NOW }))
    expect(error.reason).toBe('unknown_serial')
    expect(error.serial).toBe(headers.serial)
  })

  it('verifies with a platform certificate chosen by serial', async () => {
    const platform = merchant.platformCertificates[1]!
    const certVerifier = new CertificateVerifier([platform.certificate], () => Date.now())
    const now = Math.floor(Date.now() / 1000)
    const headers = signAsPlatform({
      signer: createRsaSigner(platform.privateKey),
      serial: platform.serialNo,
      body: BODY,
      timestamp: now,
      nonce: NONCE,
    })
    expect(headers['Wechatpay-Signature-Type']).toBe(SIGNATURE_SCHEME)
    const sig: SignatureHeaders = {
      timestamp: headers['Wechatpay-Timestamp']!,
      nonce: headers['Wechatpay-Nonce']!,
      signature: headers['Wechatpay-Signature']!,
      serial: headers['Wechatpay-Serial']!,
    }
    await expect(
      verifySigned(sig, BODY, certVerifier, { nowSeconds: now }),
    ).resolves.toBeUndefined()
    // The other certificate's serial picks the wrong key.
    await expectReason(
      verifySigned(
        { ...sig, serial: merchant.platformCertificates[0]!.serialNo },
        BODY,
        new CertificateVerifier(
          merchant.platformCertificates.map((c) => c.certificate),
          () => Date.now(),
        ),
        { nowSeconds: now },
      ),
      'mismatch',
    )
  })
})

describe('readSignatureHeaders', () => {
  const full = {
    'wechatpay-timestamp': String(NOW),
    'wechatpay-nonce': NONCE,
    'wechatpay-signature': 'c2ln',
    'wechatpay-serial': 'PUB_KEY_ID_0000000000000024101100397200000006',
  }

  it('reads the four headers', () => {
    expect(readSignatureHeaders(full)).toEqual({
      timestamp: String(NOW),
      nonce: NONCE,
      signature: 'c2ln',
      serial: 'PUB_KEY_ID_0000000000000024101100397200000006',
    })
  })

  it('throws `missing_headers` when any one of them is absent or empty', () => {
    for (const name of Object.keys(full) as (keyof typeof full)[]) {
      for (const value of [undefined, '']) {
        const headers: Record<string, string | undefined> = { ...full, [name]: value }
        let thrown: unknown
        try {
          readSignatureHeaders(headers)
        } catch (e) {
          thrown = e
        }
        expect(thrown, name).toBeInstanceOf(SignatureError)
        expect((thrown as SignatureError).reason).toBe('missing_headers')
      }
    }
    expect(() => readSignatureHeaders({})).toThrow(SignatureError)
    expect(() => readSignatureHeaders(new Headers())).toThrow(SignatureError)
  })

  it('reads the headers exactly as signResponse returns them (a mixed-case record)', async () => {
    const headers = signResponse({
      body: BODY.toString(),
      privateKey: merchant.platformPrivateKey,
      serial: merchant.platformPublicKeyId,
      timestamp: NOW,
    })
    const parsed = readSignatureHeaders(headers)
    await expect(verifySigned(parsed, BODY, verifier, { nowSeconds: NOW })).resolves.toBeUndefined()
  })
})

describe('readHeader', () => {
  it('reads a fetch `Headers` case-insensitively', () => {
    const headers = new Headers({ 'Wechatpay-Serial': 'ABC', 'Request-ID': 'r-1' })
    expect(readHeader(headers, 'wechatpay-serial')).toBe('ABC')
    expect(readHeader(headers, 'Wechatpay-Serial')).toBe('ABC')
    expect(readHeader(headers, 'WECHATPAY-SERIAL')).toBe('ABC')
    expect(readHeader(headers, 'wechatpay-nonce')).toBeUndefined()
  })

  it('reads a lower-cased Node header record by any spelling of the name', () => {
    const headers = { 'wechatpay-serial': 'ABC', 'content-type': 'application/json' }
    expect(readHeader(headers, 'wechatpay-serial')).toBe('ABC')
    expect(readHeader(headers, 'Wechatpay-Serial')).toBe('ABC')
    expect(readHeader(headers, 'Content-Type')).toBe('application/json')
    expect(readHeader(headers, 'wechatpay-nonce')).toBeUndefined()
  })

  it('takes the first of array values', () => {
    const headers = { 'wechatpay-nonce': ['first', 'second'], 'set-cookie': ['a=1'] }
    expect(readHeader(headers, 'Wechatpay-Nonce')).toBe('first')
    expect(readHeader(headers, 'set-cookie')).toBe('a=1')
  })

  it('reads a record whose keys are not lower-cased (as documented: case-insensitive)', () => {
    const headers = { 'Wechatpay-Serial': 'ABC' }
    expect(readHeader(headers, 'Wechatpay-Serial')).toBe('ABC')
    expect(readHeader(headers, 'wechatpay-serial')).toBe('ABC')
  })
})
