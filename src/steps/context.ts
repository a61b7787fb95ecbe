// What every step receives: settings, clients, the waiter, the ledger and a logger.
import type { AzureClients } from '../azure.js'
import type { Logger, RunContext } from '../io.js'
import type { Ledger } from '../report.js'
import type { Settings } from '../settings.js'
import type { Waiter } from '../waiting.js'

export interface StepContext {
  settings: Settings
  clients: AzureClients
  log: Logger
  waiter: Waiter
  ledger: Ledger
  run: RunContext
}

/** A problem found by a decision function, as the user should read it. */
export interface Finding {
  message: string
  hint: string
}

/** Options every SDK call gets, so a cancelled run stops its requests too. */
export function requestOptions(context: StepContext): { abortSignal: AbortSignal } {
  return { abortSignal: context.waiter.signal }
}
