// Microsoft.DBforPostgreSQL/flexibleServers: servers, their private endpoint connections and the
// long-running operations (Azure-AsyncOperation / Location) that approve, reject or delete them.
import { randomUUID } from 'node:crypto'
import { clouds } from '../../src/clouds.js'
import { postgresGroupId } from '../../src/private-link.js'
import { armError, resourceNotFound } from './arm-errors.js'
import { sameText } from './router.js'
import type { Delays, EmuRequest, EmuResponse, Route, ServerSeed } from './types.js'

export type ConnectionStatus = 'Pending' | 'Approved' | 'Rejected' | 'Disconnected'

/** A change of a connection's state on the server, at the moment it took effect. */
export interface ConnectionStateChange {
  status: ConnectionStatus
  description: string
  at: number
}

/** What other providers need to know about a server. */
export interface ServerView {
  id: string
  name: string
  location: string
  fullyQualifiedDomainName: string
  /** VNet-integrated (private access) servers cannot take Private Link connections. */
  vnetIntegrated: boolean
}

interface ConnectionRecord {
  name: string
  privateEndpointId: string
  status: ConnectionStatus
  description: string
  // Modelling choice: the spec lists no in-flight update value (Creating|Deleting|Failed|Succeeded); 'Updating' is ours.
  provisioningState: 'Succeeded' | 'Updating' | 'Deleting'
  /** When the connection appeared on the server (an approval right after may be refused). */
  appearedAt: number
}

interface ServerRecord {
  seed: ServerSeed
  view: ServerView
  connections: Map<string, ConnectionRecord>
  /** `systemData.createdAt`: moves when the server is recreated under the same name. */
  createdAt: string
}

interface OperationRecord {
  id: string
  server: ServerRecord
  connectionName: string
  /** The state an approve/reject sets; undefined for a delete. */
  update?: { status: ConnectionStatus; description: string }
  /** How the operation ends instead (an approval of a Rejected connection). */
  failure?: { code: string; message: string }
  startedAt: number
  completesAt: number
  status: 'InProgress' | 'Succeeded' | 'Failed'
  error?: { code: string; message: string }
}

interface PostgresProviderOptions {
  servers: ServerSeed[]
  delays: Delays
  /** Told whenever a connection's state changes on the server (by an operation or the admin). */
  onConnectionStateChange(privateEndpointId: string, change: ConnectionStateChange): void
}

export interface PostgresProvider {
  routes: Route[]
  /** Applies every time-driven change due by `now` (finished operations). */
  settle(now: number): void
  findServerById(id: string): ServerView | undefined
  findServerByFqdn(fqdn: string): ServerView | undefined
  /** A private endpoint asks the server for a connection; returns the connection's name. */
  requestConnection(
    serverId: string,
    privateEndpointId: string,
    state: ConnectionStateChange
  ): string
  /** The private endpoint behind a connection was deleted: the connection goes with it. */
  dropConnection(serverId: string, connectionName: string): void
  /** Whether the server lists an Approved connection from this private endpoint (traffic flows). */
  hasApprovedConnection(serverId: string, privateEndpointId: string): boolean
  /** Deleted and created again under the same name (a restore): no connections, a new creation time. */
  recreate(serverId: string): void
  setConnectionState(
    serverId: string,
    connectionName: string,
    status: ConnectionStatus,
    description: string
  ): unknown
  listConnections(serverId: string): unknown[]
  setPrivateLinkGroups(serverId: string, groups: string[]): void
  /** Whether the server offers this Private Link group (a managed private endpoint to another fails). */
  offersPrivateLinkGroup(serverId: string, group: string): boolean
  snapshot(): unknown
}

const provider = 'Microsoft.DBforPostgreSQL'
const serverType = `${provider}/flexibleServers`
const connectionType = `${serverType}/privateEndpointConnections`
const serverPath = `/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/${serverType}/:serverName`
const connectionsPath = `${serverPath}/privateEndpointConnections`
/** The emulator is a public-cloud Azure. */
const hostSuffix = clouds.AzureCloud.postgresHostSuffix
const operationsPath = `/subscriptions/:subscriptionId/providers/${provider}/locations/:location`

/** The version @azure/arm-postgresql-flexible 9 sends, and the earlier ones that have these APIs. */
const postgresApiVersions = ['2025-08-01', '2024-08-01', '2023-06-01-preview']

/**
 * Longest approval description accepted. Modelling choice: PostgreSQL publishes no cap; other
 * private-link services refuse more than 140 (hashicorp/terraform-provider-azurerm#25610).
 */
export const maxConnectionDescriptionLength = 140

/** When a seeded server was made, unless its seed says otherwise (any fixed past moment). */
const defaultCreatedAt = '2026-01-05T09:30:00.000Z'

export function serverResourceId(seed: ServerSeed): string {
  return `/subscriptions/${seed.subscriptionId}/resourceGroups/${seed.resourceGroup}/providers/${serverType}/${seed.name}`
}

/** The certificate and the linked service's `server` both use this name. */
export function serverFqdn(seed: ServerSeed): string {
  return seed.fullyQualifiedDomainName ?? `${seed.name}.${hostSuffix}`
}

function privateEndpointName(privateEndpointId: string): string {
  return privateEndpointId.split('/').pop() ?? privateEndpointId
}

/** The absolute base the caller reached us through, so the polling URLs point back here (never to Azure). */
function baseUrl(req: EmuRequest): string {
  const host = req.headers.host
  if (typeof host !== 'string') throw new Error('no Host header to build the polling URLs from')
  return `https://${host}`
}

export function createPostgresProvider(options: PostgresProviderOptions): PostgresProvider {
  const { delays } = options
  const serverCreatedAt = new Date().toISOString()
  const servers = options.servers.map(seedServer)
  const operations = new Map<string, OperationRecord>()

  function seedServer(seed: ServerSeed): ServerRecord {
    const view: ServerView = {
      id: serverResourceId(seed),
      name: seed.name,
      location: seed.location,
      fullyQualifiedDomainName: serverFqdn(seed),
      vnetIntegrated: seed.delegatedSubnetResourceId !== undefined
    }
    const record: ServerRecord = {
      seed,
      view,
      connections: new Map(),
      createdAt: seed.createdAt ?? defaultCreatedAt
    }
    for (const connection of seed.connections ?? []) {
      addConnection(
        record,
        connection.privateEndpointId,
        connection.status,
        connection.description ?? '',
        Number.NEGATIVE_INFINITY
      )
    }
    return record
  }

  function addConnection(
    server: ServerRecord,
    privateEndpointId: string,
    status: ConnectionStatus,
    description: string,
    appearedAt: number
  ): ConnectionRecord {
    const name = `${privateEndpointName(privateEndpointId)}.${randomUUID()}`
    const connection: ConnectionRecord = {
      name,
      privateEndpointId,
      status,
      description,
      provisioningState: 'Succeeded',
      appearedAt
    }
    server.connections.set(name.toLowerCase(), connection)
    return connection
  }

  function privateLinkGroupsOf(server: ServerRecord): string[] {
    return server.seed.privateLinkGroups ?? (server.view.vnetIntegrated ? [] : [postgresGroupId])
  }

  function findServer(id: string): ServerRecord | undefined {
    return servers.find((server) => sameText(server.view.id, id))
  }

  function serverFromRoute(params: Record<string, string>): ServerRecord | undefined {
    return servers.find(
      (server) =>
        sameText(server.seed.subscriptionId, params.subscriptionId) &&
        sameText(server.seed.resourceGroup, params.resourceGroupName) &&
        sameText(server.seed.name, params.serverName)
    )
  }

  function connectionBody(server: ServerRecord, connection: ConnectionRecord) {
    return {
      id: `${server.view.id}/privateEndpointConnections/${connection.name}`,
      name: connection.name,
      type: connectionType,
      properties: {
        privateEndpoint: { id: connection.privateEndpointId },
        groupIds: [postgresGroupId],
        // No description key when there is none (azcli-postgresql_server-get-with-pending-connection.json).
        privateLinkServiceConnectionState: {
          status: connection.status,
          ...(connection.description && { description: connection.description }),
          actionsRequired: 'None'
        },
        provisioningState: connection.provisioningState
      }
    }
  }

  function serverBody(server: ServerRecord) {
    const { seed, view } = server
    const network = view.vnetIntegrated
      ? {
          publicNetworkAccess: 'Disabled',
          delegatedSubnetResourceId: seed.delegatedSubnetResourceId,
          privateDnsZoneArmResourceId: `/subscriptions/${seed.subscriptionId}/resourceGroups/${seed.resourceGroup}/providers/Microsoft.Network/privateDnsZones/${seed.name}.private.${hostSuffix}`
        }
      : { publicNetworkAccess: seed.publicNetworkAccess ?? 'Enabled' }
    // The keys of azcli-postgresql_server-get-with-pending-connection.json (values of this emulator's
    // servers; that recording's location is a display name, 'Canada Central': unread by the action).
    return {
      id: view.id,
      name: view.name,
      type: serverType,
      location: view.location,
      sku: { name: 'Standard_D2ds_v5', tier: 'GeneralPurpose' },
      // azcli-postgresql_server-get-with-pending-connection.json: systemData holds createdAt alone.
      systemData: { createdAt: server.createdAt },
      properties: {
        dataEncryption: { type: 'SystemManaged' },
        replica: { role: 'Primary', capacity: 5 },
        storage: { type: '', iops: 500, tier: 'P10', storageSizeGB: 128, autoGrow: 'Disabled' },
        network,
        privateEndpointConnections: [...server.connections.values()].map((connection) =>
          connectionBody(server, connection)
        ),
        authConfig: { activeDirectoryAuth: 'Disabled', passwordAuth: 'Enabled' },
        fullyQualifiedDomainName: view.fullyQualifiedDomainName,
        version: '16',
        minorVersion: '10',
        administratorLogin: seed.roles[0]?.name,
        state: seed.state ?? 'Ready',
        availabilityZone: '1',
        backup: {
          backupRetentionDays: 7,
          geoRedundantBackup: 'Disabled',
          earliestRestoreDate: serverCreatedAt
        },
        highAvailability: { mode: 'Disabled', state: 'NotEnabled' },
        maintenanceWindow: { customWindow: 'Disabled', dayOfWeek: 0, startHour: 0, startMinute: 0 },
        replicationRole: 'Primary',
        replicaCapacity: 5
      }
    }
  }

  function serverNotFound(params: Record<string, string>): EmuResponse {
    return resourceNotFound(serverType, params.serverName, params.resourceGroupName)
  }

  function connectionNotFound(params: Record<string, string>): EmuResponse {
    return resourceNotFound(
      `${serverType}/${params.serverName}/privateEndpointConnections`,
      params.connectionName,
      params.resourceGroupName
    )
  }

  function startOperation(
    req: EmuRequest,
    server: ServerRecord,
    connection: ConnectionRecord,
    update: OperationRecord['update'],
    failure?: OperationRecord['failure']
  ): EmuResponse {
    const now = Date.now()
    const operation: OperationRecord = {
      id: randomUUID(),
      server,
      connectionName: connection.name,
      update,
      failure,
      startedAt: now,
      completesAt: now + delays.connectionUpdateMs,
      status: 'InProgress'
    }
    operations.set(operation.id, operation)
    connection.provisioningState = update ? 'Updating' : 'Deleting'
    const apiVersion = req.query.get('api-version') ?? postgresApiVersions[0]
    const base = `${baseUrl(req)}/subscriptions/${server.seed.subscriptionId}/providers/${provider}/locations/${server.seed.location}`
    // Both polling headers, no Retry-After, and a body naming the operation
    // (azcli-postgresql_pec-put-approve-202.json, azcli-postgresql_pec-delete-202.json).
    return {
      status: 202,
      headers: {
        'Azure-AsyncOperation': `${base}/azureAsyncOperation/${operation.id}?api-version=${apiVersion}`,
        Location: `${base}/operationResults/${operation.id}?api-version=${apiVersion}`
      },
      body: {
        operation: update
          ? 'UpsertPrivateEndpointConnectionManagementOperation'
          : 'DropPrivateEndpointConnectionManagementOperation',
        startTime: new Date(now).toISOString()
      }
    }
  }

  /** Whole seconds left (0 for millisecond-scale test delays, so the client's own interval applies). */
  function retryAfterSeconds(operation: OperationRecord, now: number): string {
    return String(Math.max(0, Math.floor((operation.completesAt - now) / 1000)))
  }

  function changeState(
    connection: ConnectionRecord,
    status: ConnectionStatus,
    description: string,
    at: number
  ): void {
    connection.status = status
    connection.description = description
    connection.provisioningState = 'Succeeded'
    options.onConnectionStateChange(connection.privateEndpointId, { status, description, at })
  }

  function completeOperation(operation: OperationRecord): void {
    const { server, update } = operation
    if (operation.failure) {
      operation.status = 'Failed'
      operation.error = operation.failure
      const connection = server.connections.get(operation.connectionName.toLowerCase())
      if (connection) connection.provisioningState = 'Succeeded'
      return
    }
    const connection = server.connections.get(operation.connectionName.toLowerCase())
    if (!connection) {
      operation.status = 'Failed'
      operation.error = {
        code: 'PrivateEndpointConnectionNotFound',
        message: `The private endpoint connection '${operation.connectionName}' no longer exists.`
      }
      return
    }
    operation.status = 'Succeeded'
    if (update) {
      changeState(connection, update.status, update.description, operation.completesAt)
    } else {
      server.connections.delete(connection.name.toLowerCase())
      options.onConnectionStateChange(connection.privateEndpointId, {
        status: 'Disconnected',
        description: 'The private endpoint connection was deleted by the resource owner.',
        at: operation.completesAt
      })
    }
  }

  function settle(now: number): void {
    for (const operation of operations.values()) {
      if (operation.status === 'InProgress' && now >= operation.completesAt)
        completeOperation(operation)
    }
  }

  function operationInProgress(server: ServerRecord, connectionName: string): boolean {
    return [...operations.values()].some(
      (operation) =>
        operation.status === 'InProgress' &&
        operation.server === server &&
        sameText(operation.connectionName, connectionName)
    )
  }

  function validateUpdate(
    connection: ConnectionRecord,
    body: unknown
  ):
    | { rejection: EmuResponse }
    | { update: NonNullable<OperationRecord['update']>; failure?: OperationRecord['failure'] } {
    const state = (
      body as { properties?: { privateLinkServiceConnectionState?: unknown } } | undefined
    )?.properties?.privateLinkServiceConnectionState as
      { status?: unknown; description?: unknown } | undefined
    const requested = typeof state?.status === 'string' ? state.status : undefined
    const status = (['Approved', 'Rejected'] as const).find(
      (allowed) => requested !== undefined && sameText(allowed, requested)
    )
    if (!status) {
      return rejection(
        400,
        'InvalidParameterValue',
        `Invalid value '${requested ?? ''}' for properties.privateLinkServiceConnectionState.status. Allowed values: Approved, Rejected.`
      )
    }
    if (connection.status === 'Disconnected') {
      return rejection(
        400,
        'BadRequest',
        `Private endpoint connection '${connection.name}' is Disconnected and cannot be updated.`
      )
    }
    const description = typeof state?.description === 'string' ? state.description : ''
    // Code and wording are a modelling choice, after the 400 other private-link services answer.
    if (description.length > maxConnectionDescriptionLength) {
      return rejection(
        400,
        'InvalidRequestContent',
        `The description of private endpoint connection '${connection.name}' is ${description.length} characters long; at most ${maxConnectionDescriptionLength} are allowed.`
      )
    }
    // Approving a Rejected connection is accepted; only its operation fails, and unclearly
    // (azcli-postgresql_pec-put-approve-rejected-202.json, azcli-postgresql_asyncop-approve-rejected-failed.json).
    if (status === 'Approved' && connection.status === 'Rejected') {
      return {
        update: { status, description },
        failure: {
          code: 'InternalServerError',
          message: `An unexpected error occured while processing the request. Tracking ID: '${randomUUID()}'`
        }
      }
    }
    return { update: { status, description } }
  }

  function rejection(status: number, code: string, message: string) {
    return { rejection: armError(status, code, message) }
  }

  function operationFromRoute(params: Record<string, string>): OperationRecord | undefined {
    const operation = operations.get(params.operationId.toLowerCase())
    return operation && sameText(operation.server.seed.subscriptionId, params.subscriptionId)
      ? operation
      : undefined
  }

  /** No endTime, even when done (azcli-postgresql_asyncop-approve-*.json). */
  function operationStatusBody(operation: OperationRecord) {
    return {
      name: operation.id,
      status: operation.status,
      startTime: new Date(operation.startedAt).toISOString(),
      ...(operation.error ? { error: operation.error } : {})
    }
  }

  const serverAction = (action: string) => `${serverType}/${action}`
  const isApproval = (body: unknown): boolean =>
    sameText(
      String(
        (body as { properties?: { privateLinkServiceConnectionState?: { status?: unknown } } })
          ?.properties?.privateLinkServiceConnectionState?.status ?? ''
      ),
      'Approved'
    )
  const unversionedRoutes: Route[] = [
    {
      method: 'GET',
      pattern: serverPath,
      permission: serverAction('read'),
      handle: ({ params }) => {
        const server = serverFromRoute(params)
        return server ? { status: 200, body: serverBody(server) } : serverNotFound(params)
      }
    },
    {
      method: 'GET',
      pattern: `${serverPath}/privateLinkResources`,
      permission: serverAction('privateLinkResources/read'),
      handle: ({ params }) => {
        const server = serverFromRoute(params)
        if (!server) return serverNotFound(params)
        // Shape: azure-examples/pg_PrivateLinkResourcesList_2026-01-01-preview.json.
        const value = privateLinkGroupsOf(server).map((group) => ({
          id: `${server.view.id}/privateLinkResources/${group}`,
          name: group,
          type: `${serverType}/privateLinkResources`,
          properties: {
            groupId: group,
            requiredMembers: [group],
            requiredZoneNames: [`privatelink.${hostSuffix}`]
          }
        }))
        return { status: 200, body: { value } }
      }
    },
    {
      method: 'GET',
      pattern: connectionsPath,
      permission: serverAction('privateEndpointConnections/read'),
      handle: ({ params }) => {
        const server = serverFromRoute(params)
        if (!server) return serverNotFound(params)
        const value = [...server.connections.values()].map((c) => connectionBody(server, c))
        return { status: 200, body: { value } }
      }
    },
    {
      method: 'GET',
      pattern: `${connectionsPath}/:connectionName`,
      permission: serverAction('privateEndpointConnections/read'),
      handle: ({ params }) => {
        const server = serverFromRoute(params)
        if (!server) return serverNotFound(params)
        const connection = server.connections.get(params.connectionName.toLowerCase())
        if (!connection) return connectionNotFound(params)
        return { status: 200, body: connectionBody(server, connection) }
      }
    },
    {
      method: 'PUT',
      pattern: `${connectionsPath}/:connectionName`,
      permission: serverAction('privateEndpointConnections/write'),
      // Approving is also the server's Private Link approval action, as the built-in role
      // "Azure AI Enterprise Network Connection Approver" grants it beside the write.
      alsoRequires: (req) =>
        isApproval(req.body)
          ? {
              permission: serverAction('privateEndpointConnectionsApproval/action'),
              scope: req.path.replace(/\/privateEndpointConnections\/[^/]+\/?$/i, '')
            }
          : undefined,
      handle: (req) => {
        const server = serverFromRoute(req.params)
        if (!server) return serverNotFound(req.params)
        const connection = server.connections.get(req.params.connectionName.toLowerCase())
        if (!connection) return connectionNotFound(req.params)
        if (operationInProgress(server, connection.name)) return anotherOperation(connection)
        if (Date.now() < connection.appearedAt + (delays.connectionNotReadyMs ?? 0))
          return notReady(connection)
        const validated = validateUpdate(connection, req.body)
        if ('rejection' in validated) return validated.rejection
        return startOperation(req, server, connection, validated.update, validated.failure)
      }
    },
    {
      method: 'DELETE',
      pattern: `${connectionsPath}/:connectionName`,
      permission: serverAction('privateEndpointConnections/delete'),
      handle: (req) => {
        const server = serverFromRoute(req.params)
        if (!server) return serverNotFound(req.params)
        const connection = server.connections.get(req.params.connectionName.toLowerCase())
        if (!connection) return { status: 204 }
        if (operationInProgress(server, connection.name)) return anotherOperation(connection)
        return startOperation(req, server, connection, undefined)
      }
    },
    {
      method: 'GET',
      pattern: `${operationsPath}/azureAsyncOperation/:operationId`,
      // ARM lets whoever started an operation poll it; a resource-group role reaches no subscription-level scope.
      authenticated: true,
      handle: ({ params }) => {
        const operation = operationFromRoute(params)
        if (!operation) return operationNotFound(params.operationId)
        return { status: 200, body: operationStatusBody(operation) }
      }
    },
    {
      method: 'GET',
      pattern: `${operationsPath}/operationResults/:operationId`,
      // ARM lets whoever started an operation poll it; a resource-group role reaches no subscription-level scope.
      authenticated: true,
      handle: (req) => {
        const operation = operationFromRoute(req.params)
        if (!operation) return operationNotFound(req.params.operationId)
        if (operation.status === 'InProgress') {
          const location = `${baseUrl(req)}${req.path}?${req.query.toString()}`
          const retryAfter = retryAfterSeconds(operation, Date.now())
          return { status: 202, headers: { Location: location, 'Retry-After': retryAfter } }
        }
        if (operation.error) return armError(400, operation.error.code, operation.error.message)
        const connection = operation.server.connections.get(operation.connectionName.toLowerCase())
        return connection
          ? { status: 200, body: connectionBody(operation.server, connection) }
          : { status: 204 }
      }
    }
  ]
  const routes = unversionedRoutes.map((route) => ({ ...route, apiVersions: postgresApiVersions }))

  function anotherOperation(connection: ConnectionRecord): EmuResponse {
    return armError(
      409,
      'AnotherOperationInProgress',
      `Another operation is in progress on private endpoint connection '${connection.name}'. Please retry after it completes.`
    )
  }

  // Code and wording are a modelling choice: Azure's answer to an approval sent too early is undocumented.
  function notReady(connection: ConnectionRecord): EmuResponse {
    return armError(
      409,
      'Conflict',
      `Private endpoint connection '${connection.name}' is not ready to be updated yet. Please retry later.`
    )
  }

  function operationNotFound(operationId: string): EmuResponse {
    return armError(404, 'OperationNotFound', `The operation '${operationId}' was not found.`)
  }

  function requireServer(id: string): ServerRecord {
    const server = findServer(id)
    if (!server) throw new Error(`No PostgreSQL flexible server ${id} in the scenario`)
    return server
  }

  return {
    routes,
    settle,
    findServerById: (id) => findServer(id)?.view,
    findServerByFqdn: (fqdn) =>
      servers.find((server) => sameText(server.view.fullyQualifiedDomainName, fqdn))?.view,
    requestConnection(id, privateEndpointId, state) {
      const server = requireServer(id)
      return addConnection(server, privateEndpointId, state.status, state.description, state.at)
        .name
    },
    dropConnection(id, connectionName) {
      findServer(id)?.connections.delete(connectionName.toLowerCase())
    },
    hasApprovedConnection: (id, privateEndpointId) =>
      [...(findServer(id)?.connections.values() ?? [])].some(
        (connection) =>
          sameText(connection.privateEndpointId, privateEndpointId) &&
          connection.status === 'Approved'
      ),
    recreate(id) {
      const server = requireServer(id)
      server.connections.clear()
      server.createdAt = new Date().toISOString()
    },
    setConnectionState(id, connectionName, status, description) {
      const server = requireServer(id)
      const connection = server.connections.get(connectionName.toLowerCase())
      if (!connection) throw new Error(`No private endpoint connection ${connectionName} on ${id}`)
      changeState(connection, status, description, Date.now())
      return connectionBody(server, connection)
    },
    offersPrivateLinkGroup: (id, group) =>
      privateLinkGroupsOf(requireServer(id)).some((offered) => sameText(offered, group)),
    setPrivateLinkGroups(id, groups) {
      requireServer(id).seed.privateLinkGroups = groups
    },
    listConnections(id) {
      const server = requireServer(id)
      return [...server.connections.values()].map((c) => connectionBody(server, c))
    },
    snapshot: () =>
      servers.map((server) => ({
        id: server.view.id,
        fullyQualifiedDomainName: server.view.fullyQualifiedDomainName,
        privateEndpointConnections: [...server.connections.values()].map((connection) =>
          connectionBody(server, connection)
        ),
        operations: [...operations.values()]
          .filter((operation) => operation.server === server)
          .map(operationStatusBody)
      }))
  }
}
