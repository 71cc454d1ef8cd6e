import type { LookupAddress } from 'node:dns'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { connect, type JetStreamClient, type NatsConnection } from 'nats'
import type { Config } from '../config'
import type { Logger } from '../logger'
import {
  claimDueDeliveries,
  fanOutEvents,
  markSinkDelivered,
  markSinkFailed,
  type DueDelivery,
} from '../repositories/outbox-deliveries'
import type { ServiceContext } from '../services/context'
import {
  interfaceAddresses,
  pinnedLookup,
  resolveHost,
  vetDestination,
  type ResolveHost,
} from '../destinations'
import { eachWithConcurrency } from './outbox'
import { redactSink, redactUrlsIn } from '../urls'
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
const LEASE_MS = 60_000
const BATCH = 100
const CONCURRENCY = 8
/** Retry delays after a failed delivery to a sink, in seconds; the last repeats. */
export const SINK_BACKOFF_S = [10, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800]
/** A delivery is given up (`failed`) when its next attempt would be this long after it was queued. */
export const SINK_GIVE_UP_MS = 24 * 3600 * 1000

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

/** Adds each claimed event's deliveries to every sink (the outbox job calls it per batch). */
export async function fanOut(ctx: ServiceContext, eventIds: number[]): Promise<void> {
  if (ctx.sinks) await fanOutEvents(ctx.db, eventIds, ctx.sinks.names, ctx.clock())
}

/**
 * One run over the sinks: claims due deliveries in batches and sends them, CONCURRENCY at a time;
 * a failure is retried on SINK_BACKOFF_S until a day after it was queued, then `failed` with an
 * ALERT line. (Each event reaches a sink at least once: receivers deduplicate by Fen-Event-Id.)
 */
export async function deliverToSinksOnce(
  ctx: ServiceContext,
): Promise<{ delivered: number; failed: number }> {
  const sinks = ctx.sinks
  let delivered = 0
  let failed = 0
  if (!sinks) return { delivered, failed }
  const send = async (d: DueDelivery) => {
    const e = d.event
    try {
      await sinks.send(
        d.sink,
        {
          id: e.id,
          type: e.type,
          orderNo: e.orderNo,
          createdAt: e.createdAt.toISOString(),
          payload: e.payload,
        },
        ctx.clock(),
      )
      await markSinkDelivered(ctx.db, d, ctx.clock())
      delivered++
    } catch (err) {
      failed++
      // Stored and logged: a URL the error quotes loses its credentials and query string.
      const error = redactUrlsIn(err instanceof Error ? err.message : String(err))
      const delayS = SINK_BACKOFF_S[Math.min(d.attempts, SINK_BACKOFF_S.length - 1)]!
      const next = new Date(ctx.clock().getTime() + delayS * 1000)
      const giveUp = next.getTime() - d.queuedAt.getTime() > SINK_GIVE_UP_MS
      await markSinkFailed(ctx.db, d, { next: giveUp ? undefined : next, error })
      const log = { eventId: e.id, sink: redactSink(d.sink), attempt: d.attempts + 1, error }
      if (giveUp)
        ctx.logger.error(log, 'ALERT: event delivery to a sink failed for a day; given up')
      else ctx.logger.warn(log, 'event delivery to a sink failed; will retry')
    }
  }
  for (;;) {
    const due = await claimDueDeliveries(ctx.db, ctx.clock(), LEASE_MS, BATCH)
    await eachWithConcurrency(due, CONCURRENCY, send)
    if (due.length < BATCH) break
  }
  return { delivered, failed }
}
