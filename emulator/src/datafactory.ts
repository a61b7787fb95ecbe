// Microsoft.DataFactory 2018-06-01: factories, the managed VNet and its integration runtimes, managed
// private endpoints (with the provisioning → connection → approval timeline) and the factory's
// linked services, datasets and pipelines.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { redact } from './admin.js'
import { postgresGroupId } from '../../src/private-link.js'
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
/** The RBAC spelling (Azure's operations list). */
const endpointPermission = `${factoryType}/managedVirtualNetworks/managedPrivateEndpoints`
// Lower-cased segments in answered ids and types (cliext-datafactory-2022_mpe-get.json).
const endpointType = `${factoryType}/managedvirtualnetworks/managedprivateendpoints`
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
  createTime: string
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

/** The secret parts of a plain-string connection string (`AccountKey=…;`, `Password=…;`). */
const connectionStringSecret = /(?:^|;)\s*(?:AccountKey|Password|Pwd)\s*=[^;]*/gi

/**
 * SecureString values come back masked, and a plain connection string without its secret, as
 * Data Factory answers them (cliext-datafactory-main_linkedservice-put-securestring.json,
 * pwsh-datafactory_linkedservice-put-plainstring.json).
 */
function maskSecureStrings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecureStrings)
  if (value === null || typeof value !== 'object') return value
  const entries = Object.entries(value).map(([key, inner]) => [
    key,
    key === 'connectionString' && typeof inner === 'string'
      ? inner.replace(connectionStringSecret, '')
      : maskSecureStrings(inner)
  ])
  const object = Object.fromEntries(entries) as Record<string, unknown>
  return object.type === 'SecureString' ? { ...object, value: masked } : object
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}

/** Whether Data Factory would encrypt something of these typeProperties: an inline secret. */
function holdsInlineSecret(typeProperties: Record<string, unknown>): boolean {
  return Object.entries(typeProperties).some(([key, value]) =>
    key === 'connectionString' && typeof value === 'string'
      ? new RegExp(connectionStringSecret.source, 'i').test(value)
      : asRecord(value).type === 'SecureString'
  )
}

/**
 * A linked service's properties as Data Factory stores them: a SecureString sent as the mask keeps
 * the secret stored before, and an inline secret gets a new `typeProperties.encryptedCredential`
 * (base64 JSON naming the factory's credential) that every answer carries
 * (cliext-datafactory-main_linkedservice-put-securestring.json; the mask with the old
 * encryptedCredential keeps both: …-put-masked-with-encryptedcredential.json). A new secret sent
 * with an old encryptedCredential is recorded nowhere: here the new secret wins, newly encrypted.
 */
function storedLinkedService(
  factoryName: string,
  properties: Record<string, unknown>,
  existing: Record<string, unknown> | undefined
): Record<string, unknown> {
  const sent = asRecord(properties.typeProperties)
  const before = asRecord(existing?.typeProperties)
  let changedSecret = false
  const typeProperties = Object.fromEntries(
    Object.entries(sent).map(([key, value]) => {
      const secure = asRecord(value)
      if (secure.type !== 'SecureString') return [key, value]
      if (secure.value === masked && asRecord(before[key]).type === 'SecureString')
        return [key, before[key]]
      changedSecret = true
      return [key, value]
    })
  )
  if (!holdsInlineSecret(typeProperties)) {
    delete typeProperties.encryptedCredential
    return { ...properties, typeProperties }
  }
  const keep = !changedSecret && typeof sent.encryptedCredential === 'string'
  typeProperties.encryptedCredential = keep
    ? sent.encryptedCredential
    : Buffer.from(
        JSON.stringify({
          Version: '2017-11-30',
          ProtectionMode: 'Key',
          SecretContentType: 'Plaintext',
          CredentialId: `${factoryName.toUpperCase()}_${randomUUID()}`
        })
      ).toString('base64')
  return { ...properties, typeProperties }
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

/**
 * Data Factory's 404 for an entity of a factory (netsdk-datafactory_integrationruntime-get-missing-404.json);
 * `target` is its path as requested.
 */
export function entityNotFound(target: string): EmuResponse {
  return {
    status: 404,
    body: {
      error: {
        code: 'NotFound',
        message: 'The document could not be retrieved because it does not exist.',
        target: target.toLowerCase(),
        details: null
      }
    }
  }
}

export function createDataFactoryProvider(options: {
  scenario: Scenario
  delays: Delays
  postgres: PostgresProvider
}): DataFactoryProvider {
  const { scenario, delays, postgres } = options
  const factories = scenario.factories.map(seedFactory)

  function seedFactory(seed: FactorySeed): FactoryRecord {
    // The id carries the name lower-cased; `name` keeps its case (cliext-datafactory-2022_factory-put.json).
    const id = `/subscriptions/${seed.subscriptionId}/resourceGroups/${seed.resourceGroup}/providers/${factoryType}/${seed.name.toLowerCase()}`
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
      createTime: new Date().toISOString(),
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

  function offersGroup(endpoint: EndpointRecord): boolean {
    return postgres.offersPrivateLinkGroup(endpoint.target.id, endpoint.groupId)
  }

  function provisioningState(endpoint: EndpointRecord, now: number): string {
    if (endpoint.deleteRequestedAt !== undefined) return 'Deleting'
    if (now < endpoint.createdAt + delays.endpointProvisioningMs) return 'Provisioning'
    // 'Failed' for a target without the group (a VNet-integrated server) is a modelling choice (the reference calls Failed plausible, unconfirmed)
    return offersGroup(endpoint) ? 'Succeeded' : 'Failed'
  }

  function factorySideState(endpoint: EndpointRecord, now: number) {
    const discovered = endpoint.stateChanges.filter(
      (change) => change.at + delays.approvalDiscoveryMs <= now
    )
    return discovered.at(-1) ?? { status: 'Pending', description: '' }
  }

  /**
   * A managed private endpoint as Data Factory answers it (cliext-datafactory-2022_mpe-put-blob.json,
   * …-2022_mpe-get.json, …-2022_mpe-list.json): no etag and no isReserved, fqdns [], null error,
   * ipAddress and linkId, and while provisioning empty strings for the connection state. With
   * `omitPrivateEndpointResourceId`, the older shape (cliext-datafactory-2021_mpe-put-blob.json).
   * The connection state after provisioning is recorded nowhere: Pending/None, as the spec's example.
   */
  function endpointBody(factory: FactoryRecord, endpoint: EndpointRecord, now: number) {
    const provisioning = provisioningState(endpoint, now)
    const state =
      provisioning === 'Provisioning'
        ? { status: '', description: '', actionsRequired: '' }
        : { ...factorySideState(endpoint, now), actionsRequired: 'None' }
    const older = factory.seed.omitPrivateEndpointResourceId === true
    return {
      id: `${factory.id}/managedvirtualnetworks/${factory.seed.managedVirtualNetwork}/managedprivateendpoints/${endpoint.name}`,
      name: endpoint.name,
      type: endpointType,
      properties: {
        ...(!older && { error: null }),
        provisioningState: provisioning,
        ...(!older && { resourceId: privateEndpointId(factory, endpoint) }),
        privateLinkResourceId: endpoint.privateLinkResourceId,
        groupId: endpoint.groupId,
        fqdns: [],
        ...(!older && { ipAddress: null, linkId: null }),
        connectionState: {
          status: state.status,
          description: state.description,
          actionsRequired: state.actionsRequired
        }
      }
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
      // The keys of cliext-datafactory-2022_factory-put.json (no publicNetworkAccess unless set).
      properties: {
        provisioningState: 'Succeeded',
        createTime: factory.createTime,
        version: dataFactoryApiVersion,
        encryption: {},
        ...(factory.seed.repoConfiguration && { repoConfiguration: factory.seed.repoConfiguration })
      },
      eTag: factory.etag,
      tags: {}
    }
  }

  function vnetBody(factory: FactoryRecord) {
    const name = factory.seed.managedVirtualNetwork
    // As cliext-datafactory-2022_managed-vnet-list.json: lower-cased segment, alias the factory name lower-cased.
    return {
      id: `${factory.id}/managedvirtualnetworks/${name}`,
      name,
      type: `${factoryType}/managedvirtualnetworks`,
      properties: {
        vNetId: factory.vNetId,
        preventDataExfiltration: false,
        alias: factory.seed.name.toLowerCase()
      },
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
    return vnet !== undefined && sameText(vnet, name)
      ? undefined
      : entityNotFound(`${factory.id}/managedvirtualnetworks/${name}`)
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
      `${endpointPermission}/${action}`,
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
    if (!sameText(groupId, postgresGroupId)) {
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
          : entityNotFound(`${factory.id}/${segment}/${params.childName}`)
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
        const sent = properties as Record<string, unknown>
        const entity: ChildEntity = {
          name: existing?.name ?? req.params.childName,
          properties:
            segment === 'linkedservices'
              ? storedLinkedService(factory.seed.name, sent, existing?.properties)
              : sent,
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
          : entityNotFound(`${factory.id}/integrationruntimes/${params.runtimeName}`)
      }
    ),
    recordRoute('GET', endpointsPath, `${endpointPermission}/read`, (factory, { params }) => {
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
        if (endpoint.connectionName === undefined && offersGroup(endpoint) && now >= appearsAt) {
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
