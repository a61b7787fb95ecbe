// The post step (`post:` in action.yml, run even after a failed or killed main): removes the
// connection test's temporary objects that main listed in the runner state and did not remove.
import { readSettings } from './inputs.js'
import type { ActionIO } from './io.js'
import { connect } from './main.js'
import { RunReport } from './report.js'
import type { StepContext } from './steps/context.js'
import { probeCount, removeProbes, savedProbes } from './steps/probes.js'
import { Waiter } from './waiting.js'

/** The whole post step's bound: it removes at most three objects. */
const postLimitMs = 60_000

/** Never fails the job: a clean-up problem only warns, naming what to delete by hand. */
export async function runPost(io: ActionIO): Promise<void> {
  const probes = savedProbes(io.state)
  const count = probeCount(probes)
  if (count === 0) return // main removed everything (or created nothing): no request at all
  try {
    const settings = readSettings(io.inputs, io.secrets)
    const signal = AbortSignal.timeout(postLimitMs)
    const context: StepContext = {
      settings,
      azure: connect(settings, io).azure,
      log: io.log,
      waiter: new Waiter({
        pollIntervalMs: settings.pollIntervalMs,
        stepDeadline: Date.now() + postLimitMs,
        signal,
        log: io.log
      }),
      ledger: new RunReport(settings.mode, io.log),
      run: io.run,
      state: io.state
    }
    const removed = await removeProbes(context, probes)
    io.log.info(
      `Removed ${removed} of ${count} temporary connection-test object(s) left by the main step.`
    )
  } catch (error) {
    const names = [...(probes.linkedServices ?? []), ...probes.datasets, ...probes.pipelines]
    io.log.warning(
      io.secrets.redact(
        `Could not remove the connection test's temporary objects (${String(error instanceof Error ? error.message : error)}). Delete them by hand in factory '${io.inputs.get('factory-name')}': ${names.join(', ')}.`
      )
    )
  }
}
