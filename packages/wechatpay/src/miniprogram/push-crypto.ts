import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto'
import { ConfigError, DecryptionError } from '../core/errors'

/**
 * 消息推送 signatures and 安全模式 encryption: pure functions, shared by the receiving server and
 * by the sandbox, which sends pushes the way WeChat does.
 *
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
 * @see https://developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md
 */

/**
 * `sha1(sort([token, timestamp, nonce, encrypt?]).join(''))` in lower-case hex: the `signature`
 * of the URL check and of plaintext pushes (no `encrypt`), and the `msg_signature` of encrypted
 * ones (with the body's `Encrypt`). Note the plaintext signature does not cover the body.
 */
export function pushSignature(
  token: string,
  timestamp: string,
  nonce: string,
  encrypt?: string,
): string {
  const parts =
    encrypt === undefined ? [token, timestamp, nonce] : [token, timestamp, nonce, encrypt]
  return createHash('sha1').update(parts.sort().join('')).digest('hex')
}

/** Constant-time comparison of a received signature with the expected one. */
export function signatureMatches(received: string | undefined, expected: string): boolean {
  if (received === undefined) return false
  const a = Buffer.from(received.toLowerCase())
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * The 32-byte AES key of a 43-character EncodingAESKey (`base64decode(key + '=')`). Throws
 * {@link ConfigError} for anything else, naming no part of the key.
 */
export function loadEncodingAESKey(encodingAESKey: string): Buffer {
  const key = Buffer.from(`${encodingAESKey}=`, 'base64')
  if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAESKey) || key.length !== 32) {
    throw new ConfigError('EncodingAESKey must be the 43 characters shown in the console')
  }
  return key
}

/** The key and appid a push is encrypted for. */
export interface PushCryptoOptions {
  /** The 43-character EncodingAESKey of the message push settings. */
  encodingAESKey: string
  /** The mini-program's appid: the last field of each plaintext, checked on decryption. */
  appid: string
}

const BLOCK = 32

/**
 * Encrypts a push message as WeChat does in 安全模式: AES-256-CBC, IV = key[0:16],
 * `random(16) ‖ msg_len (4 bytes, big-endian) ‖ msg ‖ appid`, PKCS#7 padded to 32-byte blocks,
 * Base64. `random` is for fixed test vectors; by default 16 random bytes.
 */
export function encryptPushMessage(
  message: string,
  options: PushCryptoOptions & { random?: Buffer },
): string {
  const key = loadEncodingAESKey(options.encodingAESKey)
  const random = options.random ?? randomBytes(16)
  if (random.length !== 16) throw new ConfigError('random must be 16 bytes')
  const msg = Buffer.from(message, 'utf8')
  const length = Buffer.alloc(4)
  length.writeUInt32BE(msg.length)
  const plain = Buffer.concat([random, length, msg, Buffer.from(options.appid, 'utf8')])
  const pad = BLOCK - (plain.length % BLOCK)
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false)
  return Buffer.concat([
    cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])),
    cipher.final(),
  ]).toString('base64')
}

/**
 * Decrypts the `Encrypt` field of a push and returns the message text. Throws
 * {@link DecryptionError} on a wrong key, bad padding, a bad length, or an appid other than
 * `options.appid` (a push meant for another app).
 */
export function decryptPushMessage(encrypt: string, options: PushCryptoOptions): string {
  const key = loadEncodingAESKey(options.encodingAESKey)
  let plain: Buffer
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false)
    plain = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()])
  } catch (cause) {
    throw new DecryptionError('the push could not be decrypted', { cause })
  }
  const pad = plain[plain.length - 1] ?? 0
  if (pad < 1 || pad > BLOCK || pad > plain.length) {
    throw new DecryptionError('the push has bad padding (wrong EncodingAESKey?)')
  }
  for (let i = plain.length - pad; i < plain.length; i++) {
    if (plain[i] !== pad)
      throw new DecryptionError('the push has bad padding (wrong EncodingAESKey?)')
  }
  const content = plain.subarray(16, plain.length - pad)
  if (content.length < 4) throw new DecryptionError('the push is too short')
  const length = content.readUInt32BE(0)
  if (4 + length > content.length) throw new DecryptionError('the push has a bad length field')
  const appid = content.subarray(4 + length).toString('utf8')
  if (appid !== options.appid) throw new DecryptionError('the push is for another appid')
  return content.subarray(4, 4 + length).toString('utf8')
}
