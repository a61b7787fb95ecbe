// The end-to-end harness: one emulator (with a real PostgreSQL) per test file, the bundled action run
// as a GitHub runner runs it, and the checks every scenario shares (secret hygiene, write counting).
import { afterAll, beforeAll, expect } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { accessSync, constants, readFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import {
  basicIds,
  basicScenario,
  startEmulator,
  type RequestLogEntry,
  type RunningEmulator,
  type Scenario
} from '../emulator/index.js'
import {
  repositoryRoot,
  runAction,
  scenarioInputs,
  workflowCommands,
  type ActionResult
} from '../runner/index.js'

/** Bound for one scenario: a run takes seconds; this only stops a hang from stalling the suite. */
export const scenarioTimeoutMs = 60_000

/** Per-process secrets that must never leak; random so a hard-coded redaction cannot hide a leak. */
export const canaries = {
  password: `Canary-Pg-${randomBytes(9).toString('hex')}`,
  clientSecret: `Canary-Sp~${randomBytes(9).toString('hex')}`,
  wrongPassword: `Canary-Wrong-${randomBytes(9).toString('hex')}`
} as const

export const ids = {
  ...basicIds,
  runnerRepository: 'octo-org/octo-repo',
  runnerRunId: '4242424242',
  defaultEndpointName: `pg-${basicIds.serverName}`,
  defaultLinkedServiceName: `PostgreSql_${basicIds.serverName}_${basicIds.database}`,
  managedRuntime: 'AutoResolveIntegrationRuntime',
  serverRole: 'adfuser',
  resourceGroupScope: `/subscriptions/${basicIds.subscriptionId}/resourceGroups/${basicIds.resourceGroup}`
} as const

export function factoryId(name: string = ids.factoryName): string {
  return `${ids.resourceGroupScope}/providers/Microsoft.DataFactory/factories/${name}`
}

export function serverId(name: string = ids.serverName): string {
  return `${ids.resourceGroupScope}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${name}`
}

/** The basic scenario with the canaries as the deployer's client secret and the role's password. */
export function e2eScenario(customize: (scenario: Scenario) => void = () => undefined): Scenario {
  const scenario = basicScenario()
  scenario.principals[0].clientSecret = canaries.clientSecret
  scenario.servers[0].roles = [{ name: ids.serverRole, password: canaries.password }]
  customize(scenario)
  return scenario
}

/** A factory's AzureKeyVault linked service, and the vault's secret holding the role's password. */
export const keyVault = {
  linkedService: 'ls-keyvault-platform',
  baseUrl: 'https://kv-data-platform.vault.azure.net/',
  secretName: 'pg-adfuser-password'
} as const

/** Adds `keyVault` to the scenario's first factory (the action only ever names the secret). */
export function withKeyVault(scenario: Scenario): void {
  scenario.factories[0].linkedServices = {
    [keyVault.linkedService]: {
      properties: { type: 'AzureKeyVault', typeProperties: { baseUrl: keyVault.baseUrl } }
    }
  }
  scenario.keyVaultSecrets = [
    {
      vaultBaseUrl: keyVault.baseUrl,
      name: keyVault.secretName,
      value: scenario.servers[0].roles[0].password
    }
  ]
}

// ---- The emulator's state, typed as far as the tests read it ----

export interface SnapshotEndpoint {
  name: string
  properties: {
    provisioningState: string
    privateLinkResourceId: string
    groupId: string
    connectionState: { status: string; description: string }
  }
  privateEndpointId: string
}

export interface SnapshotChild {
  name: string
  properties: { type: string; typeProperties?: Record<string, unknown> } & Record<string, unknown>
}

export interface SnapshotFactory {
  name: string
  managedPrivateEndpoints: SnapshotEndpoint[]
  linkedservices: SnapshotChild[]
  datasets: SnapshotChild[]
  pipelines: SnapshotChild[]
}

export interface SnapshotConnection {
  id: string
  name: string
  properties: {
    privateEndpoint: { id: string }
    privateLinkServiceConnectionState: { status: string; description: string }
  }
}

export interface EmulatorState {
  factories: SnapshotFactory[]
  servers: { id: string; privateEndpointConnections: SnapshotConnection[] }[]
  pipelineRuns: { runId: string; status: string; activityRuns: { output?: unknown }[] }[]
}

export function factoryState(state: EmulatorState, name: string = ids.factoryName) {
  const factory = state.factories.find((candidate) => candidate.name === name)
  if (!factory) throw new Error(`No factory ${name} in the emulator's state`)
  return factory
}

/** The factory's one endpoint is ours: provisioned, aimed at the server, Approved in its view. */
export function expectOnlyOurEndpointApproved(
  state: EmulatorState,
  factory: string = ids.factoryName
): void {
  expect(factoryState(state, factory).managedPrivateEndpoints).toMatchObject([
    {
      name: ids.defaultEndpointName,
      properties: {
        provisioningState: 'Succeeded',
        privateLinkResourceId: serverId(),
        groupId: 'postgresqlServer',
        connectionState: { status: 'Approved' }
      }
    }
  ])
}

export function serverConnections(state: EmulatorState, name: string = ids.serverName) {
  const server = state.servers.find((candidate) => candidate.id.endsWith(`/${name}`))
  if (!server) throw new Error(`No server ${name} in the emulator's state`)
  return server.privateEndpointConnections
}

/** The server-side connection made by `<factory>.<endpoint>` (Azure's naming of a managed endpoint). */
export function connectionFrom(
  state: EmulatorState,
  factory: string,
  endpoint: string,
  server: string = ids.serverName
): SnapshotConnection | undefined {
  return serverConnections(state, server).find((connection) =>
    connection.properties.privateEndpoint.id.endsWith(`/privateEndpoints/${factory}.${endpoint}`)
  )
}

// ---- The request log ----

const writeMethods = new Set(['PUT', 'POST', 'PATCH', 'DELETE'])
// The connection test's own traffic: its temporary linked service, dataset and pipeline, the run and
// its activity query.
const connectionTestPath =
  /\/(datasets|pipelines)\/[^/]+$|\/linkedservices\/adf-pg-private-link-probe-[^/]+$|\/createRun$|\/queryActivityruns$/i

/** Writes to Resource Manager (sign-in token requests are not writes to Azure). */
export function armWrites(requests: RequestLogEntry[]): RequestLogEntry[] {
  return requests.filter(
    (entry) => writeMethods.has(entry.method) && entry.path.startsWith('/subscriptions/')
  )
}

/** Resource Manager writes that change something, i.e. all but the connection test's own. */
export function changeWrites(requests: RequestLogEntry[]): RequestLogEntry[] {
  return armWrites(requests).filter((entry) => !connectionTestPath.test(entry.path))
}

export function describeRequests(requests: RequestLogEntry[]): string[] {
  return requests.map((entry) => `${entry.method} ${entry.path} → ${entry.status}`)
}

// ---- Running the action ----

export interface ChangeRecord {
  action: string
  resource: string
  id: string
}

export interface E2eRun extends ActionResult {
  /** What reached the emulator while the action ran. */
  requests: RequestLogEntry[]
  changes: ChangeRecord[]
  /** `::error::` messages, decoded as the runner shows them. */
  errors: string[]
  warnings: string[]
}

export interface RunOptions {
  env?: Record<string, string>
  /** Another Node.js binary than the runner's Node 24. */
  node?: string
  /** The job's GITHUB_TOKEN (the default of the `github-token` input). */
  jobToken?: string
  /** Runs alongside the action (a DBA approving, say); awaited before the run is returned. */
  meanwhile?: (emulator: RunningEmulator) => Promise<void>
  /** GITHUB_WORKSPACE to keep for inspection (the caller removes it); default: a temporary one. */
  workspace?: string
}

/** The outputs action.yml declares: every successful apply must set them all. */
export function declaredOutputs(): string[] {
  const metadata = parse(readFileSync(path.join(repositoryRoot, 'action.yml'), 'utf8')) as {
    outputs: Record<string, unknown>
  }
  return Object.keys(metadata.outputs)
}

export interface E2eSession {
  readonly emulator: RunningEmulator
  readonly scenario: Scenario
  /** The inputs of a plain apply against the emulator; `overrides` win ('' clears one). */
  inputs(overrides?: Record<string, string>): Record<string, string>
  run(overrides?: Record<string, string>, options?: RunOptions): Promise<E2eRun>
  state(): EmulatorState
  /** Back to the scenario's seed (PostgreSQL keeps running). */
  reset(): Promise<void>
}

/** Starts one emulator for the test file (or describe block) and stops it afterwards. */
export function useEmulator(scenario: Scenario): E2eSession {
  let running: RunningEmulator | undefined
  beforeAll(async () => {
    running = await startEmulator({ scenario, postgres: true })
  }, scenarioTimeoutMs)
  afterAll(async () => {
    await running?.stop()
  }, scenarioTimeoutMs)

  const emulator = (): RunningEmulator => {
    if (!running) throw new Error('The emulator has not started (see beforeAll)')
    return running
  }

  const session: E2eSession = {
    get emulator() {
      return emulator()
    },
    scenario,
    inputs(overrides = {}) {
      return {
        ...scenarioInputs(scenario, emulator().url),
        'poll-interval': '200ms',
        'test-timeout': '30s',
        timeout: '50s',
        ...overrides
      }
    },
    async run(overrides = {}, options = {}) {
      const azure = emulator()
      const since = azure.admin.requestLog().at(-1)?.seq ?? 0
      const inputs = session.inputs(overrides)
      // Settle both before judging, so a failed side task never leaves the action running unobserved.
      const [action, sideTask] = await Promise.allSettled([
        runAction({
          // Another bundle (a deliberately broken build, say) instead of the committed dist/index.js.
          entry: process.env.E2E_ACTION_ENTRY || undefined,
          inputs,
          node: options.node,
          jobToken: options.jobToken,
          workspace: options.workspace,
          env: { ...azure.env, ...options.env },
          killAfterMs: scenarioTimeoutMs - 5_000
        }),
        options.meanwhile?.(azure)
      ])
      if (action.status === 'rejected') throw action.reason
      const result = action.value
      if (sideTask.status === 'rejected') {
        const actionErrors = workflowCommands(result.stdout, 'error').join(' | ') || 'none'
        throw new Error(`${String(sideTask.reason)} (the action's errors: ${actionErrors})`)
      }
      const requests = azure.admin.requestLog({ since })
      const run: E2eRun = {
        ...result,
        requests,
        changes: JSON.parse(result.outputs.changes || '[]') as ChangeRecord[],
        errors: workflowCommands(result.stdout, 'error'),
        warnings: workflowCommands(result.stdout, 'warning')
      }
      if (process.env.E2E_VERBOSE) {
        console.log(
          `${run.stdout}\n--- outputs ---\n${run.outputFile}\n--- summary ---\n${run.summary}`
        )
      }
      expect(run.signal).toBeNull()
      // Secret hygiene holds for every run of every scenario, not only scenario 15's.
      expectSecretHygiene(run, secretsGiven(inputs))
      return run
    },
    state: () => emulator().admin.snapshot() as EmulatorState,
    reset: () => emulator().admin.reset()
  }
  return session
}

/** The canaries, and any other secret the inputs carry. */
export function secretsGiven(inputs: Record<string, string>): string[] {
  return [inputs.password, inputs['client-secret']].filter(
    (secret): secret is string => secret !== undefined && secret !== ''
  )
}

/**
 * No secret in stdout (other than its own `::add-mask::`), stderr, GITHUB_OUTPUT, the summary or the
 * emulator's request log; and each given secret is masked before the action prints anything else.
 */
export function expectSecretHygiene(run: E2eRun, given: string[]): void {
  const everySecret = [...new Set([...given, ...Object.values(canaries)])]
  const lines = run.stdout.split('\n')
  const firstOtherLine = lines.findIndex((line) => !line.startsWith('::add-mask::'))
  const requestLog = JSON.stringify(run.requests)
  for (const secret of everySecret) {
    const unmasked = lines.filter(
      (line) => line.includes(secret) && line !== `::add-mask::${secret}`
    )
    expect({ secret, unmaskedStdoutLines: unmasked }).toEqual({ secret, unmaskedStdoutLines: [] })
    const leaks = {
      stderr: run.stderr.includes(secret),
      githubOutput: run.outputFile.includes(secret),
      summary: run.summary.includes(secret),
      requestLog: requestLog.includes(secret)
    }
    expect({ secret, leaks }).toEqual({
      secret,
      leaks: { stderr: false, githubOutput: false, summary: false, requestLog: false }
    })
  }
  for (const secret of given) {
    const masked = lines.indexOf(`::add-mask::${secret}`)
    expect({ secret, masked: masked !== -1 }).toEqual({ secret, masked: true })
    expect({
      secret,
      maskedBeforeAnyOtherOutput: firstOtherLine === -1 || masked < firstOtherLine
    }).toEqual({ secret, maskedBeforeAnyOtherOutput: true })
  }
}

// ---- A DBA at work, through the emulator's admin API ----

export interface DbaDecision {
  verdict: 'approve' | 'reject'
  /** How long the DBA takes after the connection shows up as Pending. */
  afterMs: number
  description?: string
  factory?: string
  endpoint?: string
  /** Bound on waiting for the connection to appear. */
  withinMs?: number
}

export interface DbaRecord {
  connectionName: string
  decidedAt: number
}

/** Waits (bounded) for the endpoint's Pending connection on the server, then decides on it. */
export async function dbaDecides(
  emulator: RunningEmulator,
  decision: DbaDecision,
  record: Partial<DbaRecord> = {}
): Promise<void> {
  const factory = decision.factory ?? ids.factoryName
  const endpoint = decision.endpoint ?? ids.defaultEndpointName
  const deadline = Date.now() + (decision.withinMs ?? 20_000)
  for (;;) {
    const state = emulator.admin.snapshot() as EmulatorState
    const connection = connectionFrom(state, factory, endpoint)
    if (connection?.properties.privateLinkServiceConnectionState.status === 'Pending') {
      await sleep(decision.afterMs)
      emulator.admin[decision.verdict]({
        server: ids.serverName,
        connectionName: connection.name,
        description: decision.description
      })
      record.connectionName = connection.name
      record.decidedAt = Date.now()
      return
    }
    if (Date.now() > deadline) {
      throw new Error(`No Pending connection from ${factory}.${endpoint} within the bound`)
    }
    await sleep(50)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Whether an executable is on PATH (checked without running it: `az version` alone takes seconds). */
export function onPath(executable: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, executable), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** The first `node` on PATH (outside node_modules) whose major version is `major`. */
export function nodeBinaryOfMajor(major: number): string | undefined {
  const candidates = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir && !dir.includes('node_modules'))
    .map((dir) => path.join(dir, 'node'))
  return candidates.find((binary) => {
    try {
      const version = execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 })
      return version.startsWith(`v${major}.`)
    } catch {
      return false
    }
  })
}
