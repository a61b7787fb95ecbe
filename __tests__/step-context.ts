// A StepContext over fake SDK clients, for the step modules' tests: records logs, changes and outputs.
import { readSettings } from '../src/inputs.js'
import { createSecretMasker } from '../src/io.js'
import type { Change } from '../src/report.js'
import type { StepContext } from '../src/steps/context.js'
import type { EndpointView } from '../src/steps/endpoint.js'
import { Waiter } from '../src/waiting.js'
import { reader, validInputs } from './helpers.js'

export interface Recorded {
  infos: string[]
  warnings: string[]
  changes: Change[]
  outputs: Record<string, string>
  /** Refusals met on the way (reported as the cause if the step then times out). */
  obstacles: Error[]
}

/** One page holding the items `items()` gives at the moment the page is read. */
export function pages<T>(items: () => T[]): AsyncIterable<T> {
  return (async function* () {
    yield* items()
  })()
}

/** An Azure SDK error as the clients throw it. */
export function restError(statusCode: number, code: string, message = code): Error {
  return Object.assign(new Error(message), { name: 'RestError', statusCode, code })
}

/**
 * A context whose clock advances `tickMs` per sleep (so waits end without real time passing),
 * with `clients` as the SDK clients and the inputs overridden by `inputs`.
 */
export function fakeStepContext(
  clients: unknown,
  options: {
    inputs?: Record<string, string>
    mode?: 'apply' | 'plan' | 'destroy'
    tickMs?: number
  } = {}
): { context: StepContext; recorded: Recorded } {
  const recorded: Recorded = { infos: [], warnings: [], changes: [], outputs: {}, obstacles: [] }
  const settings = readSettings(
    reader({ ...validInputs, ...options.inputs }),
    createSecretMasker(() => undefined)
  )
  const log = {
    info: (message: string) => void recorded.infos.push(message),
    warning: (message: string) => void recorded.warnings.push(message),
    debug: () => undefined
  }
  let now = 0
  const context = {
    settings,
    clients,
    log,
    waiter: new Waiter({
      pollIntervalMs: settings.pollIntervalMs,
      stepDeadline: Number.MAX_SAFE_INTEGER,
      signal: new AbortController().signal,
      log,
      clock: {
        now: () => now,
        sleep: async (ms: number) => void (now += Math.max(ms, options.tickMs ?? 0))
      }
    }),
    ledger: {
      mode: options.mode ?? 'apply',
      change: (change: Change) => void recorded.changes.push(change),
      output: (name: string, value: string) => void (recorded.outputs[name] = value),
      obstacle: (error: Error) => void recorded.obstacles.push(error)
    },
    run: {
      repository: 'octo/repo',
      runId: '42',
      runAttempt: '1',
      runUrl: 'https://github.com/octo/repo/actions/runs/42'
    }
  } as unknown as StepContext
  return { context, recorded }
}

/** A provisioned managed private endpoint `pg-pg-demo` to `privateLinkResourceId`, connection Pending. */
export function endpointView(
  privateLinkResourceId: string,
  overrides: Partial<EndpointView> = {}
): EndpointView {
  return {
    name: 'pg-pg-demo',
    id: '/x/managedPrivateEndpoints/pg-pg-demo',
    privateLinkResourceId,
    groupId: 'postgresqlServer',
    provisioningState: 'Succeeded',
    connectionStatus: 'Pending',
    connectionDescription: '',
    isReserved: false,
    privateEndpointId: '',
    ...overrides
  }
}
