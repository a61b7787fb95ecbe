// Destroy: removes what apply made — the linked service (unless others still use it), then the
// managed private endpoint — and waits until the endpoint and its server-side connection are gone.
// Missing pieces are fine, so destroy can run any number of times.
import { listRawItems } from '../azure.js'
import { ActionError, describeFailure, unlessNotFound } from '../errors.js'
import { sameText } from '../names.js'
import type { StepOutcome } from '../report.js'
import { observeMatch } from './approval.js'
import { requestOptions, type StepContext } from './context.js'
import { probePrefix } from './connection-test.js'
import { linkedServiceId } from './linked-service.js'
import { deleteEndpoint, listEndpoints, postgresGroupId, type EndpointView } from './endpoint.js'

interface NamedBody {
  name: string
  body: unknown
}

function referencesLinkedService(value: unknown, linkedService: string): boolean {
  if (Array.isArray(value))
    return value.some((item) => referencesLinkedService(item, linkedService))
  if (value === null || typeof value !== 'object') return false
  const object = value as Record<string, unknown>
  if (
    object.type === 'LinkedServiceReference' &&
    typeof object.referenceName === 'string' &&
    sameText(object.referenceName, linkedService)
  ) {
    return true
  }
  return Object.values(object).some((inner) => referencesLinkedService(inner, linkedService))
}

/** Datasets and pipelines, other than the action's own temporary ones, that use the linked service. */
export function findReferences(
  linkedService: string,
  datasets: NamedBody[],
  pipelines: NamedBody[]
): string[] {
  const users = (kind: string, items: NamedBody[]): string[] =>
    items
      .filter(
        (item) =>
          !item.name.startsWith(probePrefix) && referencesLinkedService(item.body, linkedService)
      )
      .map((item) => `${kind} '${item.name}'`)
  const datasetUsers = users('dataset', datasets)
  const usedDatasets = datasets
    .filter((dataset) => datasetUsers.includes(`dataset '${dataset.name}'`))
    .map((d) => d.name)
  // A pipeline can also reach it through one of those datasets.
  const pipelineUsers = pipelines
    .filter((pipeline) => !pipeline.name.startsWith(probePrefix))
    .filter(
      (pipeline) =>
        referencesLinkedService(pipeline.body, linkedService) ||
        usedDatasets.some((dataset) =>
          JSON.stringify(pipeline.body).includes(`"referenceName":"${dataset}"`)
        )
    )
    .map((pipeline) => `pipeline '${pipeline.name}'`)
  return [...datasetUsers, ...pipelineUsers]
}

interface TeardownObservation {
  linkedServiceExists: boolean
  references: string[]
  endpoint?: EndpointView
}

export interface TeardownDecision {
  deleteLinkedService: boolean
  deleteEndpoint: boolean
  /** Why destroy must stop before deleting anything. */
  blocker?: string
  notes: string[]
}

export function decideTeardown(
  observed: TeardownObservation,
  target: { linkedService: string; serverId: string; force: boolean }
): TeardownDecision {
  const notes: string[] = []
  let blocker: string | undefined
  if (observed.linkedServiceExists && observed.references.length) {
    if (target.force)
      notes.push(`force: deleting although used by ${observed.references.join(', ')}`)
    else
      blocker = `Linked service '${target.linkedService}' is still used by ${observed.references.join(', ')}.`
  }
  const endpoint = observed.endpoint
  const ours =
    endpoint !== undefined &&
    sameText(endpoint.privateLinkResourceId, target.serverId) &&
    sameText(endpoint.groupId, postgresGroupId)
  if (endpoint && !ours) {
    notes.push(
      target.force
        ? `force: deleting endpoint '${endpoint.name}' although it targets ${endpoint.privateLinkResourceId} (group ${endpoint.groupId})`
        : `endpoint '${endpoint.name}' targets ${endpoint.privateLinkResourceId} (group ${endpoint.groupId}), not this server's ${postgresGroupId}: left alone`
    )
  }
  return {
    deleteLinkedService: observed.linkedServiceExists,
    deleteEndpoint: endpoint !== undefined && (ours || target.force),
    blocker,
    notes
  }
}

async function observe(context: StepContext): Promise<TeardownObservation> {
  const { settings, clients } = context
  const { resourceGroup, name: factory } = settings.factory
  const options = requestOptions(context)
  const linkedServiceName = settings.linkedService.name
  const linkedService = await describeFailure(
    'read the linked service',
    linkedServiceName,
    'Microsoft.DataFactory/factories/linkedservices/read',
    () =>
      unlessNotFound(() =>
        clients.dataFactory.linkedServices.get(resourceGroup, factory, linkedServiceName, options)
      )
  )
  const toNamed = (items: unknown[]): NamedBody[] =>
    items.map((item) => ({ name: String((item as { name?: unknown }).name ?? ''), body: item }))
  const [datasets, pipelines, endpoints] = await Promise.all([
    linkedService
      ? describeFailure(
          'list the datasets',
          factory,
          'Microsoft.DataFactory/factories/datasets/read',
          () =>
            listRawItems((raw) =>
              clients.dataFactory.datasets.listByFactory(resourceGroup, factory, {
                ...options,
                ...raw
              })
            )
        )
      : [],
    linkedService
      ? describeFailure(
          'list the pipelines',
          factory,
          'Microsoft.DataFactory/factories/pipelines/read',
          () =>
            listRawItems((raw) =>
              clients.dataFactory.pipelines.listByFactory(resourceGroup, factory, {
                ...options,
                ...raw
              })
            )
        )
      : [],
    unlessNotFound(() => listEndpoints(context))
  ])
  return {
    linkedServiceExists: linkedService !== undefined,
    references: linkedService
      ? findReferences(linkedServiceName, toNamed(datasets), toNamed(pipelines))
      : [],
    endpoint: endpoints?.find((endpoint) => sameText(endpoint.name, settings.endpointName))
  }
}

/** Waits until the server no longer lists a live connection for the endpoint. */
async function awaitConnectionGone(context: StepContext, endpointName: string): Promise<void> {
  await context.waiter.until(
    {
      what: `the server to drop the connection of endpoint '${endpointName}'`,
      timeoutMs: context.settings.timeoutMs,
      timeoutInput: 'timeout',
      hint: 'Remove the connection on the server (Networking > Private endpoint connections) and run again.'
    },
    async () => {
      const connection = await unlessNotFound(() => observeMatch(context, endpointName, false))
      return !connection || sameText(connection.status, 'Disconnected')
        ? { done: true, value: undefined }
        : { done: false, status: connection.status }
    }
  )
}

export async function teardown(context: StepContext): Promise<StepOutcome<void>> {
  const { settings, clients, ledger } = context
  const { resourceGroup, name: factory } = settings.factory
  const observed = await observe(context)
  const decision = decideTeardown(observed, {
    linkedService: settings.linkedService.name,
    serverId: settings.server.id,
    force: settings.force
  })
  const found = [
    observed.linkedServiceExists
      ? `linked service ${settings.linkedService.name}`
      : 'no linked service',
    observed.endpoint ? `endpoint ${observed.endpoint.name}` : 'no endpoint',
    ...decision.notes
  ].join('; ')
  if (decision.blocker) {
    throw new ActionError(decision.blocker, {
      resource: settings.linkedService.name,
      hint: 'Remove or repoint those datasets and pipelines first, or set force: true to delete the linked service anyway.'
    })
  }
  for (const note of decision.notes) context.log.warning(note)
  if (decision.deleteLinkedService) {
    await describeFailure(
      'delete the linked service',
      settings.linkedService.name,
      'Microsoft.DataFactory/factories/linkedservices/delete',
      () =>
        clients.dataFactory.linkedServices.delete(
          resourceGroup,
          factory,
          settings.linkedService.name,
          requestOptions(context)
        )
    )
    ledger.change({
      action: 'deleted',
      resource: 'linked-service',
      id: linkedServiceId(settings)
    })
  }
  if (decision.deleteEndpoint && observed.endpoint) {
    await deleteEndpoint(context, observed.endpoint)
    ledger.change({
      action: 'deleted',
      resource: 'managed-private-endpoint',
      id: observed.endpoint.id
    })
  }
  // An endpoint left alone keeps its connection (on this server when only its group differs).
  if (decision.deleteEndpoint || !observed.endpoint)
    await awaitConnectionGone(context, settings.endpointName)
  return {
    value: undefined,
    found,
    done:
      decision.deleteLinkedService || decision.deleteEndpoint
        ? 'deleted; the server dropped the connection'
        : 'nothing to delete'
  }
}
