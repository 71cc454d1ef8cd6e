/**
 * The sandbox's pages: the console's built files under /__sandbox/ (routes/page.ts), and the page
 * that says how to build them when they are not. The browser suite (test/e2e/sandbox-console.test.ts)
 * drives the real page.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SandboxKeys } from '../src/keys'
import { sandboxKeys } from './support/keys'
import { startSandbox, type RunningSandbox } from '../src/server'

const BUILT = fileURLToPath(new URL('../console/dist', import.meta.url))
const INDEX =
  '<!doctype html><title>Fen sandbox</title><script src="/__sandbox/assets/app-1a2b.js"></script>'

let keys: SandboxKeys
let fake: string
let sb: RunningSandbox
let unbuilt: RunningSandbox

beforeAll(async () => {
  keys = await sandboxKeys()
  fake = mkdtempSync(join(tmpdir(), 'fen-console-'))
  mkdirSync(join(fake, 'assets'))
  writeFileSync(join(fake, 'index.html'), INDEX)
  writeFileSync(join(fake, 'assets', 'app-1a2b.js'), 'console.log(1)')
  writeFileSync(join(fake, 'secret.txt'), 'not an asset')
  sb = await startSandbox({ keys, port: 0, consoleDir: fake })
  unbuilt = await startSandbox({ keys, port: 0, consoleDir: join(fake, 'missing') })
})
afterAll(async () => {
  await sb?.close()
  await unbuilt?.close()
  rmSync(fake, { recursive: true, force: true })
})

const get = (target: RunningSandbox, path: string) => fetch(target.url + path)

describe('the console page', () => {
  it('is the same index.html at /__sandbox/, /__sandbox, /__sandbox/scan and /__sandbox/h5pay', async () => {
    for (const path of [
      '/__sandbox/',
      '/__sandbox',
      '/__sandbox/scan?code_url=weixin%3A%2F%2Fwxpay%2Fbizpayurl%3Fpr%3Dabc',
      '/__sandbox/h5pay?prepay_id=wx123',
    ]) {
      const res = await get(sb, path)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(res.headers.get('cache-control')).toBe('no-cache')
      expect(await res.text()).toBe(INDEX)
    }
  })

  it('reflects nothing from the request into the page', async () => {
    const evil = '"</script><script>alert(1)</script>'
    for (const path of [
      `/__sandbox/scan?code_url=${encodeURIComponent(evil)}`,
      `/__sandbox/h5pay?prepay_id=${encodeURIComponent(evil)}`,
    ]) {
      expect(await (await get(sb, path)).text()).toBe(INDEX)
    }
  })

  it('serves its assets with their type, cached for good (their names carry a hash)', async () => {
    const res = await get(sb, '/__sandbox/assets/app-1a2b.js')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(await res.text()).toBe('console.log(1)')
  })

  it('serves nothing outside assets/, and answers 404 for an unknown asset', async () => {
    for (const path of [
      '/__sandbox/assets/nope.js',
      '/__sandbox/assets/..%2Fsecret.txt',
      '/__sandbox/assets/../secret.txt',
      '/__sandbox/secret.txt',
    ]) {
      const res = await get(sb, path)
      expect(res.status, path).toBe(404)
      expect(await res.text()).not.toContain('not an asset')
    }
  })

  it('unbuilt, says how to build it (503), and the control API still works', async () => {
    for (const path of ['/__sandbox/', '/__sandbox/scan?code_url=x']) {
      const res = await get(unbuilt, path)
      expect(res.status).toBe(503)
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
      const text = await res.text()
      expect(text).toContain('pnpm --filter @fen/sandbox build:console')
      expect(text).toContain('控制台页面尚未构建')
    }
    expect((await get(unbuilt, '/__sandbox/merchant')).status).toBe(200)
  })

  it("by default is this package's console/dist, as `build:console` leaves it", async () => {
    // `pnpm test` builds the console first (turbo: @fen/sandbox#test depends on build:console).
    expect(
      existsSync(join(BUILT, 'index.html')),
      'run pnpm --filter @fen/sandbox build:console',
    ).toBe(true)
    const other = await startSandbox({ keys, port: 0 })
    try {
      const html = await (await get(other, '/__sandbox/')).text()
      expect(html).toBe(readFileSync(join(BUILT, 'index.html'), 'utf8'))
      const script = /src="(\/__sandbox\/assets\/[^"]+\.js)"/.exec(html)?.[1]
      expect(script).toBeDefined()
      const res = await get(other, script!)
      expect(res.status).toBe(200)
      expect((await res.text()).length).toBeGreaterThan(1000)
    } finally {
      await other.close()
    }
  })
})
