/**
 * A PostgreSQL server of a suite's own, for suites that stop, crash and restart the database.
 *
 * The shared server at 127.0.0.1:5432 serves every other suite at the same time, so it must never be
 * restarted. `startPgCluster()` instead runs `initdb` into a fresh temporary directory and starts a
 * postmaster on a free port of 127.0.0.1 (its Unix socket in that directory too, so nothing is
 * shared with the system's server). The binaries are Debian's, in /usr/lib/postgresql/<version>/bin
 * (the newest version found there). `destroy()` stops it (`-m immediate`) and deletes the directory:
 * call it in `afterAll`, whatever happened.
 *
 * PostgreSQL refuses to run as root, and CI runs as root: there every command runs as the
 * `postgres` user (`runuser -u postgres --`), and the directory belongs to it.
 *
 * Durability is the point of the suites that use it, so the cluster keeps PostgreSQL's defaults:
 * `fsync = on`, `synchronous_commit = on` (written out in postgresql.conf to make that explicit).
 * Trust authentication, user `postgres`, on 127.0.0.1 only.
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { appendFile, chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** `pg_ctl stop -m …`: smart waits for clients; fast ends their sessions; immediate is a crash. */
export type ShutdownMode = 'smart' | 'fast' | 'immediate'

export interface PgCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: a DATABASE_URL for the harness. */
  url: string
  port: number
  /** The PostgreSQL version directory the binaries came from, e.g. `17`. */
  version: string
  /** `pg_ctl stop -m <mode>`; resolves once the postmaster is gone. */
  stop(mode: ShutdownMode): Promise<void>
  /** `pg_ctl start`; resolves once the server accepts connections (after crash recovery). */
  start(): Promise<void>
  /** `pg_ctl restart -m <mode>`: stop and start in one command. */
  restart(mode: ShutdownMode): Promise<void>
  /** The end of the server's log, for a failure message. */
  logTail(lines?: number): Promise<string>
  /** Stops the server (`-m immediate`; fine if it is already down) and deletes its directory. */
  destroy(): Promise<void>
}

const PG_ROOT = '/usr/lib/postgresql'

/** The bin directory of the newest PostgreSQL installed under /usr/lib/postgresql. */
async function binDir(): Promise<{ bin: string; version: string }> {
  const versions = existsSync(PG_ROOT) ? await readdir(PG_ROOT) : []
  const usable = versions
    .filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a))
  const version = usable[0]
  if (!version) throw new Error(`no PostgreSQL server binaries under ${PG_ROOT}/<version>/bin`)
  return { bin: join(PG_ROOT, version, 'bin'), version }
}

/** A port nobody listens on right now (the OS picks it; a tiny race until postgres binds it). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** The uid and gid of the `postgres` user. */
async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim())
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim())
  return { uid, gid }
}

export async function startPgCluster(): Promise<PgCluster> {
  const { bin, version } = await binDir()
  const asRoot = process.getuid?.() === 0
  const base = await mkdtemp(join(tmpdir(), 'fen-pg-'))
  if (asRoot) {
    const { uid, gid } = await postgresIds()
    await chown(base, uid, gid)
  }
  const dataDir = join(base, 'data')
  const logFile = join(base, 'server.log')

  /** Runs a PostgreSQL binary, as `postgres` when we are root; the error carries its output. */
  const pg = async (tool: string, args: string[]): Promise<string> => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
      : [join(bin, tool), args]
    try {
      // cwd: the postgres user may not be allowed into the caller's working directory.
      const { stdout } = await run(file, argv, { cwd: base, timeout: 60_000 })
      return stdout
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string }
      throw new Error(
        `${tool} ${args.join(' ')} failed: ${err.stderr || err.stdout || err.message}`,
        { cause: e },
      )
    }
  }
  const logTail = async (lines = 30): Promise<string> => {
    const text = await readFile(logFile, 'utf8').catch(() => '')
    return text.split('\n').slice(-lines).join('\n')
  }
  const ctl = (args: string[]) => pg('pg_ctl', ['-D', dataDir, ...args])
  const start = async () => {
    try {
      await ctl(['-l', logFile, '-w', '-t', '60', 'start'])
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- server.log ---\n${await logTail()}`, {
        cause: e,
      })
    }
  }

  let port: number
  try {
    await pg('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--no-locale',
    ])
    // A free port can be taken between our probe and postgres binding it: try a few.
    for (let tries = 1; ; tries++) {
      port = await freePort()
      // The last setting in the file wins, so a retry just appends another port.
      await appendFile(
        join(dataDir, 'postgresql.conf'),
        [
          '',
          '# startPgCluster (test/reliability/pg-cluster.ts)',
          `port = ${port}`,
          "listen_addresses = '127.0.0.1'",
          `unix_socket_directories = '${base}'`,
          'fsync = on',
          'synchronous_commit = on',
          '',
        ].join('\n'),
      )
      try {
        await start()
        break
      } catch (e) {
        if (tries >= 3) throw e
      }
    }
  } catch (e) {
    await rm(base, { recursive: true, force: true })
    throw e
  }

  // A safety net for a test process that ends without destroy() (a hook that timed out): no
  // postmaster is left running, no directory left behind.
  const onExit = () => {
    try {
      const stop = [join(bin, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', 'stop']
      if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', ...stop], { stdio: 'ignore' })
      else execFileSync(stop[0]!, stop.slice(1), { stdio: 'ignore' })
    } catch {
      // already stopped
    }
    rmSync(base, { recursive: true, force: true })
  }
  process.once('exit', onExit)

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    version,
    stop: async (mode) => {
      await ctl(['-m', mode, '-w', '-t', '60', 'stop'])
    },
    start,
    restart: async (mode) => {
      await ctl(['-m', mode, '-l', logFile, '-w', '-t', '60', 'restart'])
    },
    logTail,
    destroy: async () => {
      process.off('exit', onExit)
      try {
        if (existsSync(join(dataDir, 'postmaster.pid'))) await ctl(['-m', 'immediate', 'stop'])
      } finally {
        await rm(base, { recursive: true, force: true })
      }
    },
  }
}
