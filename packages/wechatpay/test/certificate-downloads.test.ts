/**
 * Forged notifications must not drive certificate downloads (issue #23, item 9). A notification
 * naming an unknown `Wechatpay-Serial` makes the certificate set download the list once, in case a
 * rotation is under way. Before the set had been downloaded successfully, every such lookup started
 * a download of its own: 200 forged notifications cost 200 calls to `/v3/certificates` while that
 * download failed. Downloads are single-flight and at least `minDownloadIntervalMs` apart from the
 * start, after failures too. Counted on a fake WeChat's transport; the clock is the client's.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { WechatPay, type PlatformCertificateManager } from '../src'
import { buildNotification, type TestMerchant } from '../src/testing'
import { createFakeWechat, fakeClientOptions, type FakeWechat } from './support/fake-wechat'
import { testMerchant } from './support/merchant'

let m: TestMerchant
beforeAll(async () => {
  m = await testMerchant()
})

const FORGED = 200

function setup() {
  const clock = { now: Date.now() }
  const tick = () => clock.now
  const fake = createFakeWechat(m, { clock: tick, mode: 'certificate' })
  const wxpay = new WechatPay(
    fakeClientOptions(m, fake, tick, {
      platform: { certificates: 'download' },
      // One request per download, so requests count downloads.
      maxRetries: 0,
    }),
  )
  const manager = wxpay.client.verifier as PlatformCertificateManager
  return { clock, fake, wxpay, manager }
}

const downloads = (fake: FakeWechat) => fake.requestsTo('/v3/certificates').length

/** A notification signed by a key WeChat never issued, under a serial no list holds. */
function forged(i: number) {
  return buildNotification({
    apiV3Key: m.apiV3Key,
    privateKey: m.merchantPrivateKey,
    serial: `5157F09EFDC096DE15EBE81A47057A72${String(i).padStart(8, '0')}`,
    eventType: 'TRANSACTION.SUCCESS',
    resource: { out_trade_no: `forged-${i}` },
    timestamp: Math.floor(Date.now() / 1000),
  })
}

/** Parses each forged notification; resolves with how each was refused. */
async function parseAll(wxpay: WechatPay, from: number, count: number, together: boolean) {
  const one = (i: number) => {
    const n = forged(i)
    return wxpay.parseNotification(new Headers(n.headers), n.body).then(
      () => 'accepted',
      (e: Error & { reason?: string }) => e.reason ?? e.name,
    )
  }
  if (together) return Promise.all(Array.from({ length: count }, (_, i) => one(from + i)))
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(await one(from + i))
  return out
}

describe('certificate downloads caused by notifications', () => {
  it('200 forged notifications while the download fails: one download, not 200; the next only after the interval', async () => {
    const { clock, fake, wxpay, manager } = setup()
    fake.route('GET', '/v3/certificates', { status: 503, body: { code: 'SYSTEM_ERROR' } })

    const answers = await parseAll(wxpay, 0, FORGED, false)
    expect(answers.every((a) => a !== 'accepted')).toBe(true)
    expect(downloads(fake)).toBe(1)

    // All at once, still inside the interval: no download.
    await parseAll(wxpay, FORGED, FORGED, true)
    expect(downloads(fake)).toBe(1)

    // The interval applies after failures too: one more download once it has passed.
    clock.now += 60_000
    await parseAll(wxpay, 2 * FORGED, FORGED, true)
    expect(downloads(fake)).toBe(2)
    expect(manager.downloads).toBe(2)
  })

  it('200 forged notifications at once on a fresh client: one download; after it succeeded, none more within the interval', async () => {
    const { clock, fake, wxpay } = setup()
    fake.serveCertificates({ list: [0, 1] })

    const answers = await parseAll(wxpay, 0, FORGED, true)
    expect(new Set(answers)).toEqual(new Set(['unknown_serial']))
    expect(downloads(fake)).toBe(1)

    clock.now += 1000
    await parseAll(wxpay, FORGED, FORGED, false)
    expect(downloads(fake)).toBe(1)
  })

  it('a first download that failed is retried by a lookup after the interval, and then verifies', async () => {
    const { clock, fake, wxpay } = setup()
    fake.reply({ fail: 'network' })
    const first = buildNotification({
      apiV3Key: m.apiV3Key,
      privateKey: m.platformCertificates[0]!.privateKey,
      serial: m.platformCertificates[0]!.serialNo,
      eventType: 'TRANSACTION.SUCCESS',
      resource: { out_trade_no: 'genuine-1' },
      timestamp: Math.floor(clock.now / 1000),
    })
    await expect(wxpay.parseNotification(new Headers(first.headers), first.body)).rejects.toThrow()
    // Within the interval: refused again from the failure, without a download.
    await expect(wxpay.parseNotification(new Headers(first.headers), first.body)).rejects.toThrow()
    expect(downloads(fake)).toBe(1)

    fake.serveCertificates({ list: [0] })
    clock.now += 60_000
    const again = buildNotification({
      apiV3Key: m.apiV3Key,
      privateKey: m.platformCertificates[0]!.privateKey,
      serial: m.platformCertificates[0]!.serialNo,
      eventType: 'TRANSACTION.SUCCESS',
      resource: { out_trade_no: 'genuine-2' },
      timestamp: Math.floor(clock.now / 1000),
    })
    const event = await wxpay.parseNotification(new Headers(again.headers), again.body)
    expect(event.type).toBe('transaction')
    expect(downloads(fake)).toBe(2)
  })
})
