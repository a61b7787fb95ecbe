// Resource Manager's guardrails as the emulator answers them: a Deny policy's 403 in the shape
// Microsoft publishes, a lock's 409 ScopeLocked by level and operation, nothing for reads.
import { describe, expect, it } from '@jest/globals'
import { governanceRefusal } from '../src/governance.js'
import type { DenyPolicySeed, EmuRequest, HttpMethod } from '../src/types.js'

const group = '/subscriptions/s1/resourceGroups/rg'
const connection = `${group}/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg/privateEndpointConnections/c1`

function request(method: HttpMethod, path: string, body?: unknown): EmuRequest {
  return { method, path, params: {}, query: new URLSearchParams(), headers: {}, body }
}

const policy: DenyPolicySeed = {
  assignment: { name: 'a1', displayName: 'Deny cross-subscription', scope: group },
  definition: { name: 'd1', displayName: 'Deny PE connections' },
  resourceType: 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections',
  allOf: [{ field: 'properties.privateLinkServiceConnectionState.status', equals: 'Approved' }],
  anyOf: [
    { field: 'properties.privateEndpoint.id', exists: false },
    { field: 'properties.privateEndpoint.id', otherSubscription: true }
  ]
}
const approve = (privateEndpointId?: string) => ({
  properties: {
    privateLinkServiceConnectionState: { status: 'Approved' },
    ...(privateEndpointId ? { privateEndpoint: { id: privateEndpointId } } : {})
  }
})

describe('a Deny policy', () => {
  const governance = { policies: [policy], locks: [] }

  it('answers 403 RequestDisallowedByPolicy with a PolicyViolation naming assignment, definition and what held', () => {
    const refusal = governanceRefusal(governance, request('PUT', connection, approve()))
    expect(refusal?.status).toBe(403)
    const error = (refusal?.body as { error: Record<string, unknown> }).error
    expect(error).toMatchObject({ code: 'RequestDisallowedByPolicy', target: 'c1' })
    expect(error.message).toMatch(
      /^Resource 'c1' was disallowed by policy\. Policy identifiers: '\[/
    )
    expect(error.additionalInfo).toEqual([
      {
        type: 'PolicyViolation',
        info: expect.objectContaining({
          policyAssignmentId: `${group}/providers/Microsoft.Authorization/policyAssignments/a1`,
          policyAssignmentDisplayName: 'Deny cross-subscription',
          policyDefinitionId: '/providers/Microsoft.Authorization/policyDefinitions/d1',
          policyDefinitionEffect: 'Deny',
          evaluationDetails: {
            evaluatedExpressions: [
              expect.objectContaining({
                path: 'properties.privateLinkServiceConnectionState.status'
              }),
              expect.objectContaining({
                path: 'properties.privateEndpoint.id',
                operator: 'Exists',
                targetValue: 'false'
              })
            ]
          }
        })
      }
    ])
  })

  it('lets through what the rule does not deny: a same-subscription endpoint, a rejection, a GET', () => {
    const own = '/subscriptions/s1/resourceGroups/x/providers/Microsoft.Network/privateEndpoints/pe'
    expect(governanceRefusal(governance, request('PUT', connection, approve(own)))).toBeUndefined()
    const reject = { properties: { privateLinkServiceConnectionState: { status: 'Rejected' } } }
    expect(governanceRefusal(governance, request('PUT', connection, reject))).toBeUndefined()
    expect(governanceRefusal(governance, request('GET', connection))).toBeUndefined()
    const elsewhere =
      '/subscriptions/ms/resourceGroups/x/providers/Microsoft.Network/privateEndpoints/pe'
    expect(
      governanceRefusal(governance, request('PUT', connection, approve(elsewhere)))?.status
    ).toBe(403)
  })

  it('applies only within its assignment scope', () => {
    const other = connection.replace('/subscriptions/s1/', '/subscriptions/s2/')
    expect(governanceRefusal(governance, request('PUT', other, approve()))).toBeUndefined()
  })
})

describe('a lock', () => {
  const endpoint = `${group}/providers/Microsoft.DataFactory/factories/adf/managedVirtualNetworks/default/managedPrivateEndpoints/pe`

  it('ReadOnly refuses writes and deletes with 409 ScopeLocked naming the locked scope', () => {
    const governance = {
      policies: [],
      locks: [{ name: 'l', scope: group, level: 'ReadOnly' as const }]
    }
    const write = governanceRefusal(governance, request('PUT', endpoint, {}))
    expect(write).toEqual({
      status: 409,
      body: {
        error: {
          code: 'ScopeLocked',
          message: `The scope '${endpoint}' cannot perform write operation because following scope(s) are locked: '${group}'. Please remove the lock and try again.`
        }
      }
    })
    expect(governanceRefusal(governance, request('DELETE', endpoint))?.status).toBe(409)
    expect(governanceRefusal(governance, request('GET', endpoint))).toBeUndefined()
  })

  it('CanNotDelete refuses deletes only', () => {
    const governance = {
      policies: [],
      locks: [{ name: 'l', scope: group, level: 'CanNotDelete' as const }]
    }
    expect(governanceRefusal(governance, request('PUT', endpoint, {}))).toBeUndefined()
    expect(JSON.stringify(governanceRefusal(governance, request('DELETE', endpoint)))).toContain(
      'cannot perform delete operation'
    )
  })
})
