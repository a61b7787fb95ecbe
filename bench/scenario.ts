// The benchmark's fixed scenario: the basic scenario with seconds-scale delays that line up with no
// whole-second polling schedule, the paths measured, and what each path must wait for by nature.
import {
  basicIds,
  basicScenario,
  testDelays,
  type Delays,
  type Scenario
} from '../emulator/index.js'

/** The scenario (6 s, 2 s, 2 s, 8 s, 10 s = 28 s) made irregular: 29.5 s in all. */
export const benchDelays: Delays = {
  ...testDelays,
  endpointProvisioningMs: 6_300,
  connectionAppearsMs: 2_700,
  connectionUpdateMs: 1_900,
  approvalDiscoveryMs: 8_400,
  pipelineQueuedMs: 10_200
}

/** Both sides poll a changing state at this pace (the action's `poll-interval`, the CLI's `sleep`). */
export const benchPollIntervalMs = 2_000

export type BenchPath = 'fresh' | 'noop' | 'test'

export const pathLabels: Record<BenchPath, string> = {
  fresh: 'fresh apply',
  noop: 're-run, nothing to do (no test)',
  test: 're-run with the connection test'
}

/** The state changes Azure (here the emulator) makes on a path, in the order they happen. */
export type StateChange =
  | 'endpoint Succeeded'
  | 'connection appears'
  | 'approval operation done'
  | 'factory sees Approved'
  | 'run ends'

export const stateChangesOf: Record<BenchPath, StateChange[]> = {
  fresh: [
    'endpoint Succeeded',
    'connection appears',
    'approval operation done',
    'factory sees Approved',
    'run ends'
  ],
  noop: [],
  test: ['run ends']
}

/**
 * The emulator's inherent delay on a path, ms: the sum of the scenario delays that lie one after
 * another on it (each change waits for the previous one), which no client can avoid.
 */
export function inherentDelayMs(path: BenchPath, delays: Delays): number {
  const perChange: Record<StateChange, number> = {
    'endpoint Succeeded': delays.endpointProvisioningMs,
    'connection appears': delays.connectionAppearsMs,
    'approval operation done': delays.connectionUpdateMs,
    'factory sees Approved': delays.approvalDiscoveryMs,
    'run ends': delays.pipelineQueuedMs
  }
  return stateChangesOf[path].reduce((sum, change) => sum + perChange[change], 0)
}

/** Names both sides use in the basic scenario (the action's defaults, so the CLI makes the same resources). */
export const benchNames = {
  ...basicIds,
  endpointName: `pg-${basicIds.serverName}`,
  linkedServiceName: `PostgreSql_${basicIds.serverName}_${basicIds.database}`,
  integrationRuntime: 'AutoResolveIntegrationRuntime',
  testQuery: 'SELECT 1'
} as const

export function benchScenario(delays: Delays): Scenario {
  return basicScenario({ delays })
}
