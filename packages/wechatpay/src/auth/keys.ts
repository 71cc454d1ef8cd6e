import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'node:crypto'
import { ConfigError } from '../core/errors'

/**
 * Parses a merchant API private key (`apiclient_key.pem`, PKCS#8 or PKCS#1 PEM) into a `KeyObject`.
 * Parse once and keep the result: re-parsing a PEM on every signature makes signing about 3× slower.
 */
export function loadPrivateKey(key: string | Buffer | KeyObject): KeyObject {
  if (key instanceof KeyObject) {
    if (key.type !== 'private') throw new ConfigError('expected a private key')
    return requireRsa(key)
  }
  try {
    return requireRsa(createPrivateKey(key))
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause
    throw new ConfigError('the private key is not a PEM-encoded RSA private key', { cause })
  }
}

/**
 * Parses a WeChat Pay public key (`pub_key.pem`, SPKI PEM), or takes the public key out of a PEM
 * certificate, into a `KeyObject`.
 */
export function loadPublicKey(key: string | Buffer | KeyObject): KeyObject {
  if (key instanceof KeyObject) {
    if (key.type !== 'public') throw new ConfigError('expected a public key')
    return requireRsa(key)
  }
  const text = typeof key === 'string' ? key : key.toString('utf8')
  try {
    if (text.includes('-----BEGIN CERTIFICATE-----')) {
      return requireRsa(new X509Certificate(text).publicKey)
    }
    return requireRsa(createPublicKey(key))
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause
    throw new ConfigError('the public key is not a PEM-encoded RSA public key or certificate', {
      cause,
    })
  }
}

/** A platform (or merchant) certificate, parsed once. */
export interface ParsedCertificate {
  /** Upper-case hex, the form `Wechatpay-Serial` and `serial_no` use. */
  serialNo: string
  publicKey: KeyObject
  validFrom: Date
  validTo: Date
  pem: string
}

/** Parses a PEM X.509 certificate and reads the fields WeChat Pay cares about. */
export function parseCertificate(pem: string): ParsedCertificate {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(pem)
  } catch (cause) {
    throw new ConfigError('not a PEM-encoded X.509 certificate', { cause })
  }
  return {
    serialNo: normalizeSerial(cert.serialNumber),
    publicKey: requireRsa(cert.publicKey),
    validFrom: new Date(cert.validFrom),
    validTo: new Date(cert.validTo),
    pem,
  }
}

/** Serials are compared as upper-case hex, the form WeChat writes them in. */
export function normalizeSerial(serial: string): string {
  return serial.toUpperCase()
}

function requireRsa(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new ConfigError(`expected an RSA key; got ${key.asymmetricKeyType ?? key.type}`)
  }
  return key
}
