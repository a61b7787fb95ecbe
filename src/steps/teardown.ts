// Destroy: removes what apply made — leftover connection-test resources, the linked service (unless
// others still use it), then the managed private endpoint (unless other linked services reach the
// server through it) — and waits until the endpoint and its server-side connection are gone.
// Missing pieces are fine, so destroy can run any number of times.
import {
  ActionError,
  asActionError,
  isPermanentRefusal,
  statusCodeOf,
  unlessNotFound
} from '../errors.js'
import { sameText } from '../names.js'
import { postgresGroupId } from '../private-link.js'
import type { StepOutcome } from '../report.js'
import { observeMatch, type ConnectionView, type EndpointRef } from './connections.js'
import { requestOptions, type StepContext } from './context.js'
import { isProbe } from './probes.js'
import { linkedServiceId } from './linked-service.js'
import { deleteEndpoint, listEndpoints, type EndpointView } from './endpoint.js'

interface NamedBody {
  name: string
  body: unknown
}

/**
 * Whether `body` holds, at any depth, an object `{ type: referenceType, referenceName }` whose
 * name is one of `names` (in any case).
 */
export function references(body: unknown, referenceType: string, names: string[]): boolean {
  if (Array.isArray(body)) return body.some((item) => references(item, referenceType, names))
  if (body === null || typeof body !== 'object') return false
  const { type, referenceName } = body as Record<string, unknown>
  if (
    type === referenceType &&
    typeof referenceName === 'string' &&
    names.some((name) => sameText(name, referenceName))
  ) {
    return true
  }
  return Object.values(body).some((inner) => references(inner, referenceType, names))
}

/**
 * Datasets, then pipelines (directly or through those datasets), that use the linked service;
 * the action's own temporary ones never count.
 */
export function findReferences(
  linkedService: string,
  datasets: NamedBody[],
  pipelines: NamedBody[]
): string[] {
  const datasetUsers = datasets
    .filter(
      (dataset) =>
        !isProbe(dataset.name) &&
        references(dataset.body, 'LinkedServiceReference', [linkedService])
    )
    .map((dataset) => dataset.name)
  const pipelineUsers = pipelines
    .filter(
      (pipeline) =>
        !isProbe(pipeline.name) &&
        (references(pipeline.body, 'LinkedServiceReference', [linkedService]) ||
          references(pipeline.body, 'DatasetReference', datasetUsers))
    )
    .map((pipeline) => pipeline.name)
  return [
    ...datasetUsers.map((name) => `dataset '${name}'`),
    ...pipelineUsers.map((name) => `pipeline '${name}'`)
  ]
}

/** Linked service types that reach a PostgreSQL server (Azure Database for PostgreSQL, v1 and v2). */
const postgresLinkedServiceTypes = ['AzurePostgreSql', 'PostgreSql', 'PostgreSqlV2']
/** The runtime a linked service without connectVia runs on. */
const defaultRuntime = 'AutoResolveIntegrationRuntime'
const connectionStringHostKeys = ['host', 'server']

/** The text of a plain or SecureString value; undefined for an expression or a masked secret. */
function plainText(value: unknown): string | undefined {
  const text =
    typeof value === 'string'
      ? value
      : (value as { type?: unknown; value?: unknown } | null)?.type === 'SecureString'
        ? (value as { value?: unknown }).value
        : undefined
  return typeof text === 'string' && !/^\*+$/.test(text) ? text : undefined
}

/**
 * The host names a PostgreSQL linked service body connects to: `typeProperties.server` (v2), or
 * the `Host=`/`Server=` of a legacy connection string (comma-separated hosts, `:port` dropped).
 * Undefined when they cannot be read (an expression, a Key Vault or masked connection string).
 */
export function postgresHostsOf(body: unknown): string[] | undefined {
  const typeProperties = (body as { properties?: { typeProperties?: Record<string, unknown> } })
    .properties?.typeProperties
  const server = plainText(typeProperties?.server ?? typeProperties?.host)
  if (server) return [server.trim()]
  const connectionString = plainText(typeProperties?.connectionString)
  if (!connectionString) return undefined
  const hosts = connectionString
    .split(';')
    .map((pair) => pair.split('='))
    .filter(([key]) => connectionStringHostKeys.includes(key.trim().toLowerCase()))
    .flatMap(([, value = '']) => value.split(','))
    .map((host) => host.trim().replace(/:\d+$/, ''))
    .filter(Boolean)
  return hosts.length ? hosts : undefined
}

export interface EndpointUsers {
  /** Other linked services that reach the server through the managed virtual network. */
  using: string[]
  /** PostgreSQL linked services on the managed network whose server cannot be read. */
  unreadable: string[]
}

/**
 * The OTHER linked services that reach `serverFqdn` through a runtime of `managedVirtualNetwork`,
 * so through the one managed private endpoint to that server (Azure allows one per target).
 * `linkedServices` and `runtimes` are raw list items; the action's own probes never count.
 */
export function findEndpointUsers(
  linkedServices: NamedBody[],
  runtimes: NamedBody[],
  target: { linkedService: string; serverFqdn: string; managedVirtualNetwork: string }
): EndpointUsers {
  const inNetwork = (runtimeName: string): boolean =>
    runtimes.some((runtime) => {
      const network = (
        runtime.body as {
          properties?: { managedVirtualNetwork?: { referenceName?: string } }
        }
      ).properties?.managedVirtualNetwork?.referenceName
      return sameText(runtime.name, runtimeName) && sameText(network, target.managedVirtualNetwork)
    })
  const candidates = linkedServices.filter(({ name, body }) => {
    const properties = (body as { properties?: { type?: string; connectVia?: unknown } }).properties
    const runtime =
      (properties?.connectVia as { referenceName?: string } | undefined)?.referenceName ??
      defaultRuntime
    return (
      !sameText(name, target.linkedService) &&
      !isProbe(name) &&
      postgresLinkedServiceTypes.some((type) => sameText(type, properties?.type)) &&
      inNetwork(runtime)
    )
  })
  const hostsOf = candidates.map((candidate) => ({
    name: candidate.name,
    hosts: postgresHostsOf(candidate.body)
  }))
  return {
    using: hostsOf
      .filter(({ hosts }) => hosts?.some((host) => sameText(host, target.serverFqdn)))
      .map(({ name }) => name),
    unreadable: hostsOf.filter(({ hosts }) => hosts === undefined).map(({ name }) => name)
  }
}

interface TeardownObservation {
  linkedServiceExists: boolean
  datasets: NamedBody[]
  pipelines: NamedBody[]
  endpoint?: EndpointView
  /** Who else reaches the server through the endpoint; none when there is no endpoint. */
  endpointUsers: EndpointUsers
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
  const users = observed.linkedServiceExists
    ? findReferences(target.linkedService, observed.datasets, observed.pipelines)
    : []
  if (users.length) {
    if (target.force) notes.push(`force: deleting although used by ${users.join(', ')}`)
    else blocker = `Linked service '${target.linkedService}' is still used by ${users.join(', ')}.`
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
  const { using, unreadable } = observed.endpointUsers
  const others = using.map((name) => `'${name}'`).join(', ')
  const sharedBy = endpoint && ours && using.length > 0
  if (sharedBy) {
    notes.push(
      target.force
        ? `force: deleting endpoint '${endpoint.name}' although linked services ${others} reach the server through it`
        : `endpoint '${endpoint.name}' kept: linked services ${others} also reach the server through it (Azure allows one managed private endpoint per target); set force: true to delete it anyway`
    )
  }
  if (endpoint && ours && unreadable.length > 0) {
    notes.push(
      `could not tell which server linked services ${unreadable.map((name) => `'${name}'`).join(', ')} use (expression or secret connection string): check they do not need endpoint '${endpoint.name}'`
    )
  }
  return {
    deleteLinkedService: observed.linkedServiceExists,
    deleteEndpoint: endpoint !== undefined && ((ours && !sharedBy) || target.force),
    blocker,
    notes
  }
}

/** What became of the endpoint's server-side connection (`none`: no endpoint was deleted). */
export type ConnectionOutcome = 'dropped' | 'none' | 'leftover-deleted' | 'leftover-kept'

const connectionWords: Record<ConnectionOutcome, string | undefined> = {
  dropped: 'the server dropped the connection',
  none: undefined,
  'leftover-deleted': "including the endpoint's Disconnected connection on the server",
  'leftover-kept': "the endpoint's Disconnected connection is left on the server (see the warning)"
}

/** The summary's "done" text, true to what was deleted and what was left. */
export function teardownDone(deletedAnything: boolean, connection: ConnectionOutcome): string {
  const head = deletedAnything
    ? 'deleted'
    : connection === 'leftover-kept'
      ? 'nothing deleted'
      : 'nothing to delete'
  return [head, connectionWords[connection]].filter(Boolean).join('; ')
}

/** The server's FQDN as Azure reports it; undefined when the server is gone. */
async function readServerFqdn(context: StepContext): Promise<string | undefined> {
  const server = await context.azure.findServer(requestOptions(context))
  return server?.fullyQualifiedDomainName
}

/** Other linked services that reach the server through the managed VNet (raw bodies). */
async function observeEndpointUsers(context: StepContext): Promise<EndpointUsers> {
  const { settings, azure } = context
  const options = requestOptions(context)
  const serverFqdn = await readServerFqdn(context)
  if (!serverFqdn) return { using: [], unreadable: [] }
  const [linkedServices, runtimes] = await Promise.all([
    azure.listRaw('linkedservices', options),
    azure.listRaw('integrationruntimes', options)
  ])
  return findEndpointUsers(toNamed(linkedServices), toNamed(runtimes), {
    linkedService: settings.linkedService.name,
    serverFqdn,
    managedVirtualNetwork: settings.managedVirtualNetwork
  })
}

function toNamed(items: unknown[]): NamedBody[] {
  return items.map((item) => ({
    name: String((item as { name?: unknown }).name ?? ''),
    body: item
  }))
}

async function observe(context: StepContext): Promise<TeardownObservation> {
  const { settings, azure } = context
  const options = requestOptions(context)
  const linkedService = await azure.findLinkedService(settings.linkedService.name, options)
  // Listed even without the linked service: leftover connection-test resources go in any case.
  const [datasets, pipelines, endpoints] = await Promise.all([
    azure.listRaw('datasets', options),
    azure.listRaw('pipelines', options),
    unlessNotFound(() => listEndpoints(context))
  ])
  const endpoint = endpoints?.find((candidate) => sameText(candidate.name, settings.endpointName))
  return {
    linkedServiceExists: linkedService !== undefined,
    datasets: toNamed(datasets),
    pipelines: toNamed(pipelines),
    endpoint,
    endpointUsers: endpoint ? await observeEndpointUsers(context) : { using: [], unreadable: [] }
  }
}

/** Waits until the server lists no live connection for the endpoint; returns a Disconnected one left. */
async function awaitConnectionGone(
  context: StepContext,
  endpoint: EndpointRef
): Promise<ConnectionView | undefined> {
  return context.waiter.until(
    {
      what: `the server to drop the connection of endpoint '${endpoint.name}'`,
      timeoutMs: context.settings.timeoutMs,
      timeoutInput: 'timeout',
      hint: 'Remove the connection on the server (Networking > Private endpoint connections) and run again.'
    },
    async () => {
      const connection = await unlessNotFound(() => observeMatch(context, endpoint))
      return !connection || sameText(connection.status, 'Disconnected')
        ? { done: true, value: connection }
        : { done: false, status: connection.status }
    }
  )
}

/** Deletes a Disconnected connection so a later apply starts clean; without the right, only warns. */
async function deleteLeftoverConnection(
  context: StepContext,
  connection: ConnectionView
): Promise<boolean> {
  try {
    await context.azure.deleteConnection(connection.name, requestOptions(context))
    return true
  } catch (error) {
    const translated = asActionError(error)
    if (statusCodeOf(error) !== 403 || isPermanentRefusal(error)) throw translated
    context.log.warning(`${translated.message} ${translated.hint}`)
    return false
  }
}

export async function teardown(context: StepContext): Promise<StepOutcome<void>> {
  const { settings, ledger } = context
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
      resource: linkedServiceId(settings),
      hint: 'Remove or repoint those datasets and pipelines first, or set force: true to delete the linked service anyway.'
    })
  }
  for (const note of decision.notes) context.log.warning(note)
  if (decision.deleteLinkedService) {
    await context.azure.deleteLinkedService(settings.linkedService.name, requestOptions(context))
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
      // The id as plan and create spell it: Azure answers its segments lower-cased.
      id: context.azure.ids.managedPrivateEndpoint(observed.endpoint.name)
    })
  }
  // An endpoint left alone keeps its connection (on this server when only its group differs).
  const endpointGone = decision.deleteEndpoint || !observed.endpoint
  const leftover = endpointGone
    ? await awaitConnectionGone(context, {
        name: settings.endpointName,
        privateEndpointId: observed.endpoint?.privateEndpointId ?? '',
        isNew: false
      })
    : undefined
  const leftoverDeleted =
    leftover !== undefined && (await deleteLeftoverConnection(context, leftover))
  if (leftover && leftoverDeleted) {
    ledger.change({ action: 'deleted', resource: 'private-endpoint-connection', id: leftover.id })
  }
  const connection: ConnectionOutcome = leftover
    ? leftoverDeleted
      ? 'leftover-deleted'
      : 'leftover-kept'
    : decision.deleteEndpoint
      ? 'dropped'
      : 'none'
  const deletedAnything = decision.deleteLinkedService || decision.deleteEndpoint || leftoverDeleted
  return { value: undefined, found, done: teardownDone(deletedAnything, connection) }
}
