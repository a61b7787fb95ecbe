// The connection test: a temporary dataset and pipeline with one Lookup through the linked service
// (or through a staged temporary copy of its new definition), run once; the activity's own error
// explains a failure. The temporary objects are removed afterwards, always.
import type { ActivityRun, PipelineResource } from '../azure/gateway.js'
import { ActionError, asActionError, CancelledError } from '../errors.js'
import { explain, hintOf, signalFromMessage } from '../failures.js'
import type { StepOutcome } from '../report.js'
import { cleanupOptions, requestOptions, type StepContext } from './context.js'
import { untestedReason, type LinkedServiceResult } from './linked-service.js'
import { createProbe, removeProbes, type ProbeSet } from './probes.js'

const probeActivityName = 'LookupPostgreSql'

export function probePipeline(datasetName: string, query: string): PipelineResource {
  return {
    description: 'Temporary connection test made by adf-pg-private-link; deleted after the run.',
    activities: [
      {
        name: probeActivityName,
        type: 'Lookup',
        source: { type: 'AzurePostgreSqlSource', query },
        dataset: { referenceName: datasetName, type: 'DatasetReference' },
        firstRowOnly: true
      }
    ]
  }
}

export type RunState = 'running' | 'succeeded' | 'failed'

export function runState(status: string | undefined): RunState {
  switch (status) {
    case 'Succeeded':
      return 'succeeded'
    case 'Failed':
    case 'Cancelled':
    case 'Canceled':
      return 'failed'
    default:
      return 'running'
  }
}

/** The failed activity's error message (PostgreSQL's own words), if any activity reported one. */
export function activityFailure(activityRuns: ActivityRun[]): string | undefined {
  for (const run of activityRuns) {
    const error = run.error as { message?: string; errorCode?: string } | undefined
    if (run.status === 'Failed' && error?.message) {
      return error.errorCode ? `${error.message} (error code ${error.errorCode})` : error.message
    }
  }
  return undefined
}

/** The likely cause and fix of a failed Lookup, from the failure catalogue (src/failures.ts). */
export function connectionTestHint(message: string, factory?: string): string {
  return hintOf(explain(signalFromMessage('connection-test', message), { factory }))
}

export interface ConnectionTestOptions {
  /** False when approval is `none` and the endpoint is not approved: the test could only fail. */
  endpointApproved: boolean
  /**
   * Settles once Data Factory sees the endpoint Approved (see ApprovalResult): the dataset and
   * pipeline are written meanwhile, and only the run waits for it.
   */
  factorySees?: Promise<void>
}

export async function testConnection(
  context: StepContext,
  linkedService: LinkedServiceResult,
  options: ConnectionTestOptions
): Promise<StepOutcome<void>> {
  const { settings, ledger } = context
  const skip = (why: string): StepOutcome<void> => ({
    value: undefined,
    found: why,
    done: 'skipped'
  })
  const untested = untestedReason({
    mode: ledger.mode,
    testEnabled: settings.connectionTest.enabled,
    endpointApproved: options.endpointApproved
  })
  if (untested) return skip(untested)
  if (linkedService.untested) return skip(linkedService.untested)

  const names = linkedService.probes
  const staged = linkedService.staged
  const { azure } = context
  const started = new Date()
  const through = staged
    ? `a temporary copy '${linkedService.testThrough}' of the new definition of ${linkedService.name}`
    : linkedService.name
  // What this run made and so deletes afterwards (a write Azure refused made nothing).
  const made: ProbeSet = {
    datasets: [],
    pipelines: [],
    linkedServices: staged ? [linkedService.testThrough] : []
  }
  try {
    await createProbe(
      context.state,
      'datasets',
      names.dataset,
      () =>
        azure.writeDataset(
          names.dataset,
          {
            properties: {
              type: 'AzurePostgreSqlTable',
              linkedServiceName: {
                referenceName: linkedService.testThrough,
                type: 'LinkedServiceReference'
              },
              description: 'Temporary connection test made by adf-pg-private-link.'
            }
          },
          requestOptions(context)
        ),
      made
    )
    await createProbe(
      context.state,
      'pipelines',
      names.pipeline,
      () =>
        azure.writePipeline(
          names.pipeline,
          probePipeline(names.dataset, settings.connectionTest.query),
          requestOptions(context)
        ),
      made
    )
    // Only the run needs Data Factory to see the approval; its failure is the approval's, not the test's.
    await options.factorySees?.catch((error: unknown) => {
      throw new ApprovalNotSeen(error)
    })
    const runId = await azure.runPipeline(names.pipeline, requestOptions(context))
    ledger.output('connection-test-run-id', runId)
    const status = await awaitRun(context, runId)
    if (runState(status.status) === 'succeeded') {
      ledger.output('connection-test', 'succeeded')
      return {
        value: undefined,
        found: `Lookup "${settings.connectionTest.query}" through ${through}`,
        done: `succeeded (run ${runId})`
      }
    }
    ledger.output('connection-test', 'failed')
    const activities = await azure.queryActivityRuns(
      runId,
      { after: new Date(started.getTime() - 60_000), before: new Date(Date.now() + 60_000) },
      requestOptions(context)
    )
    const message =
      activityFailure(activities.value) ?? status.message ?? `the run ended ${status.status}`
    throw new ActionError(`The connection test failed: ${message}`, {
      resource: azure.ids.factoryChild('pipelineruns', runId),
      hint: connectionTestHint(message, settings.factory.name)
    })
  } catch (error) {
    if (error instanceof ApprovalNotSeen) throw error.cause
    ledger.output('connection-test', 'failed')
    throw staged ? keptUnchanged(error, linkedService.name, staged.existed) : error
  } finally {
    await removeProbes(context, made)
  }
}

/** Data Factory's view of the approval failed (refused, timed out) before the run could start. */
class ApprovalNotSeen extends Error {
  constructor(readonly cause: unknown) {
    super('Data Factory did not see the approval')
  }
}

/** The failure of a staged test, saying the real linked service was not touched. */
function keptUnchanged(error: unknown, name: string, existed: boolean): unknown {
  if (!(error instanceof ActionError) || error instanceof CancelledError) return error
  const kept = existed
    ? `the existing linked service '${name}' was kept unchanged`
    : `no linked service was created ('${name}' does not exist)`
  return new ActionError(
    `${error.message}\nThe new definition was tested through a temporary copy, so ${kept}.`,
    { resource: error.resource, hint: error.hint, cause: error }
  )
}

/** After a cancel, stopping the run and removing the probe must both fit the runner's 7.5 s grace. */
const runCancelLimitMs = 2_000

async function awaitRun(
  context: StepContext,
  runId: string
): Promise<{ status?: string; message?: string }> {
  const { azure } = context
  try {
    return await context.waiter.until(
      {
        what: `the connection test run ${runId} to finish`,
        timeoutMs: context.settings.connectionTest.timeoutMs,
        timeoutInput: 'test-timeout',
        hint: 'A managed-VNet runtime can take minutes to start cold; raise test-timeout, or check the run in Data Factory Studio (Monitor).',
        // createRun answered a moment ago: the run is queued, so the first look waits a pause.
        justLooked: true
      },
      async () => {
        const run = await azure.readPipelineRun(runId, requestOptions(context))
        return runState(run.status) === 'running'
          ? { done: false, status: run.status ?? 'unknown' }
          : { done: true, value: { status: run.status, message: run.message } }
      }
    )
  } catch (error) {
    // Stop the run rather than leave it queued behind a deleted pipeline.
    await azure
      .cancelPipelineRun(runId, cleanupOptions(context, runCancelLimitMs))
      .catch((cancelError: unknown) => {
        const why = asActionError(cancelError)
        context.log.warning(
          `${why.message} It may still run; cancel it in Data Factory Studio (Monitor). ${why.hint ?? ''}`.trim()
        )
      })
    throw error
  }
}
