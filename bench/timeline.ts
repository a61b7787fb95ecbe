// Turns the emulator's request log into the benchmark's figures: requests by kind, each process's
// start-up before its first request, and how long each side took to notice each state change.
import type { Delays, RequestLogEntry } from '../emulator/index.js'
import { stateChangesOf, type BenchPath, type StateChange } from './scenario.js'

/** One client process (the action, or one `az` command), epoch ms. */
export interface ProcessSpan {
  startMs: number
  endMs: number
}

export interface Timeline {
  /** Resource Manager requests by HTTP method. */
  armRequests: Record<string, number>
  /** Entra ID / GitHub OIDC requests (token endpoints and their discovery documents). */
  signInRequests: number
  /** Per process: ms from its start to the start of its first request. */
  firstRequestMs: number[]
  /** Per state change on the path: ms from the change to the first response that shows it (NaN: never seen). */
  noticeLagMs: { change: StateChange; lagMs: number }[]
}

export interface TimelineInput {
  path: BenchPath
  entries: RequestLogEntry[]
  processes: ProcessSpan[]
  delays: Delays
  /** Pipeline runs from `emulator.admin.snapshot().pipelineRuns`. */
  pipelineRuns: { runId: string; runEnd?: string }[]
  factoryName: string
  endpointName: string
}

type Json = Record<string, unknown>

const signInPath = /\/oauth2\/|\/\.well-known\/|\/discovery\/|^\/github-oidc\//i
const terminalRunStatus = new Set(['Succeeded', 'Failed', 'Cancelled', 'Canceled'])

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {}
}

/** A body's resources: the `value` of a list, or the body itself. */
function itemsOf(body: unknown): Json[] {
  const object = asObject(body)
  return Array.isArray(object.value) ? object.value.map(asObject) : [object]
}

/** The log records each entry when the response has been sent: `time` is the response's moment. */
function respondedAt(entry: RequestLogEntry): number {
  return Date.parse(entry.time)
}

function requestedAt(entry: RequestLogEntry): number {
  return respondedAt(entry) - entry.durationMs
}

/** What each state change looks like in a response body, and when it happened. */
function changeDetectors(input: TimelineInput) {
  const { entries, delays, factoryName, endpointName } = input
  const endpointPath = new RegExp(`/managedPrivateEndpoints/${endpointName}$`, 'i')
  const ourConnection = `/${factoryName}.${endpointName}`.toLowerCase()
  const firstOk = (method: string, pattern: RegExp, status: number[]) =>
    entries.find(
      (entry) =>
        entry.method === method && pattern.test(entry.path) && status.includes(entry.status)
    )
  const ourEndpoints = (body: unknown) =>
    itemsOf(body).filter(
      (item) =>
        typeof item.name === 'string' && item.name.toLowerCase() === endpointName.toLowerCase()
    )
  // A list, one connection, or a server's body with its connections inside.
  const ourConnections = (body: unknown) => {
    const nested = asObject(asObject(body).properties).privateEndpointConnections
    return [...itemsOf(body), ...(Array.isArray(nested) ? nested.map(asObject) : [])].filter(
      (item) => {
        const id = asObject(asObject(item.properties).privateEndpoint).id
        return typeof id === 'string' && id.toLowerCase().endsWith(ourConnection)
      }
    )
  }
  const endpointState = (body: unknown, test: (properties: Json) => boolean) =>
    ourEndpoints(body).some((item) => test(asObject(item.properties)))

  // The PUT that created the endpoint: datafactory.ts stamps createdAt while answering it.
  const endpointPut = firstOk('PUT', endpointPath, [200, 201])
  const endpointSucceededAt =
    endpointPut && respondedAt(endpointPut) + delays.endpointProvisioningMs
  // The approve PUT starts an operation that completes connectionUpdateMs later (postgres-flexible.ts).
  const approvePut = firstOk('PUT', /\/privateEndpointConnections\/[^/]+$/i, [202])
  const approvalDoneAt = approvePut && respondedAt(approvePut) + delays.connectionUpdateMs

  const detectors: Record<
    StateChange,
    { at: number | undefined; shows: (entry: RequestLogEntry) => boolean }
  > = {
    'endpoint Succeeded': {
      at: endpointSucceededAt,
      shows: (entry) =>
        endpointState(
          entry.responseBody,
          (properties) => properties.provisioningState === 'Succeeded'
        )
    },
    // datafactory.ts settle(): the Pending connection is dated createdAt + provisioning + appears.
    'connection appears': {
      at: endpointSucceededAt && endpointSucceededAt + delays.connectionAppearsMs,
      shows: (entry) => ourConnections(entry.responseBody).length > 0
    },
    'approval operation done': {
      at: approvalDoneAt,
      shows: (entry) =>
        (/\/(azureAsyncOperation|operationResults)\//i.test(entry.path) &&
          entry.status === 200 &&
          asObject(entry.responseBody).status !== 'InProgress') ||
        ourConnections(entry.responseBody).some((connection) => {
          const properties = asObject(connection.properties)
          return (
            asObject(properties.privateLinkServiceConnectionState).status === 'Approved' &&
            properties.provisioningState === 'Succeeded'
          )
        })
    },
    // datafactory.ts factorySideState(): a server-side change reaches the factory approvalDiscoveryMs later.
    'factory sees Approved': {
      at: approvalDoneAt && approvalDoneAt + delays.approvalDiscoveryMs,
      shows: (entry) =>
        endpointState(
          entry.responseBody,
          (properties) => asObject(properties.connectionState).status === 'Approved'
        )
    },
    // pipelines.ts finish(): runEnd is the moment the Lookup ended (queued pipelineQueuedMs before it ran).
    'run ends': {
      at: runEndOf(input),
      shows: (entry) =>
        /\/pipelineruns\/[^/]+$|\/queryPipelineRuns$/i.test(entry.path) &&
        itemsOf(entry.responseBody).some((run) => terminalRunStatus.has(String(run.status)))
    }
  }
  return detectors
}

/** The end of the run this path started (its createRun answer names it), from the emulator's record. */
function runEndOf(input: TimelineInput): number | undefined {
  const created = input.entries.find(
    (entry) => entry.method === 'POST' && /\/createRun$/i.test(entry.path) && entry.status === 200
  )
  const runId = asObject(created?.responseBody).runId
  const run = input.pipelineRuns.find((candidate) => candidate.runId === runId)
  return run?.runEnd ? Date.parse(run.runEnd) : undefined
}

/**
 * The figures of one measured run. A change's time is derived from the request that caused it plus
 * the scenario's delay (see each detector); a client notices it at the first response sent after
 * that moment whose body shows it.
 */
export function analyse(input: TimelineInput): Timeline {
  const armRequests: Record<string, number> = {}
  let signInRequests = 0
  for (const entry of input.entries) {
    if (signInPath.test(entry.path)) signInRequests++
    else armRequests[entry.method] = (armRequests[entry.method] ?? 0) + 1
  }
  const firstRequestMs = input.processes.flatMap((span) => {
    const starts = input.entries
      .map(requestedAt)
      .filter((at) => at >= span.startMs && at <= span.endMs)
    return starts.length === 0 ? [] : [Math.min(...starts) - span.startMs]
  })
  const detectors = changeDetectors(input)
  const noticeLagMs = stateChangesOf[input.path].map((change) => {
    const at = detectors[change].at
    const seen =
      at === undefined
        ? undefined
        : input.entries.find((entry) => respondedAt(entry) >= at && detectors[change].shows(entry))
    return { change, lagMs: at === undefined || !seen ? Number.NaN : respondedAt(seen) - at }
  })
  return { armRequests, signInRequests, firstRequestMs, noticeLagMs }
}
