/**
 * The reliability run (`npm run reliability`, issue 8): the bundled action, run as a GitHub runner
 * runs it (runner/index.ts), against the local Azure (emulator with real PostgreSQL, millisecond
 * delays, poll-interval 200ms), under random faults, in simultaneous pairs, and cancelled mid-way.
 *
 * - Runs under faults (`runs`, each from the seed state or from the last converged one, at random):
 *   each Resource Manager request (paths under /subscriptions/, long-running-operation polls
 *   included; sign-in excluded) gets, with probability `rate`, one fault drawn among: 429 with
 *   Retry-After 1 s, 500, 503, connection reset, a 1 s slow answer, and (writes only) the write
 *   done and its answer dropped.
 * - Pairs (`pairs`): two runs started together on the seed state, fault-free.
 * - Cancellations (`cancels`): a run under faults gets SIGINT at a random moment, then the `post:`
 *   step runs as the runner runs it (STATE_* from GITHUB_STATE), when action.yml declares one.
 * - Each of those is followed by a fault-free follow-up run.
 *
 * Definitions (each a violation unless marked informational):
 * - a run ends in success (exit 0), a clear failure (exit 1 with an `::error::` line that names what
 *   failed), or a crash: another exit code, a signal, a stack trace on stderr, exit 1 without an
 *   `::error::` line or with one that names nothing, or a run still going at its bound (its `timeout`
 *   input, 60 s, plus 15 s; for a cancelled run, the runner's kill 10 s after SIGINT).
 * - clear failures are allowed under faults and when cancelled; a pair's runs have no fault, so
 *   each must succeed.
 * - follow-ups converged: the follow-up exits 0 and leaves our endpoint Succeeded and Approved (in
 *   Data Factory and on the server), the linked service as the inputs say, connection-test succeeded.
 * - duplicates (after every run or pair): more than one endpoint to the server, more than one
 *   non-Disconnected connection from the factory, or more than one linked service reaching the
 *   server; each distinct finding counts once.
 * - orphan probes: datasets, pipelines or linked services named `adf-pg-private-link-probe*` left
 *   after a finished run (after a cancellation: after its post step); each distinct resource once.
 * - exits over 7.5 s after SIGINT (the runner's grace before SIGTERM).
 * - secrets leaked: the password or client secret (random canaries) in stdout other than its
 *   `::add-mask::` line, stderr, GITHUB_OUTPUT, the job summary, or the emulator's request log.
 *
 * Each run under faults has its own fault seed drawn from the session seed (printed with every
 * violation): `--seed` replays the same draws for the same request order (timing may differ).
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'yaml'
import {
  basicScenario,
  seededRandom,
  startEmulator,
  type FaultKind,
  type RequestLogEntry,
  type RunningEmulator
} from '../emulator/index.js'
import {
  repositoryRoot,
  runAction,
  runPostStep,
  scenarioInputs,
  type ActionResult,
  type ActionRun
} from '../runner/index.js'
import {
  duplicates,
  errorMessages,
  judgeEnding,
  probesLeft,
  secretLeaks,
  unconverged,
  type EmulatorState,
  type Ending,
  type Target
} from './checks.js'

export * from './checks.js'

export interface ReliabilityOptions {
  /** Runs under faults, each followed by a fault-free one. */
  runs: number
  /** Probability (0–1) that a Resource Manager request gets a fault. */
  rate: number
  /** Pairs of simultaneous runs. */
  pairs: number
  /** Runs cancelled with SIGINT at a random moment. */
  cancels: number
  /** Seeds every random choice (32-bit unsigned integer). */
  seed: number
  /** Receives one line per step, to show progress. */
  progress?: (line: string) => void
}

export interface ReliabilityReport {
  /** The one table of measures, with a header line. */
  table: string
  /** Every violation, with the run it happened in and its fault seed. */
  violations: string[]
  /** Informational lines (a skipped post step, signals that came after the run ended). */
  notes: string[]
}

const faultKinds: FaultKind[] = [
  'throttle',
  'server-error',
  'unavailable',
  'drop-connection',
  'drop-after-write',
  'delay'
]
const slowAnswerMs = 1_000
const timeoutInput = '60s'
/** The `timeout` input plus time to report and exit. */
const runBoundMs = 75_000
/** A runner sends SIGTERM this long after SIGINT… */
const sigintGraceMs = 7_500
/** …and kills the process 2.5 s later (the harness sends no SIGTERM: the action treats both alike). */
const runnerKillAfterSigintMs = 10_000
/** Before this, SIGINT would hit Node.js starting up, not the action. */
const earliestCancelMs = 400
const latestCancelMs = 6_000

type Measure =
  | 'clear failures'
  | 'crashes'
  | 'follow-ups converged'
  | 'duplicates'
  | 'orphan probes'
  | 'exits over 7.5 s after SIGINT'
  | 'secrets leaked'

/** The `post:` entry point action.yml declares, if any. */
async function postEntry(): Promise<string | undefined> {
  const metadata = parse(await readFile(path.join(repositoryRoot, 'action.yml'), 'utf8')) as {
    runs: { post?: string }
  }
  return metadata.runs.post && path.join(repositoryRoot, metadata.runs.post)
}

/** One emulator, the inputs of a plain apply, and the tally of everything seen. */
class Session {
  private readonly found = new Map<Measure, string[]>()
  private readonly seen = new Set<string>()
  readonly notes: string[] = []
  runs = 0
  faultsFired = 0
  attempts = 0
  firstTrySuccesses = 0
  clearFailures = 0
  followUps = 0
  cancelled = 0

  constructor(
    readonly emulator: RunningEmulator,
    private readonly baseRun: ActionRun,
    private readonly target: Target,
    private readonly secrets: string[],
    readonly random: () => number
  ) {}

  violations(measure: Measure): string[] {
    return this.found.get(measure) ?? []
  }

  /** Records a violation; with `once`, a finding already recorded (a leftover still there) is not counted again. */
  private violate(measure: Measure, context: string, detail: string, once = false): void {
    if (once && this.seen.has(`${measure}: ${detail}`)) return
    this.seen.add(`${measure}: ${detail}`)
    this.found.set(measure, [...this.violations(measure), `${measure}: ${context}: ${detail}`])
  }

  /** From the seed state (2 in 3) or from where the last run left it. */
  async maybeReset(): Promise<string> {
    if (this.random() >= 2 / 3) return 'from the last state'
    await this.emulator.admin.reset()
    return 'from the seed state'
  }

  /** Runs the action (or its post step, via `launch`), judging how it ended and what it showed. */
  async act(
    context: string,
    extra: Partial<ActionRun> = {},
    launch: (run: ActionRun) => Promise<ActionResult> = runAction
  ): Promise<{ result: ActionResult; ending: Ending; told: string; requests: RequestLogEntry[] }> {
    const since = this.emulator.admin.requestLog().at(-1)?.seq ?? 0
    const run = { ...this.baseRun, ...extra }
    const result = await launch(run)
    const requests = this.emulator.admin.requestLog({ since })
    this.runs++
    this.faultsFired += requests.filter((entry) => entry.fault).length
    const { ending, why } = judgeEnding(result, run.killAfterMs ?? runBoundMs)
    if (ending === 'crash') {
      const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-4).join(' | ')
      this.violate('crashes', context, `${why}; last output: ${output}`)
    }
    for (const leak of secretLeaks(result, requests, this.secrets)) {
      this.violate('secrets leaked', context, leak)
    }
    const error = errorMessages(result.stdout)[0]?.split('\n')[0]
    const told = ending === 'clear failure' ? `${ending} ("${error}")` : ending
    return { result, ending, told, requests }
  }

  /** A first attempt (under faults, or one of a pair): how it ended; without faults it must succeed. */
  countAttempt(
    context: string,
    { ending, told }: { ending: Ending; told: string },
    faults: boolean
  ): void {
    this.attempts++
    if (ending === 'success') this.firstTrySuccesses++
    if (ending !== 'clear failure') return
    this.clearFailures++
    if (!faults) this.violate('clear failures', context, `failed without any fault: ${told}`)
  }

  /** Duplicates and probes left in the factory now. */
  inspect(context: string): void {
    const state = this.emulator.admin.snapshot() as EmulatorState
    for (const duplicate of duplicates(state, this.target)) {
      this.violate('duplicates', context, duplicate, true)
    }
    for (const probe of probesLeft(state, this.target)) {
      this.violate('orphan probes', context, probe, true)
    }
  }

  /** A fault-free run that must converge. */
  async followUp(context: string): Promise<string> {
    const { result } = await this.act(`${context}, follow-up`)
    this.followUps++
    const missing = unconverged(
      result,
      this.emulator.admin.snapshot() as EmulatorState,
      this.target
    )
    if (missing.length > 0) {
      this.violate('follow-ups converged', context, missing.join('; '))
    }
    this.inspect(`${context}, follow-up`)
    return missing.length === 0 ? 'converged' : `NOT converged (${missing.join('; ')})`
  }

  /** Runs `work` with faults injected at `rate`, drawn from `seed`. */
  async underFaults<T>(rate: number, seed: number, work: () => Promise<T>): Promise<T> {
    if (rate > 0) {
      this.emulator.admin.injectFault({
        kind: faultKinds,
        path: '^/subscriptions/',
        rate,
        seed,
        retryAfterSeconds: 1,
        delayMs: slowAnswerMs
      })
    }
    try {
      return await work()
    } finally {
      this.emulator.admin.clearFaults()
    }
  }

  /** A random moment in a run under faults (most take longer than `latestCancelMs`). */
  cancelMoment(): number {
    return Math.round(earliestCancelMs + this.random() * (latestCancelMs - earliestCancelMs))
  }

  checkExitAfterSigint(context: string, result: ActionResult, cancelAfterMs: number): string {
    if (result.durationMs <= cancelAfterMs) {
      this.notes.push(`${context}: the run ended before its SIGINT at ${cancelAfterMs} ms`)
      return 'ended before the signal'
    }
    this.cancelled++
    const afterMs = Math.round(result.durationMs - cancelAfterMs)
    if (afterMs > sigintGraceMs) {
      this.violate('exits over 7.5 s after SIGINT', context, `exited ${afterMs} ms after SIGINT`)
    }
    return `exited ${afterMs} ms after SIGINT`
  }
}

async function faultedRuns(session: Session, options: ReliabilityOptions) {
  for (let index = 1; index <= options.runs; index++) {
    const faultSeed = Math.floor(session.random() * 2 ** 32)
    const context = `run ${index}/${options.runs} (fault seed ${faultSeed})`
    const start = await session.maybeReset()
    const { result, ending, told, requests } = await session.underFaults(
      options.rate,
      faultSeed,
      () => session.act(context)
    )
    const fired = requests.filter((entry) => entry.fault).length
    session.countAttempt(context, { ending, told }, true)
    session.inspect(context)
    const followUp = await session.followUp(context)
    options.progress?.(
      `${context} ${start}: ${fired} faults, ${told} in ${Math.round(result.durationMs)} ms; follow-up ${followUp}`
    )
  }
}

async function simultaneousPairs(session: Session, options: ReliabilityOptions) {
  for (let index = 1; index <= options.pairs; index++) {
    const context = `pair ${index}/${options.pairs}`
    await session.emulator.admin.reset()
    const pair = await Promise.all([session.act(`${context} (a)`), session.act(`${context} (b)`)])
    pair.forEach((run, member) => session.countAttempt(`${context} (${'ab'[member]})`, run, false))
    session.inspect(context)
    const followUp = await session.followUp(context)
    options.progress?.(
      `${context}: ${pair.map(({ told }) => told).join(' + ')}; follow-up ${followUp}`
    )
  }
}

async function cancellations(session: Session, options: ReliabilityOptions) {
  const post = await postEntry()
  if (!post && options.cancels > 0) {
    session.notes.push(
      'post step skipped: action.yml declares no runs.post (running the bundle again with STATE_* would only run main again)'
    )
  }
  for (let index = 1; index <= options.cancels; index++) {
    const faultSeed = Math.floor(session.random() * 2 ** 32)
    const cancelAfterMs = session.cancelMoment()
    const context = `cancel ${index}/${options.cancels} (fault seed ${faultSeed}, SIGINT at ${cancelAfterMs} ms)`
    const start = await session.maybeReset()
    // The post step runs as the job's clean-up does: same Azure, the same faults.
    const { told, exit } = await session.underFaults(options.rate, faultSeed, async () => {
      const main = await session.act(context, {
        cancelAfterMs,
        killAfterMs: cancelAfterMs + runnerKillAfterSigintMs
      })
      const exit = session.checkExitAfterSigint(context, main.result, cancelAfterMs)
      if (post) {
        await session.act(`${context}, post step`, { entry: post }, (run) =>
          runPostStep(run, main.result)
        )
      }
      return { ...main, exit }
    })
    session.inspect(context)
    const followUp = await session.followUp(context)
    options.progress?.(`${context} ${start}: ${told}, ${exit}; follow-up ${followUp}`)
  }
}

function formatTable(rows: [string, string, string][]): string {
  const header: [string, string, string] = ['measure', 'value', 'verdict']
  const widths = header.map((_, column) =>
    Math.max(...[header, ...rows].map((row) => row[column].length))
  )
  const line = (row: string[]) =>
    `| ${row.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join(
    '\n'
  )
}

function tabulate(session: Session, options: ReliabilityOptions, elapsedMs: number): string {
  const verdict = (measure: Measure) =>
    session.violations(measure).length > 0 ? 'VIOLATION' : 'ok'
  const count = (measure: Measure) => String(session.violations(measure).length)
  const converged = session.followUps - session.violations('follow-ups converged').length
  const rows: [string, string, string][] = [
    ['runs', String(session.runs), ''],
    ['faults fired', String(session.faultsFired), ''],
    ['first-try successes', `${session.firstTrySuccesses}/${session.attempts}`, ''],
    [
      'clear failures',
      `${session.clearFailures} (${count('clear failures')} without faults)`,
      verdict('clear failures')
    ],
    ['crashes', count('crashes'), verdict('crashes')],
    ['follow-ups converged', `${converged}/${session.followUps}`, verdict('follow-ups converged')],
    ['duplicates', count('duplicates'), verdict('duplicates')],
    ['orphan probes', count('orphan probes'), verdict('orphan probes')],
    [
      'exits over 7.5 s after SIGINT',
      `${count('exits over 7.5 s after SIGINT')}/${session.cancelled}`,
      verdict('exits over 7.5 s after SIGINT')
    ],
    ['secrets leaked', count('secrets leaked'), verdict('secrets leaked')]
  ]
  const header = `Reliability: seed ${options.seed}, ${options.runs} runs at fault rate ${options.rate}, ${options.pairs} pairs, ${options.cancels} cancellations; ${Math.round(elapsedMs / 1000)} s`
  return `${header}\n${formatTable(rows)}`
}

/** Runs the whole session on a fresh emulator; throws only when the emulator itself cannot start. */
export async function runReliability(options: ReliabilityOptions): Promise<ReliabilityReport> {
  const started = performance.now()
  const scenario = basicScenario()
  const password = `Canary-Pg-${randomBytes(9).toString('hex')}`
  const clientSecret = `Canary-Sp~${randomBytes(9).toString('hex')}`
  scenario.principals[0].clientSecret = clientSecret
  scenario.servers[0].roles[0].password = password
  const [factory, server] = [scenario.factories[0], scenario.servers[0]]
  const target: Target = {
    factory: factory.name,
    serverId: `/subscriptions/${server.subscriptionId}/resourceGroups/${server.resourceGroup}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${server.name}`,
    // The action's default names (action.yml: endpoint-name, linked-service-name, integration-runtime).
    endpoint: `pg-${server.name}`,
    linkedService: `PostgreSql_${server.name}_${server.databases[0]}`,
    database: server.databases[0],
    username: server.roles[0].name,
    integrationRuntime: 'AutoResolveIntegrationRuntime'
  }
  const emulator = await startEmulator({ scenario, postgres: true })
  try {
    const baseRun: ActionRun = {
      inputs: {
        ...scenarioInputs(scenario, emulator.url),
        auth: 'client-secret',
        'client-secret': clientSecret,
        'poll-interval': '200ms',
        'test-timeout': '30s',
        timeout: timeoutInput
      },
      env: { NODE_EXTRA_CA_CERTS: emulator.caFile },
      killAfterMs: runBoundMs
    }
    const session = new Session(
      emulator,
      baseRun,
      target,
      [password, clientSecret],
      seededRandom(options.seed)
    )
    await faultedRuns(session, options)
    await simultaneousPairs(session, options)
    await cancellations(session, options)
    const measures: Measure[] = [
      'clear failures',
      'crashes',
      'follow-ups converged',
      'duplicates',
      'orphan probes',
      'exits over 7.5 s after SIGINT',
      'secrets leaked'
    ]
    return {
      table: tabulate(session, options, performance.now() - started),
      violations: measures.flatMap((measure) => session.violations(measure)),
      notes: session.notes
    }
  } finally {
    await emulator.stop()
  }
}
