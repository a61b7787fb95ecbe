// Scenarios 7, 9, 10 and 11: a wrong password, a VNet-integrated server, a runtime outside the managed
// VNet, and an endpoint of the same name aimed elsewhere: each fails with its explanation.
import { beforeEach, describe, expect, test } from '@jest/globals'
import {
  armWrites,
  canaries,
  describeRequests,
  e2eScenario,
  factoryState,
  ids,
  scenarioTimeoutMs,
  serverConnections,
  serverId,
  useEmulator,
  type E2eRun
} from './harness.js'

const vnetServer = 'pg-vnet-integrated'
const legacyServer = 'pg-legacy'
const publicRuntime = 'PublicAzureIR'
const driftFactory = 'adf-drifted'

const session = useEmulator(
  e2eScenario((scenario) => {
    const [server] = scenario.servers
    const [factory] = scenario.factories
    scenario.servers.push(
      {
        ...server,
        name: vnetServer,
        connections: [],
        delegatedSubnetResourceId: `${ids.resourceGroupScope}/providers/Microsoft.Network/virtualNetworks/vnet-data/subnets/postgres`
      },
      { ...server, name: legacyServer, connections: [] }
    )
    factory.integrationRuntimes.push({ name: publicRuntime })
    // An endpoint with the action's default name that someone aimed at another server.
    scenario.factories.push({
      ...factory,
      name: driftFactory,
      managedPrivateEndpoints: [
        {
          name: ids.defaultEndpointName,
          privateLinkResourceId: serverId(legacyServer),
          groupId: 'postgresqlServer',
          connectionState: 'Approved'
        }
      ]
    })
  })
)

beforeEach(() => session.reset())

/** Refused before anything changed: no write reached Azure, and the outputs say so. */
function expectNothingChanged(run: E2eRun): void {
  expect(describeRequests(armWrites(run.requests))).toEqual([])
  expect(run.outputs).toMatchObject({
    changed: 'false',
    changes: '[]',
    'connection-test': 'skipped'
  })
}

describe('failures', () => {
  test(
    "7 a wrong password fails the connection test with PostgreSQL's own message, and cleans up",
    async () => {
      const run = await session.run({ password: canaries.wrongPassword })
      expect(run.exitCode).toBe(1)
      const postgresMessage = `password authentication failed for user "${ids.serverRole}"`
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toContain(postgresMessage)
      expect(run.summary).toContain(postgresMessage)
      expect(run.summary).toMatch(/^\| ❌ Connection test \|/m)
      expect(run.outputs['connection-test']).toBe('failed')
      expect(run.outputs['connection-test-run-id']).toMatch(/^[0-9a-f-]{36}$/)
      // The untested linked service is never written; its staged copy, dataset and pipeline are removed.
      expect(run.errors[0]).toContain('no linked service was created')
      const factory = factoryState(session.state())
      expect(factory.linkedservices).toEqual([])
      expect(factory.pipelines).toEqual([])
      expect(factory.datasets).toEqual([])
      const created = run.requests.filter(
        (entry) =>
          entry.method === 'PUT' && /\/(pipelines|datasets|linkedservices)\//.test(entry.path)
      )
      const removed = run.requests.filter(
        (entry) => entry.method === 'DELETE' && entry.status < 300
      )
      expect(created).toHaveLength(3)
      expect(removed.map((entry) => entry.path).sort()).toEqual(
        created.map((entry) => entry.path).sort()
      )
    },
    scenarioTimeoutMs
  )

  test(
    '9 a VNet-integrated server fails preflight with the explanation and no write',
    async () => {
      const run = await session.run({ 'server-name': vnetServer })
      expect(run.exitCode).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toMatch(/integrated into a virtual network/)
      expect(run.errors[0]).toMatch(/Private Link cannot be used/)
      expect(run.errors[0]).toMatch(/Public access/)
      expect(run.summary).toMatch(/^\| ❌ Preflight \|/m)
      expect(run.summary).toMatch(/integrated into a virtual network/)
      expectNothingChanged(run)
      expect(serverConnections(session.state(), vnetServer)).toEqual([])
    },
    scenarioTimeoutMs
  )

  test(
    '10 an integration runtime outside the managed VNet fails preflight with the explanation and no write',
    async () => {
      const run = await session.run({ 'integration-runtime': publicRuntime })
      expect(run.exitCode).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toContain(
        `Integration runtime '${publicRuntime}' does not run in managed virtual network 'default'`
      )
      expect(run.errors[0]).toMatch(/Virtual network configuration/)
      expect(run.summary).toMatch(/^\| ❌ Preflight \|/m)
      expectNothingChanged(run)
      expect(factoryState(session.state()).managedPrivateEndpoints).toEqual([])
    },
    scenarioTimeoutMs
  )

  test(
    '11 an endpoint of the same name aimed at another server fails as drift and changes nothing',
    async () => {
      const before = factoryState(session.state(), driftFactory).managedPrivateEndpoints
      const run = await session.run({ 'factory-name': driftFactory })
      expect(run.exitCode).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toContain(
        `Managed private endpoint '${ids.defaultEndpointName}' exists but`
      )
      expect(run.errors[0]).toContain(legacyServer)
      expect(run.errors[0]).toMatch(/on-drift: recreate/)
      expect(run.summary).toMatch(/^\| ❌ Managed private endpoint \|/m)
      expectNothingChanged(run)
      expect(factoryState(session.state(), driftFactory).managedPrivateEndpoints).toEqual(before)
      expect(
        serverConnections(session.state()).filter((connection) =>
          connection.properties.privateEndpoint.id.includes(`/${driftFactory}.`)
        )
      ).toEqual([])
    },
    scenarioTimeoutMs
  )
})
