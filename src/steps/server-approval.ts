// mode: approve, the DBA's run: approve the server's Pending connections that this factory's
// managed private endpoints made, and nothing else. The data team's run (approval: wait) then sees
// them Approved. Only server rights are needed; the factory's endpoints are read when allowed.
import { statusCodeOf } from '../errors.js'
import { sameText } from '../names.js'
import type { StepOutcome } from '../report.js'
import { approveConverging, decideApproval, type ApprovalDecision } from './approval.js'
import {
  describeConnection,
  identityOf,
  listConnections,
  matchConnection,
  toConnectionView,
  type ConnectionView,
  type ManagedEndpointIdentity
} from './connections.js'
import { requestOptions, type StepContext } from './context.js'
import { listEndpoints } from './endpoint.js'

/** What approve mode does with one of the factory's connections. */
export interface ServerApproval {
  connection: ConnectionView
  decision: ApprovalDecision
}

/**
 * The factory's connections among the server's, each with its decision (`decideApproval` in auto
 * mode), in the server's order; a connection several endpoints match counts once. Every other
 * connection is left out, so nothing else is ever approved.
 */
export function decideServerApprovals(
  connections: ConnectionView[],
  endpoints: ManagedEndpointIdentity[]
): ServerApproval[] {
  const ours = new Set<string>()
  for (const endpoint of endpoints) {
    const match = matchConnection(connections, endpoint, false)
    const found =
      match.kind === 'one' ? [match.connection] : match.kind === 'many' ? match.connections : []
    for (const connection of found) ours.add(connection.id.toLowerCase())
  }
  return connections
    .filter((connection) => ours.has(connection.id.toLowerCase()))
    .map((connection) => ({ connection, decision: decideApproval(connection, 'auto') }))
}

/**
 * The factory's managed private endpoints aimed at the server, with their `properties.resourceId`
 * (matched by id); when the DBA may not read the factory (403), the endpoint named by endpoint-name,
 * matched by its `<factory>.<endpoint>` name.
 */
async function factoryEndpoints(
  context: StepContext,
  serverId: string
): Promise<{ endpoints: ManagedEndpointIdentity[]; basis: string }> {
  const { settings } = context
  try {
    const listed = await listEndpoints(context)
    return {
      endpoints: listed
        .filter((endpoint) => sameText(endpoint.privateLinkResourceId, serverId))
        .map((endpoint) => identityOf(context, endpoint)),
      basis: `the managed private endpoints factory '${settings.factory.name}' lists`
    }
  } catch (error) {
    if (statusCodeOf(error) !== 403) throw error
    context.log.info(
      `This identity may not read factory '${settings.factory.name}' (403): matching endpoint '${settings.endpointName}' by its private endpoint name instead.`
    )
    return {
      endpoints: [identityOf(context, { name: settings.endpointName, privateEndpointId: '' })],
      basis: `endpoint-name '${settings.endpointName}' (no read access to the factory)`
    }
  }
}

/**
 * mode: approve's step: reads the server (its GET lists the connections), approves the factory's
 * Pending ones through approveConverging (a 409 or an update in progress is read again, so a
 * connection someone else approved meanwhile is left as it is), and reports every one. Throws
 * ActionError on a refusal (a 403 names both approval actions: nobody else will approve here).
 */
export async function approveServerConnections(context: StepContext): Promise<StepOutcome<void>> {
  const { settings, ledger } = context
  const server = await context.azure.readServer(requestOptions(context))
  // The server's GET lists its connections: no list call (and no list permission) needed.
  const connections = (server.privateEndpointConnections ?? []).map(toConnectionView)
  const { endpoints, basis } = await factoryEndpoints(context, server.id ?? settings.server.id)
  const ours = decideServerApprovals(connections, endpoints)
  const approved: string[] = []
  const lines: string[] = []
  for (const { connection, decision } of ours) {
    if (decision.kind === 'approve' || decision.kind === 'await-update') {
      const outcome = await approveConverging(
        context,
        connection,
        async () =>
          (await listConnections(context)).find((seen) => sameText(seen.id, connection.id)),
        {
          what: `the approval of connection '${connection.name}' on server '${settings.server.name}'`,
          onForbidden: 'throw'
        }
      )
      if (outcome === 'by-us') {
        approved.push(connection.id)
        ledger.change({
          action: 'approved',
          resource: 'private-endpoint-connection',
          id: connection.id
        })
      }
      lines.push(
        `${connection.name}: ${outcome === 'by-us' ? 'approved' : 'approved by someone else'}`
      )
    } else {
      lines.push(`${describeConnection(connection)}: left as is`)
    }
  }
  ledger.output('approved-connections', JSON.stringify(approved))
  const refused = ours.filter(({ decision }) => decision.kind === 'refused')
  if (refused.length)
    ledger.note(
      `Connection(s) ${refused.map(({ connection }) => connection.name).join(', ')} of factory '${settings.factory.name}' are ${refused.map(({ decision }) => (decision.kind === 'refused' ? decision.status : '')).join(', ')} and cannot be approved again: the data team recreates its endpoint (on-drift: recreate).`
    )
  const others = connections.length - ours.length
  return {
    value: undefined,
    found: `${ours.length} connection(s) from ${basis}; ${others} other connection(s) on server '${settings.server.name}' left untouched`,
    done: lines.length ? lines.join('; ') : 'nothing to approve'
  }
}
