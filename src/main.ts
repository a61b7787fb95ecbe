// Orchestration only: read settings, sign in, run the steps in order, report (always).
import { createClients } from './azure/clients.js'
import { createGateway, type AzureGateway } from './azure/gateway.js'
import {
  chooseAuthMethod,
  createCredential,
  logSignIn,
  sharedTokenCache,
  signIn,
  watchIdTokens,
  type AuthChoice
} from './azure/sign-in.js'
import { formatDuration } from './duration.js'
import { ActionError, CancelledError } from './errors.js'
import { readMode, readSettings } from './inputs.js'
import { createActionIO, type ActionIO, type PullRequestComments } from './io.js'
import type { Settings } from './settings.js'
import type { TokenCredential } from '@azure/identity'
import { publishCheckIssue } from './check-issue.js'
import { planCommentMarker, publishPlanComment } from './plan-comment.js'
import { RunReport, type StepOutcome } from './report.js'
import { ensureApproval, factoryNoticed } from './steps/approval.js'
import { testConnection } from './steps/connection-test.js'
import type { StepContext } from './steps/context.js'
import { ensureEndpoint } from './steps/endpoint.js'
import { exportToGit } from './steps/export.js'
import {
  ensureLinkedService,
  untestedReason,
  writeTestedLinkedService
} from './steps/linked-service.js'
import { runPreflight } from './steps/preflight.js'
import { sweepStaleProbes } from './steps/probes.js'
import { approveServerConnections } from './steps/server-approval.js'
import { teardown } from './steps/teardown.js'
import { Waiter } from './waiting.js'

type StepRunner = <T>(name: string, work: () => Promise<StepOutcome<T>>) => Promise<T>

async function apply(context: StepContext, step: StepRunner): Promise<void> {
  const preflight = await step('Preflight', () => runPreflight(context))
  // Leftovers are the connection test's objects: a run that makes none leaves the sweep to one that does.
  if (context.ledger.mode === 'apply' && context.settings.connectionTest.enabled)
    await step('Leftover probes', () => sweepStaleProbes(context))
  const endpoint = await step('Managed private endpoint', () => ensureEndpoint(context, preflight))
  // Data Factory notices the approval meanwhile (approval.factorySees): only the test's run waits.
  const approval = await step('Approval', () => ensureApproval(context, endpoint))
  const tested = {
    testEnabled: context.settings.connectionTest.enabled,
    endpointApproved: approval.approved
  }
  // A changed definition is staged as a temporary copy, tested, and only then written.
  const linkedService = await step('Linked service', () =>
    ensureLinkedService(context, preflight, tested)
  )
  await step('Connection test', () =>
    testConnection(context, linkedService, { ...tested, factorySees: approval.factorySees })
  )
  const { staged } = linkedService
  const linkedServiceProperties = staged
    ? await step('Linked service write', () =>
        writeTestedLinkedService(context, preflight, { ...linkedService, staged })
      )
    : linkedService.properties
  // Whether the factory is Git-integrated matters only when something was (or would be) written.
  if (preflight.git || context.settings.exportPath !== undefined || context.ledger.changed)
    await step('Git export', () =>
      exportToGit(
        context,
        preflight,
        linkedServiceProperties && { endpoint, linkedServiceProperties }
      )
    )
  const { factorySees } = approval
  if (factorySees && untestedReason({ ...tested, mode: context.ledger.mode }))
    await step('Data Factory approval', () => factoryNoticed(factorySees))
}

async function destroy(context: StepContext, step: StepRunner): Promise<void> {
  // Connection-test objects that earlier runs left (killed, or their deletes failed) go first.
  await step('Leftover probes', () => sweepStaleProbes(context))
  await step('Teardown', () => teardown(context))
}

/** The DBA's run: only the server-side approval of this factory's connections. */
async function approveOnly(context: StepContext, step: StepRunner): Promise<void> {
  await step('Server-side approval', () => approveServerConnections(context))
}

/** The check's verdict on the job: a failure fails it; drift too, unless fail-on-drift is false. */
function checkVerdict(report: RunReport, settings: Settings | undefined): string | undefined {
  if (report.mode !== 'check' || report.failed || !settings?.failOnDrift) return undefined
  const drift = report.findings()
  return drift.length
    ? `Drift found (${drift.length}): ${drift.map((finding) => `${finding.resource} ${finding.detail}`).join('; ')}. Run apply (on-drift: recreate where the endpoint is concerned) to repair it, or set fail-on-drift: false to only report.`
    : undefined
}

/** An abort caused by the `timeout` input (a TimeoutError reason) is a timeout, not a cancel. */
export function explainTimeout(error: unknown, signal: AbortSignal, timeoutMs: number): unknown {
  const timedOut = signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError'
  if (!timedOut || !(error instanceof CancelledError)) return error
  return new ActionError(
    `The step's 'timeout' (${formatDuration(timeoutMs)}) was exceeded while ${error.during}.`,
    {
      cause: error,
      hint: 'Run again to continue where it stopped (every step is idempotent), or raise timeout.'
    }
  )
}

/**
 * Signs in as the inputs say (main and post alike): the credential, which ID tokens it presented
 * (for the sign-in step's diagnosis) and the Azure gateway over the two SDK clients. No request is
 * sent yet.
 */
export function connect(
  settings: Settings,
  io: Pick<ActionIO, 'idToken' | 'log'>
): {
  auth: AuthChoice
  idTokens: ReturnType<typeof watchIdTokens>
  credential: TokenCredential
  azure: AzureGateway
} {
  const auth = chooseAuthMethod(settings.signIn, process.env)
  logSignIn(auth, settings, io.log)
  const idTokens = watchIdTokens(io.idToken)
  const credential = sharedTokenCache(
    createCredential(auth.method, settings.signIn, idTokens.fetch)
  )
  return {
    auth,
    idTokens,
    credential,
    azure: createGateway(createClients(settings, credential, io.log), settings)
  }
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
  const report = new RunReport(readMode(io.inputs), io.log)
  io.state.save('isPost', 'true') // the same entry then runs as the post step (see post.ts)
  let planComment: { comments: PullRequestComments; marker: string } | undefined
  // Known once the inputs are valid (invalid inputs are no news about the target for the check's issue).
  let valid: Settings | undefined
  try {
    const settings = readSettings(io.inputs, io.secrets)
    valid = settings
    const comments =
      settings.mode === 'plan' && settings.githubToken
        ? io.pullRequestComments(settings.githubToken)
        : undefined
    if (comments) planComment = { comments, marker: planCommentMarker(settings) }
    const { auth, idTokens, credential, azure } = connect(settings, io)
    // One signal for every wait and SDK call: the runner's cancel or the `timeout` input.
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(settings.timeoutMs)])
    const context: StepContext = {
      settings,
      azure,
      log: io.log,
      waiter: new Waiter({
        pollIntervalMs: settings.pollIntervalMs,
        stepDeadline: Date.now() + settings.timeoutMs,
        signal,
        log: io.log
      }),
      ledger: report,
      run: io.run,
      state: io.state
    }
    const step: StepRunner = (name, work) =>
      report.step(name, () =>
        work().catch((error: unknown) => {
          throw explainTimeout(error, signal, settings.timeoutMs)
        })
      )
    await step('Sign-in', () =>
      signIn(credential, auth, settings.signIn, idTokens.presented, signal)
    )
    if (settings.mode === 'destroy') await destroy(context, step)
    else if (settings.mode === 'approve') await approveOnly(context, step)
    else await apply(context, step)
  } catch (error) {
    report.fail(error)
  } finally {
    // Stops a wait still running in the background (Data Factory noticing an approval) after a failure;
    // still listening, so a SIGINT now cannot kill the process while it writes the summary.
    controller.abort()
    await report.publish(io.outputs, io.summary, io.secrets).catch((error: unknown) => {
      io.log.warning(`Could not write the outputs or the job summary: ${String(error)}`)
    })
    if (planComment) {
      const markdown = io.secrets.redact(report.summaryMarkdown())
      await publishPlanComment(planComment.comments, planComment.marker, markdown, io.log)
    }
    if (valid?.mode === 'check' && valid.githubToken) {
      const markdown = io.secrets.redact(report.summaryMarkdown())
      const healthy = report.outputValues().healthy === 'true'
      await publishCheckIssue(
        io.repositoryIssues(valid.githubToken),
        valid,
        { healthy, markdown, run: io.run },
        io.log
      )
    }
  }
  const failure = report.failed
  const drift = checkVerdict(report, valid)
  if (failure)
    io.fail(
      io.secrets.redact(failure.hint ? `${failure.message}\n${failure.hint}` : failure.message)
    )
  else if (drift) io.fail(io.secrets.redact(drift))
  stopListening()
}
