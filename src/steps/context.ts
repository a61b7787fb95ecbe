// What every step receives: settings, the Azure gateway, the waiter, the ledger and a logger.
import type { AzureGateway } from '../azure/gateway.js'
import type { Logger, RunContext, StateStore } from '../io.js'
import type { Ledger } from '../report.js'
import type { Settings } from '../settings.js'
import type { Waiter } from '../waiting.js'

export interface StepContext {
  settings: Settings
  /** Every Azure operation the steps use (src/azure/gateway.ts). */
  azure: AzureGateway
  log: Logger
  waiter: Waiter
  ledger: Ledger
  run: RunContext
  /** Where the probe objects this run creates are listed for the post step. */
  state: StateStore
}

/** A problem found by a decision function, as the user should read it. */
export interface Finding {
  message: string
  hint: string
}

/** Options every gateway call gets, so a cancelled or timed-out run stops its requests too. */
export function requestOptions(context: StepContext): { abortSignal: AbortSignal } {
  return { abortSignal: context.waiter.signal }
}

/** A healthy run's clean-up may take Azure's usual time; only a cancelled one must hurry. */
const unhurriedCleanupLimitMs = 120_000

/**
 * Clean-up ignores the run's signal, since a cancelled run must clean up too: then within
 * `graceMs` (its share of the runner's 7.5 s grace), otherwise within a generous bound.
 */
export function cleanupOptions(
  context: StepContext,
  graceMs: number
): { abortSignal: AbortSignal } {
  const limitMs = context.waiter.signal.aborted ? graceMs : unhurriedCleanupLimitMs
  return { abortSignal: AbortSignal.timeout(limitMs) }
}
