import { generateTestMerchant, type TestMerchant } from '../../src/testing'

let cached: Promise<TestMerchant> | undefined

/**
 * One generated test merchant per test file (vitest isolates files), with two platform
 * certificates for rotation cases. Key generation takes a few hundred milliseconds.
 */
export function testMerchant(): Promise<TestMerchant> {
  cached ??= generateTestMerchant({ platformCertificateCount: 2 })
  return cached
}
