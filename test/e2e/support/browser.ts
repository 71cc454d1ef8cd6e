import { chromium, type Browser } from 'playwright-core'

/**
 * Starts Debian's Chromium (`/usr/bin/chromium`) headless through playwright-core, with the flags
 * the browser suites share: no sandbox (containers), no GPU, and none of Chromium's own network
 * chatter (updates, sync, QUIC) on a machine that may be offline.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
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
