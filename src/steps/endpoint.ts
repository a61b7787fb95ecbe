// The managed private endpoint from the factory's managed VNet to the server: found by listing
// (a GET on a missing endpoint can answer 400), reused when identical, created otherwise. The
// server's view of its connection counts too: Data Factory learns of a rejection minutes late.
import type { ManagedPrivateEndpointResource } from '../azure/gateway.js'
import { ActionError, answerText, isPermanentRefusal, statusCodeOf } from '../errors.js'
import { explain } from '../failures.js'
import { sameText } from '../names.js'
import { keyVaultGroupId, postgresGroupId } from '../private-link.js'
import type { StepOutcome } from '../report.js'
import { driftPolicy, writesNothing, type DriftPolicy } from '../settings.js'
import {
  identityOf,
  isRefusedStatus,
  matchConnection,
  type ConnectionView,
  type EndpointRef
} from './connections.js'
import { requestOptions, type StepContext } from './context.js'
import { readLinkedService, recordedServerCreatedAt } from './linked-service.js'
import type { PreflightFacts } from './preflight.js'

export interface EndpointView {
  name: string
  id: string
  privateLinkResourceId: string
  groupId: string
  provisioningState: string
  connectionStatus: string
  connectionDescription: string
  isReserved: boolean
  /** `properties.resourceId`: the private endpoint Data Factory made for it; '' when not stated. */
  privateEndpointId: string
}

export interface DesiredEndpoint {
  name: string
  privateLinkResourceId: string
  groupId: string
}

export type EndpointDecision =
  | { kind: 'create' }
  | { kind: 'reuse'; endpoint: EndpointView }
  /** Another endpoint of another name already targets the server; Azure refuses a second. */
  | { kind: 'reuse-other'; endpoint: EndpointView }
  | { kind: 'recreate'; endpoint: EndpointView; reason: string }
  | { kind: 'drift'; endpoint: EndpointView; reason: string }

function targets(endpoint: EndpointView, desired: DesiredEndpoint): boolean {
  return (
    sameText(endpoint.privateLinkResourceId, desired.privateLinkResourceId) &&
    sameText(endpoint.groupId, desired.groupId)
  )
}

/**
 * The server-side connection of the endpoint of this name, as the server lists it; or `missing`
 * (the server lists none from it), with why and what to do (the catalogue's cause and fix).
 */
export type ServerConnectionState =
  { kind?: 'listed'; name: string; status: string } | { kind: 'missing'; why: string; fix?: string }

/**
 * Whether the server's state of the connection means it is dead before Data Factory shows it.
 * A Disconnected one while Data Factory still says Pending may be a predecessor's leftover (the
 * endpoint was just recreated), so only a connection Data Factory had seen past Pending counts.
 */
function serverRefused(
  endpoint: EndpointView,
  server: Extract<ServerConnectionState, { name: string }>
): boolean {
  if (!isRefusedStatus(server.status)) return false
  const factoryPending =
    !endpoint.connectionStatus || sameText(endpoint.connectionStatus, 'Pending')
  return !(sameText(server.status, 'Disconnected') && factoryPending)
}

/** Why the endpoint itself, as Data Factory shows it, cannot serve as is; undefined when it can. */
function ownDrift(endpoint: EndpointView, desired: DesiredEndpoint): string | undefined {
  if (!sameText(endpoint.privateLinkResourceId, desired.privateLinkResourceId))
    return `it targets ${endpoint.privateLinkResourceId || 'nothing'} instead of ${desired.privateLinkResourceId}`
  if (!sameText(endpoint.groupId, desired.groupId))
    return `its group is ${endpoint.groupId || 'none'} instead of ${desired.groupId}`
  if (sameText(endpoint.provisioningState, 'Failed')) return 'its provisioningState is Failed'
  if (isRefusedStatus(endpoint.connectionStatus))
    return `its connection is ${endpoint.connectionStatus}`
  return undefined
}

/** The catalogue's fix when the drift is the connection that vanished from the server. */
function vanishedConnectionFix(
  endpoint: EndpointView,
  desired: DesiredEndpoint,
  server: ServerConnectionState | undefined
): string | undefined {
  return server?.kind === 'missing' && !ownDrift(endpoint, desired) ? server.fix : undefined
}

/** Why the endpoint of this name cannot serve as is, or undefined when it can. */
function driftReason(
  endpoint: EndpointView,
  desired: DesiredEndpoint,
  server: ServerConnectionState | undefined
): string | undefined {
  const own = ownDrift(endpoint, desired)
  if (own) return own
  if (server?.kind === 'missing')
    // Only a connection Data Factory saw approved has vanished; a Pending endpoint's may still come.
    return sameText(endpoint.connectionStatus, 'Approved')
      ? `${server.why} (Data Factory still shows it Approved)`
      : undefined
  if (server && serverRefused(endpoint, server))
    return `its connection '${server.name}' is ${server.status} on the server (Data Factory still shows ${endpoint.connectionStatus || 'no state'})`
  return undefined
}

/**
 * What to do with the endpoint: `server` is the server's view of the connection of the endpoint
 * of this name (undefined when not listed), which wins over Data Factory's lagging view.
 */
export function decideEndpointAction(
  existing: EndpointView[],
  desired: DesiredEndpoint,
  onDrift: DriftPolicy,
  server?: ServerConnectionState
): EndpointDecision {
  const sameName = existing.find((endpoint) => sameText(endpoint.name, desired.name))
  const other = existing.find(
    (endpoint) =>
      !endpoint.isReserved && !sameText(endpoint.name, desired.name) && targets(endpoint, desired)
  )
  // The endpoint of this name comes first, so its drift is never hidden by another's reuse.
  if (sameName) {
    const reason = driftReason(sameName, desired, server)
    if (!reason) return { kind: 'reuse', endpoint: sameName }
    if (sameName.isReserved)
      return { kind: 'drift', endpoint: sameName, reason: `${reason} (reserved by Data Factory)` }
    if (other && !targets(sameName, desired))
      return {
        kind: 'drift',
        endpoint: sameName,
        reason: `${reason}, and endpoint '${other.name}' already targets this server (Azure allows one per target)`
      }
    return onDrift === 'recreate'
      ? { kind: 'recreate', endpoint: sameName, reason }
      : { kind: 'drift', endpoint: sameName, reason }
  }
  return other ? { kind: 'reuse-other', endpoint: other } : { kind: 'create' }
}

function toEndpointView(resource: ManagedPrivateEndpointResource): EndpointView {
  const properties = resource.properties
  return {
    name: resource.name ?? '',
    id: resource.id ?? '',
    privateLinkResourceId: properties.privateLinkResourceId ?? '',
    groupId: properties.groupId ?? '',
    provisioningState: properties.provisioningState ?? '',
    connectionStatus: properties.connectionState?.status ?? '',
    connectionDescription: properties.connectionState?.description ?? '',
    isReserved: properties.isReserved ?? false,
    // Not in the SDK's model; it keeps unknown properties (cliext-datafactory-2022_mpe-get.json).
    privateEndpointId: typeof properties.resourceId === 'string' ? properties.resourceId : ''
  }
}

export async function listEndpoints(context: StepContext): Promise<EndpointView[]> {
  const resources = await context.azure.listManagedPrivateEndpoints(requestOptions(context))
  return resources.map(toEndpointView)
}

export async function findEndpoint(
  context: StepContext,
  name: string
): Promise<EndpointView | undefined> {
  return (await listEndpoints(context)).find((endpoint) => sameText(endpoint.name, name))
}

function isProvisioned(endpoint: EndpointView): boolean {
  return sameText(endpoint.provisioningState, 'Succeeded')
}

/** `justLooked`: the caller's last response showed it not yet Succeeded, so the first look waits. */
async function waitUntilProvisioned(
  context: StepContext,
  name: string,
  justLooked = false
): Promise<EndpointView> {
  return context.waiter.until(
    {
      what: `managed private endpoint '${name}' to reach provisioningState Succeeded`,
      justLooked,
      timeoutMs: context.settings.timeoutMs,
      timeoutInput: 'timeout',
      hint: 'Data Factory is still provisioning the endpoint; run again later to continue, or look at the endpoint in Data Factory Studio (Manage > Managed private endpoints).'
    },
    async () => {
      const endpoint = await findEndpoint(context, name)
      if (endpoint && sameText(endpoint.provisioningState, 'Failed')) {
        throw new ActionError(
          `Managed private endpoint '${name}' failed to provision (connection: ${endpoint.connectionStatus || 'unknown'}${endpoint.connectionDescription ? `, ${endpoint.connectionDescription}` : ''}).`,
          {
            resource: endpoint.id,
            hint: "Check that the server supports Private Link (public access networking) and that the factory's region allows it; delete the endpoint and run again (or use on-drift: recreate)."
          }
        )
      }
      return endpoint && isProvisioned(endpoint)
        ? { done: true, value: endpoint }
        : {
            done: false,
            status: endpoint ? endpoint.provisioningState || 'no state' : 'not listed yet'
          }
    }
  )
}

/** Deletes the endpoint and waits until the factory no longer lists it. */
export async function deleteEndpoint(context: StepContext, endpoint: EndpointView): Promise<void> {
  const { settings } = context
  await context.azure.deleteManagedPrivateEndpoint(endpoint.name, requestOptions(context))
  await context.waiter.until(
    {
      what: `managed private endpoint '${endpoint.name}' to disappear`,
      timeoutMs: settings.timeoutMs,
      timeoutInput: 'timeout',
      hint: 'Data Factory is still deleting the endpoint; run again later.'
    },
    async () => {
      const still = await findEndpoint(context, endpoint.name)
      return still
        ? { done: false, status: still.provisioningState || 'still listed' }
        : { done: true, value: undefined }
    }
  )
}

/**
 * Creates the endpoint. A 409 (another change in the managed virtual network, or a run at the
 * same time) other than a lock's ScopeLocked is not fatal: the endpoint is adopted once listed as desired, else the PUT is sent
 * again with backoff, within `timeout`. Returns the endpoint as the PUT or the list answered.
 */
async function createEndpoint(
  context: StepContext,
  desired: DesiredEndpoint
): Promise<EndpointView> {
  const { settings } = context
  return context.waiter.until(
    {
      what: `Data Factory to accept managed private endpoint '${desired.name}' in managed virtual network '${settings.managedVirtualNetwork}'`,
      timeoutMs: settings.timeoutMs,
      timeoutInput: 'timeout',
      hint: 'Data Factory refuses overlapping changes in one managed virtual network: run again once the other changes finish, or raise timeout.'
    },
    async () => {
      try {
        const created = await context.azure.createManagedPrivateEndpoint(
          desired.name,
          { privateLinkResourceId: desired.privateLinkResourceId, groupId: desired.groupId },
          requestOptions(context)
        )
        return { done: true, value: toEndpointView(created) }
      } catch (error) {
        // A lock's 409 (ScopeLocked) is not a busy network: it never passes on a retry.
        if (statusCodeOf(error) !== 409 || isPermanentRefusal(error)) throw error
        const listed = await findEndpoint(context, desired.name)
        if (listed && targets(listed, desired)) return { done: true, value: listed }
        return { done: false, status: `Data Factory answered 409: ${answerText(error)}` }
      }
    }
  )
}

export interface EndpointResult extends EndpointRef {
  id: string
  /** False only in plan mode, when apply would create or recreate it. */
  exists: boolean
  /** The factory's view of the connection (Pending, Approved…), as last seen. */
  connectionStatus: string
  /**
   * The server's connections as last read, for the approval step's first look; undefined when the
   * endpoint was made after that read (then only a new read can show its connection).
   */
  connections?: ConnectionView[]
}

/** Sets the endpoint's outputs and returns what the later steps need of it. */
function record(
  context: StepContext,
  endpoint: EndpointView,
  isNew: boolean,
  server?: ServerConnectionState,
  connections?: ConnectionView[]
): EndpointResult {
  context.ledger.output('private-endpoint-id', endpoint.id)
  context.ledger.output('private-endpoint-name', endpoint.name)
  context.ledger.output('provisioning-state', endpoint.provisioningState)
  // When the two views differ, the server's is the truth (Data Factory's lags).
  context.ledger.output('connection-state', listedStatus(server) || endpoint.connectionStatus)
  const { name, id, connectionStatus, privateEndpointId } = endpoint
  return { name, id, privateEndpointId, exists: true, isNew, connectionStatus, connections }
}

/**
 * Why the server lists no connection from an endpoint Data Factory shows Approved, in the
 * catalogue's words: the server was recreated when its creation time differs from the one the
 * linked service recorded (read only now, in this rare case), else the connection was deleted.
 */
async function whyMissing(
  context: StepContext,
  preflight: PreflightFacts
): Promise<Extract<ServerConnectionState, { kind: 'missing' }>> {
  const { server, linkedService } = context.settings
  const recorded = recordedServerCreatedAt(
    (await readLinkedService(context, linkedService.name))?.body
  )
  const now = preflight.serverCreatedAt
  const recreated = recorded !== undefined && now !== undefined && recorded !== now
  const { cause, fix } = explain(
    {
      area: 'resource-manager',
      code: recreated ? 'ServerRecreated' : 'ConnectionDeleted',
      message: ''
    },
    {
      server: server.name,
      serverCreatedAt: now,
      recordedServerCreatedAt: recorded,
      linkedService: linkedService.name
    }
  )
  return { kind: 'missing', why: cause, fix }
}

/** The server's state of the connection of an existing endpoint of this name. */
async function serverConnectionOf(
  context: StepContext,
  preflight: PreflightFacts,
  endpoint: EndpointView
): Promise<ServerConnectionState | undefined> {
  const match = matchConnection(preflight.connections, identityOf(context, endpoint), false)
  if (match.kind === 'one') return { name: match.connection.name, status: match.connection.status }
  // Several matches are the approval step's to explain.
  if (match.kind === 'many' || !sameText(endpoint.connectionStatus, 'Approved')) return undefined
  return whyMissing(context, preflight)
}

/** The server's status of the connection when it lists one (it wins over Data Factory's lagging view). */
function listedStatus(server: ServerConnectionState | undefined): string | undefined {
  return server && server.kind !== 'missing' ? server.status : undefined
}

/** The vault's name in a Key Vault base URL (https://<name>.vault.azure.net/), or undefined. */
function vaultNameOf(baseUrl: string | undefined): string | undefined {
  try {
    return baseUrl ? new URL(baseUrl).hostname.split('.')[0] : undefined
  } catch {
    return undefined
  }
}

/**
 * Whether one of the factory's managed private endpoints reaches the vault (group 'vault', the
 * id's last segment the vault's name), for the note on a vault that denies public access.
 */
export function endpointToVault(
  endpoints: EndpointView[],
  vaultName: string
): EndpointView | undefined {
  return endpoints.find(
    (endpoint) =>
      sameText(endpoint.groupId, keyVaultGroupId) &&
      /\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+$/i.test(endpoint.privateLinkResourceId) &&
      sameText(endpoint.privateLinkResourceId.split('/').pop() ?? '', vaultName) &&
      !isRefusedStatus(endpoint.connectionStatus)
  )
}

/**
 * A note, from the endpoint list already read, when the Key Vault the password is in has no managed
 * private endpoint: a vault that denies public access answers Data Factory only through one (a
 * vault open to trusted Microsoft services or to the public needs none, so this is not a warning;
 * the connection test's failure then says which, see failures.ts 'key-vault-private').
 */
function noteVaultReach(
  context: StepContext,
  preflight: PreflightFacts,
  existing: EndpointView[]
): void {
  const vault = vaultNameOf(preflight.keyVault?.baseUrl)
  if (!vault || endpointToVault(existing, vault)) return
  context.log.info(
    `No managed private endpoint of factory '${context.settings.factory.name}' targets vault '${vault}' (groupId '${keyVaultGroupId}'), which Key Vault linked service '${preflight.keyVault?.linkedService}' reads: if the vault denies public access, the password cannot be read until one is made and approved on the vault (see the README, "Private Key Vault").`
  )
}

export async function ensureEndpoint(
  context: StepContext,
  preflight: PreflightFacts
): Promise<StepOutcome<EndpointResult>> {
  const { settings, ledger } = context
  const desired: DesiredEndpoint = {
    name: settings.endpointName,
    privateLinkResourceId: preflight.serverId,
    groupId: postgresGroupId
  }
  const existing = await listEndpoints(context)
  const sameName = existing.find((endpoint) => sameText(endpoint.name, desired.name))
  noteVaultReach(context, preflight, existing)
  // Preflight's server GET listed the connections a moment ago: no list call here.
  const server = sameName && (await serverConnectionOf(context, preflight, sameName))
  const decision = decideEndpointAction(existing, desired, driftPolicy(settings), server)
  const plan = writesNothing(ledger.mode)
  const id = context.azure.ids.managedPrivateEndpoint(desired.name)
  switch (decision.kind) {
    case 'drift': {
      const listed = listedStatus(server)
      if (listed) ledger.output('connection-state', listed)
      throw new ActionError(
        `Managed private endpoint '${desired.name}' exists but ${decision.reason}; endpoints cannot be changed in place.`,
        {
          resource: decision.endpoint.id,
          hint: decision.endpoint.isReserved
            ? 'Data Factory reserves this endpoint: choose another endpoint-name.'
            : (vanishedConnectionFix(decision.endpoint, desired, server) ??
              'Set on-drift: recreate to delete and recreate it, choose another endpoint-name, or delete the endpoint in Data Factory Studio.')
        }
      )
    }
    case 'reuse':
    case 'reuse-other': {
      const note =
        decision.kind === 'reuse-other'
          ? ` (named '${decision.endpoint.name}', not '${desired.name}': Azure allows one endpoint per target, so it is reused)`
          : ''
      if (note) context.log.warning(`An endpoint to this server already exists${note}.`)
      const endpoint =
        plan || isProvisioned(decision.endpoint)
          ? decision.endpoint
          : await waitUntilProvisioned(context, decision.endpoint.name)
      return {
        value: record(context, endpoint, false, server, preflight.connections),
        found: `endpoint ${endpoint.name}${note}, ${endpoint.provisioningState}, connection ${endpoint.connectionStatus || 'unknown'}`,
        done: 'reused, nothing to change'
      }
    }
    case 'create':
    case 'recreate': {
      const found =
        decision.kind === 'create'
          ? 'no endpoint to the server'
          : `endpoint ${desired.name}: ${decision.reason}`
      const reason = decision.kind === 'recreate' ? decision.reason : undefined
      if (plan) {
        ledger.change({ action: decision.kind, resource: 'managed-private-endpoint', id, reason })
        ledger.output('private-endpoint-name', desired.name)
        return {
          value: {
            name: desired.name,
            id,
            privateEndpointId: '',
            exists: false,
            isNew: true,
            connectionStatus: ''
          },
          found,
          done: `would ${decision.kind}`
        }
      }
      if (decision.kind === 'recreate') await deleteEndpoint(context, decision.endpoint)
      const created = await createEndpoint(context, desired)
      ledger.change({
        action: decision.kind === 'create' ? 'created' : 'recreated',
        resource: 'managed-private-endpoint',
        id,
        reason
      })
      // The PUT's answer (Provisioning, as a rule) is the first look: no list right after it.
      const endpoint = isProvisioned(created)
        ? created
        : await waitUntilProvisioned(context, desired.name, true)
      return {
        value: record(context, endpoint, true),
        found,
        done: `${decision.kind === 'create' ? 'created' : 'recreated'}; provisioningState ${endpoint.provisioningState}`
      }
    }
  }
}
