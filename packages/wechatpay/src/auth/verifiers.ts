import type { KeyObject } from 'node:crypto'
import { systemClock, type Clock } from '../core/clock'
import { ConfigError, WechatPayError } from '../core/errors'
import { loadPublicKey, normalizeSerial, parseCertificate, type ParsedCertificate } from './keys'

/**
 * Knows which WeChat Pay public key checks a signature made under a given `Wechatpay-Serial`.
 * Verification itself is one pure function (`verifySigned`); verifiers only pick the key.
 */
export interface Verifier {
  /** The key for `serial`, or undefined when none is known. May fetch (certificate refresh). */
  keyFor(serial: string): KeyObject | undefined | Promise<KeyObject | undefined>
  /**
   * The serial to send as the `Wechatpay-Serial` request header, asking WeChat to sign its responses
   * with that key (how a merchant opts in to public-key responses during migration).
   */
  readonly requestSerial?: string
}

/** Prefix of WeChat Pay public key IDs (`PUB_KEY_ID_` + digits; the digits are opaque). */
export const PUBLIC_KEY_ID_PREFIX = 'PUB_KEY_ID_'

/**
 * The WeChat Pay public key (微信支付公钥) mode: one key, named by its `PUB_KEY_ID_…` id.
 * @see https://pay.weixin.qq.com/docs/merchant/products/update-pub-key/wxp-pub-key-guide.html
 */
export class PublicKeyVerifier implements Verifier {
  readonly keyId: string
  readonly requestSerial: string
  readonly #key: KeyObject

  constructor(keyId: string, publicKey: string | Buffer | KeyObject) {
    if (!keyId.startsWith(PUBLIC_KEY_ID_PREFIX)) {
      throw new ConfigError(`a WeChat Pay public key id starts with ${PUBLIC_KEY_ID_PREFIX}`)
    }
    this.keyId = keyId
    this.requestSerial = keyId
    this.#key = loadPublicKey(publicKey)
  }

  keyFor(serial: string): KeyObject | undefined {
    return serial === this.keyId ? this.#key : undefined
  }
}

/**
 * A fixed set of platform certificates (平台证书), keyed by serial. Expired certificates are
 * ignored. For certificates downloaded and refreshed automatically, use
 * {@link PlatformCertificateManager}.
 */
export class CertificateVerifier implements Verifier {
  readonly #certs: Map<string, ParsedCertificate>
  readonly #clock: Clock

  constructor(certificates: Iterable<string | ParsedCertificate>, clock: Clock = systemClock) {
    this.#certs = indexBySerial(certificates)
    this.#clock = clock
  }

  keyFor(serial: string): KeyObject | undefined {
    return usableKey(this.#certs.get(normalizeSerial(serial)), this.#clock())
  }
}

/** Options of {@link PlatformCertificateManager}. */
export interface PlatformCertificateManagerOptions {
  /** Downloads, decrypts and checks the current certificates (`GET /v3/certificates`). */
  download: () => Promise<ParsedCertificate[]>
  clock?: Clock
  /** How old the set may get before a lookup refreshes it in the background. Default 1 hour. */
  refreshIntervalMs?: number
  /**
   * The least time between the starts of two downloads that lookups cause for want of a key (the
   * first download, an unknown serial), failed ones included, so forged serials or a failing
   * WeChat cannot make us hammer `/v3/certificates`. Default 60 s. Neither the background refresh
   * of a stale set (once per `refreshIntervalMs`) nor {@link PlatformCertificateManager.refresh}
   * called directly is held back by it, nor counts toward it.
   */
  minDownloadIntervalMs?: number
  /** @deprecated The old name of `minDownloadIntervalMs`. */
  unknownSerialCooldownMs?: number
}

/**
 * Platform certificates (平台证书) downloaded from `/v3/certificates` and kept fresh:
 * - the first lookup downloads them;
 * - a lookup on a set older than `refreshIntervalMs` uses it and refreshes in the background
 *   (a schedule without a timer, so nothing keeps the process alive);
 * - an unknown serial (a rotation in progress) triggers one refresh before giving up;
 * - downloads are single-flight: lookups that arrive during one wait for it;
 * - lookups start a download for want of a key at most once per `minDownloadIntervalMs`, from
 *   the very first one and after failures too; until a download has succeeded, a lookup within
 *   the interval fails with the last download's error, without downloading.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
 */
export class PlatformCertificateManager implements Verifier {
  readonly #download: () => Promise<ParsedCertificate[]>
  readonly #clock: Clock
  readonly #refreshIntervalMs: number
  readonly #minIntervalMs: number
  #certs = new Map<string, ParsedCertificate>()
  /** When the last successful download finished; undefined until the first. */
  #loadedAt: number | undefined
  /** When the last download started, successful or not: the schedule counts from here. */
  #attemptedAt = -Infinity
  /** When a lookup last started a download for want of a key: the least interval counts from here. */
  #wantedAt = -Infinity
  /** Why the last download failed (cleared by a success). */
  #lastFailure: unknown
  #inflight: Promise<void> | undefined
  /** Downloads started so far (for tests and metrics). */
  downloads = 0

  constructor(options: PlatformCertificateManagerOptions) {
    this.#download = options.download
    this.#clock = options.clock ?? systemClock
    this.#refreshIntervalMs = options.refreshIntervalMs ?? 60 * 60 * 1000
    this.#minIntervalMs =
      options.minDownloadIntervalMs ?? options.unknownSerialCooldownMs ?? 60 * 1000
  }

  /** The certificates currently held. */
  get certificates(): ParsedCertificate[] {
    return [...this.#certs.values()]
  }

  async keyFor(serial: string): Promise<KeyObject | undefined> {
    const wanted = normalizeSerial(serial)
    if (this.#loadedAt === undefined) {
      // Nothing held yet: join a download under way, or start one if the interval allows.
      await this.#downloadForLookup()?.catch(() => undefined)
      if (this.#loadedAt === undefined) throw this.#failure()
      return usableKey(this.#certs.get(wanted), this.#clock())
    }
    if (this.#clock() - this.#attemptedAt >= this.#refreshIntervalMs) {
      // Stale: answer from what we hold; a failed background refresh keeps the old set and is
      // retried on the schedule, not on every lookup.
      this.refresh().catch(() => undefined)
    }
    const key = usableKey(this.#certs.get(wanted), this.#clock())
    if (key) return key
    // A rotation in progress, perhaps: wait for a download under way, or start one if allowed.
    const download = this.#downloadForLookup()
    if (!download) return undefined
    await download.catch(() => undefined)
    return usableKey(this.#certs.get(wanted), this.#clock())
  }

  /**
   * The download a lookup lacking its key waits for: the one under way, else a new one unless a
   * lookup started one less than the least interval ago (then undefined).
   */
  #downloadForLookup(): Promise<void> | undefined {
    if (this.#inflight) return this.#inflight
    if (this.#clock() - this.#wantedAt < this.#minIntervalMs) return undefined
    this.#wantedAt = this.#clock()
    return this.refresh()
  }

  /** The error a lookup fails with while no download has succeeded. */
  #failure(): unknown {
    return (
      this.#lastFailure ??
      new WechatPayError('the platform certificates have not been downloaded yet')
    )
  }

  /** Downloads the certificate list now (joining a download already under way). */
  refresh(): Promise<void> {
    if (!this.#inflight) {
      this.downloads++
      this.#attemptedAt = this.#clock()
      this.#inflight = this.#download()
        .then(
          (certs) => {
            this.#certs = indexBySerial(certs)
            this.#loadedAt = this.#clock()
            this.#lastFailure = undefined
          },
          (e: unknown) => {
            this.#lastFailure = e
            throw e
          },
        )
        .finally(() => {
          this.#inflight = undefined
        })
    }
    return this.#inflight
  }
}

/**
 * Both modes at once, for the move from platform certificates to the WeChat Pay public key: the
 * incoming `Wechatpay-Serial` picks the key: `PUB_KEY_ID_…` → the public key, anything else → the
 * certificate set. (Trying one and falling back to the other is the bug this avoids.)
 */
export class CombinedVerifier implements Verifier {
  readonly requestSerial: string
  readonly #publicKey: PublicKeyVerifier
  readonly #certificates: Verifier

  constructor(publicKey: PublicKeyVerifier, certificates: Verifier) {
    this.#publicKey = publicKey
    this.#certificates = certificates
    this.requestSerial = publicKey.requestSerial
  }

  keyFor(serial: string): KeyObject | undefined | Promise<KeyObject | undefined> {
    return serial.startsWith(PUBLIC_KEY_ID_PREFIX)
      ? this.#publicKey.keyFor(serial)
      : this.#certificates.keyFor(serial)
  }
}

function indexBySerial(
  certs: Iterable<string | ParsedCertificate>,
): Map<string, ParsedCertificate> {
  const map = new Map<string, ParsedCertificate>()
  for (const c of certs) {
    const parsed = typeof c === 'string' ? parseCertificate(c) : c
    map.set(parsed.serialNo, parsed)
  }
  return map
}

function usableKey(cert: ParsedCertificate | undefined, now: number): KeyObject | undefined {
  if (!cert) return undefined
  return now >= cert.validFrom.getTime() && now <= cert.validTo.getTime()
    ? cert.publicKey
    : undefined
}
