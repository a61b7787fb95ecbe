// Runs the bundled action the way a GitHub runner runs a node action: a child process with
// INPUT_* variables and the runner's command files, so the demo, the end-to-end suite and the
// benchmarks all exercise exactly what users get.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import type { Scenario } from '../emulator/index.js'

export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** The Node 24 binary from the `node` npm package (what `runs.using: node24` gives), else this one. */
export function runnerNodeBinary(): string {
  const node24 = path.join(repositoryRoot, 'node_modules', 'node', 'bin', 'node')
  return existsSync(node24) ? node24 : process.execPath
}

export interface ActionRun {
  /** Inputs by their action.yml names (hyphens kept). */
  inputs: Record<string, string>
  /** Extra environment: NODE_EXTRA_CA_CERTS, ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN, … */
  env?: Record<string, string>
  /** The node binary to run the action with; defaults to runnerNodeBinary(). */
  node?: string
  /** The action's entry point; defaults to the committed bundle. */
  entry?: string
  /** Options for node itself, before the entry point (e.g. `--import` of a probe). */
  nodeOptions?: string[]
  /** Kill the action after this long (a bound, not an expectation). */
  killAfterMs?: number
  /** Send SIGINT after this long, as a runner does when a workflow is cancelled. */
  cancelAfterMs?: number
  /** The job's GITHUB_TOKEN, for inputs whose default is `${{ github.token }}`. */
  jobToken?: string
  /** Called with each chunk of stdout as it arrives. */
  onStdout?: (chunk: string) => void
  /** State saved by an earlier phase, passed as STATE_<name> (what a runner does for `post:`). */
  state?: Record<string, string>
  /** GITHUB_WORKSPACE (and working directory) to keep after the run; default: the run's temp dir. */
  workspace?: string
}

export interface ActionResult {
  exitCode: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** Raw GITHUB_OUTPUT file, for assertions that no secret reached it. */
  outputFile: string
  /** The GITHUB_STATE file parsed: what the action saved for its `post:` step. */
  state: Record<string, string>
  durationMs: number
}

/** Inputs that point the action at the scenario's first factory and server in the local Azure. */
export function scenarioInputs(scenario: Scenario, emulatorUrl: string): Record<string, string> {
  const factory = scenario.factories[0]
  const server = scenario.servers[0]
  return {
    'client-id': scenario.principals[0].clientId,
    'tenant-id': scenario.tenantId,
    'subscription-id': factory.subscriptionId,
    'resource-group': factory.resourceGroup,
    'factory-name': factory.name,
    'server-name': server.name,
    database: server.databases[0],
    username: server.roles[0].name,
    password: server.roles[0].password,
    'resource-manager-endpoint': emulatorUrl,
    'authority-host': emulatorUrl
  }
}

/** Parses the GITHUB_OUTPUT file format (`name<<delimiter` … `delimiter`, or `name=value`). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const end = lines.indexOf(delimiter, index + 1)
      if (end === -1) throw new Error(`GITHUB_OUTPUT: no closing delimiter for ${name}`)
      outputs[name] = lines.slice(index + 1, end).join('\n')
      index = end
    } else if (line.includes('=')) {
      const at = line.indexOf('=')
      outputs[line.slice(0, at)] = line.slice(at + 1)
    }
  }
  return outputs
}

/** The variables a runner gives every step, pointing at fresh command files in `dir`. */
function runnerEnvironment(dir: string, workspace = dir): Record<string, string> {
  return {
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md'),
    GITHUB_STATE: path.join(dir, 'state'),
    GITHUB_ENV: path.join(dir, 'env'),
    GITHUB_PATH: path.join(dir, 'path'),
    RUNNER_TEMP: dir,
    RUNNER_OS: 'Linux',
    GITHUB_REPOSITORY: 'octo-org/octo-repo',
    GITHUB_REPOSITORY_OWNER: 'octo-org',
    GITHUB_RUN_ID: '4242424242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_RUN_NUMBER: '17',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_WORKFLOW: 'connect-adf-to-postgres',
    GITHUB_JOB: 'connect',
    GITHUB_ACTOR: 'octocat',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_WORKSPACE: workspace
  }
}

/** The one expression action.yml defaults use; a runner evaluates it to the job's token. */
const githubTokenExpression = /^\$\{\{\s*github\.token\s*\}\}$/

/**
 * The defaults action.yml declares: a runner passes them as INPUT_* for every input not given, with
 * `${{ github.token }}` evaluated (to `jobToken`, empty when the test gives none).
 */
async function declaredDefaults(jobToken = ''): Promise<Record<string, string>> {
  const metadata = parse(await readFile(path.join(repositoryRoot, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>
  }
  return Object.fromEntries(
    Object.entries(metadata.inputs).flatMap(([name, input]) =>
      input.default === undefined
        ? []
        : [[name, String(input.default).replace(githubTokenExpression, jobToken)]]
    )
  )
}

/** Runs the action once and collects everything a runner would show. */
export async function runAction(run: ActionRun): Promise<ActionResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'adf-pg-runner-'))
  try {
    const runnerEnv = runnerEnvironment(dir, run.workspace)
    await Promise.all(
      ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'GITHUB_STATE', 'GITHUB_ENV', 'GITHUB_PATH'].map(
        (name) => writeFile(runnerEnv[name], '')
      )
    )
    const inputEnv = Object.fromEntries(
      Object.entries({ ...(await declaredDefaults(run.jobToken)), ...run.inputs }).map(
        ([name, value]) => [`INPUT_${name.toUpperCase()}`, value]
      )
    )
    // Only what a runner passes: no inherited INPUT_*, tokens or proxies from this process.
    const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, LANG: 'C.UTF-8' }
    const stateEnv = Object.fromEntries(
      Object.entries(run.state ?? {}).map(([name, value]) => [`STATE_${name}`, value])
    )
    const env = { ...baseEnv, ...runnerEnv, ...inputEnv, ...stateEnv, ...run.env }
    const started = performance.now()
    const child = spawn(
      run.node ?? runnerNodeBinary(),
      [...(run.nodeOptions ?? []), run.entry ?? path.join(repositoryRoot, 'dist', 'index.js')],
      {
        env,
        cwd: run.workspace ?? dir,
        stdio: ['ignore', 'pipe', 'pipe']
      }
    )
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      run.onStdout?.(chunk)
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timers = [
      setTimeout(() => child.kill('SIGKILL'), run.killAfterMs ?? 120_000),
      ...(run.cancelAfterMs === undefined
        ? []
        : [setTimeout(() => child.kill('SIGINT'), run.cancelAfterMs)])
    ]
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
      (resolve, reject) => {
        child.on('error', reject)
        child.on('close', (code, sig) => resolve([code, sig]))
      }
    )
    timers.forEach(clearTimeout)
    const durationMs = performance.now() - started
    const outputFile = await readFile(runnerEnv.GITHUB_OUTPUT, 'utf8')
    const summary = await readFile(runnerEnv.GITHUB_STEP_SUMMARY, 'utf8')
    const state = parseOutputFile(await readFile(runnerEnv.GITHUB_STATE, 'utf8'))
    return {
      exitCode,
      signal,
      stdout,
      stderr,
      outputs: parseOutputFile(outputFile),
      summary,
      outputFile,
      state,
      durationMs
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Runs the action's `post:` step after `main`, as a runner does (also after a failed or killed
 * main, given `post-if: always()`): same inputs, with the state main saved.
 */
export function runPostStep(run: ActionRun, main: ActionResult): Promise<ActionResult> {
  return runAction({ ...run, state: main.state })
}

/** Workflow command data as the runner decodes it (%0A → line break, …). */
export function decodeCommandData(data: string): string {
  return data.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

/** The data of each `::<command>…::` line of a step's stdout, decoded as the runner shows it. */
export function workflowCommands(stdout: string, command: string): string[] {
  const prefix = `::${command}`
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => decodeCommandData(line.slice(line.indexOf('::', 2) + 2)))
}
