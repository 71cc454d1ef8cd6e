import type { MiniProgramClient } from '@fen/wechatpay'
import type { Config } from '../config'
import type { EventSinks } from '../events/sinks'
import type { Db } from '../db/client'
import type { Logger } from '../logger'
import type { Metrics } from '../metrics'
import type { PayGateway } from '../wechat/gateway'

/** What every service is built from (wired in main.ts, or by tests). */
export interface ServiceContext {
  db: Db
  config: Config
  gateway: PayGateway
  /** The mini-program server APIs (shipping management), with the database-shared access_token. */
  miniProgram: MiniProgramClient
  /** The time, injected so tests move it instead of faking timers. */
  clock: () => Date
  logger: Logger
  metrics: Metrics
  /** Webhooks and NATS the outbox also delivers to; undefined when none is configured. */
  sinks?: EventSinks | undefined
}
