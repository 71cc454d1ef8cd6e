import { inject } from 'vitest'
import { generateSandboxKeys, type SandboxKeys } from '../../src/keys'
import type {} from '../global-setup'

let cached: Promise<SandboxKeys> | undefined

/**
 * The run's sandbox keys, made once by ../global-setup.ts (generated here, once per file, when a
 * run has no such setup). Treat them as read-only: every file shares them.
 */
export function sandboxKeys(): Promise<SandboxKeys> {
  const provided = inject('sandboxKeys') as SandboxKeys | undefined
  cached ??= provided ? Promise.resolve(provided) : generateSandboxKeys()
  return cached
}
