import { describe, expect, test } from '@jest/globals'
import type { Server } from '../../src/azure/gateway.js'
import type { ConnectionView } from '../../src/steps/connections.js'
import { approveServerConnections, decideServerApprovals } from '../../src/steps/server-approval.js'
import { gatewayFailure, restError } from '../fixtures/fake-azure.js'
import { fakeStepContext } from '../fixtures/step-context.js'

const peBase = '/subscriptions/m/resourceGroups/vnet-1/providers/Microsoft.Network/privateEndpoints'

function connection(name: string, privateEndpoint: string, status: string): ConnectionView {
  return {
    name,
    id: `/pg/privateEndpointConnections/${name}`,
    privateEndpointId: `${peBase}/${privateEndpoint}`,
    status,
    description: '',
    provisioningState: 'Succeeded'
  }
}

const ours = connection('c-ours', 'adf-demo.pg-pg-demo', 'Pending')
const decoy = connection('c-decoy', 'adf-analytics.pg-pg-demo', 'Pending')
const lookalike = connection('c-lookalike', 'adf-demo2.pg-pg-demo', 'Pending')
const byId = connection('c-by-id', 'some-other-name', 'Pending')

describe('decideServerApprovals', () => {
  test('by name: only the connection from <factory>.<endpoint>, never another factory’s', () => {
    const decided = decideServerApprovals(
      [decoy, ours, lookalike],
      [{ factoryName: 'adf-demo', endpointName: 'pg-pg-demo', privateEndpointId: '' }]
    )
    expect(decided).toEqual([{ connection: ours, decision: { kind: 'approve' } }])
  })

  test("by the endpoint's properties.resourceId, whatever the private endpoint is named", () => {
    const decided = decideServerApprovals(
      [ours, byId, decoy],
      [
        {
          factoryName: 'adf-demo',
          endpointName: 'pg-pg-demo',
          privateEndpointId: byId.privateEndpointId.toUpperCase()
        }
      ]
    )
    expect(decided.map(({ connection }) => connection.name)).toEqual(['c-by-id'])
  })

  test('approved ones are left as they are, refused ones reported, none counted twice', () => {
    const approved = { ...ours, status: 'Approved' }
    const rejected = connection('c-rejected', 'adf-demo.pg-old', 'Rejected')
    const endpoints = [
      { factoryName: 'adf-demo', endpointName: 'pg-pg-demo', privateEndpointId: '' },
      { factoryName: 'adf-demo', endpointName: 'pg-pg-demo', privateEndpointId: '' },
      { factoryName: 'adf-demo', endpointName: 'pg-old', privateEndpointId: '' }
    ]
    expect(
      decideServerApprovals([approved, rejected, decoy], endpoints).map(
        ({ connection, decision }) => [connection.name, decision.kind]
      )
    ).toEqual([
      ['c-ours', 'approved'],
      ['c-rejected', 'refused']
    ])
  })
})

describe('approveServerConnections', () => {
  /** The connection as the SDK models it. */
  const asListed = (view: ConnectionView) => ({
    name: view.name,
    id: view.id,
    privateEndpoint: { id: view.privateEndpointId },
    privateLinkServiceConnectionState: { status: view.status },
    provisioningState: view.provisioningState
  })
  /** The server's GET, listing `connections` as the SDK models them. */
  const server = (...connections: ConnectionView[]) =>
    ({ id: '/pg', privateEndpointConnections: connections.map(asListed) }) as Server
  const busy = () =>
    gatewayFailure(
      restError(409, 'AnotherOperationInProgress'),
      'approve the private endpoint connection',
      ours.id
    )

  test('after a 409, looks again and leaves a connection someone else approved meanwhile as it is', async () => {
    let sent = 0
    const { context, recorded } = fakeStepContext({
      readServer: async () => server(ours),
      listManagedPrivateEndpoints: async () => {
        throw gatewayFailure(restError(403, 'AuthorizationFailed'))
      },
      beginApproveConnection: async () => {
        sent += 1
        throw busy()
      },
      listConnections: async () => [asListed({ ...ours, status: 'Approved' })]
    })
    const outcome = await approveServerConnections(context)
    expect(sent).toBe(1)
    expect(recorded.changes).toEqual([])
    expect(recorded.outputs['approved-connections']).toBe('[]')
    expect(outcome.done).toBe('c-ours: approved by someone else')
  })

  test('waits while another operation updates the connection, then approves it once', async () => {
    let sent = 0
    // Another operation holds the connection until the server is next read; an approval meanwhile gets 409.
    let updating = true
    const { context, recorded } = fakeStepContext({
      readServer: async () => server({ ...ours, provisioningState: 'Updating' }),
      listManagedPrivateEndpoints: async () => {
        throw gatewayFailure(restError(403, 'AuthorizationFailed'))
      },
      beginApproveConnection: async () => {
        sent += 1
        if (updating) throw busy()
        return { poll: async () => ({ done: true }) }
      },
      listConnections: async () => {
        const state = updating ? 'Updating' : 'Succeeded'
        updating = false
        return [asListed({ ...ours, provisioningState: state })]
      }
    })
    await approveServerConnections(context)
    expect(sent).toBe(1)
    expect(recorded.changes).toEqual([
      { action: 'approved', resource: 'private-endpoint-connection', id: ours.id }
    ])
  })
})
