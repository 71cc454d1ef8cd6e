import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import {
  CertificateVerifier,
  CombinedVerifier,
  ConfigError,
  PlatformCertificateManager,
  PublicKeyVerifier,
  parseCertificate,
  type ParsedCertificate,
} from '../src'
import { createCertificate, type TestMerchant } from '../src/testing'
import { testMerchant } from './support/merchant'

let merchant: TestMerchant
/** The merchant's two platform certificates, parsed. */
let certA: ParsedCertificate
let certB: ParsedCertificate

beforeAll(async () => {
  merchant = await testMerchant()
  certA = parseCertificate(merchant.platformCertificates[0]!.certificate)
  certB = parseCertificate(merchant.platformCertificates[1]!.certificate)
})

function sameKey(a: KeyObject | undefined, b: KeyObject): boolean {
  return a !== undefined && a.equals(b)
}

/** A manually controlled promise. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void
  let reject!: (e: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Lets pending promise callbacks (a background refresh settling) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

/** WeChat's `/v3/certificates` as a counting fake: what it returns, whether it fails, when. */
class FakeDownload {
  calls = 0
  certs: ParsedCertificate[] = []
  failure: Error | undefined
  gate: Promise<void> | undefined
  download = async (): Promise<ParsedCertificate[]> => {
    this.calls++
    if (this.gate) await this.gate
    if (this.failure) throw this.failure
    return [...this.certs]
  }
}

describe('PublicKeyVerifier', () => {
  const ID = 'PUB_KEY_ID_0000000000000024101100397200000006'

  it('rejects ids without the `PUB_KEY_ID_` prefix', () => {
    for (const id of [
      '',
      '0000000024101100397200000006',
      'pub_key_id_01',
      'PUB_KEY_01',
      certA.serialNo,
    ]) {
      expect(() => new PublicKeyVerifier(id, merchant.platformPublicKey), id).toThrow(ConfigError)
    }
  })

  it('rejects a key that is not an RSA public key', () => {
    expect(() => new PublicKeyVerifier(ID, 'garbage')).toThrow(ConfigError)
    expect(() => new PublicKeyVerifier(ID, createPrivateKey(merchant.platformPrivateKey))).toThrow(
      ConfigError,
    )
  })

  it('gives its key for its own id only, and asks WeChat to sign with it', () => {
    const verifier = new PublicKeyVerifier(ID, merchant.platformPublicKey)
    const expected = createPublicKey(merchant.platformPublicKey)
    expect(verifier.keyId).toBe(ID)
    expect(verifier.requestSerial).toBe(ID)
    expect(sameKey(verifier.keyFor(ID), expected)).toBe(true)
    expect(verifier.keyFor('PUB_KEY_ID_0000000000000024101100397200000007')).toBeUndefined()
    expect(verifier.keyFor(certA.serialNo)).toBeUndefined()
    expect(verifier.keyFor('')).toBeUndefined()
  })

  it('accepts the key as a Buffer or a KeyObject', () => {
    const expected = createPublicKey(merchant.platformPublicKey)
    const fromBuffer = new PublicKeyVerifier(ID, Buffer.from(merchant.platformPublicKey))
    const fromKey = new PublicKeyVerifier(ID, expected)
    expect(sameKey(fromBuffer.keyFor(ID), expected)).toBe(true)
    expect(sameKey(fromKey.keyFor(ID), expected)).toBe(true)
  })
})

describe('CertificateVerifier', () => {
  /** A certificate for platform key A with the given validity. */
  function certificate(serialNo: string, notBefore: string, notAfter: string): string {
    const privateKey = createPrivateKey(merchant.platformCertificates[0]!.privateKey)
    return createCertificate({
      publicKey: createPublicKey(privateKey),
      signingKey: privateKey,
      serialNo,
      subject: { C: 'CN', O: 'Tenpay.com', CN: 'Tenpay.com sign' },
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
    })
  }

  it('finds a certificate by serial, case-insensitively', () => {
    const verifier = new CertificateVerifier(
      [merchant.platformCertificates[0]!.certificate, certB],
      () => Date.now(),
    )
    expect(sameKey(verifier.keyFor(certA.serialNo), certA.publicKey)).toBe(true)
    expect(sameKey(verifier.keyFor(certA.serialNo.toLowerCase()), certA.publicKey)).toBe(true)
    expect(sameKey(verifier.keyFor(certB.serialNo), certB.publicKey)).toBe(true)
    expect(verifier.keyFor('0123456789ABCDEF')).toBeUndefined()
  })

  it('ignores a certificate outside its validity, by the injected clock', () => {
    const pem = certificate('5E0A1B2C', '2020-01-01T00:00:00Z', '2025-01-01T00:00:00Z')
    const at = (iso: string) => new CertificateVerifier([pem], () => Date.parse(iso))
    expect(at('2019-12-31T23:59:59Z').keyFor('5E0A1B2C')).toBeUndefined() // not yet valid
    expect(at('2020-01-01T00:00:00Z').keyFor('5e0a1b2c')).toBeDefined()
    expect(at('2022-06-01T00:00:00Z').keyFor('5E0A1B2C')).toBeDefined()
    expect(at('2025-01-01T00:00:00Z').keyFor('5E0A1B2C')).toBeDefined()
    expect(at('2025-01-01T00:00:01Z').keyFor('5E0A1B2C')).toBeUndefined() // expired
  })

  it('keeps the other certificates when one has expired (rotation)', () => {
    const old = certificate('01', '2019-01-01T00:00:00Z', '2024-01-01T00:00:00Z')
    const next = certificate('02', '2023-06-01T00:00:00Z', '2028-06-01T00:00:00Z')
    const verifier = new CertificateVerifier([old, next], () => Date.parse('2024-03-01T00:00:00Z'))
    expect(verifier.keyFor('01')).toBeUndefined()
    expect(verifier.keyFor('02')).toBeDefined()
  })

  it('rejects a PEM that is not a certificate with ConfigError', () => {
    expect(() => new CertificateVerifier(['nope'])).toThrow(ConfigError)
  })
})

describe('PlatformCertificateManager', () => {
  function setup(options: { refreshIntervalMs?: number; minDownloadIntervalMs?: number } = {}) {
    const fake = new FakeDownload()
    const clock = { now: Date.now() }
    // Keep the injected clock inside the generated certificates' validity.
    expect(clock.now).toBeGreaterThan(certA.validFrom.getTime())
    const manager = new PlatformCertificateManager({
      download: fake.download,
      clock: () => clock.now,
      refreshIntervalMs: options.refreshIntervalMs ?? 3600_000,
      minDownloadIntervalMs: options.minDownloadIntervalMs ?? 60_000,
    })
    return { fake, clock, manager }
  }

  it('downloads on the first lookup, once, and reuses the set afterwards', async () => {
    const { fake, clock, manager } = setup()
    fake.certs = [certA, certB]
    expect(fake.calls).toBe(0)
    expect(sameKey(await manager.keyFor(certA.serialNo), certA.publicKey)).toBe(true)
    expect(fake.calls).toBe(1)
    clock.now += 1000
    expect(sameKey(await manager.keyFor(certB.serialNo.toLowerCase()), certB.publicKey)).toBe(true)
    expect(sameKey(await manager.keyFor(certA.serialNo), certA.publicKey)).toBe(true)
    expect(fake.calls).toBe(1)
    expect(manager.downloads).toBe(1)
    expect(manager.certificates.map((c) => c.serialNo).sort()).toEqual(
      [certA.serialNo, certB.serialNo].sort(),
    )
  })

  it('collapses concurrent first lookups into one download', async () => {
    const { fake, manager } = setup()
    fake.certs = [certA]
    const keys = await Promise.all(Array.from({ length: 10 }, () => manager.keyFor(certA.serialNo)))
    expect(fake.calls).toBe(1)
    for (const key of keys) expect(sameKey(key, certA.publicKey)).toBe(true)
  })

  it('downloads exactly once more for an unknown serial, then finds it in the new list', async () => {
    const { fake, clock, manager } = setup()
    fake.certs = [certA]
    await manager.keyFor(certA.serialNo)
    expect(fake.calls).toBe(1)
    fake.certs = [certA, certB] // WeChat started a rotation
    clock.now += 60_000
    expect(sameKey(await manager.keyFor(certB.serialNo), certB.publicKey)).toBe(true)
    expect(fake.calls).toBe(2)
    // Known now: no more downloads.
    expect(sameKey(await manager.keyFor(certB.serialNo), certB.publicKey)).toBe(true)
    expect(fake.calls).toBe(2)
  })

  it('gives undefined after its one extra download when the new list lacks the serial', async () => {
    const { fake, clock, manager } = setup()
    fake.certs = [certA]
    await manager.keyFor(certA.serialNo)
    clock.now += 60_000
    expect(await manager.keyFor('FFFF')).toBeUndefined()
    expect(fake.calls).toBe(2)
  })

  it('collapses 10 concurrent lookups of an unknown serial into one download, and all find it', async () => {
    const { fake, clock, manager } = setup()
    fake.certs = [certA]
    await manager.keyFor(certA.serialNo)
    fake.certs = [certA, certB]
    const gate = deferred()
    fake.gate = gate.promise
    clock.now += 60_000
    const lookups = Promise.all(Array.from({ length: 10 }, () => manager.keyFor(certB.serialNo)))
    gate.resolve()
    const keys = await lookups
    expect(fake.calls).toBe(2)
    expect(keys.filter((k) => sameKey(k, certB.publicKey))).toHaveLength(10)
  })

  it('does not download again for a second unknown serial within the interval; does after it', async () => {
    const { fake, clock, manager } = setup({ minDownloadIntervalMs: 60_000 })
    fake.certs = [certA]
    await manager.keyFor(certA.serialNo)
    // Within a minute of the first download: no download for an unknown serial either.
    clock.now += 59_999
    expect(await manager.keyFor('AAAA00')).toBeUndefined()
    expect(fake.calls).toBe(1)
    clock.now += 1
    expect(await manager.keyFor('AAAA01')).toBeUndefined()
    expect(fake.calls).toBe(2)
    const first = clock.now

    clock.now = first + 59_999
    fake.certs = [certA, certB]
    expect(await manager.keyFor('AAAA02')).toBeUndefined()
    expect(await manager.keyFor(certB.serialNo)).toBeUndefined() // would be found, but no download
    expect(fake.calls).toBe(2)

    clock.now = first + 60_000
    expect(sameKey(await manager.keyFor(certB.serialNo), certB.publicKey)).toBe(true)
    expect(fake.calls).toBe(3)
  })

  it('answers from a set older than refreshIntervalMs at once, while one background refresh runs', async () => {
    const { fake, clock, manager } = setup({ refreshIntervalMs: 3600_000 })
    fake.certs = [certA]
    await manager.keyFor(certA.serialNo)
    expect(fake.calls).toBe(1)

    clock.now += 3600_000
    fake.certs = [certA, certB]
    const gate = deferred()
    fake.gate = gate.promise // the background download hangs until released
    expect(sameKey(await manager.keyFor(certA.serialNo), certA.publicKey)).toBe(true)
    expect(fake.calls).toBe(2)
    expect(sameKey(await manager.keyFor(certA.serialNo), certA.publicKey)).toBe(true)
    expect(fake.calls).toBe(2) // joined, not restarted
    expect(manager.certificates.map((c) => c.serialNo)).toEqual([certA.serialNo])

    gate.resolve()
    await settle()
    expect(manager.certificates.map((c) => c.serialNo).sort()).toEqual(
      [certA.serialNo, certB.serialNo].sort(),
    )
    // Fresh again: no download for a known serial.
    fake.gate = undefined
    expect(sameKey(await manager.keyFor(certB.serialNo), certB.publicKey)).toBe(true)
    expect(fake.calls).toBe(2)
  })

  it('keeps the old set when a background refresh fails', async () => {
    const { fake, clock, manager } = setup({ refreshIntervalMs: 1000 })
    fake.certs = [certA]
    await manager.keyFor(certA.serialNo)

    clock.now += 1000
    const gate = deferred()
    fake.gate = gate.promise
    fake.failure = new Error('503 from WeChat')
    expect(sameKey(await manager.keyFor(certA.serialNo), certA.publicKey)).toBe(true)
    expect(fake.calls).toBe(2)
    gate.resolve()
    await settle()

    expect(manager.certificates.map((c) => c.serialNo)).toEqual([certA.serialNo])
    fake.gate = undefined
    expect(sameKey(await manager.keyFor(certA.serialNo), certA.publicKey)).toBe(true)
  })

  it('downloads once, not twice, when the very first lookup is of an unknown serial', async () => {
    const { fake, manager } = setup()
    fake.certs = [certA]
    expect(await manager.keyFor('FFFF')).toBeUndefined()
    expect(fake.calls).toBe(1)
  })

  it('after a failed background refresh, waits for the schedule before downloading again', async () => {
    const { fake, clock, manager } = setup({ refreshIntervalMs: 1000 })
    fake.certs = [certA]
    await manager.keyFor(certA.serialNo)
    clock.now += 1000
    fake.failure = new Error('503 from WeChat')
    await manager.keyFor(certA.serialNo)
    await settle()
    expect(fake.calls).toBe(2)

    for (let i = 0; i < 5; i++)
      expect(sameKey(await manager.keyFor(certA.serialNo), certA.publicKey)).toBe(true)
    expect(fake.calls).toBe(2) // not one download per lookup
    clock.now += 1000
    await manager.keyFor(certA.serialNo)
    expect(fake.calls).toBe(3)
  })

  it('rejects when the first download fails, with that failure until the interval passed, then tries again', async () => {
    const { fake, clock, manager } = setup()
    fake.failure = new Error('network down')
    await expect(manager.keyFor(certA.serialNo)).rejects.toThrow('network down')
    expect(fake.calls).toBe(1)
    fake.failure = undefined
    fake.certs = [certA]
    clock.now += 59_999
    await expect(manager.keyFor(certA.serialNo)).rejects.toThrow('network down')
    expect(fake.calls).toBe(1)
    clock.now += 1
    expect(sameKey(await manager.keyFor(certA.serialNo), certA.publicKey)).toBe(true)
    expect(fake.calls).toBe(2)
  })

  it('a direct refresh() is not held back by the interval', async () => {
    const { fake, manager } = setup()
    fake.certs = [certA]
    await manager.keyFor(certA.serialNo)
    fake.certs = [certA, certB]
    await manager.refresh()
    expect(fake.calls).toBe(2)
    expect(sameKey(await manager.keyFor(certB.serialNo), certB.publicKey)).toBe(true)
  })

  it('ignores an expired certificate it downloaded', async () => {
    const { fake, clock, manager } = setup()
    fake.certs = [certA]
    clock.now = certA.validTo.getTime() + 1
    expect(await manager.keyFor(certA.serialNo)).toBeUndefined()
  })
})

describe('CombinedVerifier (migration, §3.6c)', () => {
  function setup() {
    const fake = new FakeDownload()
    fake.certs = [certA]
    const publicKey = new PublicKeyVerifier(
      merchant.platformPublicKeyId,
      merchant.platformPublicKey,
    )
    const certificates = new PlatformCertificateManager({ download: fake.download })
    const publicSpy = vi.spyOn(publicKey, 'keyFor')
    const certSpy = vi.spyOn(certificates, 'keyFor')
    const combined = new CombinedVerifier(publicKey, certificates)
    return { fake, combined, publicSpy, certSpy }
  }

  it('sends a `PUB_KEY_ID_…` serial to the public key only, never downloading certificates', async () => {
    const { fake, combined, publicSpy, certSpy } = setup()
    const expected = createPublicKey(merchant.platformPublicKey)
    expect(combined.requestSerial).toBe(merchant.platformPublicKeyId)
    expect(sameKey(await combined.keyFor(merchant.platformPublicKeyId), expected)).toBe(true)
    // Another public key id is simply unknown: no fallback to certificates.
    expect(await combined.keyFor('PUB_KEY_ID_0000000000000000000000000000000001')).toBeUndefined()
    expect(publicSpy).toHaveBeenCalledTimes(2)
    expect(certSpy).not.toHaveBeenCalled()
    expect(fake.calls).toBe(0)
  })

  it('sends any other serial to the certificates only', async () => {
    const { fake, combined, publicSpy, certSpy } = setup()
    expect(sameKey(await combined.keyFor(certA.serialNo), certA.publicKey)).toBe(true)
    expect(fake.calls).toBe(1)
    expect(await combined.keyFor('0123ABCD')).toBeUndefined()
    expect(certSpy).toHaveBeenCalledTimes(2)
    expect(publicSpy).not.toHaveBeenCalled()
  })
})
