/**
 * A vitest reporter that adds one note under the run's summary when the browser suites were skipped
 * for want of a browser: how to install one (see ./browser.ts).
 */
import type { Reporter } from 'vitest/reporters'
import { browserRequired, findChromium, noBrowserMessage } from './browser'

/** Prints the install hint after the summary when no browser was found and none is required. */
export default class BrowserReporter implements Reporter {
  onTestRunEnd(): void {
    if (!findChromium() && !browserRequired)
      console.log(`\n${noBrowserMessage('so the browser suites were skipped')}\n`)
  }
}
