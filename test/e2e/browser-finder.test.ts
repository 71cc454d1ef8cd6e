/**
 * How the browser suites find a browser (./support/browser.ts), on a made-up file system: no real
 * browser is needed or used.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { findChromium } from './support/browser'

const root = mkdtempSync(path.join(tmpdir(), 'fen-browser-finder-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** An executable file (or, with `mode` 0o644, a plain one) at `relative` under the temp root. */
function file(relative: string, mode = 0o755): string {
  const full = path.join(root, relative)
  mkdirSync(path.dirname(full), { recursive: true })
  writeFileSync(full, '#!/bin/sh\n')
  chmodSync(full, mode)
  return full
}

describe('finding a browser', () => {
  it('takes CHROME_PATH first, and never falls back to another browser when it is wrong', () => {
    const own = file('own/chrome')
    const onPath = file('bin1/chromium')
    const PATH = path.dirname(onPath)
    expect(findChromium({ CHROME_PATH: own, PATH }, 'linux')).toBe(own)
    expect(findChromium({ CHROME_PATH: path.join(root, 'missing'), PATH }, 'linux')).toBe(undefined)
  })

  it('finds chromium, chromium-browser or google-chrome on PATH, in PATH order', () => {
    const ubuntu = file('bin2/chromium-browser')
    const chrome = file('bin3/google-chrome')
    const PATH = [path.join(root, 'empty'), path.dirname(ubuntu), path.dirname(chrome)].join(
      path.delimiter,
    )
    expect(findChromium({ PATH }, 'linux')).toBe(ubuntu)
    expect(findChromium({ PATH: path.dirname(chrome) }, 'linux')).toBe(chrome)
  })

  it('skips a file that is not executable', () => {
    const plain = file('bin4/chromium', 0o644)
    expect(findChromium({ PATH: path.dirname(plain) }, 'linux')).toBe(undefined)
  })

  it("finds macOS's app bundles in ~/Applications, only on macOS", () => {
    const mac = file('home/Applications/Chromium.app/Contents/MacOS/Chromium')
    const env = { PATH: path.join(root, 'empty'), HOME: path.join(root, 'home') }
    expect(findChromium(env, 'darwin')).toBe(mac)
    expect(findChromium(env, 'linux')).toBe(undefined)
  })
})
