import { loggable, type Logger } from '../logger'

/** What the job needs of the SDK's PlatformCertificateManager (`wxpay.client.platformCertificates`). */
export interface PlatformCertificateSource {
  refresh(): Promise<void>
}

/** The platform certificates are downloaded again at least this often. */
export const CERTIFICATE_REFRESH_MS = 12 * 3600_000
/** How often main.ts runs the job; a failed download is retried on each run. */
export const CERTIFICATE_JOB_INTERVAL_MS = 10 * 60_000

/**
 * Certificate mode (平台证书): the certificate list is downloaded at start and again once the last
 * download is 12 h old by the server's clock, whatever the traffic — so a certificate WeChat lists
 * ahead of a rotation is held before it signs. Between runs, the SDK itself downloads again on an
 * unknown `Wechatpay-Serial` (at most once a minute) and, on lookups, once its set is an hour old.
 * A failed download keeps the certificates held and is retried on the next run.
 */
export class CertificateRefresher {
  /** When the last download succeeded (server clock); undefined until one did. */
  lastRefreshAt: Date | undefined

  constructor(
    private readonly source: PlatformCertificateSource,
    private readonly clock: () => Date,
    private readonly logger: Logger,
  ) {}

  /** At start: download now. Resolves false (logged) when WeChat could not be reached. */
  async start(): Promise<boolean> {
    return (await this.#refresh()) === 'refreshed'
  }

  /** One run of the job: downloads when the last success is 12 h old (or none succeeded yet). */
  async runOnce(): Promise<'refreshed' | 'fresh' | 'failed'> {
    const last = this.lastRefreshAt
    if (last && this.clock().getTime() - last.getTime() < CERTIFICATE_REFRESH_MS) return 'fresh'
    return this.#refresh()
  }

  async #refresh(): Promise<'refreshed' | 'failed'> {
    try {
      await this.source.refresh()
      this.lastRefreshAt = this.clock()
      return 'refreshed'
    } catch (e) {
      this.logger.error(
        { err: loggable(e) },
        'ALERT: platform certificates could not be downloaded; retried on the next run',
      )
      return 'failed'
    }
  }
}
