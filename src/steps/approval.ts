// Approval: find the server-side connection this endpoint made, approve it (or wait for someone
// to), then wait until the factory's view of the endpoint says Approved.
import type { PrivateEndpointConnection } from '@azure/arm-postgresql-flexible'
import { listAll } from '../azure.js'
import { ActionError, describeFailure, statusCodeOf, translateAzureError } from '../errors.js'
import type { RunContext } from '../io.js'
import { lastSegment, sameText } from '../names.js'
import type { StepOutcome } from '../report.js'
import type { ApprovalMode } from '../settings.js'
import { requestOptions, type StepContext } from './context.js'
import { findEndpoint, isRefusedStatus, type EndpointResult } from './endpoint.js'

export const approvePermission =
  'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write'
/** The action Azure checks besides the write when a connection is approved. */
const approveActionPermission =
  'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnectionsApproval/action'

export interface ConnectionView {
  name: string
  id: string
  privateEndpointId: string
  status: string
  description: string
}

export type ConnectionMatch =
  | { kind: 'none' }
  | { kind: 'one'; connection: ConnectionView }
  | { kind: 'many'; connections: ConnectionView[] }

/**
 * The connection whose private endpoint is `<factory>.<endpoint>` (the name Data Factory gives
 * the endpoint it creates in its own subscription). Another factory's endpoint of the same name
 * ends differently, so it does not match. A Disconnected one is left over from an earlier
 * endpoint of this name: it never hides a live one, and does not count for a new endpoint.
 */
export function matchConnection(
  connections: ConnectionView[],
  factoryName: string,
  endpointName: string,
  endpointIsNew: boolean
): ConnectionMatch {
  const matches = connections.filter((connection) =>
    sameText(lastSegment(connection.privateEndpointId), `${factoryName}.${endpointName}`)
  )
  const live = matches.filter((connection) => !sameText(connection.status, 'Disconnected'))
  const relevant = live.length > 0 || endpointIsNew ? live : matches
  if (relevant.length === 0) return { kind: 'none' }
  if (relevant.length === 1) return { kind: 'one', connection: relevant[0] }
  return { kind: 'many', connections: relevant }
}

export type ApprovalDecision =
  | { kind: 'approved' }
  | { kind: 'approve' }
  | { kind: 'await-approval' }
  | { kind: 'leave' }
  | { kind: 'refused'; status: string; description: string }

/** What to do about the connection; `undefined` = it does not exist yet (the endpoint is new). */
export function decideApproval(
  connection: ConnectionView | undefined,
  mode: ApprovalMode
): ApprovalDecision {
  if (connection && sameText(connection.status, 'Approved')) return { kind: 'approved' }
  if (connection && isRefusedStatus(connection.status)) {
    return { kind: 'refused', status: connection.status, description: connection.description }
  }
  if (mode === 'auto') return { kind: 'approve' }
  return mode === 'wait' ? { kind: 'await-approval' } : { kind: 'leave' }
}

export function approvalDescription(run: RunContext): string {
  return `Approved by adf-pg-private-link for ${run.repository} run ${run.runId} (${run.runUrl})`
}

function refusedError(status: string, description: string, resource: string): ActionError {
  return new ActionError(
    `The private endpoint connection is ${status}${description ? ` ("${description}")` : ''}.`,
    {
      resource,
      hint: `A ${status} connection cannot be approved again: delete the managed private endpoint (on-drift: recreate, or mode: destroy) and run again so a new Pending connection is made.`
    }
  )
}

function toConnectionView(connection: PrivateEndpointConnection): ConnectionView {
  return {
    name: connection.name ?? '',
    id: connection.id ?? '',
    privateEndpointId: connection.privateEndpoint?.id ?? '',
    status: connection.privateLinkServiceConnectionState?.status ?? '',
    description: connection.privateLinkServiceConnectionState?.description ?? ''
  }
}

/** The endpoint's connection on the server, if listed; more than one is an error. */
export async function observeMatch(
  context: StepContext,
  endpointName: string,
  endpointIsNew: boolean
): Promise<ConnectionView | undefined> {
  const { settings, clients } = context
  const connections = await describeFailure(
    'list the private endpoint connections of the server',
    settings.server.id,
    'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/read',
    () =>
      listAll(
        clients.postgres.privateEndpointConnections.listByServer(
          settings.server.resourceGroup,
          settings.server.name,
          requestOptions(context)
        )
      )
  )
  const match = matchConnection(
    connections.map(toConnectionView),
    settings.factory.name,
    endpointName,
    endpointIsNew
  )
  if (match.kind === 'many') {
    throw new ActionError(
      `More than one private endpoint connection on server '${settings.server.name}' matches endpoint '${endpointName}': ${match.connections.map((c) => `${c.name} (${c.status}, ${c.privateEndpointId})`).join('; ')}.`,
      {
        resource: settings.server.id,
        hint: 'Delete the stale connections on the server (Networking > Private endpoint connections) and run again.'
      }
    )
  }
  return match.kind === 'one' ? match.connection : undefined
}

function approvalWait(
  context: StepContext,
  what: string
): Parameters<StepContext['waiter']['until']>[0] {
  return {
    what,
    timeoutMs: context.settings.approval.timeoutMs,
    timeoutInput: 'approval-timeout',
    hint: 'Approve the connection on the server (Networking > Private endpoint connections) or give the identity the right to approve, then run again; or raise approval-timeout.'
  }
}

/** Waits for the connection to appear; fails at once when ambiguous. */
async function awaitConnection(
  context: StepContext,
  endpoint: EndpointResult
): Promise<ConnectionView> {
  return context.waiter.until(
    approvalWait(context, `the server to list the connection of endpoint '${endpoint.name}'`),
    async () => {
      const connection = await observeMatch(context, endpoint.name, endpoint.isNew)
      return connection
        ? { done: true, value: connection }
        : { done: false, status: 'no connection yet' }
    }
  )
}

/** Waits until the server says Approved; Rejected/Disconnected fail at once. */
async function awaitServerApproval(
  context: StepContext,
  endpoint: EndpointResult
): Promise<ConnectionView> {
  return context.waiter.until(
    approvalWait(
      context,
      `someone to approve the connection of endpoint '${endpoint.name}' on the server`
    ),
    async () => {
      const connection = await observeMatch(context, endpoint.name, endpoint.isNew)
      if (!connection) return { done: false, status: 'connection gone' }
      const decision = decideApproval(connection, 'wait')
      if (decision.kind === 'refused')
        throw refusedError(decision.status, decision.description, connection.id)
      return decision.kind === 'approved'
        ? { done: true, value: connection }
        : { done: false, status: connection.status }
    }
  )
}

/** Waits until the factory's view of the endpoint says Approved (can take minutes). */
async function awaitFactoryApproval(context: StepContext, endpointName: string): Promise<string> {
  return context.waiter.until(
    approvalWait(context, `Data Factory to see endpoint '${endpointName}' as Approved`),
    async () => {
      const endpoint = await findEndpoint(context, endpointName)
      const status = endpoint?.connectionStatus ?? ''
      if (isRefusedStatus(status)) {
        throw refusedError(
          status,
          endpoint?.connectionDescription ?? '',
          endpoint?.id ?? endpointName
        )
      }
      return sameText(status, 'Approved')
        ? { done: true, value: status }
        : { done: false, status: status || 'unknown' }
    }
  )
}

/** Approves; on 403 warns with the missing permission and returns false (then we wait instead). */
async function approve(context: StepContext, connection: ConnectionView): Promise<boolean> {
  const { settings, clients } = context
  try {
    const poller = await clients.postgres.privateEndpointConnections.beginUpdate(
      settings.server.resourceGroup,
      settings.server.name,
      connection.name,
      {
        privateLinkServiceConnectionState: {
          status: 'Approved',
          description: approvalDescription(context.run)
        }
      },
      { ...requestOptions(context), updateIntervalInMs: settings.pollIntervalMs }
    )
    await poller.pollUntilDone(requestOptions(context))
    return true
  } catch (error) {
    const translated = translateAzureError(
      error,
      'approve the private endpoint connection',
      connection.id,
      approvePermission
    )
    if (statusCodeOf(error) !== 403) throw translated
    context.ledger.obstacle(translated)
    context.log.warning(
      `${translated.message} ${translated.hint} Approving also needs '${approveActionPermission}'. Waiting for someone else to approve instead.`
    )
    return false
  }
}

const plannedWork: Record<ApprovalDecision['kind'], string> = {
  approved: 'nothing to change',
  approve: 'would approve',
  'await-approval': 'would wait for someone to approve',
  leave: 'would leave it (approval: none)',
  refused: 'would fail'
}

/** Plan: what apply would do, from one look (the connection may not exist yet). */
async function planApproval(
  context: StepContext,
  endpoint: EndpointResult
): Promise<StepOutcome<{ approved: boolean }>> {
  const { settings, ledger } = context
  const connection = endpoint.exists
    ? await observeMatch(context, endpoint.name, endpoint.isNew)
    : undefined
  const decision = decideApproval(connection, settings.approval.mode)
  if (decision.kind === 'refused') {
    throw refusedError(decision.status, decision.description, connection?.id ?? '')
  }
  if (connection) ledger.output('private-endpoint-connection-id', connection.id)
  if (decision.kind === 'approve') {
    ledger.change({
      action: 'approve',
      resource: 'private-endpoint-connection',
      id: connection?.id ?? `(the connection of ${settings.factory.name}.${endpoint.name})`
    })
  }
  return {
    value: { approved: decision.kind === 'approved' },
    found: connection ? `connection ${connection.name}: ${connection.status}` : 'no connection yet',
    done: plannedWork[decision.kind]
  }
}

export async function ensureApproval(
  context: StepContext,
  endpoint: EndpointResult
): Promise<StepOutcome<{ approved: boolean }>> {
  const { settings, ledger } = context
  if (ledger.mode === 'plan') return planApproval(context, endpoint)
  const mode = settings.approval.mode
  const listed = await observeMatch(context, endpoint.name, endpoint.isNew)
  if (mode === 'none') {
    if (listed) ledger.output('private-endpoint-connection-id', listed.id)
    return {
      value: { approved: sameText(listed?.status, 'Approved') },
      found: listed ? `connection ${listed.name}: ${listed.status}` : 'no connection yet',
      done: 'left as is (approval: none)'
    }
  }
  const connection = listed ?? (await awaitConnection(context, endpoint))
  ledger.output('private-endpoint-connection-id', connection.id)
  const decision = decideApproval(connection, mode)
  let done: string
  switch (decision.kind) {
    case 'refused':
      throw refusedError(decision.status, decision.description, connection.id)
    case 'approved':
      done = 'already approved'
      break
    case 'approve':
      if (await approve(context, connection)) {
        ledger.change({
          action: 'approved',
          resource: 'private-endpoint-connection',
          id: connection.id
        })
        done = 'approved'
      } else {
        await awaitServerApproval(context, endpoint)
        done = 'approved by someone else (no permission to approve)'
      }
      break
    default:
      await awaitServerApproval(context, endpoint)
      done = 'approved by someone else'
  }
  // A re-run of a finished setup needs no second look at the factory.
  const factoryView = sameText(endpoint.connectionStatus, 'Approved')
    ? endpoint.connectionStatus
    : await awaitFactoryApproval(context, endpoint.name)
  ledger.output('connection-state', factoryView)
  return {
    value: { approved: true },
    found: `connection ${connection.name}: ${connection.status}`,
    done: `${done}; Data Factory sees it ${factoryView}`
  }
}
