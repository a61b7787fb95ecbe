// The server-side private endpoint connections: listed, and matched to this factory's endpoint.
// The endpoint step (the server's word on drift), the approval and destroy all read them.
import type { PrivateEndpointConnection } from '@azure/arm-postgresql-flexible'
import { listAll } from '../azure.js'
import { ActionError, describeFailure } from '../errors.js'
import { lastSegment, sameText } from '../names.js'
import { requestOptions, type StepContext } from './context.js'

export interface ConnectionView {
  name: string
  id: string
  privateEndpointId: string
  status: string
  description: string
  /** Updating while an approve/reject operation runs on it (another run's, say). */
  provisioningState: string
}

export type ConnectionMatch =
  | { kind: 'none' }
  | { kind: 'one'; connection: ConnectionView }
  | { kind: 'many'; connections: ConnectionView[] }

/** Connection states that can never become Approved again. */
export function isRefusedStatus(status: string): boolean {
  return sameText(status, 'Rejected') || sameText(status, 'Disconnected')
}

/**
 * The name Data Factory gives the private endpoint it makes for a managed one. Community scripts
 * rely on `<factory>.<endpoint>`; no Microsoft document states it, so a miss is explained.
 */
export function privateEndpointNameFor(factoryName: string, endpointName: string): string {
  return `${factoryName}.${endpointName}`
}

/**
 * The connection whose private endpoint is `<factory>.<endpoint>` (ids compare case-insensitively).
 * Another factory's endpoint of the same name ends differently, so it does not match. A
 * Disconnected one is left over from an earlier endpoint of this name: it never hides a live one,
 * and does not count for a new endpoint.
 */
export function matchConnection(
  connections: ConnectionView[],
  factoryName: string,
  endpointName: string,
  endpointIsNew: boolean
): ConnectionMatch {
  const wanted = privateEndpointNameFor(factoryName, endpointName)
  const matches = connections.filter((connection) =>
    sameText(lastSegment(connection.privateEndpointId), wanted)
  )
  const live = matches.filter((connection) => !sameText(connection.status, 'Disconnected'))
  const relevant = live.length > 0 || endpointIsNew ? live : matches
  if (relevant.length === 0) return { kind: 'none' }
  if (relevant.length === 1) return { kind: 'one', connection: relevant[0] }
  return { kind: 'many', connections: relevant }
}

/** One line per connection: name, private endpoint id and state. */
export function describeConnection(connection: ConnectionView): string {
  return `${connection.name} (private endpoint ${connection.privateEndpointId}, ${connection.status || 'no state'})`
}

/** The fields this action reads of a connection (from the list call or the server's GET). */
export function toConnectionView(connection: PrivateEndpointConnection): ConnectionView {
  return {
    name: connection.name ?? '',
    id: connection.id ?? '',
    privateEndpointId: connection.privateEndpoint?.id ?? '',
    status: connection.privateLinkServiceConnectionState?.status ?? '',
    description: connection.privateLinkServiceConnectionState?.description ?? '',
    provisioningState: connection.provisioningState ?? ''
  }
}

/** Every private endpoint connection of the server. */
export async function listConnections(context: StepContext): Promise<ConnectionView[]> {
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
  return connections.map(toConnectionView)
}

/** The endpoint's connection among `connections`, if any; more than one is an error. */
export function pickConnection(
  context: StepContext,
  connections: ConnectionView[],
  endpointName: string,
  endpointIsNew: boolean
): ConnectionView | undefined {
  const { settings } = context
  const match = matchConnection(connections, settings.factory.name, endpointName, endpointIsNew)
  if (match.kind === 'many') {
    throw new ActionError(
      `More than one private endpoint connection on server '${settings.server.name}' matches endpoint '${endpointName}': ${match.connections.map(describeConnection).join('; ')}.`,
      {
        resource: settings.server.id,
        hint: 'Delete the stale connections on the server (Azure portal > the server > Networking > Private endpoint connections) and run again.'
      }
    )
  }
  return match.kind === 'one' ? match.connection : undefined
}

/** The endpoint's connection on the server, if listed; more than one is an error. */
export async function observeMatch(
  context: StepContext,
  endpointName: string,
  endpointIsNew: boolean
): Promise<ConnectionView | undefined> {
  return pickConnection(context, await listConnections(context), endpointName, endpointIsNew)
}
