import { sign as rsaSign, type KeyObject } from 'node:crypto'

/**
 * A minimal DER writer for one job: a self-signed (or CA-signed) X.509 v3 certificate carrying an
 * RSA key, signed sha256WithRSAEncryption. Node can parse certificates but not make them, and a
 * test helper should not pull in a whole PKI library for this.
 */

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content)
  return Buffer.concat([Buffer.from([tag]), len(body.length), body])
}

const seq = (...c: Buffer[]) => tlv(0x30, ...c)
const set = (...c: Buffer[]) => tlv(0x31, ...c)
const explicit = (n: number, ...c: Buffer[]) => tlv(0xa0 + n, ...c)

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number)
  const bytes = [40 * a + b]
  for (const v of rest) {
    const chunk = [v & 0x7f]
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128))
      chunk.unshift(0x80 | (x & 0x7f))
    bytes.push(...chunk)
  }
  return tlv(0x06, Buffer.from(bytes))
}

/** A non-negative INTEGER from hex: a leading 0x00 keeps a high first bit from reading as negative. */
function integerFromHex(hex: string): Buffer {
  let bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex')
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes])
  return tlv(0x02, bytes)
}

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 requires. */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii'))
    : tlv(0x18, Buffer.from(iso, 'ascii'))
}

function name(fields: { C?: string; O?: string; OU?: string; CN: string }): Buffer {
  const ids: Record<string, string> = { C: '2.5.4.6', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' }
  const rdns: Buffer[] = []
  for (const key of ['C', 'O', 'OU', 'CN'] as const) {
    const value = fields[key]
    if (value === undefined) continue
    // countryName must be PrintableString; the rest UTF8String (Chinese names are fine).
    const str =
      key === 'C' ? tlv(0x13, Buffer.from(value, 'ascii')) : tlv(0x0c, Buffer.from(value, 'utf8'))
    rdns.push(set(seq(oid(ids[key] as string), str)))
  }
  return seq(...rdns)
}

const SHA256_WITH_RSA = seq(oid('1.2.840.113549.1.1.11'), tlv(0x05))

export interface CertificateOptions {
  /** The key the certificate certifies. */
  publicKey: KeyObject
  /** The key that signs it: the same key's private half for a self-signed certificate. */
  signingKey: KeyObject
  /** Hex; WeChat serials are 40 upper-case hex characters. */
  serialNo: string
  subject: { C?: string; O?: string; OU?: string; CN: string }
  /** Defaults to the subject (self-signed). */
  issuer?: { C?: string; O?: string; OU?: string; CN: string }
  notBefore: Date
  notAfter: Date
}

/** Builds a PEM X.509 v3 certificate. */
export function createCertificate(o: CertificateOptions): string {
  const spki = o.publicKey.export({ type: 'spki', format: 'der' })
  const tbs = seq(
    explicit(0, tlv(0x02, Buffer.from([2]))), // v3
    integerFromHex(o.serialNo),
    SHA256_WITH_RSA,
    name(o.issuer ?? o.subject),
    seq(time(o.notBefore), time(o.notAfter)),
    name(o.subject),
    spki,
  )
  const signature = rsaSign('sha256', tbs, o.signingKey)
  const der = seq(tbs, SHA256_WITH_RSA, tlv(0x03, Buffer.from([0]), signature))
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`
}
