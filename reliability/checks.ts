// The judgments of the reliability run, as pure functions of one finished run and the emulator's
// state: how the run ended, and which invariants (no duplicates, no probes left, no secret shown) hold.
import { strayedSecret, type RequestLogEntry } from '../emulator/index.js'
import { workflowCommands, type ActionResult } from '../runner/index.js'

/** What the run is for: the resources a converged apply leaves, by name. */
export interface Target {
  factory: string
  serverId: string
  endpoint: string
  linkedService: string
  database: string
  username: string
  integrationRuntime: string
}

// ---- The emulator's snapshot, typed as far as these checks read it ----

interface Named {
  name: string
}

interface FactoryState extends Named {
  managedPrivateEndpoints: (Named & {
    properties: {
      provisioningState?: string
      privateLinkResourceId?: string
      connectionState?: { status?: string }
    }
  })[]
  linkedservices: (Named & {
    properties: {
      type?: string
      connectVia?: { referenceName?: string }
      typeProperties?: { server?: string; database?: string; username?: string }
    }
  })[]
  datasets: Named[]
  pipelines: Named[]
}

interface ServerState {
  id: string
  fullyQualifiedDomainName: string
  privateEndpointConnections: (Named & {
    properties: {
      privateEndpoint?: { id?: string }
      privateLinkServiceConnectionState?: { status?: string }
    }
  })[]
}

export interface EmulatorState {
  factories: FactoryState[]
  servers: ServerState[]
}

const same = (a: string | undefined, b: string): boolean => a?.toLowerCase() === b.toLowerCase()

function factoryOf(state: EmulatorState, target: Target): FactoryState {
  const factory = state.factories.find((candidate) => same(candidate.name, target.factory))
  if (!factory) throw new Error(`No factory ${target.factory} in the emulator's state`)
  return factory
}

function serverOf(state: EmulatorState, target: Target): ServerState {
  const server = state.servers.find((candidate) => same(candidate.id, target.serverId))
  if (!server) throw new Error(`No server ${target.serverId} in the emulator's state`)
  return server
}

/** The server's connections made by this factory's endpoints (`<factory>.<endpoint>`, Azure's naming). */
function factoryConnections(state: EmulatorState, target: Target) {
  const prefix = `/privateendpoints/${target.factory.toLowerCase()}.`
  return serverOf(state, target).privateEndpointConnections.filter((connection) =>
    connection.properties.privateEndpoint?.id?.toLowerCase().includes(prefix)
  )
}

// ---- How a run ended ----

export type Ending = 'success' | 'clear failure' | 'crash'

/** `::error::` messages, decoded as the runner shows them. */
export function errorMessages(stdout: string): string[] {
  return workflowCommands(stdout, 'error')
}

/** An uncaught error's stack frame (`    at fn (file.js:1:2)`). */
const stackFrame = /^\s+at .+:\d+:\d+\)?$/m
/** A message that names nothing: empty, a bare value, or a JavaScript error of the code itself. */
const namesNothing =
  /^\s*$|^(undefined|null|\[object Object\])$|^(Type|Reference|Syntax|Range)Error\b/

/**
 * success = exit 0; clear failure = exit 1 with an `::error::` line that names what failed;
 * crash = anything else (another code, a signal, a stack trace on stderr, a bare or missing
 * error, or the run killed at its bound). Returns the ending and, for a crash, why.
 */
export function judgeEnding(
  result: ActionResult,
  boundMs: number
): { ending: Ending; why?: string } {
  if (result.durationMs >= boundMs) {
    return { ending: 'crash', why: `still running at its bound (${boundMs} ms)` }
  }
  if (result.signal) return { ending: 'crash', why: `ended by ${result.signal}` }
  const frame = stackFrame.exec(result.stderr)
  if (frame) return { ending: 'crash', why: `stack trace on stderr (${frame[0].trim()})` }
  if (result.exitCode === 0) return { ending: 'success' }
  if (result.exitCode !== 1) return { ending: 'crash', why: `exit code ${result.exitCode}` }
  const errors = errorMessages(result.stdout)
  if (errors.length === 0) return { ending: 'crash', why: 'exit 1 without an ::error:: line' }
  const bare = errors.find((message) => namesNothing.test(message))
  if (bare !== undefined) return { ending: 'crash', why: `an error that names nothing: "${bare}"` }
  return { ending: 'clear failure' }
}

// ---- Invariants of the state ----

/** More than one endpoint to the server, non-Disconnected connection for it, or linked service reaching it. */
export function duplicates(state: EmulatorState, target: Target): string[] {
  const factory = factoryOf(state, target)
  const groups = {
    'managed private endpoints to the server': factory.managedPrivateEndpoints
      .filter((endpoint) => same(endpoint.properties.privateLinkResourceId, target.serverId))
      .map((endpoint) => endpoint.name),
    'live connections from the factory': factoryConnections(state, target)
      .filter(
        (connection) =>
          connection.properties.privateLinkServiceConnectionState?.status !== 'Disconnected'
      )
      .map((connection) => connection.name),
    'linked services reaching the server': factory.linkedservices
      .filter((linkedService) =>
        same(
          linkedService.properties.typeProperties?.server,
          serverOf(state, target).fullyQualifiedDomainName
        )
      )
      .map((linkedService) => linkedService.name)
  }
  return Object.entries(groups)
    .filter(([, names]) => names.length > 1)
    .map(([what, names]) => `${names.length} ${what}: ${[...names].sort().join(', ')}`)
}

const probePrefix = 'adf-pg-private-link-probe'

/** Datasets, pipelines and linked services named like the connection test's temporary ones. */
export function probesLeft(state: EmulatorState, target: Target): string[] {
  const factory = factoryOf(state, target)
  return (['datasets', 'pipelines', 'linkedservices'] as const).flatMap((kind) =>
    factory[kind]
      .filter((resource) => resource.name.toLowerCase().startsWith(probePrefix))
      .map((resource) => `${kind}/${resource.name}`)
  )
}

/**
 * What a fault-free follow-up must leave: exit 0, our endpoint provisioned and Approved (in Data
 * Factory's view and on the server), the linked service as the inputs say, the connection test passed.
 * Returns what is not so (empty = converged).
 */
export function unconverged(result: ActionResult, state: EmulatorState, target: Target): string[] {
  const factory = factoryOf(state, target)
  const endpoint = factory.managedPrivateEndpoints.find((candidate) =>
    same(candidate.name, target.endpoint)
  )
  // A Disconnected connection of an earlier endpoint of the same name may remain beside ours.
  const connectionApproved = factoryConnections(state, target).some(
    (candidate) =>
      candidate.properties.privateEndpoint?.id
        ?.toLowerCase()
        .endsWith(`.${target.endpoint.toLowerCase()}`) &&
      candidate.properties.privateLinkServiceConnectionState?.status === 'Approved'
  )
  const linkedService = factory.linkedservices.find((candidate) =>
    same(candidate.name, target.linkedService)
  )
  const typeProperties = linkedService?.properties.typeProperties
  const expectations: [boolean, string][] = [
    [result.exitCode === 0, `exit code ${result.exitCode ?? result.signal}`],
    [endpoint?.properties.provisioningState === 'Succeeded', 'endpoint not Succeeded'],
    [
      same(endpoint?.properties.privateLinkResourceId, target.serverId),
      'endpoint not aimed at the server'
    ],
    [
      endpoint?.properties.connectionState?.status === 'Approved',
      'endpoint not Approved in Data Factory'
    ],
    [connectionApproved, 'connection not Approved on the server'],
    [linkedService?.properties.type === 'AzurePostgreSql', 'no AzurePostgreSql linked service'],
    [
      same(typeProperties?.server, serverOf(state, target).fullyQualifiedDomainName) &&
        typeProperties?.database === target.database &&
        typeProperties?.username === target.username,
      'linked service not pointing at the server, database and role'
    ],
    [
      linkedService?.properties.connectVia?.referenceName === target.integrationRuntime,
      'linked service not on the integration runtime'
    ],
    [
      result.outputs['connection-test'] === 'succeeded',
      `connection-test ${result.outputs['connection-test'] ?? 'unset'}`
    ]
  ]
  return expectations.filter(([holds]) => !holds).map(([, what]) => what)
}

/**
 * Where a secret shows: stdout (other than its own `::add-mask::` line), stderr, GITHUB_OUTPUT,
 * the job summary, or the emulator's request log of the run (which replaces a scenario secret
 * sent outside a secret field by `strayedSecret`).
 */
export function secretLeaks(
  result: ActionResult,
  requests: RequestLogEntry[],
  secrets: string[]
): string[] {
  const requestLog = JSON.stringify(requests)
  const sentToAzure = requestLog.includes(strayedSecret)
    ? ['a secret sent to Azure outside a secret field (request log)']
    : []
  const shown = secrets.flatMap((secret) => {
    const places = {
      stdout: result.stdout
        .split('\n')
        .some((line) => line.includes(secret) && line !== `::add-mask::${secret}`),
      stderr: result.stderr.includes(secret),
      GITHUB_OUTPUT: result.outputFile.includes(secret),
      summary: result.summary.includes(secret),
      'request log': requestLog.includes(secret)
    }
    return Object.entries(places)
      .filter(([, leaked]) => leaked)
      .map(([place]) => `a secret in ${place}`)
  })
  return [...shown, ...sentToAzure]
}
