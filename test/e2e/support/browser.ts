/**
 * The browser for the browser suites: whatever Chrome or Chromium this machine has, driven by
 * playwright-core (never a downloaded browser). Looked for, in order: `CHROME_PATH`; `chromium`,
 * `chromium-browser`, `google-chrome`, `google-chrome-stable` on PATH; the macOS app bundles.
 *
 * Without one, the browser suites are skipped (the rest of `pnpm test` still runs) and the run's
 * summary says how to install one (./browser-reporter.ts). With `FEN_REQUIRE_BROWSER=1` (CI sets
 * it) each browser suite fails instead, so CI can never pass without having run them.
 */
import { accessSync, constants, statSync } from 'node:fs'
import path from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { describe, expect, it } from 'vitest'

const ON_PATH = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']
const MAC_APPS = [
  'Google Chrome.app/Contents/MacOS/Google Chrome',
  'Chromium.app/Contents/MacOS/Chromium',
]

const HOW_TO_INSTALL = [
  '  Debian/Ubuntu: sudo apt-get install chromium   (Ubuntu may name it chromium-browser)',
  '  macOS:         brew install --cask chromium    (or Google Chrome)',
  'or point CHROME_PATH at a Chrome/Chromium executable.',
].join('\n')

/** What a person reads when there is no browser: `what` happened, then how to install one. */
export function noBrowserMessage(what: string): string {
  return `No Chrome or Chromium found, ${what}. Install one:\n${HOW_TO_INSTALL}`
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return statSync(file).isFile()
  } catch {
    return false
  }
}

/**
 * The Chrome/Chromium executable to use, or undefined. `env` and `platform` are parameters so the
 * search can be tested; a `CHROME_PATH` that is not an executable file finds nothing (it is never
 * silently replaced by another browser).
 */
export function findChromium(
  env: Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  if (env.CHROME_PATH) return executable(env.CHROME_PATH) ? env.CHROME_PATH : undefined
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of ON_PATH) {
      const file = path.join(dir, name)
      if (executable(file)) return file
    }
  }
  if (platform === 'darwin') {
    const roots = ['/Applications', ...(env.HOME ? [path.join(env.HOME, 'Applications')] : [])]
    for (const root of roots) {
      for (const app of MAC_APPS) {
        const file = path.join(root, app)
        if (executable(file)) return file
      }
    }
  }
  return undefined
}

/** This machine's browser (see the top of the file); undefined when there is none. */
export const chromiumPath = findChromium()

/** Whether a missing browser fails the browser suites instead of leaving them unrun (CI). */
export const browserRequired = process.env.FEN_REQUIRE_BROWSER === '1'

/**
 * Launches this machine's Chromium headless, with the flags a shared test machine wants (no
 * sandbox: CI runs as root; no GPU, QUIC or background traffic). Throws how to install one when
 * there is no browser.
 */
export async function launchChromium(): Promise<Browser> {
  if (!chromiumPath) throw new Error(noBrowserMessage('so Chromium cannot be launched'))
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}

/**
 * `describe` for a suite that needs a browser: runs when there is one. With none, the suite is not
 * registered: FEN_REQUIRE_BROWSER=1 (CI, via .ci/run) gets one failing test saying how to install
 * it; otherwise (a newcomer's `pnpm test` on a machine without Chromium) one test records why the
 * suite did not run — it asserts exactly that condition, so it fails if a browser is found.
 */
export function describeInBrowser(name: string, suite: () => void): void {
  if (chromiumPath) {
    describe(name, suite)
  } else if (browserRequired) {
    describe(name, () => {
      it('needs a browser (FEN_REQUIRE_BROWSER=1)', () => {
        throw new Error(
          noBrowserMessage('and FEN_REQUIRE_BROWSER=1 says the browser suites must run'),
        )
      })
    })
  } else {
    describe(name, () => {
      it('is not run here: no Chromium is installed and FEN_REQUIRE_BROWSER is not set', () => {
        expect({ chromiumPath, browserRequired }).toEqual({
          chromiumPath: undefined,
          browserRequired: false,
        })
        console.warn(noBrowserMessage('so this browser suite did not run'))
      })
    })
  }
}
