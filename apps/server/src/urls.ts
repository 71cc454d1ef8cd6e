/**
 * URLs as Fen may log, store in `lastError` or show: a query string can carry a receiver's token
 * and `user:password@` a password, so neither ever leaves the process in a URL of ours.
 */

/**
 * `url` as `scheme://host[:port]/path`: without credentials, query or fragment; `?…` marks a query
 * that was there. Not a URL: `[not a URL]`.
 */
export function redactUrl(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return '[not a URL]'
  }
  // `host` holds the port; `origin` is "null" for schemes the URL standard does not know (nats:).
  return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`
}

/** `text` with every URL in it redacted (redactUrl): for error messages that quote one. */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]*[^\s"'<>().,;:]/gi, (url) =>
    redactUrl(url),
  )
}

/** Whether `url` carries credentials (`user@` or `user:password@`). */
export function hasCredentials(url: string): boolean {
  try {
    const u = new URL(url)
    return u.username !== '' || u.password !== ''
  } catch {
    return false
  }
}

/**
 * A sink's name as the admin API and the logs show it: `webhook:` with the URL redacted; other
 * sinks (`nats`) as they are.
 */
export function redactSink(sink: string): string {
  return sink.startsWith('webhook:') ? `webhook:${redactUrl(sink.slice('webhook:'.length))}` : sink
}
