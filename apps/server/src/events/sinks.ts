/**
 * The event sinks: how an outbox event is sent to a webhook (signed, to the addresses vetted at
 * each delivery) or published to NATS JetStream. Sending only: which events go where, and when,
 * is services/outbox.ts's (delivery rows, leases, backoff).
 */
import type { LookupAddress } from 'node:dns'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { connect, type JetStreamClient, type NatsConnection } from 'nats'
import type { Config } from '../config'
import type { Logger } from '../logger'
import {
  interfaceAddresses,
  pinnedLookup,
  resolveHost,
  vetDestination,
  type ResolveHost,
} from '../destinations'
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhook } from '../webhooks'

/** What a sink receives: the event as the webhook body carries it. */
export interface SinkEvent {
  id: number
  type: string
  orderNo: string
  createdAt: string
  payload: unknown
}

/**
 * The shop's own systems the outbox delivers each event to, besides the in-process handler:
 * each webhook URL (sink `webhook:<url>`) and NATS JetStream (sink `nats`). Built from the config.
 */
export interface EventSinks {
  names: string[]
  webhookNames: string[]
  send(sink: string, event: SinkEvent, at: Date): Promise<void>
  close(): Promise<void>
}

const WEBHOOK_TIMEOUT_MS = 10_000

/** How webhook hosts are resolved (tests give their own: names no DNS knows, any address). */
export interface SinkOptions {
  resolve?: ResolveHost
  /** This server's own addresses (default: every interface's). */
  ownAddresses?: () => string[]
}

/**
 * The sinks of `config` (undefined when there are none). A webhook's host is resolved at each
 * delivery and, unless `config.allowPrivate`, refused when any address is internal or this
 * server's own (destinations.ts); the request goes to the addresses checked.
 */
export function createSinks(
  config: Config['events'],
  logger: Logger,
  options: SinkOptions = {},
): EventSinks | undefined {
  const resolve = options.resolve ?? resolveHost
  const ownAddresses = options.ownAddresses ?? interfaceAddresses
  const webhookNames = config.webhookUrls.map((u) => `webhook:${u}`)
  const names = [...webhookNames, ...(config.nats ? ['nats'] : [])]
  if (names.length === 0) return undefined
  let nats: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined
  const jetstream = () => {
    const settings = config.nats!
    // Connected on first use and kept; a failed connect is retried on the next delivery.
    nats ??= (async () => {
      // nats.js reads `tls://` as `nats://`: without the `tls` option a server (or someone in
      // between) that offers no TLS gets the events in clear.
      const nc = await connect({
        servers: settings.url,
        timeout: 5000,
        ...(new URL(settings.url).protocol === 'tls:' ? { tls: {} } : {}),
      })
      const jsm = await nc.jetstreamManager()
      try {
        await jsm.streams.info(settings.stream)
      } catch {
        await jsm.streams.add({ name: settings.stream, subjects: [`${settings.subjectPrefix}.>`] })
        logger.info({ stream: settings.stream }, 'NATS stream created')
      }
      return { nc, js: nc.jetstream() }
    })().catch((e: unknown) => {
      nats = undefined
      throw e
    })
    return nats
  }
  return {
    names,
    webhookNames,
    async send(sink, event, at) {
      const body = JSON.stringify(event)
      if (sink === 'nats') {
        const { js } = await jetstream()
        // Nats-Msg-Id: the stream drops a repeat within its duplicate window (2 min by default),
        // so a publish retried after a lost ack is stored once.
        await js.publish(
          `${config.nats!.subjectPrefix}.${event.type}`,
          new TextEncoder().encode(body),
          {
            msgID: String(event.id),
          },
        )
        return
      }
      const url = new URL(sink.slice('webhook:'.length))
      // `[::1]` in a URL, `::1` to resolve and connect.
      const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1')
      const addresses = config.allowPrivate
        ? await resolve(hostname)
        : await vetDestination(hostname, resolve, ownAddresses)
      const status = await post(url, addresses, body, {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signWebhook(body, config.webhookSecret!, at),
        [EVENT_ID_HEADER]: String(event.id),
        'Fen-Event-Type': event.type,
      })
      if (status < 200 || status >= 300) throw new Error(`HTTP ${status}`)
    },
    async close() {
      const open = nats
      nats = undefined
      if (open) await (await open.catch(() => undefined))?.nc.drain()
    },
  }
}

/**
 * POSTs `body` to `url`, connecting only to `addresses` (resolved and checked by the caller: no
 * second lookup); TLS still checks the certificate against the URL's host. A redirect is an answer
 * like any other (not followed). Resolves with the status once the headers arrive.
 */
function post(
  url: URL,
  addresses: LookupAddress[],
  body: string,
  headers: Record<string, string>,
): Promise<number> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinnedLookup(addresses),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      },
      (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}
