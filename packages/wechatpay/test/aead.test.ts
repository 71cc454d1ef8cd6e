import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  AEAD_AES_256_GCM,
  ConfigError,
  DecryptionError,
  decryptResource,
  encryptResource,
  loadApiV3Key,
  randomAlphanumeric,
  type EncryptedResource,
} from '../src'

const KEY_TEXT = 'a7cde1ZHHq3xj1dUL2RWcoPHLG6xmD3V'
const KEY = loadApiV3Key(KEY_TEXT)
const OTHER_KEY = loadApiV3Key('b7cde1ZHHq3xj1dUL2RWcoPHLG6xmD3V')
const TRANSACTION = JSON.stringify({
  mchid: '1900000100',
  out_trade_no: 'T20240101',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  amount: { total: 1 },
})

/** Flips one bit of byte `index` (negative counts from the end) of the decoded ciphertext. */
function flipByte(resource: EncryptedResource, index: number): EncryptedResource {
  const data = Buffer.from(resource.ciphertext, 'base64')
  const i = index < 0 ? data.length + index : index
  data[i] = (data[i] ?? 0) ^ 0x01
  return { ...resource, ciphertext: data.toString('base64') }
}

function expectDecryptionError(resource: EncryptedResource, key = KEY): void {
  expect(() => decryptResource(key, resource)).toThrow(DecryptionError)
}

describe('encryptResource / decryptResource (wechatpay-api.md §4)', () => {
  it('round-trips with associated data, in WeChat’s resource shape', () => {
    const resource = encryptResource(KEY, TRANSACTION, {
      associatedData: 'transaction',
      originalType: 'transaction',
    })
    expect(resource.algorithm).toBe(AEAD_AES_256_GCM)
    expect(resource.associated_data).toBe('transaction')
    expect(resource.original_type).toBe('transaction')
    expect(resource.nonce).toMatch(/^[A-Za-z0-9]{12}$/)
    // Base64 of ciphertext ‖ 16-byte tag; GCM adds no padding.
    expect(Buffer.from(resource.ciphertext, 'base64')).toHaveLength(
      Buffer.byteLength(TRANSACTION) + 16,
    )
    expect(decryptResource(KEY, resource)).toBe(TRANSACTION)
  })

  it('round-trips with empty associated data, and a resource without the field reads it as ""', () => {
    const resource = encryptResource(KEY, 'hello')
    expect(resource.associated_data).toBe('')
    expect(resource).not.toHaveProperty('original_type')
    expect(decryptResource(KEY, resource)).toBe('hello')
    const withoutAad: EncryptedResource = { ...resource }
    delete withoutAad.associated_data
    expect(decryptResource(KEY, withoutAad)).toBe('hello')
  })

  it('round-trips Chinese plaintext and an empty plaintext', () => {
    const text = '{"user_received_account":"招商银行信用卡0403","summary":"退款成功 ✓"}'
    expect(decryptResource(KEY, encryptResource(KEY, text, { associatedData: 'refund' }))).toBe(
      text,
    )
    expect(decryptResource(KEY, encryptResource(KEY, ''))).toBe('')
  })

  it('uses the given nonce and a fresh random one otherwise', () => {
    const fixed = encryptResource(KEY, 'x', { nonce: '3a584b49ed9b' })
    expect(fixed.nonce).toBe('3a584b49ed9b')
    expect(decryptResource(KEY, fixed)).toBe('x')
    const a = encryptResource(KEY, 'x')
    const b = encryptResource(KEY, 'x')
    expect(a.nonce).not.toBe(b.nonce)
    expect(a.ciphertext).not.toBe(b.ciphertext)
  })

  it('accepts a 32-byte secret KeyObject as the key', () => {
    const key = createSecretKey(Buffer.from(KEY_TEXT))
    expect(loadApiV3Key(key)).toBe(key)
    expect(decryptResource(key, encryptResource(KEY, 'same key'))).toBe('same key')
  })

  describe('rejects with DecryptionError', () => {
    const resource = encryptResource(KEY, TRANSACTION, { associatedData: 'transaction' })

    it('a tampered ciphertext byte', () => {
      expectDecryptionError(flipByte(resource, 0))
      expectDecryptionError(flipByte(resource, 20))
    })

    it('a tampered tag byte', () => {
      expectDecryptionError(flipByte(resource, -1))
      expectDecryptionError(flipByte(resource, -16))
    })

    it('wrong associated_data', () => {
      expectDecryptionError({ ...resource, associated_data: 'certificate' })
      expectDecryptionError({ ...resource, associated_data: '' })
    })

    it('a wrong nonce', () => {
      const nonce = resource.nonce === 'AAAAAAAAAAAA' ? 'BBBBBBBBBBBB' : 'AAAAAAAAAAAA'
      expectDecryptionError({ ...resource, nonce })
    })

    it('a wrong key', () => {
      expectDecryptionError(resource, OTHER_KEY)
    })

    it('a nonce that is not 12 bytes', () => {
      expectDecryptionError({ ...resource, nonce: resource.nonce.slice(0, 11) })
      expectDecryptionError({ ...resource, nonce: resource.nonce + 'A' })
      expectDecryptionError({ ...resource, nonce: '' })
      expect(() => decryptResource(KEY, { ...resource, nonce: 'short' })).toThrow(/12 bytes/)
    })

    it('an unsupported algorithm', () => {
      for (const algorithm of ['AEAD_AES_128_GCM', 'aead_aes_256_gcm', 'AEAD_SM4_GCM', '']) {
        expectDecryptionError({ ...resource, algorithm })
      }
    })

    it('a ciphertext shorter than the tag, or missing', () => {
      expectDecryptionError({ ...resource, ciphertext: Buffer.alloc(15).toString('base64') })
      expectDecryptionError({ ...resource, ciphertext: undefined as unknown as string })
    })
  })

  it('refuses to encrypt with a nonce that is not 12 bytes', () => {
    expect(() => encryptResource(KEY, 'x', { nonce: 'short' })).toThrow(ConfigError)
  })
})

describe('loadApiV3Key', () => {
  it('accepts a 32-byte string', () => {
    const key = loadApiV3Key(KEY_TEXT)
    expect(key.type).toBe('secret')
    expect(key.symmetricKeySize).toBe(32)
    expect(key.export().toString()).toBe(KEY_TEXT)
  })

  it('rejects 16- and 33-byte keys with ConfigError, without echoing the key', () => {
    const k16 = KEY_TEXT.slice(0, 16)
    const k33 = KEY_TEXT + 'X'
    for (const key of [k16, k33, '', KEY_TEXT.slice(0, 31)]) {
      expect(() => loadApiV3Key(key)).toThrow(ConfigError)
      try {
        loadApiV3Key(key)
      } catch (e) {
        if (key) expect((e as Error).message).not.toContain(key)
      }
    }
    expect(() => loadApiV3Key(k16)).toThrow(/32 bytes; this one is 16/)
    expect(() => loadApiV3Key(k33)).toThrow(/32 bytes; this one is 33/)
  })

  it('counts UTF-8 bytes, not characters', () => {
    // 31 ASCII characters + 1 Chinese character = 32 characters but 34 bytes.
    expect(() => loadApiV3Key(KEY_TEXT.slice(0, 31) + '密')).toThrow(/this one is 34/)
  })

  it('rejects non-secret and wrong-size KeyObjects', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    expect(() => loadApiV3Key(publicKey)).toThrow(ConfigError)
    expect(() => loadApiV3Key(privateKey)).toThrow(ConfigError)
    expect(() => loadApiV3Key(createSecretKey(randomBytes(16)))).toThrow(ConfigError)
    expect(() => loadApiV3Key(createSecretKey(randomBytes(33)))).toThrow(ConfigError)
  })
})

describe('randomAlphanumeric', () => {
  it('returns the requested length from [A-Za-z0-9]', () => {
    for (const length of [0, 1, 12, 32, 100, 1000]) {
      const s = randomAlphanumeric(length)
      expect(s).toHaveLength(length)
      expect(s).toMatch(/^[A-Za-z0-9]*$/)
    }
  })

  it('uses the whole 62-character alphabet and does not repeat', () => {
    const seen = new Set(randomAlphanumeric(20_000))
    expect(seen.size).toBe(62)
    const samples = new Set(Array.from({ length: 200 }, () => randomAlphanumeric(32)))
    expect(samples.size).toBe(200)
  })
})
