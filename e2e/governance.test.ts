// Issue 14, items 5–8: what a landing zone answers. A Deny policy and a resource lock are
// permanent (no waiting, no retry, never called a missing role), a server that offers no Private
// Link group is refused before any write, and a vault that denies public access is named.
import { beforeEach, describe, expect, test } from '@jest/globals'
import type { DenyPolicySeed, LockSeed, PolicyCondition } from '../emulator/index.js'
import {
  armWrites,
  describeRequests,
  e2eScenario,
  ids,
  keyVault,
  scenarioTimeoutMs,
  serverId,
  useEmulator,
  withKeyVault,
  type E2eRun
} from './harness.js'

const session = useEmulator(e2eScenario(withKeyVault))

beforeEach(() => session.reset())

const connectionType = 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections'
const approvedState = {
  field: 'properties.privateLinkServiceConnectionState.status',
  equals: 'Approved'
}
const privateEndpointIdMissing: PolicyCondition = {
  field: 'properties.privateEndpoint.id',
  exists: false
}

/**
 * The cloud-adoption framework's "deny cross-tenant private endpoint connections" rule for a
 * server's connections (learn.microsoft.com/azure/cloud-adoption-framework/ready/azure-best-practices/
 * limit-cross-tenant-private-endpoint-connections): an approval is denied when its body names no
 * private endpoint, or one in another subscription than the server's.
 */
function crossTenantPolicy(anyOf: PolicyCondition[] = [privateEndpointIdMissing]): DenyPolicySeed {
  return {
    assignment: {
      name: 'deny-pe-cross-sub',
      displayName: 'Deny cross-subscription private endpoint connections',
      scope: ids.resourceGroupScope
    },
    definition: {
      name: 'Deny-PostgreSql-PrivateEndpointConnections',
      displayName: 'Deny PostgreSQL private endpoint connections from other subscriptions',
      id: `/subscriptions/${ids.subscriptionId}/providers/Microsoft.Authorization/policyDefinitions/Deny-PostgreSql-PrivateEndpointConnections`
    },
    resourceType: connectionType,
    allOf: [approvedState],
    anyOf
  }
}

function requestsTo(run: E2eRun, method: string, pattern: RegExp) {
  return run.requests.filter((entry) => entry.method === method && pattern.test(entry.path))
}

const approvalPut = /\/privateEndpointConnections\/[^/]+$/
const endpointPut = /\/managedPrivateEndpoints\/[^/]+$/

describe('landing-zone guardrails', () => {
  test(
    'a Deny policy on the approval fails at once naming the assignment and definition, never a missing role',
    async () => {
      // Also denies an approval of a private endpoint outside the server's subscription: Data
      // Factory's always is (Microsoft's), so sending privateEndpoint.id cannot satisfy it.
      session.emulator.admin.setPolicies([
        crossTenantPolicy([
          privateEndpointIdMissing,
          { field: 'properties.privateEndpoint.id', otherSubscription: true }
        ])
      ])
      const run = await session.run({ 'approval-timeout': '20s' })
      expect(run.exitCode).toBe(1)
      expect(run.errors).toHaveLength(1)
      const [error] = run.errors
      expect(error).toContain('Deny cross-subscription private endpoint connections')
      expect(error).toContain(
        '/providers/Microsoft.Authorization/policyAssignments/deny-pe-cross-sub'
      )
      expect(error).toContain('Deny-PostgreSql-PrivateEndpointConnections')
      expect(error).toMatch(/exemption/i)
      expect(error).not.toMatch(/lacks|Grant it/)
      // One approval sent, refused, and no wait for someone else (a DBA's would be denied too).
      expect(describeRequests(requestsTo(run, 'PUT', approvalPut))).toHaveLength(1)
      expect(requestsTo(run, 'PUT', approvalPut)[0].status).toBe(403)
      expect(run.stdout).not.toMatch(/Waiting for someone/)
      expect(run.summary).toMatch(/^\| ❌ Approval \|/m)
    },
    scenarioTimeoutMs
  )

  test(
    'the approval names its private endpoint, so a rule that only asks for privateEndpoint.id passes',
    async () => {
      session.emulator.admin.setPolicies([crossTenantPolicy()])
      const run = await session.run()
      expect(run.errors).toEqual([])
      expect(run.exitCode).toBe(0)
      const [approval] = requestsTo(run, 'PUT', approvalPut)
      const body = approval.requestBody as { properties: { privateEndpoint?: { id?: string } } }
      expect(body.properties.privateEndpoint?.id).toMatch(
        new RegExp(`/privateEndpoints/${ids.factoryName}\\.${ids.defaultEndpointName}$`)
      )
    },
    scenarioTimeoutMs
  )

  test(
    'a Deny policy on the managed private endpoint fails at once with what the policy evaluated',
    async () => {
      session.emulator.admin.setPolicies([
        {
          assignment: {
            name: 'deny-mpe-other-sub',
            displayName: 'Managed private endpoints only to this subscription',
            scope: ids.resourceGroupScope
          },
          definition: {
            name: 'Deny-DataFactory-ManagedPrivateEndpoints',
            displayName: 'Deny managed private endpoints'
          },
          resourceType:
            'Microsoft.DataFactory/factories/managedVirtualNetworks/managedPrivateEndpoints',
          allOf: [{ field: 'properties.groupId', equals: 'postgresqlServer' }]
        }
      ])
      const run = await session.run()
      expect(run.exitCode).toBe(1)
      expect(run.errors[0]).toContain('Managed private endpoints only to this subscription')
      expect(run.errors[0]).toContain('properties.groupId')
      expect(run.errors[0]).toContain('managedPrivateEndpoints/pg-')
      expect(run.errors[0]).not.toMatch(/lacks|Grant it/)
      expect(requestsTo(run, 'PUT', endpointPut)).toHaveLength(1)
    },
    scenarioTimeoutMs
  )

  test(
    "a Deny policy on the connection test's pipeline fails the test naming the policy, and writes no linked service",
    async () => {
      session.emulator.admin.setPolicies([
        {
          assignment: {
            name: 'deny-pipelines',
            displayName: 'No pipelines outside the release',
            scope: ids.resourceGroupScope
          },
          definition: { name: 'deny-pipelines-def', displayName: 'Deny pipelines' },
          resourceType: 'Microsoft.DataFactory/factories/pipelines'
        }
      ])
      const run = await session.run()
      expect(run.exitCode).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toContain('No pipelines outside the release')
      expect(run.errors[0]).not.toMatch(/lacks|Grant it/)
      expect(requestsTo(run, 'PUT', /\/pipelines\/[^/]+$/)).toHaveLength(1)
      expect(
        requestsTo(run, 'PUT', new RegExp(`/linkedservices/${ids.defaultLinkedServiceName}$`))
      ).toEqual([])
    },
    scenarioTimeoutMs
  )

  test(
    'a ReadOnly lock answering 409 ScopeLocked on the endpoint PUT fails at once naming the lock',
    async () => {
      const lock: LockSeed = {
        name: 'platform-readonly',
        scope: ids.resourceGroupScope,
        level: 'ReadOnly'
      }
      session.emulator.admin.setLocks([lock])
      const run = await session.run({ timeout: '20s' })
      expect(run.exitCode).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toContain(`'${ids.resourceGroupScope}'`)
      expect(run.errors[0]).toContain('ReadOnly')
      expect(run.errors[0]).not.toMatch(/another operation|Wait a few minutes|Timed out/i)
      // Sent once, not retried as a busy managed virtual network.
      expect(requestsTo(run, 'PUT', endpointPut)).toHaveLength(1)
      expect(requestsTo(run, 'PUT', endpointPut)[0].status).toBe(409)
    },
    scenarioTimeoutMs
  )

  test(
    'a ReadOnly lock on a re-run refuses the connection test at once, and nothing is deleted that was never made',
    async () => {
      expect((await session.run()).exitCode).toBe(0)
      session.emulator.admin.setLocks([
        { name: 'platform-readonly', scope: ids.resourceGroupScope, level: 'ReadOnly' }
      ])
      const run = await session.run({ timeout: '20s' })
      expect(run.exitCode).toBe(1)
      expect(run.errors.join('\n')).toContain('ReadOnly')
      // The dataset PUT was refused (409): no dataset or pipeline exists, so none is deleted or warned about.
      expect(requestsTo(run, 'PUT', /\/datasets\/[^/]+$/).map((entry) => entry.status)).toEqual([
        409
      ])
      expect(run.requests.filter((entry) => entry.method === 'DELETE')).toEqual([])
      expect(run.warnings.join('\n')).not.toMatch(/Could not delete the temporary/)
    },
    scenarioTimeoutMs
  )

  test(
    'a CanNotDelete lock fails destroy at once: deletes are what it refuses',
    async () => {
      expect((await session.run()).exitCode).toBe(0)
      session.emulator.admin.setLocks([
        { name: 'keep', scope: ids.resourceGroupScope, level: 'CanNotDelete' }
      ])
      const run = await session.run({ mode: 'destroy', timeout: '20s' })
      expect(run.exitCode).toBe(1)
      expect(run.errors.join('\n')).toContain(`'${ids.resourceGroupScope}'`)
      expect(run.errors.join('\n')).toMatch(/CanNotDelete/)
      expect(run.errors.join('\n')).not.toMatch(/Wait a few minutes|Timed out/i)
      const deletes = run.requests.filter(
        (entry) => entry.method === 'DELETE' && entry.status === 409
      )
      // Each delete refused once; none sent again.
      expect(new Set(deletes.map((entry) => entry.path)).size).toBe(deletes.length)
    },
    scenarioTimeoutMs
  )

  test(
    'a server that offers no postgresqlServer Private Link group is refused with zero writes',
    async () => {
      session.emulator.admin.setPrivateLinkGroups(ids.serverName, [])
      const run = await session.run()
      expect(run.exitCode).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toContain("'postgresqlServer'")
      expect(run.errors[0]).toContain(serverId())
      expect(run.summary).toMatch(/^\| ❌ Preflight \|/m)
      expect(describeRequests(armWrites(run.requests))).toEqual([])
    },
    scenarioTimeoutMs
  )

  test(
    'a vault that denies public access is named, with the managed private endpoint it lacks, not as a missing role',
    async () => {
      session.emulator.admin.setKeyVaults([
        {
          vaultBaseUrl: keyVault.baseUrl,
          id: `${ids.resourceGroupScope}/providers/Microsoft.KeyVault/vaults/kv-data-platform`,
          publicNetworkAccess: 'Disabled'
        }
      ])
      const run = await session.run({
        password: '',
        'password-key-vault-linked-service': keyVault.linkedService,
        'password-secret-name': keyVault.secretName
      })
      expect(run.exitCode).toBe(1)
      // Said once the endpoint list is read (a note: a vault open to trusted services needs none)…
      expect(run.stdout).toContain(
        `No managed private endpoint of factory '${ids.factoryName}' targets vault 'kv-data-platform' (groupId 'vault')`
      )
      // …and as the failure's explanation when the vault refuses Data Factory.
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toContain('kv-data-platform')
      expect(run.errors[0]).toMatch(/denies public access/)
      expect(run.errors[0]).toContain("groupId 'vault'")
      expect(run.errors[0]).not.toMatch(/Key Vault Secrets User/)
      expect(run.outputs['connection-test']).toBe('failed')
    },
    scenarioTimeoutMs
  )
})
