// Microsoft.DataFactory 2018-06-01: factories, the managed VNet and its integration runtimes, managed
// private endpoints (with the provisioning → connection → approval timeline) and the factory's
// linked services, datasets and pipelines.
import { createHash, randomBytes } from 'node:crypto'
import { redact } from './admin.js'
import { armError, ifMatchFailure, resourceNotFound } from './arm-errors.js'
import type { ConnectionStateChange, PostgresProvider, ServerView } from './postgres-flexible.js'
import { sameText } from './router.js'
import type {
  Delays,
  EmuRequest,
  EmuResponse,
  FactorySeed,
  HttpMethod,
  IntegrationRuntimeSeed,
  Route,
  Scenario
} from './types.js'

const dataFactoryApiVersion = '2018-06-01'
const factoryType = 'Microsoft.DataFactory/factories'
const factoryPath = `/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/${factoryType}/:factoryName`
const endpointType = `${factoryType}/managedVirtualNetworks/managedPrivateEndpoints`
/** Managed private endpoints live in a Microsoft-owned subscription, never the customer's. */
export const microsoftManagedSubscriptionId = '7d2c6a1e-4f3b-4e8a-9c5d-0a1b2c3d4e5f'
/** The runtime every factory has even when the scenario lists none (public network). */
export const autoResolveRuntimeName = 'AutoResolveIntegrationRuntime'
const masked = '**********'
/** How Data Factory names the private endpoint behind a managed one, unless a scenario says otherwise. */
const defaultPrivateEndpointNameTemplate = '{factory}.{endpoint}'

export type ChildSegment = 'linkedservices' | 'datasets' | 'pipelines'

/** A linked service, dataset or pipeline as stored (secrets kept; masked when answered). */
export interface ChildEntity {
  name: string
  properties: Record<string, unknown>
  etag: string
}

const childKinds: { segment: ChildSegment; type: string; referenceType: string }[] = [
  {
    segment: 'linkedservices',
    type: `${factoryType}/linkedservices`,
    referenceType: 'LinkedServiceReference'
  },
  { segment: 'datasets', type: `${factoryType}/datasets`, referenceType: 'DatasetReference' },
  { segment: 'pipelines', type: `${factoryType}/pipelines`, referenceType: 'PipelineReference' }
]

interface EndpointRecord {
  name: string
  privateLinkResourceId: string
  groupId: string
  etag: string
  createdAt: number
  target: ServerView
  deleteRequestedAt?: number
  /** The server-side connection, once it has appeared. */
  connectionName?: string
  /** Server-side state changes; the factory sees each one approvalDiscoveryMs after it happened. */
  stateChanges: ConnectionStateChange[]
}

interface FactoryRecord {
  seed: FactorySeed
  id: string
  principalId: string
  vNetId: string
  etag: string
  endpoints: Map<string, EndpointRecord>
  children: Record<ChildSegment, Map<string, ChildEntity>>
}

/** What the pipeline runner needs from a factory. */
export interface FactoryView {
  id: string
  seed: FactorySeed
  child(segment: ChildSegment, name: string): ChildEntity | undefined
  integrationRuntime(name: string): IntegrationRuntimeSeed | undefined
  /** An endpoint to this server is provisioned and the factory has discovered its approval. */
  hasApprovedEndpointTo(serverId: string, now: number): boolean
}

type FactoryHandler = (factory: FactoryView, req: EmuRequest) => EmuResponse | Promise<EmuResponse>

export interface DataFactoryProvider {
  routes: Route[]
  /** A Data Factory route under a factory (answers ARM's 404 when the factory does not exist). */
  factoryRoute(
    method: HttpMethod,
    suffix: string,
    permission: string,
    handle: FactoryHandler
  ): Route
  settle(now: number): void
  connectionStateChanged(privateEndpointId: string, change: ConnectionStateChange): void
  snapshot(): unknown[]
}

/** An etag in the shape Data Factory uses, e.g. 000046c4-0000-0000-0000-5b2198bf0000. */
function newEtag(): string {
  return `${randomBytes(4).toString('hex')}-0000-0000-0000-${randomBytes(6).toString('hex')}`
}

/** A stable GUID for a name, so a factory keeps its principal and VNet ids across restarts. */
function guidFor(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

/** SecureString values come back masked, as Data Factory answers them. */
function maskSecureStrings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecureStrings)
  if (value === null || typeof value !== 'object') return value
  const entries = Object.entries(value).map(([key, inner]) => [key, maskSecureStrings(inner)])
  const object = Object.fromEntries(entries) as Record<string, unknown>
  return object.type === 'SecureString' ? { ...object, value: masked } : object
}

/** Every `{referenceName, type}` inside a resource body. */
function referencesIn(value: unknown, found: { type: string; name: string }[] = []) {
  if (Array.isArray(value)) {
    for (const item of value) referencesIn(item, found)
  } else if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>
    if (typeof object.referenceName === 'string' && typeof object.type === 'string') {
      found.push({ type: object.type, name: object.referenceName })
    }
    for (const inner of Object.values(object)) referencesIn(inner, found)
  }
  return found
}

function invalidResourceRequest(status: number, code: string, name: string, error: string) {
  return armError(
    status,
    code,
    `Invalid resource request. Resource type: 'ManagedPrivateEndpoint', Resource name: '${name}' 'Error: ${error}'.`
  )
}

export function entityNotFound(name: string): EmuResponse {
  return armError(404, 'NotFound', `Entity ${name} not found`)
}

export function createDataFactoryProvider(options: {
  scenario: Scenario
  delays: Delays
  postgres: PostgresProvider
}): DataFactoryProvider {
  const { scenario, delays, postgres } = options
  const factories = scenario.factories.map(seedFactory)

  function seedFactory(seed: FactorySeed): FactoryRecord {
    const id = `/subscriptions/${seed.subscriptionId}/resourceGroups/${seed.resourceGroup}/providers/${factoryType}/${seed.name}`
    const children = (records: Record<string, unknown> | undefined) =>
      new Map(
        Object.entries(records ?? {}).map(([name, body]) => {
          const properties = ((body as { properties?: unknown }).properties ?? body) as Record<
            string,
            unknown
          >
          return [name.toLowerCase(), { name, properties, etag: newEtag() }]
        })
      )
    const factory: FactoryRecord = {
      seed,
      id,
      principalId: guidFor(`principal:${id.toLowerCase()}`),
      vNetId: guidFor(`vnet:${id.toLowerCase()}`),
      etag: `"${newEtag()}"`,
      endpoints: new Map(),
      children: {
        linkedservices: children(seed.linkedServices),
        datasets: children(seed.datasets),
        pipelines: children(seed.pipelines)
      }
    }
    for (const endpoint of seed.managedPrivateEndpoints ?? []) seedEndpoint(factory, endpoint)
    return factory
  }

  /** An endpoint that already exists: provisioned long ago, its connection in the given state. */
  function seedEndpoint(
    factory: FactoryRecord,
    seed: NonNullable<FactorySeed['managedPrivateEndpoints']>[number]
  ): void {
    const target = postgres.findServerById(seed.privateLinkResourceId)
    if (!target)
      throw new Error(`Seeded endpoint ${seed.name}: no server ${seed.privateLinkResourceId}`)
    const status = (seed.connectionState ?? 'Pending') as ConnectionStateChange['status']
    const endpoint: EndpointRecord = {
      name: seed.name,
      privateLinkResourceId: seed.privateLinkResourceId,
      groupId: seed.groupId,
      etag: newEtag(),
      createdAt: Number.NEGATIVE_INFINITY,
      target,
      stateChanges:
        status === 'Pending' ? [] : [{ status, description: '', at: Number.NEGATIVE_INFINITY }]
    }
    endpoint.connectionName = postgres.requestConnection(
      target.id,
      privateEndpointId(factory, endpoint),
      {
        status,
        description: requestDescription(factory, endpoint),
        at: Number.NEGATIVE_INFINITY
      }
    )
    factory.endpoints.set(seed.name.toLowerCase(), endpoint)
  }

  function privateEndpointId(factory: FactoryRecord, endpoint: EndpointRecord): string {
    const managedResourceGroup = `vnet-${factory.vNetId.replace(/-/g, '')}`
    // Data Factory lower-cases the factory's name here (cliext-datafactory-2022_mpe-put-blob.json).
    const name = (factory.seed.privateEndpointNameTemplate ?? defaultPrivateEndpointNameTemplate)
      .replaceAll('{factory}', factory.seed.name.toLowerCase())
      .replaceAll('{endpoint}', endpoint.name)
    return `/subscriptions/${microsoftManagedSubscriptionId}/resourceGroups/${managedResourceGroup}/providers/Microsoft.Network/privateEndpoints/${name}`
  }

  function requestDescription(factory: FactoryRecord, endpoint: EndpointRecord): string {
    return `Requested by Data Factory '${factory.seed.name}' for managed private endpoint '${endpoint.name}'`
  }

  function provisioningState(endpoint: EndpointRecord, now: number): string {
    if (endpoint.deleteRequestedAt !== undefined) return 'Deleting'
    if (now < endpoint.createdAt + delays.endpointProvisioningMs) return 'Provisioning'
    // 'Failed' for a VNet-integrated target is a modelling choice (the reference calls Failed plausible, unconfirmed)
    return endpoint.target.vnetIntegrated ? 'Failed' : 'Succeeded'
  }

  function factorySideState(endpoint: EndpointRecord, now: number) {
    const discovered = endpoint.stateChanges.filter(
      (change) => change.at + delays.approvalDiscoveryMs <= now
    )
    return discovered.at(-1) ?? { status: 'Pending', description: '' }
  }

  function endpointBody(factory: FactoryRecord, endpoint: EndpointRecord, now: number) {
    const state = factorySideState(endpoint, now)
    return {
      id: `${factory.id}/managedVirtualNetworks/${factory.seed.managedVirtualNetwork}/managedPrivateEndpoints/${endpoint.name}`,
      name: endpoint.name,
      type: endpointType,
      properties: {
        provisioningState: provisioningState(endpoint, now),
        // The real private endpoint's id, while provisioning too (cliext-datafactory-2022_mpe-put-blob.json).
        ...(!factory.seed.omitPrivateEndpointResourceId && {
          resourceId: privateEndpointId(factory, endpoint)
        }),
        privateLinkResourceId: endpoint.privateLinkResourceId,
        groupId: endpoint.groupId,
        // Modelling choice: whether Data Factory fills in the server's FQDN here is unconfirmed
        fqdns: [endpoint.target.fullyQualifiedDomainName],
        connectionState: {
          status: state.status,
          description: state.description,
          actionsRequired: 'None'
        },
        isReserved: false
      },
      etag: endpoint.etag
    }
  }

  function factoryBody(factory: FactoryRecord) {
    return {
      id: factory.id,
      name: factory.seed.name,
      type: factoryType,
      location: factory.seed.location,
      identity: {
        type: 'SystemAssigned',
        principalId: factory.principalId,
        tenantId: scenario.tenantId
      },
      properties: {
        provisioningState: 'Succeeded',
        version: dataFactoryApiVersion,
        publicNetworkAccess: 'Enabled',
        ...(factory.seed.repoConfiguration && { repoConfiguration: factory.seed.repoConfiguration })
      },
      eTag: factory.etag,
      tags: {}
    }
  }

  function vnetBody(factory: FactoryRecord) {
    const name = factory.seed.managedVirtualNetwork
    return {
      id: `${factory.id}/managedVirtualNetworks/${name}`,
      name,
      type: `${factoryType}/managedVirtualNetworks`,
      properties: { vNetId: factory.vNetId, alias: factory.seed.name },
      etag: factory.etag.replace(/"/g, '')
    }
  }

  function runtimeBody(factory: FactoryRecord, runtime: IntegrationRuntimeSeed) {
    return {
      id: `${factory.id}/integrationruntimes/${runtime.name}`,
      name: runtime.name,
      type: `${factoryType}/integrationruntimes`,
      properties: {
        type: 'Managed',
        typeProperties: {
          computeProperties: {
            location: 'AutoResolve',
            dataFlowProperties: {
              computeType: 'General',
              coreCount: 8,
              timeToLive: 10,
              cleanup: false
            }
          }
        },
        ...(runtime.managedVirtualNetwork
          ? {
              managedVirtualNetwork: {
                type: 'ManagedVirtualNetworkReference',
                referenceName: runtime.managedVirtualNetwork
              }
            }
          : {})
      },
      etag: factory.etag.replace(/"/g, '')
    }
  }

  function childBody(factory: FactoryRecord, segment: ChildSegment, entity: ChildEntity) {
    const kind = childKinds.find((candidate) => candidate.segment === segment)
    return {
      id: `${factory.id}/${segment}/${entity.name}`,
      name: entity.name,
      type: kind?.type,
      properties: maskSecureStrings(entity.properties),
      etag: entity.etag
    }
  }

  function findFactory(params: Record<string, string>): FactoryRecord | undefined {
    return factories.find(
      (factory) =>
        sameText(factory.seed.subscriptionId, params.subscriptionId) &&
        sameText(factory.seed.resourceGroup, params.resourceGroupName) &&
        sameText(factory.seed.name, params.factoryName)
    )
  }

  function viewOf(factory: FactoryRecord): FactoryView {
    return {
      id: factory.id,
      seed: factory.seed,
      child: (segment, name) => factory.children[segment].get(name.toLowerCase()),
      integrationRuntime: (name) => runtimeOf(factory, name),
      hasApprovedEndpointTo: (serverId, now) =>
        [...factory.endpoints.values()].some(
          (endpoint) =>
            sameText(endpoint.target.id, serverId) &&
            provisioningState(endpoint, now) === 'Succeeded' &&
            factorySideState(endpoint, now).status === 'Approved' &&
            // A connection deleted on the server carries no traffic, whatever the factory still shows.
            postgres.hasApprovedConnection(serverId, privateEndpointId(factory, endpoint))
        )
    }
  }

  function runtimeOf(factory: FactoryRecord, name: string): IntegrationRuntimeSeed | undefined {
    const seeded = factory.seed.integrationRuntimes.find((runtime) => sameText(runtime.name, name))
    // Every factory has the public auto-resolve runtime unless the scenario moved it into the managed VNet.
    return (
      seeded ??
      (sameText(name, autoResolveRuntimeName) ? { name: autoResolveRuntimeName } : undefined)
    )
  }

  /** A route under a factory, handled on the factory's own record (ARM's 404 when it is missing). */
  function recordRoute(
    method: HttpMethod,
    suffix: string,
    permission: string,
    handle: (factory: FactoryRecord, req: EmuRequest) => EmuResponse | Promise<EmuResponse>
  ): Route {
    return {
      method,
      pattern: `${factoryPath}${suffix}`,
      apiVersions: [dataFactoryApiVersion],
      permission,
      handle: (req) => {
        const factory = findFactory(req.params)
        if (!factory) {
          return resourceNotFound(factoryType, req.params.factoryName, req.params.resourceGroupName)
        }
        return handle(factory, req)
      }
    }
  }

  function factoryRoute(
    method: HttpMethod,
    suffix: string,
    permission: string,
    handle: FactoryHandler
  ): Route {
    return recordRoute(method, suffix, permission, (factory, req) => handle(viewOf(factory), req))
  }

  /** Answers for routes under managedVirtualNetworks/:vnet when the factory has no such VNet. */
  function missingVnet(factory: FactoryRecord, name: string): EmuResponse | undefined {
    const vnet = factory.seed.managedVirtualNetwork
    return vnet !== undefined && sameText(vnet, name) ? undefined : entityNotFound(name)
  }

  /** A route on one managed private endpoint: its VNet must exist, the endpoint itself need not. */
  function endpointRoute(
    method: HttpMethod,
    action: 'read' | 'write' | 'delete',
    handle: (
      factory: FactoryRecord,
      endpoint: EndpointRecord | undefined,
      req: EmuRequest
    ) => EmuResponse
  ): Route {
    return recordRoute(
      method,
      `${endpointsPath}/:endpointName`,
      `${endpointType}/${action}`,
      (factory, req) =>
        missingVnet(factory, req.params.vnetName) ??
        handle(factory, factory.endpoints.get(req.params.endpointName.toLowerCase()), req)
    )
  }

  function putEndpoint(
    factory: FactoryRecord,
    existing: EndpointRecord | undefined,
    req: EmuRequest
  ): EmuResponse {
    const name = req.params.endpointName
    const properties = (req.body as { properties?: Record<string, unknown> } | undefined)
      ?.properties
    const resourceId = properties?.privateLinkResourceId
    const groupId = properties?.groupId
    if (typeof resourceId !== 'string' || typeof groupId !== 'string') {
      return invalidResourceRequest(
        400,
        'BadRequest',
        name,
        'Invalid payload: properties.privateLinkResourceId and properties.groupId are required.'
      )
    }
    const precondition = ifMatchFailure(req.headers['if-match'], existing?.etag)
    if (precondition) return precondition
    const now = Date.now()
    if (existing) {
      // 409 Conflict while deleting: a modelling choice (the reference documents no answer for this).
      if (existing.deleteRequestedAt !== undefined) {
        return invalidResourceRequest(
          409,
          'Conflict',
          name,
          'The managed private endpoint is being deleted.'
        )
      }
      if (
        sameText(existing.privateLinkResourceId, resourceId) &&
        sameText(existing.groupId, groupId)
      ) {
        return { status: 200, body: endpointBody(factory, existing, now) }
      }
      // Azure documents only that this fails; the code and wording are a modelling choice.
      return invalidResourceRequest(
        400,
        'InvalidResourceRequest',
        name,
        'A managed private endpoint with the same name but different properties already exists. Managed private endpoint properties cannot be updated; delete it and create it again.'
      )
    }
    const duplicate = [...factory.endpoints.values()].some(
      (endpoint) =>
        sameText(endpoint.privateLinkResourceId, resourceId) && sameText(endpoint.groupId, groupId)
    )
    // Wording from Azure/Azure-DataFactory#250; the 400 status is a modelling choice
    if (duplicate) {
      return invalidResourceRequest(
        400,
        'InvalidResourceRequest',
        name,
        'A managed private endpoint to the data source already exist.'
      )
    }
    const busy = [...factory.endpoints.values()].find(
      (endpoint) => provisioningState(endpoint, now) === 'Provisioning'
    )
    // Code and wording are a modelling choice; only the refusal itself is reported by users.
    if (factory.seed.refuseConcurrentEndpointCreation && busy) {
      return invalidResourceRequest(
        409,
        'Conflict',
        name,
        `Managed private endpoint '${busy.name}' of managed virtual network '${factory.seed.managedVirtualNetwork}' is still being provisioned; retry after it completes.`
      )
    }
    const target = postgres.findServerById(resourceId)
    if (!target) {
      return invalidResourceRequest(
        400,
        'InvalidResourceRequest',
        name,
        `The private link resource '${resourceId}' was not found.`
      )
    }
    if (!sameText(groupId, 'postgresqlServer')) {
      return invalidResourceRequest(
        400,
        'InvalidResourceRequest',
        name,
        `The group id '${groupId}' is not supported by the private link resource. Supported group ids: postgresqlServer.`
      )
    }
    const endpoint: EndpointRecord = {
      name,
      privateLinkResourceId: resourceId,
      groupId,
      etag: newEtag(),
      createdAt: now,
      target,
      stateChanges: []
    }
    factory.endpoints.set(name.toLowerCase(), endpoint)
    return { status: 200, body: endpointBody(factory, endpoint, now) }
  }

  function childRoutes(segment: ChildSegment): Route[] {
    const permission = `${factoryType}/${segment}`
    const path = `/${segment}/:childName`
    return [
      recordRoute('GET', `/${segment}`, `${permission}/read`, (factory) => ({
        status: 200,
        body: {
          value: [...factory.children[segment].values()].map((entity) =>
            childBody(factory, segment, entity)
          )
        }
      })),
      recordRoute('GET', path, `${permission}/read`, (factory, { params }) => {
        const entity = factory.children[segment].get(params.childName.toLowerCase())
        return entity
          ? { status: 200, body: childBody(factory, segment, entity) }
          : entityNotFound(params.childName)
      }),
      recordRoute('PUT', path, `${permission}/write`, (factory, req) => {
        const properties = (req.body as { properties?: unknown } | undefined)?.properties
        if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) {
          return armError(
            400,
            'BadRequest',
            `The request body of '${req.params.childName}' must have a 'properties' object.`
          )
        }
        const store = factory.children[segment]
        const existing = store.get(req.params.childName.toLowerCase())
        const precondition = ifMatchFailure(req.headers['if-match'], existing?.etag)
        if (precondition) return precondition
        const invalid = referencesIn(properties).find(
          (reference) => !referenceExists(factory, reference)
        )
        if (invalid) {
          return armError(
            400,
            'BadRequest',
            `The document creation or update failed because of invalid reference '${invalid.name}'.`
          )
        }
        const entity: ChildEntity = {
          name: existing?.name ?? req.params.childName,
          properties: properties as Record<string, unknown>,
          etag: newEtag()
        }
        store.set(entity.name.toLowerCase(), entity)
        return { status: 200, body: childBody(factory, segment, entity) }
      }),
      recordRoute('DELETE', path, `${permission}/delete`, (factory, { params }) =>
        factory.children[segment].delete(params.childName.toLowerCase())
          ? { status: 200 }
          : { status: 204 }
      )
    ]
  }

  function referenceExists(
    factory: FactoryRecord,
    reference: { type: string; name: string }
  ): boolean {
    if (reference.type === 'IntegrationRuntimeReference')
      return runtimeOf(factory, reference.name) !== undefined
    const kind = childKinds.find((candidate) => candidate.referenceType === reference.type)
    return kind === undefined || factory.children[kind.segment].has(reference.name.toLowerCase())
  }

  const endpointsPath = '/managedVirtualNetworks/:vnetName/managedPrivateEndpoints'
  const routes: Route[] = [
    recordRoute('GET', '', `${factoryType}/read`, (factory) => ({
      status: 200,
      body: factoryBody(factory)
    })),
    recordRoute(
      'GET',
      '/managedVirtualNetworks',
      `${factoryType}/managedVirtualNetworks/read`,
      (factory) => ({
        status: 200,
        body: { value: factory.seed.managedVirtualNetwork === undefined ? [] : [vnetBody(factory)] }
      })
    ),
    recordRoute(
      'GET',
      '/managedVirtualNetworks/:vnetName',
      `${factoryType}/managedVirtualNetworks/read`,
      (factory, { params }) =>
        missingVnet(factory, params.vnetName) ?? { status: 200, body: vnetBody(factory) }
    ),
    recordRoute(
      'GET',
      '/integrationRuntimes',
      `${factoryType}/integrationruntimes/read`,
      (factory) => ({
        status: 200,
        body: {
          value: factory.seed.integrationRuntimes.map((runtime) => runtimeBody(factory, runtime))
        }
      })
    ),
    recordRoute(
      'GET',
      '/integrationRuntimes/:runtimeName',
      `${factoryType}/integrationruntimes/read`,
      (factory, { params }) => {
        const runtime = factory.seed.integrationRuntimes.find((candidate) =>
          sameText(candidate.name, params.runtimeName)
        )
        return runtime
          ? { status: 200, body: runtimeBody(factory, runtime) }
          : entityNotFound(params.runtimeName)
      }
    ),
    recordRoute('GET', endpointsPath, `${endpointType}/read`, (factory, { params }) => {
      const now = Date.now()
      const value = [...factory.endpoints.values()].map((endpoint) =>
        endpointBody(factory, endpoint, now)
      )
      return missingVnet(factory, params.vnetName) ?? { status: 200, body: { value } }
    }),
    endpointRoute('GET', 'read', (factory, endpoint, { params }) => {
      // Data Factory answers 400, not 404, for an endpoint that does not exist (code and wording: modelling choice).
      if (!endpoint) {
        return invalidResourceRequest(
          400,
          'BadRequest',
          params.endpointName,
          'The managed private endpoint does not exist.'
        )
      }
      return { status: 200, body: endpointBody(factory, endpoint, Date.now()) }
    }),
    endpointRoute('PUT', 'write', putEndpoint),
    endpointRoute('DELETE', 'delete', (_factory, endpoint) => {
      if (!endpoint) return { status: 204 }
      endpoint.deleteRequestedAt ??= Date.now()
      return { status: 200 }
    }),
    ...childKinds.flatMap(({ segment }) => childRoutes(segment))
  ]

  function settle(now: number): void {
    for (const factory of factories) {
      for (const [key, endpoint] of factory.endpoints) {
        if (endpoint.deleteRequestedAt !== undefined) {
          if (now < endpoint.deleteRequestedAt + delays.endpointDeletionMs) continue
          if (endpoint.connectionName)
            postgres.dropConnection(endpoint.target.id, endpoint.connectionName)
          factory.endpoints.delete(key)
          continue
        }
        const appearsAt =
          endpoint.createdAt + delays.endpointProvisioningMs + delays.connectionAppearsMs
        if (
          endpoint.connectionName === undefined &&
          !endpoint.target.vnetIntegrated &&
          now >= appearsAt
        ) {
          endpoint.connectionName = postgres.requestConnection(
            endpoint.target.id,
            privateEndpointId(factory, endpoint),
            {
              status: 'Pending',
              description: requestDescription(factory, endpoint),
              at: appearsAt
            }
          )
        }
      }
    }
  }

  function connectionStateChanged(id: string, change: ConnectionStateChange): void {
    for (const factory of factories) {
      for (const endpoint of factory.endpoints.values()) {
        if (sameText(privateEndpointId(factory, endpoint), id)) endpoint.stateChanges.push(change)
      }
    }
  }

  function snapshot(): unknown[] {
    const now = Date.now()
    return factories.map((factory) => ({
      ...factoryBody(factory),
      managedVirtualNetwork:
        factory.seed.managedVirtualNetwork === undefined ? null : vnetBody(factory),
      integrationRuntimes: factory.seed.integrationRuntimes.map((runtime) =>
        runtimeBody(factory, runtime)
      ),
      managedPrivateEndpoints: [...factory.endpoints.values()].map((endpoint) => ({
        ...endpointBody(factory, endpoint, now),
        privateEndpointId: privateEndpointId(factory, endpoint),
        serverConnectionName: endpoint.connectionName ?? null
      })),
      ...Object.fromEntries(
        childKinds.map(({ segment }) => [
          segment,
          [...factory.children[segment].values()].map((entity) =>
            // Also plain-string passwords and connection-string passwords, which Azure answers as given
            redact(childBody(factory, segment, entity), [])
          )
        ])
      )
    }))
  }

  return { routes, factoryRoute, settle, connectionStateChanged, snapshot }
}
