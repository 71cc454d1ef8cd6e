import { basePlatform } from './base'
import { withSandbox } from './sandbox'
import type { Platform } from './types'

/**
 * The platform, fixed at build time: `./base` resolves to the weapp or the H5 implementation (Taro's
 * per-platform files), and FEN_SANDBOX (a build-time constant) wraps it with the sandbox. CI checks
 * that production builds contain no sandbox code.
 */
export const platform: Platform = FEN_SANDBOX ? withSandbox(basePlatform) : basePlatform

export type { Platform, PayOutcome, PayingOrder } from './types'
