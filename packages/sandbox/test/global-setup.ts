/**
 * Vitest `globalSetup`: one sandbox key set for the whole run, handed to every test file through
 * `provide`/`inject` (see ./support/keys.ts). RSA key generation takes ~2 s per file on a quiet
 * 2-core machine and several times that on a busy one; done inside a test, it timed out CI.
 */
import type { TestProject } from 'vitest/node'
import { generateSandboxKeys, type SandboxKeys } from '../src/keys'

declare module 'vitest' {
  export interface ProvidedContext {
    sandboxKeys: SandboxKeys
  }
}

/** Generates the shared keys. */
export default async function setup(project: TestProject): Promise<void> {
  project.provide('sandboxKeys', await generateSandboxKeys())
}
