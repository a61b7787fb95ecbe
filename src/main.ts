// Orchestration only: read settings, sign in, run the steps in order, report (always).
import { chooseAuthMethod, createClients, createCredential, logSignIn } from './azure.js'
import { readSettings } from './inputs.js'
import { createActionIO, type ActionIO } from './io.js'
import { RunReport } from './report.js'
import { ensureApproval } from './steps/approval.js'
import { testConnection } from './steps/connection-test.js'
import type { StepContext } from './steps/context.js'
import { ensureEndpoint } from './steps/endpoint.js'
import { ensureLinkedService } from './steps/linked-service.js'
import { runPreflight } from './steps/preflight.js'
import { teardown } from './steps/teardown.js'
import { Waiter } from './waiting.js'

async function apply(context: StepContext, report: RunReport): Promise<void> {
  const preflight = await report.step('Preflight', () => runPreflight(context))
  const endpoint = await report.step('Managed private endpoint', () =>
    ensureEndpoint(context, preflight)
  )
  const approval = await report.step('Approval', () => ensureApproval(context, endpoint))
  const linkedService = await report.step('Linked service', () =>
    ensureLinkedService(context, preflight)
  )
  await report.step('Connection test', () =>
    testConnection(context, linkedService, { endpointApproved: approval.approved })
  )
}

/** Cancels through `controller` on the runner's SIGINT (and the SIGTERM 7.5 s later). */
function abortOnSignals(controller: AbortController, io: ActionIO): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    io.log.warning(`Received ${signal}: stopping and writing the summary.`)
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

export async function run(io: ActionIO = createActionIO()): Promise<void> {
  const controller = new AbortController()
  const stopListening = abortOnSignals(controller, io)
  let report = new RunReport('apply')
  try {
    const settings = readSettings(io.inputs, io.secrets)
    report = new RunReport(settings.mode)
    const auth = chooseAuthMethod(settings.signIn, process.env)
    logSignIn(auth, settings, io.log)
    const credential = createCredential(auth.method, settings.signIn, io.idToken)
    const context: StepContext = {
      settings,
      clients: createClients(settings, credential),
      log: io.log,
      waiter: new Waiter({
        pollIntervalMs: settings.pollIntervalMs,
        stepDeadline: Date.now() + settings.timeoutMs,
        signal: controller.signal,
        log: io.log
      }),
      ledger: report,
      run: io.run
    }
    if (settings.mode === 'destroy') await report.step('Teardown', () => teardown(context))
    else await apply(context, report)
  } catch (error) {
    report.fail(error)
  } finally {
    stopListening()
    await report.publish(io.outputs, io.summary, io.secrets).catch((error: unknown) => {
      io.log.warning(`Could not write the outputs or the job summary: ${String(error)}`)
    })
  }
  const failure = report.failed
  if (failure)
    io.fail(
      io.secrets.redact(failure.hint ? `${failure.message}\n${failure.hint}` : failure.message)
    )
}
