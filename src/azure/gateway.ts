// The one seam between the steps and Azure: every factory and server operation the action uses,
// each once, with its ARM id, the RBAC permission it needs and how its failure is explained.
// Steps call this, never the SDK; their unit tests use a typed fake of it.
import type {
  ActivityRunsQueryResponse,
  DatasetResource,
  Factory,
  IntegrationRuntimeResource,
  LinkedServiceResource,
  LinkedServiceUnion,
  ManagedPrivateEndpointResource,
  ManagedVirtualNetworkResource,
  PipelineResource,
  PipelineRun
} from '@azure/arm-datafactory'
import type {
  PrivateEndpointConnection,
  PrivateLinkResource,
  Server
} from '@azure/arm-postgresql-flexible'
import { describeFailure, unlessNotFound } from '../errors.js'
import type { Settings } from '../settings.js'
import { retryAfterMs } from '../waiting.js'
import {
  listAll,
  listRawItems,
  privateEndpointIdHeader,
  withRawBody,
  type AzureClients,
  type RawResponseOption
} from './clients.js'
import { armIds, type ArmIds } from './ids.js'

// The SDK's models the steps read, named here so that no step imports an SDK package.
export type {
  ActivityRun,
  DatasetResource,
  Factory,
  FactoryRepoConfigurationUnion,
  IntegrationRuntimeResource,
  LinkedServiceResource,
  ManagedPrivateEndpointResource,
  PipelineResource,
  PipelineRun
} from '@azure/arm-datafactory'
export type {
  PrivateEndpointConnection,
  PrivateLinkResource,
  Server
} from '@azure/arm-postgresql-flexible'

/** Every call takes the signal that stops it (the run's, or a clean-up's own bound). */
export interface CallOptions {
  abortSignal: AbortSignal
}

/** A linked service as Azure answers it: the raw body (the SDK's model drops v2 fields), etag, id. */
export interface RawLinkedService {
  body: unknown
  etag?: string
  id?: string
}

/** The factory's lists this action reads as raw items (their models drop unknown fields). */
export type FactoryList = 'linkedservices' | 'integrationruntimes' | 'datasets' | 'pipelines'

/** An approval Azure accepted (202) and runs as a long-running operation. */
export interface ApprovalOperation {
  /** Azure's Retry-After on the 202, in ms; undefined when it sent none. */
  retryAfterMs?: number
  /** One status poll: whether the operation ended (throws when it failed) and Azure's Retry-After (ms). */
  poll(options: CallOptions): Promise<{ done: boolean; retryAfterMs?: number }>
}

/**
 * The factory's and the server's operations, bound to the target the settings name. Each throws
 * an ActionError whose `resource` is the full ARM id of what failed and whose hint is the
 * catalogue's cause and fix (src/failures.ts); `find…` answers undefined on a 404 (a missing
 * resource group or subscription is thrown: a wrong input). A cancelled call throws CancelledError.
 */
export interface AzureGateway {
  readonly ids: ArmIds
  findFactory(options: CallOptions): Promise<Factory | undefined>
  readFactory(options: CallOptions): Promise<Factory>
  findIntegrationRuntime(options: CallOptions): Promise<IntegrationRuntimeResource | undefined>
  listManagedVirtualNetworks(options: CallOptions): Promise<ManagedVirtualNetworkResource[]>
  listManagedPrivateEndpoints(options: CallOptions): Promise<ManagedPrivateEndpointResource[]>
  createManagedPrivateEndpoint(
    name: string,
    target: { privateLinkResourceId: string; groupId: string },
    options: CallOptions
  ): Promise<ManagedPrivateEndpointResource>
  deleteManagedPrivateEndpoint(name: string, options: CallOptions): Promise<void>
  findLinkedService(name: string, options: CallOptions): Promise<LinkedServiceResource | undefined>
  /** The raw body too, since the SDK's model drops the AzurePostgreSql v2 typeProperties. */
  findRawLinkedService(name: string, options: CallOptions): Promise<RawLinkedService | undefined>
  /** `ifMatch`: the etag read, so a change made meanwhile answers 412 instead of being lost. */
  writeLinkedService(
    name: string,
    properties: unknown,
    options: CallOptions & { ifMatch?: string }
  ): Promise<LinkedServiceResource>
  deleteLinkedService(name: string, options: CallOptions): Promise<void>
  /** Every item of a factory list as Azure sent it (every page). */
  listRaw(list: FactoryList, options: CallOptions): Promise<unknown[]>
  writeDataset(name: string, dataset: DatasetResource, options: CallOptions): Promise<void>
  deleteDataset(name: string, options: CallOptions): Promise<void>
  writePipeline(name: string, pipeline: PipelineResource, options: CallOptions): Promise<void>
  deletePipeline(name: string, options: CallOptions): Promise<void>
  /** Starts a run of the pipeline; returns its run id. */
  runPipeline(name: string, options: CallOptions): Promise<string>
  readPipelineRun(runId: string, options: CallOptions): Promise<PipelineRun>
  cancelPipelineRun(runId: string, options: CallOptions): Promise<void>
  /** The activity runs of a pipeline run last updated between `after` and `before`. */
  queryActivityRuns(
    runId: string,
    window: { after: Date; before: Date },
    options: CallOptions
  ): Promise<ActivityRunsQueryResponse>
  readServer(options: CallOptions): Promise<Server>
  findServer(options: CallOptions): Promise<Server | undefined>
  findPrivateLinkResources(options: CallOptions): Promise<PrivateLinkResource[] | undefined>
  listConnections(options: CallOptions): Promise<PrivateEndpointConnection[]>
  /**
   * Sends the approval of a connection (status Approved, `description`); `privateEndpointId`
   * goes into the body, where Azure Policy rules on approvals read it (see clients.ts).
   */
  beginApproveConnection(
    name: string,
    approval: { description: string; privateEndpointId: string },
    options: CallOptions
  ): Promise<ApprovalOperation>
  /** Deletes a Disconnected connection and awaits the operation; gone already is done. */
  deleteConnection(name: string, options: CallOptions): Promise<void>
}

/** The RBAC actions the operations need (roles/*.json grant them). */
export const permissions = {
  factoryRead: 'Microsoft.DataFactory/factories/read',
  runtimeRead: 'Microsoft.DataFactory/factories/integrationruntimes/read',
  vnetRead: 'Microsoft.DataFactory/factories/managedVirtualNetworks/read',
  endpointRead:
    'Microsoft.DataFactory/factories/managedVirtualNetworks/managedPrivateEndpoints/read',
  endpointWrite:
    'Microsoft.DataFactory/factories/managedVirtualNetworks/managedPrivateEndpoints/write',
  endpointDelete:
    'Microsoft.DataFactory/factories/managedVirtualNetworks/managedPrivateEndpoints/delete',
  linkedServiceRead: 'Microsoft.DataFactory/factories/linkedservices/read',
  linkedServiceWrite: 'Microsoft.DataFactory/factories/linkedservices/write',
  linkedServiceDelete: 'Microsoft.DataFactory/factories/linkedservices/delete',
  datasetRead: 'Microsoft.DataFactory/factories/datasets/read',
  datasetWrite: 'Microsoft.DataFactory/factories/datasets/write',
  datasetDelete: 'Microsoft.DataFactory/factories/datasets/delete',
  pipelineRead: 'Microsoft.DataFactory/factories/pipelines/read',
  pipelineWrite: 'Microsoft.DataFactory/factories/pipelines/write',
  pipelineDelete: 'Microsoft.DataFactory/factories/pipelines/delete',
  pipelineRun: 'Microsoft.DataFactory/factories/pipelines/createrun/action',
  runRead: 'Microsoft.DataFactory/factories/pipelineruns/read',
  runCancel: 'Microsoft.DataFactory/factories/pipelineruns/cancel/action',
  activityRunsQuery: 'Microsoft.DataFactory/factories/pipelineruns/queryactivityruns/action',
  serverRead: 'Microsoft.DBforPostgreSQL/flexibleServers/read',
  privateLinkRead: 'Microsoft.DBforPostgreSQL/flexibleServers/privateLinkResources/read',
  connectionRead: 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/read',
  connectionWrite: 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write',
  /** Checked besides the write when a connection is approved. */
  connectionApproval:
    'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnectionsApproval/action',
  connectionDelete: 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/delete'
} as const

/** The gateway over the real SDK clients, for the target `settings` names. */
export function createGateway(
  clients: AzureClients,
  settings: Pick<Settings, 'factory' | 'managedVirtualNetwork' | 'integrationRuntime' | 'server'>
): AzureGateway {
  const { dataFactory, postgres } = clients
  const { resourceGroup, name: factory } = settings.factory
  const vnet = settings.managedVirtualNetwork
  const server = settings.server
  const ids = armIds(settings)
  // Each raw list: its words, the permission it needs, and the SDK call.
  const lists: Record<
    FactoryList,
    {
      words: string
      permission: string
      list: (options: CallOptions & RawResponseOption) => AsyncIterable<unknown>
    }
  > = {
    linkedservices: {
      words: 'linked services',
      permission: permissions.linkedServiceRead,
      list: (options) => dataFactory.linkedServices.listByFactory(resourceGroup, factory, options)
    },
    integrationruntimes: {
      words: 'integration runtimes',
      permission: permissions.runtimeRead,
      list: (options) =>
        dataFactory.integrationRuntimes.listByFactory(resourceGroup, factory, options)
    },
    datasets: {
      words: 'datasets',
      permission: permissions.datasetRead,
      list: (options) => dataFactory.datasets.listByFactory(resourceGroup, factory, options)
    },
    pipelines: {
      words: 'pipelines',
      permission: permissions.pipelineRead,
      list: (options) => dataFactory.pipelines.listByFactory(resourceGroup, factory, options)
    }
  }
  const readFactory = (options: CallOptions) =>
    describeFailure('read the data factory', ids.factory, permissions.factoryRead, () =>
      dataFactory.factories.get(resourceGroup, factory, options)
    )
  const readServer = (options: CallOptions) =>
    describeFailure('read the PostgreSQL server', server.id, permissions.serverRead, () =>
      postgres.servers.get(server.resourceGroup, server.name, options)
    )
  return {
    ids,
    findFactory: (options) => unlessNotFound(() => readFactory(options)),
    readFactory,
    findIntegrationRuntime: (options) =>
      describeFailure(
        'read the integration runtime',
        ids.factoryChild('integrationruntimes', settings.integrationRuntime),
        permissions.runtimeRead,
        () =>
          unlessNotFound(() =>
            dataFactory.integrationRuntimes.get(
              resourceGroup,
              factory,
              settings.integrationRuntime,
              options
            )
          )
      ),
    listManagedVirtualNetworks: (options) =>
      describeFailure('list the managed virtual networks', ids.factory, permissions.vnetRead, () =>
        listAll(dataFactory.managedVirtualNetworks.listByFactory(resourceGroup, factory, options))
      ),
    listManagedPrivateEndpoints: (options) =>
      describeFailure(
        'list the managed private endpoints',
        ids.managedVirtualNetwork,
        permissions.endpointRead,
        () =>
          listAll(
            dataFactory.managedPrivateEndpoints.listByFactory(resourceGroup, factory, vnet, options)
          )
      ),
    createManagedPrivateEndpoint: (name, target, options) =>
      describeFailure(
        'create the managed private endpoint',
        ids.managedPrivateEndpoint(name),
        permissions.endpointWrite,
        () =>
          dataFactory.managedPrivateEndpoints.createOrUpdate(
            resourceGroup,
            factory,
            vnet,
            name,
            { properties: target },
            options
          )
      ),
    deleteManagedPrivateEndpoint: (name, options) =>
      describeFailure(
        'delete the managed private endpoint',
        ids.managedPrivateEndpoint(name),
        permissions.endpointDelete,
        () =>
          dataFactory.managedPrivateEndpoints.delete(resourceGroup, factory, vnet, name, options)
      ),
    findLinkedService: (name, options) =>
      describeFailure(
        'read the linked service',
        ids.factoryChild('linkedservices', name),
        permissions.linkedServiceRead,
        () =>
          unlessNotFound(() =>
            dataFactory.linkedServices.get(resourceGroup, factory, name, options)
          )
      ),
    findRawLinkedService: async (name, options) => {
      const read = await describeFailure(
        'read the linked service',
        ids.factoryChild('linkedservices', name),
        permissions.linkedServiceRead,
        () =>
          unlessNotFound(() =>
            withRawBody((raw) =>
              dataFactory.linkedServices.get(resourceGroup, factory, name, { ...options, ...raw })
            )
          )
      )
      return read && { body: read.body, etag: read.value.etag, id: read.value.id }
    },
    writeLinkedService: (name, properties, { ifMatch, ...options }) =>
      describeFailure(
        'write the linked service',
        ids.factoryChild('linkedservices', name),
        permissions.linkedServiceWrite,
        () =>
          dataFactory.linkedServices.createOrUpdate(
            resourceGroup,
            factory,
            name,
            { properties: properties as LinkedServiceUnion },
            { ...options, ...(ifMatch ? { ifMatch } : {}) }
          )
      ),
    deleteLinkedService: (name, options) =>
      describeFailure(
        'delete the linked service',
        ids.factoryChild('linkedservices', name),
        permissions.linkedServiceDelete,
        () => dataFactory.linkedServices.delete(resourceGroup, factory, name, options)
      ),
    listRaw: (list, options) =>
      describeFailure(`list the ${lists[list].words}`, ids.factory, lists[list].permission, () =>
        listRawItems((raw) => lists[list].list({ ...options, ...raw }))
      ),
    writeDataset: async (name, dataset, options) =>
      void (await describeFailure(
        'create the temporary dataset',
        ids.factoryChild('datasets', name),
        permissions.datasetWrite,
        () => dataFactory.datasets.createOrUpdate(resourceGroup, factory, name, dataset, options)
      )),
    deleteDataset: (name, options) =>
      describeFailure(
        'delete the temporary dataset',
        ids.factoryChild('datasets', name),
        permissions.datasetDelete,
        () => dataFactory.datasets.delete(resourceGroup, factory, name, options)
      ),
    writePipeline: async (name, pipeline, options) =>
      void (await describeFailure(
        'create the temporary pipeline',
        ids.factoryChild('pipelines', name),
        permissions.pipelineWrite,
        () => dataFactory.pipelines.createOrUpdate(resourceGroup, factory, name, pipeline, options)
      )),
    deletePipeline: (name, options) =>
      describeFailure(
        'delete the temporary pipeline',
        ids.factoryChild('pipelines', name),
        permissions.pipelineDelete,
        () => dataFactory.pipelines.delete(resourceGroup, factory, name, options)
      ),
    runPipeline: async (name, options) =>
      (
        await describeFailure(
          'start the connection test',
          ids.factoryChild('pipelines', name),
          permissions.pipelineRun,
          () => dataFactory.pipelines.createRun(resourceGroup, factory, name, options)
        )
      ).runId,
    readPipelineRun: (runId, options) =>
      describeFailure(
        'read the connection test run',
        ids.factoryChild('pipelineruns', runId),
        permissions.runRead,
        () => dataFactory.pipelineRuns.get(resourceGroup, factory, runId, options)
      ),
    cancelPipelineRun: (runId, options) =>
      describeFailure(
        'cancel the connection test run',
        ids.factoryChild('pipelineruns', runId),
        permissions.runCancel,
        () => dataFactory.pipelineRuns.cancel(resourceGroup, factory, runId, options)
      ),
    queryActivityRuns: (runId, window, options) =>
      describeFailure(
        'read the activity runs',
        ids.factoryChild('pipelineruns', runId),
        permissions.activityRunsQuery,
        () =>
          dataFactory.activityRuns.queryByPipelineRun(
            resourceGroup,
            factory,
            runId,
            { lastUpdatedAfter: window.after, lastUpdatedBefore: window.before },
            options
          )
      ),
    readServer,
    findServer: (options) => unlessNotFound(() => readServer(options)),
    findPrivateLinkResources: (options) =>
      describeFailure(
        'read the Private Link resources of the PostgreSQL server',
        server.id,
        permissions.privateLinkRead,
        () =>
          unlessNotFound(() =>
            listAll(
              postgres.privateLinkResources.listByServer(server.resourceGroup, server.name, options)
            )
          )
      ),
    listConnections: (options) =>
      describeFailure(
        'list the private endpoint connections of the server',
        server.id,
        permissions.connectionRead,
        () =>
          listAll(
            postgres.privateEndpointConnections.listByServer(
              server.resourceGroup,
              server.name,
              options
            )
          )
      ),
    beginApproveConnection: (name, approval, options) => {
      // Azure's Retry-After on the latest answer (the 202, then each status poll).
      let hintMs: number | undefined
      const onResponse = (raw: { headers: { get(name: string): string | undefined } }) => {
        hintMs = retryAfterMs(raw.headers.get('retry-after'))
      }
      const approving = <T>(call: () => Promise<T>): Promise<T> =>
        describeFailure(
          'approve the private endpoint connection',
          ids.connection(name),
          permissions.connectionWrite,
          call
        )
      return approving(async () => {
        const poller = await postgres.privateEndpointConnections.beginUpdate(
          server.resourceGroup,
          server.name,
          name,
          {
            privateLinkServiceConnectionState: {
              status: 'Approved',
              description: approval.description
            }
          },
          {
            ...options,
            requestOptions: approval.privateEndpointId
              ? { customHeaders: { [privateEndpointIdHeader]: approval.privateEndpointId } }
              : undefined,
            onResponse
          }
        )
        return {
          retryAfterMs: hintMs,
          poll: (pollOptions) =>
            approving(async () => {
              hintMs = undefined
              await poller.poll(pollOptions)
              return { done: poller.isDone(), retryAfterMs: hintMs }
            })
        }
      })
    },
    deleteConnection: async (name, options) =>
      void (await describeFailure(
        'delete the Disconnected private endpoint connection',
        ids.connection(name),
        permissions.connectionDelete,
        () =>
          unlessNotFound(() =>
            postgres.privateEndpointConnections.beginDeleteAndWait(
              server.resourceGroup,
              server.name,
              name,
              options
            )
          )
      ))
  }
}
