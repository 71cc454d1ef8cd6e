#!/usr/bin/env node
/**
 * `fen-sandbox`: the Fen sandbox's command line, in the spirit of the Stripe CLI. `start` (the
 * default) runs a sandbox; the other commands talk to a running one through its control API
 * (`--url`, default http://127.0.0.1:3100). `fen-sandbox --help` lists them; `pnpm sandbox` is
 * `fen-sandbox start`.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { CliError, DEFAULT_URL, output, usage } from './cli/common'
import { helpText, pickLang } from './cli/help'

type Options = NonNullable<ParseArgsConfig['options']>

const GLOBAL: Options = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  lang: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
}

/** Each command's own options (the global ones apply to all). */
const COMMANDS: Record<string, Options> = {
  start: {
    host: { type: 'string' },
    port: { type: 'string' },
    'backup-port': { type: 'string' },
    keys: { type: 'string' },
    'time-scale': { type: 'string' },
    mode: { type: 'string' },
    'refund-settle-seconds': { type: 'string' },
    'payment-grace-seconds': { type: 'string' },
    'open-platform': { type: 'boolean' },
    'auto-confirm-days': { type: 'string' },
    'push-url': { type: 'string' },
    'push-token': { type: 'string' },
    'push-aes-key': { type: 'string' },
    'push-format': { type: 'string' },
    'allowed-hosts': { type: 'string' },
    'allowed-origins': { type: 'string' },
    quiet: { type: 'boolean' },
  },
  listen: { 'forward-to': { type: 'string' } },
  trigger: {
    'out-trade-no': { type: 'string' },
    'out-refund-no': { type: 'string' },
    openid: { type: 'string' },
  },
  logs: {
    'out-trade-no': { type: 'string' },
    limit: { type: 'string' },
    'no-follow': { type: 'boolean' },
  },
  clock: {},
  faults: {
    target: { type: 'string' },
    count: { type: 'string' },
    rate: { type: 'string' },
    seed: { type: 'string' },
    seconds: { type: 'string' },
    errcode: { type: 'string' },
  },
  'confirm-receipt': { openid: { type: 'string' } },
  reset: {},
}

/** Runs one command line; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  // A first, lenient pass finds the command: every option is known here, so an option's value
  // is never taken for the command.
  const all: Options = Object.assign({}, GLOBAL, ...Object.values(COMMANDS))
  const first = parseArgs({ args: argv, options: all, strict: false, allowPositionals: true })
  const json = first.values.json === true
  const lang = pickLang(typeof first.values.lang === 'string' ? first.values.lang : undefined)
  const out = output(json)
  const [given] = first.positionals
  const name = given ?? 'start'
  try {
    // `fen-sandbox --help` and `fen-sandbox help [command]`: the overview, or one command's help.
    if (given === 'help' || (given === undefined && first.values.help === true)) {
      const about = given === 'help' ? first.positionals[1] : undefined
      if (about !== undefined && !(about in COMMANDS)) throw unknownCommand(about)
      console.log(helpText(about, lang))
      return 0
    }
    if (!(name in COMMANDS)) throw unknownCommand(name)
    let parsed
    try {
      parsed = parseArgs({
        args: argv,
        options: { ...GLOBAL, ...COMMANDS[name] },
        strict: true,
        allowPositionals: true,
      })
    } catch (e) {
      throw usage(`${(e as Error).message.split('\n')[0]} (see fen-sandbox ${name} --help)`)
    }
    const { values } = parsed
    if (values.help) {
      console.log(helpText(name, lang))
      return 0
    }
    // The command's own positionals, without its name (`start` may be left out).
    const args = parsed.positionals[0] === name ? parsed.positionals.slice(1) : parsed.positionals
    const url = (values.url as string | undefined) || process.env.SANDBOX_URL || DEFAULT_URL
    const noArgs = () => {
      if (args.length > 0) throw usage(`${name}: unexpected ${args.join(' ')}`)
    }
    // Loaded on demand: `start` needs the whole sandbox, the other commands only an HTTP client.
    if (name === 'start') {
      noArgs()
      const { start } = await import('./cli/start')
      await start(values, out)
      return 0
    }
    const { clock, confirmReceipt, faults, listen, logs, reset, trigger } =
      await import('./cli/remote')
    switch (name) {
      case 'listen':
        noArgs()
        await listen(url, values['forward-to'] as string | undefined, out)
        break
      case 'trigger':
        if (args.length > 1) throw usage(`trigger: unexpected ${args.slice(1).join(' ')}`)
        await trigger(url, args[0], values as Record<string, string>, out)
        break
      case 'logs':
        noArgs()
        await logs(url, values as Record<string, string>, out)
        break
      case 'clock':
        await clock(url, args, out)
        break
      case 'faults':
        await faults(url, args, values as Record<string, string>, out)
        break
      case 'confirm-receipt':
        if (args.length !== 1) throw usage('confirm-receipt needs one out_trade_no')
        await confirmReceipt(url, args[0]!, values.openid as string | undefined, out)
        break
      case 'reset':
        noArgs()
        await reset(url, out)
        break
    }
    return 0
  } catch (e) {
    const err =
      e instanceof CliError ? e : new CliError((e as Error).message ?? String(e), 1, 'FAILED')
    console.error(
      json
        ? JSON.stringify({ error: { code: err.code, message: err.message } })
        : `fen-sandbox: ${err.message}`,
    )
    return err.exitCode
  }
}

function unknownCommand(name: string): CliError {
  return usage(
    `unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')} (fen-sandbox --help)`,
  )
}

// No top-level await: the entry also builds to a format without it.
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
})
