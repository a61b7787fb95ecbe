import { describe, expect, it } from '@jest/globals'
import {
  ActionError,
  CancelledError,
  inputsOfScope,
  isPermanentRefusal,
  statusCodeOf,
  translateAzureError,
  unlessNotFound
} from '../src/errors.js'
import { restError } from './fixtures/fake-azure.js'

/** A RestError whose raw body is kept, as the SDK's is (its models drop additionalInfo). */
function restErrorWithBody(statusCode: number, body: { error: { code: string; message: string } }) {
  return Object.assign(restError(statusCode, body.error.code, body.error.message), {
    response: { bodyAsText: JSON.stringify(body) }
  })
}

describe('policy denials and locks', () => {
  // The shape of Microsoft's published RequestDisallowedByPolicy answer
  // (learn.microsoft.com/azure/automation/enforce-job-execution-hybrid-worker).
  const assignmentId =
    '/subscriptions/s/resourceGroups/g/providers/Microsoft.Authorization/policyAssignments/a1'
  const definitionId = '/providers/Microsoft.Authorization/policyDefinitions/d1'
  const denial = restErrorWithBody(403, {
    error: {
      code: 'RequestDisallowedByPolicy',
      message: `Resource 'c' was disallowed by policy. Policy identifiers: '[{"policyAssignment":{"name":"Deny PE","id":"${assignmentId}"},"policyDefinition":{"name":"Deny PE def","id":"${definitionId}"}}]'.`,
      additionalInfo: [
        {
          type: 'PolicyViolation',
          info: {
            policyDefinitionDisplayName: 'Deny PE def',
            evaluationDetails: {
              evaluatedExpressions: [
                {
                  result: 'True',
                  expressionKind: 'Field',
                  expression:
                    'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/privateEndpoint.id',
                  path: 'properties.privateEndpoint.id',
                  targetValue: 'false',
                  operator: 'Exists'
                },
                { result: 'False', path: 'name', targetValue: 'x', operator: 'Equals' }
              ]
            },
            policyDefinitionId: definitionId,
            policyDefinitionName: 'd1',
            policyDefinitionEffect: 'Deny',
            policyAssignmentId: assignmentId,
            policyAssignmentName: 'a1',
            policyAssignmentDisplayName: 'Deny PE',
            policyAssignmentScope: '/subscriptions/s/resourceGroups/g'
          }
        }
      ]
    } as { code: string; message: string }
  })
  const server =
    '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg'

  it('names the assignment, the definition and the expressions that held, never a role', () => {
    const error = translateAzureError(
      denial,
      'approve the connection',
      `${server}/privateEndpointConnections/c`,
      'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write'
    )
    expect(error.hint).toContain(`Azure Policy assignment 'Deny PE' (${assignmentId})`)
    expect(error.hint).toContain(`(definition 'Deny PE def' (${definitionId}))`)
    expect(error.hint).toContain(
      "it denies requests where properties.privateEndpoint.id exists: 'false'."
    )
    expect(error.hint).not.toContain("name equals 'x'")
    expect(error.hint).toContain(`policy exemption covering '${server}'`)
    expect(error.hint).not.toMatch(/lacks|Grant it/)
    expect(isPermanentRefusal(denial)).toBe(true)
    expect(isPermanentRefusal(error)).toBe(true)
  })

  it("falls back to the message's policy identifiers, and names the requested resource by its full id", () => {
    const linkedService =
      '/subscriptions/s/resourceGroups/g/providers/Microsoft.DataFactory/factories/adf/linkedservices/ls'
    const bare = Object.assign(restError(403, 'RequestDisallowedByPolicy', denial.message), {
      request: { url: `https://management.azure.com${linkedService}?api-version=2018-06-01` }
    })
    const error = translateAzureError(bare, 'write the linked service', 'ls', 'x/write')
    expect(error.hint).toContain(`Azure Policy assignment 'Deny PE' (${assignmentId})`)
    expect(error.hint).toContain('its rule is in its definition')
    expect(error.hint).toContain(`denies this request on '${linkedService}'`)
  })

  it('names the locked scope and the lock level that refuses the operation', () => {
    const locked = (operation: string) =>
      restError(
        409,
        'ScopeLocked',
        `The scope '${server}' cannot perform ${operation} operation because following scope(s) are locked: '/subscriptions/s/resourceGroups/g'. Please remove the lock and try again.`
      )
    const write = translateAzureError(locked('write'), 'create the endpoint', server, 'x/write')
    expect(write.hint).toMatch(
      /^A ReadOnly lock on '\/subscriptions\/s\/resourceGroups\/g' refuses/
    )
    const remove = translateAzureError(locked('delete'), 'delete the endpoint', server, 'x/delete')
    expect(remove.hint).toMatch(
      /^A CanNotDelete or ReadOnly lock on '\/subscriptions\/s\/resourceGroups\/g'/
    )
    expect(isPermanentRefusal(locked('write'))).toBe(true)
    expect(isPermanentRefusal(restError(409, 'AnotherOperationInProgress', 'busy'))).toBe(false)
  })
})

describe('translateAzureError', () => {
  const denied = restError(
    403,
    'AuthorizationFailed',
    "The client 'abc' with object id 'def' does not have authorization to perform action 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write' over scope '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg' or the scope is invalid."
  )

  it('names the missing permission, the scope and a role for a 403', () => {
    const error = translateAzureError(denied, 'approve the connection', 'pg', 'unused/action')
    expect(error.message).toMatch(
      /^Could not approve the connection 'pg' \(HTTP 403, AuthorizationFailed: /
    )
    expect(error.hint).toContain(
      "lacks 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write'"
    )
    expect(error.hint).toContain(
      "on scope '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg'"
    )
    expect(error.hint).toContain(
      "Grant it 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write' and 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnectionsApproval/action' on '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg'"
    )
  })

  it('names the server, not the connection, as the scope to grant approval on', () => {
    const connection =
      '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg/privateEndpointConnections/c'
    const error = translateAzureError(
      restError(403, 'AuthorizationFailed', 'The client has no access.'),
      'approve the connection',
      connection,
      'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write'
    )
    expect(error.hint).toContain(
      "may not approve private endpoint connections on server '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg'."
    )
  })

  it('says a read scope may not exist or be hidden, naming the inputs that built it and both fixes', () => {
    const scope =
      '/subscriptions/s1/resourceGroups/rg-typo/providers/Microsoft.DataFactory/factories/adf'
    const error = translateAzureError(
      restError(
        403,
        'AuthorizationFailed',
        `does not have authorization to perform action 'Microsoft.DataFactory/factories/read' over scope '${scope}' or the scope is invalid.`
      ),
      'read the data factory',
      scope,
      'Microsoft.DataFactory/factories/read'
    )
    expect(error.message).toMatch(/^Could not read the data factory '\/subscriptions\/s1\//)
    expect(error.hint).toBe(
      `'${scope}' does not exist, or the identity cannot see it: Resource Manager answers 403 for both when no role of the identity covers the scope. Check 'subscription-id' (s1), 'resource-group' (rg-typo) and 'factory-name' (adf) for a typo; if they are right, grant the identity 'Microsoft.DataFactory/factories/read' on that scope (Reader, or the role the permissions table names).`
    )
  })

  it('names the resource group ARM did not find, and the input for it', () => {
    const server =
      '/subscriptions/s1/resourceGroups/rg-typo/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg'
    const error = translateAzureError(
      restError(404, 'ResourceGroupNotFound', "Resource group 'rg-typo' could not be found."),
      'read the PostgreSQL server',
      server,
      'Microsoft.DBforPostgreSQL/flexibleServers/read'
    )
    expect(error.hint).toMatch(/^Resource group 'rg-typo' does not exist in the subscription\./)
    expect(error.hint).toContain("'server-resource-group' (rg-typo)")
  })

  it('suggests Data Factory Contributor for factory writes', () => {
    const error = translateAzureError(
      restError(
        403,
        'AuthorizationFailed',
        "does not have authorization to perform action 'Microsoft.DataFactory/factories/linkedservices/write' over scope '/x'"
      ),
      'write',
      'ls',
      'unused/action'
    )
    expect(error.hint).toMatch(/Data Factory Contributor/)
  })

  it("names the call site's permission when ARM's message does not", () => {
    const error = translateAzureError(
      restError(403, 'Forbidden', 'The client has no access.'),
      'write the linked service',
      'ls',
      'Microsoft.DataFactory/factories/linkedservices/write'
    )
    expect(error.hint).toBe(
      "The identity lacks 'Microsoft.DataFactory/factories/linkedservices/write' on scope 'ls'. Grant it Data Factory Contributor on 'ls', or a custom role with that action (role assignments take a few minutes to apply)."
    )
  })

  it('names the resource in the message', () => {
    const error = translateAzureError(
      restError(404, 'NotFound', 'gone'),
      'read the integration runtime',
      'ir-managed',
      'Microsoft.DataFactory/factories/integrationruntimes/read'
    )
    expect(error.message).toBe(
      "Could not read the integration runtime 'ir-managed' (HTTP 404, NotFound: gone)"
    )
  })

  it.each([
    [401, /refused the access token/],
    [404, /does not exist, or the identity cannot see it/],
    [429, /throttling/],
    [400, /refused the request as invalid/],
    [409, /busy or in a conflicting state/],
    [503, /failed on its side/]
  ])('explains HTTP %d', (status, hint) => {
    expect(translateAzureError(restError(status, 'X', 'm'), 'read', 'r', 'p').hint).toMatch(hint)
  })

  it('keeps the status reachable through the cause, and turns aborts into cancellation', () => {
    const translated = translateAzureError(restError(404, 'NotFound', 'gone'), 'read', 'r', 'p')
    expect(statusCodeOf(translated)).toBe(404)
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' })
    expect(translateAzureError(abort, 'read the factory', 'f', 'p')).toBeInstanceOf(CancelledError)
    const mine = new ActionError('mine')
    expect(translateAzureError(mine, 'x', 'y', 'p')).toBe(mine)
  })
})

describe('inputsOfScope', () => {
  it('names the inputs that built a factory scope, and a server scope', () => {
    expect(
      inputsOfScope(
        '/subscriptions/s/resourceGroups/g/providers/Microsoft.DataFactory/factories/f/managedVirtualNetworks/default/managedPrivateEndpoints/pe'
      )
    ).toBe(
      "'subscription-id' (s), 'resource-group' (g), 'factory-name' (f), 'managed-virtual-network' (default) and 'endpoint-name' (pe)"
    )
    expect(
      inputsOfScope(
        '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg'
      )
    ).toBe(
      "'subscription-id' (s), 'server-resource-group' (g) and 'server-name' (pg) (or 'server-id', when the server is given by id)"
    )
    expect(inputsOfScope('ls')).toBe("the inputs that name 'ls'")
  })
})

describe('unlessNotFound', () => {
  it('is undefined for a missing resource, and throws for a missing resource group or subscription', async () => {
    await expect(
      unlessNotFound(() => Promise.reject(restError(404, 'ResourceNotFound', 'gone')))
    ).resolves.toBeUndefined()
    for (const code of ['ResourceGroupNotFound', 'SubscriptionNotFound']) {
      const error = restError(404, code, 'missing')
      await expect(unlessNotFound(() => Promise.reject(error))).rejects.toBe(error)
    }
  })
})
