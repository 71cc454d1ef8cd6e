/** redactUrl: what of a URL Fen logs, stores in `lastError` or shows (src/urls.ts). */
import { describe, expect, it } from 'vitest'
import { redactSink, redactUrl, redactUrlsIn } from '../src/urls'

describe('redactUrl', () => {
  it.each([
    [
      'https://hook:pw@hooks.example.com:8443/a/b?token=t#frag',
      'https://hooks.example.com:8443/a/b?…',
    ],
    ['https://hooks.example.com', 'https://hooks.example.com/'],
    ['http://127.0.0.1:3000/fen/events', 'http://127.0.0.1:3000/fen/events'],
    ['nats://fen:pw@nats.internal:4222', 'nats://nats.internal:4222'],
    ['not a url', '[not a URL]'],
  ])('%s → %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown)
  })

  it('redacts every URL an error message quotes, and leaves the rest alone', () => {
    expect(
      redactUrlsIn(
        'Request cannot be constructed from a URL that includes credentials: http://u:pw@h.test/x?t=1. (tls://a:b@n:4222), ok',
      ),
    ).toBe(
      'Request cannot be constructed from a URL that includes credentials: http://h.test/x?…. (tls://n:4222), ok',
    )
    expect(redactUrlsIn('HTTP 500')).toBe('HTTP 500')
  })

  it('names a webhook sink by its redacted URL; NATS as it is', () => {
    expect(redactSink('webhook:https://h.test/x?token=t')).toBe('webhook:https://h.test/x?…')
    expect(redactSink('nats')).toBe('nats')
  })
})
