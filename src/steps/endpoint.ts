// The managed private endpoint from the factory's managed VNet to the server: found by listing
// (a GET on a missing endpoint can answer 400), reused when identical, created otherwise.
import type { ManagedPrivateEndpointResource } from '@azure/arm-datafactory'
import { listAll } from '../azure.js'
import { ActionError, describeFailure } from '../errors.js'
import { sameId } from '../names.js'
import type { StepOutcome } from '../report.js'
import type { DriftPolicy } from '../settings.js'
import { requestOptions, type StepContext } from './context.js'
import type { PreflightFacts } from './preflight.js'

export const postgresGroupId = 'postgresqlServer'

export interface EndpointView {
  name: string
  id: string
  privateLinkResourceId: string
  groupId: string
  provisioningState: string
  connectionStatus: string
  connectionDescription: string
  isReserved: boolean
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
    sameId(endpoint.privateLinkResourceId, desired.privateLinkResourceId) &&
    sameId(endpoint.groupId, desired.groupId)
  )
}

export function decideEndpointAction(
  existing: EndpointView[],
  desired: DesiredEndpoint,
  onDrift: DriftPolicy
): EndpointDecision {
  const sameName = existing.find((endpoint) => sameId(endpoint.name, desired.name))
  if (sameName && targets(sameName, desired)) return { kind: 'reuse', endpoint: sameName }
  const other = existing.find(
    (endpoint) =>
      !endpoint.isReserved && !sameId(endpoint.name, desired.name) && targets(endpoint, desired)
  )
  if (other) return { kind: 'reuse-other', endpoint: other }
  if (!sameName) return { kind: 'create' }
  const reason = sameId(sameName.privateLinkResourceId, desired.privateLinkResourceId)
    ? `its group is ${sameName.groupId || 'none'} instead of ${desired.groupId}`
    : `it targets ${sameName.privateLinkResourceId || 'nothing'} instead of ${desired.privateLinkResourceId}`
  return onDrift === 'recreate'
    ? { kind: 'recreate', endpoint: sameName, reason }
    : { kind: 'drift', endpoint: sameName, reason }
}

export function toEndpointView(resource: ManagedPrivateEndpointResource): EndpointView {
  const properties = resource.properties
  return {
    name: resource.name ?? '',
    id: resource.id ?? '',
    privateLinkResourceId: properties.privateLinkResourceId ?? '',
    groupId: properties.groupId ?? '',
    provisioningState: properties.provisioningState ?? '',
    connectionStatus: properties.connectionState?.status ?? '',
    connectionDescription: properties.connectionState?.description ?? '',
    isReserved: properties.isReserved ?? false
  }
}

export async function listEndpoints(context: StepContext): Promise<EndpointView[]> {
  const { settings, clients } = context
  const { resourceGroup, name } = settings.factory
  const resources = await describeFailure(
    'list the managed private endpoints',
    `${name}/${settings.managedVirtualNetwork}`,
    () =>
      listAll(
        clients.dataFactory.managedPrivateEndpoints.listByFactory(
          resourceGroup,
          name,
          settings.managedVirtualNetwork,
          requestOptions(context)
        )
      )
  )
  return resources.map(toEndpointView)
}

export async function findEndpoint(
  context: StepContext,
  name: string
): Promise<EndpointView | undefined> {
  return (await listEndpoints(context)).find((endpoint) => sameId(endpoint.name, name))
}

export function endpointId(context: StepContext, name: string): string {
  const { subscriptionId, resourceGroup, name: factory } = context.settings.factory
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.DataFactory/factories/${factory}/managedVirtualNetworks/${context.settings.managedVirtualNetwork}/managedPrivateEndpoints/${name}`
}

async function waitUntilProvisioned(context: StepContext, name: string): Promise<EndpointView> {
  return context.waiter.until(
    {
      what: `managed private endpoint '${name}' to reach provisioningState Succeeded`,
      timeoutMs: context.settings.timeoutMs,
      timeoutInput: 'timeout',
      hint: 'Data Factory is still provisioning the endpoint; run again later to continue, or look at the endpoint in Data Factory Studio (Manage > Managed private endpoints).'
    },
    async () => {
      const endpoint = await findEndpoint(context, name)
      if (endpoint?.provisioningState.toLowerCase() === 'failed') {
        throw new ActionError(
          `Managed private endpoint '${name}' failed to provision (connection: ${endpoint.connectionStatus || 'unknown'}${endpoint.connectionDescription ? `, ${endpoint.connectionDescription}` : ''}).`,
          {
            resource: endpoint.id,
            hint: "Check that the server supports Private Link (public access networking) and that the factory's region allows it; delete the endpoint and run again (or use on-drift: recreate)."
          }
        )
      }
      return endpoint?.provisioningState === 'Succeeded'
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
  const { settings, clients } = context
  await describeFailure('delete the managed private endpoint', endpoint.id, () =>
    clients.dataFactory.managedPrivateEndpoints.delete(
      settings.factory.resourceGroup,
      settings.factory.name,
      settings.managedVirtualNetwork,
      endpoint.name,
      requestOptions(context)
    )
  )
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

async function createEndpoint(context: StepContext, desired: DesiredEndpoint): Promise<void> {
  const { settings, clients } = context
  await describeFailure(
    'create the managed private endpoint',
    endpointId(context, desired.name),
    () =>
      clients.dataFactory.managedPrivateEndpoints.createOrUpdate(
        settings.factory.resourceGroup,
        settings.factory.name,
        settings.managedVirtualNetwork,
        desired.name,
        {
          properties: {
            privateLinkResourceId: desired.privateLinkResourceId,
            groupId: desired.groupId
          }
        },
        requestOptions(context)
      )
  )
}

export interface EndpointResult {
  name: string
  id: string
  /** False only in plan mode, when apply would create or recreate it. */
  exists: boolean
}

function record(context: StepContext, endpoint: EndpointView): void {
  context.ledger.output('private-endpoint-id', endpoint.id)
  context.ledger.output('private-endpoint-name', endpoint.name)
  context.ledger.output('provisioning-state', endpoint.provisioningState)
  context.ledger.output('connection-state', endpoint.connectionStatus)
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
  const decision = decideEndpointAction(existing, desired, settings.onDrift)
  const plan = ledger.mode === 'plan'
  const id = endpointId(context, desired.name)
  switch (decision.kind) {
    case 'drift':
      throw new ActionError(
        `Managed private endpoint '${desired.name}' exists but ${decision.reason}. Endpoints cannot be changed in place.`,
        {
          resource: decision.endpoint.id,
          hint: 'Set on-drift: recreate to delete and recreate it, choose another endpoint-name, or delete the endpoint in Data Factory Studio.'
        }
      )
    case 'reuse':
    case 'reuse-other': {
      const note =
        decision.kind === 'reuse-other'
          ? ` (named '${decision.endpoint.name}', not '${desired.name}': Azure allows one endpoint per target, so it is reused)`
          : ''
      if (note) context.log.warning(`An endpoint to this server already exists${note}.`)
      const endpoint = plan
        ? decision.endpoint
        : await waitUntilProvisioned(context, decision.endpoint.name)
      record(context, endpoint)
      return {
        value: { name: endpoint.name, id: endpoint.id, exists: true },
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
          value: { name: desired.name, id, exists: false },
          found,
          done: `would ${decision.kind}`
        }
      }
      if (decision.kind === 'recreate') await deleteEndpoint(context, decision.endpoint)
      await createEndpoint(context, desired)
      ledger.change({
        action: decision.kind === 'create' ? 'created' : 'recreated',
        resource: 'managed-private-endpoint',
        id,
        reason
      })
      const endpoint = await waitUntilProvisioned(context, desired.name)
      record(context, endpoint)
      return {
        value: { name: endpoint.name, id: endpoint.id, exists: true },
        found,
        done: `${decision.kind === 'create' ? 'created' : 'recreated'}; provisioningState ${endpoint.provisioningState}`
      }
    }
  }
}
