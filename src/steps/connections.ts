// The server-side private endpoint connections: listed, and matched to this factory's endpoint.
// The endpoint step (the server's word on drift), the approval and destroy all read them.
import type { PrivateEndpointConnection } from '../azure/gateway.js'
import { ActionError } from '../errors.js'
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

/**
 * How a managed private endpoint's connection was found: by the private endpoint id Data Factory
 * states (`properties.resourceId`), or by the `<factory>.<endpoint>` name when it states none.
 */
export type MatchBasis = 'resourceId' | 'name'

export type ConnectionMatch = { basis: MatchBasis } & (
  | { kind: 'none' }
  | { kind: 'one'; connection: ConnectionView }
  | { kind: 'many'; connections: ConnectionView[] }
)

/** A managed private endpoint, as far as finding its server-side connection goes. */
export interface ManagedEndpointIdentity {
  factoryName: string
  endpointName: string
  /**
   * The endpoint's `properties.resourceId`, the id of the private endpoint Data Factory made for
   * it (every recorded answer carries it, provisioning too: cliext-datafactory-2022_mpe-*.json);
   * '' when Data Factory stated none.
   */
  privateEndpointId: string
}

/** Connection states that can never become Approved again. */
export function isRefusedStatus(status: string): boolean {
  return sameText(status, 'Rejected') || sameText(status, 'Disconnected')
}

/**
 * The name Data Factory gives the private endpoint it makes for a managed one. Community scripts
 * rely on `<factory>.<endpoint>`; no Microsoft document states it, so a miss is explained.
 */
function privateEndpointNameFor(factoryName: string, endpointName: string): string {
  return `${factoryName}.${endpointName}`
}

/** Which basis matching uses for this endpoint: its stated private endpoint id when it has one. */
export function matchBasis(endpoint: ManagedEndpointIdentity): MatchBasis {
  return endpoint.privateEndpointId ? 'resourceId' : 'name'
}

/** The private endpoint the connection must come from, as the log and errors name it. */
export function expectedPrivateEndpoint(endpoint: ManagedEndpointIdentity): string {
  return matchBasis(endpoint) === 'resourceId'
    ? endpoint.privateEndpointId
    : privateEndpointNameFor(endpoint.factoryName, endpoint.endpointName)
}

/** For the summary: what the connection was matched by. */
export function describeMatchBasis(endpoint: ManagedEndpointIdentity): string {
  return matchBasis(endpoint) === 'resourceId'
    ? "matched by the endpoint's properties.resourceId"
    : `matched by the name ${privateEndpointNameFor(endpoint.factoryName, endpoint.endpointName)} (the endpoint states no properties.resourceId)`
}

/**
 * The server-side connection(s) that belong to this managed private endpoint. With the endpoint's
 * `properties.resourceId`, the connection whose private endpoint id is that id; without it, the
 * one whose private endpoint is named `<factory>.<endpoint>` (so another factory's endpoint of the
 * same name never matches). Ids and names compare case-insensitively (Azure answers lower-cased
 * segments: cliext-datafactory-2022_mpe-put-blob.json). A Disconnected one is left over from an
 * earlier endpoint: it never hides a live one, and does not count for a new endpoint.
 */
export function matchConnection(
  connections: ConnectionView[],
  endpoint: ManagedEndpointIdentity,
  endpointIsNew: boolean
): ConnectionMatch {
  const basis = matchBasis(endpoint)
  const wanted = expectedPrivateEndpoint(endpoint)
  const matches = connections.filter((connection) =>
    sameText(
      basis === 'resourceId'
        ? connection.privateEndpointId
        : lastSegment(connection.privateEndpointId),
      wanted
    )
  )
  const live = matches.filter((connection) => !sameText(connection.status, 'Disconnected'))
  const relevant = live.length > 0 || endpointIsNew ? live : matches
  if (relevant.length === 0) return { basis, kind: 'none' }
  if (relevant.length === 1) return { basis, kind: 'one', connection: relevant[0] }
  return { basis, kind: 'many', connections: relevant }
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
  const connections = await context.azure.listConnections(requestOptions(context))
  return connections.map(toConnectionView)
}

/** This run's managed private endpoint, as the approval and destroy look for its connection. */
export interface EndpointRef {
  name: string
  /** Its `properties.resourceId`; '' when Data Factory stated none (or it does not exist yet). */
  privateEndpointId: string
  /** Made by this run: a Disconnected connection on the server belongs to its predecessor. */
  isNew: boolean
}

/** The identity `matchConnection` takes, for this run's factory. */
export function identityOf(
  context: StepContext,
  endpoint: Pick<EndpointRef, 'name' | 'privateEndpointId'>
): ManagedEndpointIdentity {
  return {
    factoryName: context.settings.factory.name,
    endpointName: endpoint.name,
    privateEndpointId: endpoint.privateEndpointId
  }
}

/** The endpoint's connection among `connections`, if any; more than one is an error. */
export function pickConnection(
  context: StepContext,
  connections: ConnectionView[],
  endpoint: EndpointRef
): ConnectionView | undefined {
  const { settings } = context
  const match = matchConnection(connections, identityOf(context, endpoint), endpoint.isNew)
  if (match.kind === 'many') {
    throw new ActionError(
      `More than one private endpoint connection on server '${settings.server.name}' matches endpoint '${endpoint.name}': ${match.connections.map(describeConnection).join('; ')}.`,
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
  endpoint: EndpointRef
): Promise<ConnectionView | undefined> {
  return pickConnection(context, await listConnections(context), endpoint)
}
