import { describe, expect, test } from '@jest/globals'
import type { ConnectionView } from '../../src/steps/connections.js'
import { decideServerApprovals } from '../../src/steps/server-approval.js'

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
