/**
 * @fen/sandbox — an offline, protocol-faithful WeChat Pay (APIv3 and APIv2) and mini-program login.
 * Start it in code with `startSandbox()`, or from the command line with `fen-sandbox` (`pnpm sandbox`).
 */
export { startSandbox, type RunningSandbox, type StartSandboxOptions } from './server'
export { Sandbox, type SandboxOptions } from './sandbox'
export { SandboxClock } from './clock'
export {
  generateSandboxKeys,
  loadOrCreateKeys,
  readKeysFile,
  merchantView,
  type SandboxKeys,
  type SandboxMerchant,
  type PlatformMode,
} from './keys'
export {
  V3_RETRY_SCHEDULE,
  V2_RETRY_SCHEDULE,
  type NotificationRecord,
  type Attempt,
  type DeliveryEvent,
} from './notifier'
export { PATH_FAULTS, NOTIFICATION_FAULTS, type Fault } from './faults'
export { type CallRecord } from './calls'
export { type SandboxEvent } from './events'
export { tradeBillCsv } from './routes/bills'
