import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto'
import { randomAlphanumeric } from '../core/clock'
import { ConfigError, DecryptionError } from '../core/errors'

/** The only algorithm WeChat uses for encrypted resources (RFC 5116). */
export const AEAD_AES_256_GCM = 'AEAD_AES_256_GCM'

const TAG_LENGTH = 16
const NONCE_LENGTH = 12

/** An encrypted resource as WeChat sends it (notification `resource`, certificate `encrypt_certificate`). */
export interface EncryptedResource {
  algorithm: string
  ciphertext: string
  nonce: string
  associated_data?: string
  original_type?: string
}

/**
 * Turns the merchant's APIv3 key (a 32-character ASCII string set in 商户平台) into a `KeyObject`,
 * once. Rejects keys that are not exactly 32 bytes: a 16-byte key would silently select AES-128.
 */
export function loadApiV3Key(key: string | KeyObject): KeyObject {
  if (typeof key !== 'string') {
    if (key.type !== 'secret' || key.symmetricKeySize !== 32) {
      throw new ConfigError('the APIv3 key must be a 32-byte secret key')
    }
    return key
  }
  const bytes = Buffer.from(key, 'utf8')
  if (bytes.length !== 32) {
    throw new ConfigError(`the APIv3 key must be 32 bytes; this one is ${bytes.length}`)
  }
  return createSecretKey(bytes)
}

/**
 * Decrypts an AEAD_AES_256_GCM resource to its UTF-8 plaintext. Any tampering with the ciphertext,
 * tag, nonce or associated data, or a wrong key, raises {@link DecryptionError}.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/development/interface-rules/certificate-callback-decryption.html
 */
export function decryptResource(apiV3Key: KeyObject, resource: EncryptedResource): string {
  if (resource.algorithm !== AEAD_AES_256_GCM) {
    throw new DecryptionError(`unsupported algorithm ${JSON.stringify(resource.algorithm)}`)
  }
  if (typeof resource.ciphertext !== 'string' || typeof resource.nonce !== 'string') {
    throw new DecryptionError('resource has no ciphertext or nonce')
  }
  const nonce = Buffer.from(resource.nonce, 'utf8')
  if (nonce.length !== NONCE_LENGTH) {
    throw new DecryptionError(`nonce must be ${NONCE_LENGTH} bytes; got ${nonce.length}`)
  }
  const data = Buffer.from(resource.ciphertext, 'base64')
  if (data.length < TAG_LENGTH) {
    throw new DecryptionError('ciphertext is shorter than the GCM tag')
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', apiV3Key, nonce, { authTagLength: TAG_LENGTH })
    decipher.setAuthTag(data.subarray(data.length - TAG_LENGTH))
    decipher.setAAD(Buffer.from(resource.associated_data ?? '', 'utf8'))
    const plain = Buffer.concat([
      decipher.update(data.subarray(0, data.length - TAG_LENGTH)),
      decipher.final(),
    ])
    return plain.toString('utf8')
  } catch (cause) {
    throw new DecryptionError('AEAD_AES_256_GCM decryption failed (wrong key or tampered data)', {
      cause,
    })
  }
}

/**
 * Encrypts `plaintext` the way WeChat does for notifications and certificate downloads. Used by the
 * sandbox and the test helpers; a merchant never needs it.
 *
 * `nonce` defaults to 12 random alphanumeric characters, the form WeChat sends.
 */
export function encryptResource(
  apiV3Key: KeyObject,
  plaintext: string,
  options: { associatedData?: string; nonce?: string; originalType?: string } = {},
): EncryptedResource {
  const nonce = options.nonce ?? randomAlphanumeric(NONCE_LENGTH)
  const associatedData = options.associatedData ?? ''
  const nonceBytes = Buffer.from(nonce, 'utf8')
  if (nonceBytes.length !== NONCE_LENGTH) {
    throw new ConfigError(`nonce must be ${NONCE_LENGTH} bytes`)
  }
  const cipher = createCipheriv('aes-256-gcm', apiV3Key, nonceBytes, { authTagLength: TAG_LENGTH })
  cipher.setAAD(Buffer.from(associatedData, 'utf8'))
  const data = Buffer.concat([
    cipher.update(plaintext, 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ])
  return {
    algorithm: AEAD_AES_256_GCM,
    ciphertext: data.toString('base64'),
    nonce,
    associated_data: associatedData,
    ...(options.originalType === undefined ? {} : { original_type: options.originalType }),
  }
}
