// Issue 8, "never break a working connection": destroy keeps an endpoint others use, overlapping
// runs converge, the server's word on a connection counts, and the approval survives long
// repository names and an unexpected private endpoint name (with a trail a person can follow).
import { describe, expect, test } from '@jest/globals'
import { basicScenario } from '../emulator/index.js'
import {
  canaries,
  connectionFrom,
  e2eScenario,
  expectOnlyOurEndpointApproved,
  factoryState,
  ids,
  scenarioTimeoutMs,
  serverConnections,
  useEmulator,
  type E2eRun,
  type E2eSession
} from './harness.js'

const serverFqdn = `${ids.serverName}.postgres.database.azure.com`

function ourConnectionStatus(session: E2eSession, endpoint: string = ids.defaultEndpointName) {
  return connectionFrom(session.state(), ids.factoryName, endpoint)?.properties
    .privateLinkServiceConnectionState.status
}

function expectSucceeded(run: E2eRun): void {
  expect({ errors: run.errors, exitCode: run.exitCode }).toEqual({ errors: [], exitCode: 0 })
}

const reportingService = 'PostgreSql_reporting'
// Cases 3, 4 and 7 share one emulator: a second linked service to the server (case 3's), and a
// 1.5 s approval operation, so that runs at once overlap while approving (case 4's).
const shared = useEmulator(
  e2eScenario((scenario) => {
    scenario.delays = { ...scenario.delays, connectionUpdateMs: 1_500 }
    scenario.factories[0].linkedServices = {
      [reportingService]: {
        properties: {
          type: 'AzurePostgreSql',
          version: '2.0',
          typeProperties: {
            server: serverFqdn,
            port: 5432,
            database: 'reporting',
            username: 'reporter',
            sslMode: 3,
            authenticationType: 'Basic'
          },
          connectVia: {
            referenceName: ids.managedRuntime,
            type: 'IntegrationRuntimeReference'
          }
        }
      }
    }
  })
)

describe('case 3: destroy keeps an endpoint that other linked services use', () => {
  test(
    'destroy names the other linked service, keeps the endpoint and exits 0; force: true deletes it',
    async () => {
      await shared.reset()
      expectSucceeded(await shared.run())
      const destroy = await shared.run({ mode: 'destroy' })
      expectSucceeded(destroy)
      expect(destroy.warnings.join('\n')).toContain(`'${reportingService}'`)
      const kept = factoryState(shared.state())
      expect(kept.managedPrivateEndpoints.map((endpoint) => endpoint.name)).toEqual([
        ids.defaultEndpointName
      ])
      expect(kept.linkedservices.map((service) => service.name)).toEqual([reportingService])
      expect(ourConnectionStatus(shared)).toBe('Approved')
      expect(destroy.summary).toContain(reportingService)

      const forced = await shared.run({ mode: 'destroy', force: 'true' })
      expectSucceeded(forced)
      expect(factoryState(shared.state()).managedPrivateEndpoints).toEqual([])
      expect(ourConnectionStatus(shared)).toBeUndefined()
    },
    scenarioTimeoutMs
  )
})

describe('case 4: two identical runs at once both converge', () => {
  test.each([1, 2, 3])(
    'round %i: both exit 0; one endpoint, one approved connection, one linked service of ours',
    async () => {
      await shared.reset()
      const runs = await Promise.all([shared.run(), shared.run()])
      for (const run of runs) {
        expectSucceeded(run)
        expect(run.outputs['connection-state']).toBe('Approved')
      }
      const state = shared.state()
      expectOnlyOurEndpointApproved(state)
      const ours = serverConnections(state).filter((connection) =>
        connection.properties.privateEndpoint.id.endsWith(
          `/${ids.factoryName}.${ids.defaultEndpointName}`
        )
      )
      expect(ours.map((c) => c.properties.privateLinkServiceConnectionState.status)).toEqual([
        'Approved'
      ])
      expect(
        factoryState(state)
          .linkedservices.map((service) => service.name)
          .sort()
      ).toEqual([ids.defaultLinkedServiceName, reportingService])
    },
    scenarioTimeoutMs
  )
})

describe("case 5: the server's rejection or disconnection counts before Data Factory sees it", () => {
  // Data Factory learns of the DBA's change this long after it (minutes in Azure).
  const discoveryMs = 6_000
  const session = useEmulator(
    e2eScenario((scenario) => {
      scenario.delays = { ...scenario.delays, approvalDiscoveryMs: discoveryMs }
    })
  )

  test.each(['disconnect', 'reject'] as const)(
    'after a DBA chooses %s: plan says recreate, on-drift: fail says so truthfully, on-drift: recreate converges',
    async (verdict) => {
      await session.reset()
      expectSucceeded(await session.run())
      const connection = connectionFrom(session.state(), ids.factoryName, ids.defaultEndpointName)
      session.emulator.admin[verdict]({
        server: ids.serverName,
        connectionName: connection?.name ?? '',
        description: 'Not on this server'
      })
      const serverState = verdict === 'disconnect' ? 'Disconnected' : 'Rejected'
      const disconnectedAt = Date.now()
      const [plan, failed] = await Promise.all([
        session.run({ mode: 'plan', 'on-drift': 'recreate' }),
        session.run({ 'on-drift': 'fail' })
      ])
      // Both looked while the factory still said Approved.
      expect(factoryState(session.state()).managedPrivateEndpoints[0].properties).toMatchObject({
        connectionState: { status: 'Approved' }
      })
      expectSucceeded(plan)
      expect(plan.changes).toEqual([
        expect.objectContaining({
          action: 'recreate',
          resource: 'managed-private-endpoint',
          reason: expect.stringContaining(serverState)
        }),
        expect.objectContaining({ action: 'approve', resource: 'private-endpoint-connection' })
      ])
      expect(failed.exitCode).toBe(1)
      expect(failed.errors.join('\n')).toContain(serverState)
      expect(failed.outputs['connection-state']).toBe(serverState)

      const repaired = await session.run({ 'on-drift': 'recreate' })
      expect(Date.now() - disconnectedAt).toBeLessThan(discoveryMs + 15_000)
      expectSucceeded(repaired)
      expect(repaired.changes.map((change) => change.action)).toEqual(
        expect.arrayContaining(['recreated', 'approved'])
      )
      expect(repaired.outputs['connection-state']).toBe('Approved')
      expect(ourConnectionStatus(session)).toBe('Approved')
      expectOnlyOurEndpointApproved(session.state())
    },
    scenarioTimeoutMs
  )
})

describe('case 7: a long repository name keeps the approval description within the cap', () => {
  const repository = 'octo-organisation/a-rather-long-data-platform-infrastructure-repo'

  test(
    'approval succeeds with a description of at most 128 characters',
    async () => {
      await shared.reset()
      expect(repository.split('/')[1].length).toBeGreaterThanOrEqual(40)
      const run = await shared.run({}, { env: { GITHUB_REPOSITORY: repository } })
      expectSucceeded(run)
      const description =
        connectionFrom(shared.state(), ids.factoryName, ids.defaultEndpointName)?.properties
          .privateLinkServiceConnectionState.description ?? ''
      expect(description).toContain(repository)
      expect(description.length).toBeLessThanOrEqual(128)
    },
    scenarioTimeoutMs
  )
})

describe('case 8: Data Factory names the private endpoint otherwise', () => {
  const unexpectedName = `${ids.defaultEndpointName}.${ids.factoryName}`

  describe('the endpoint states it in properties.resourceId (as every recorded answer does)', () => {
    const session = useEmulator(
      e2eScenario((scenario) => {
        scenario.factories[0].privateEndpointNameTemplate = '{endpoint}.{factory}'
      })
    )

    test(
      'apply approves the connection of the private endpoint that properties.resourceId names, and the summary says it matched by it',
      async () => {
        await session.reset()
        const run = await session.run({ 'approval-timeout': '20s' })
        expectSucceeded(run)
        const connection = serverConnections(session.state()).find((candidate) =>
          candidate.properties.privateEndpoint.id.endsWith(`/privateEndpoints/${unexpectedName}`)
        )
        expect(connection?.properties.privateLinkServiceConnectionState.status).toBe('Approved')
        expect(run.changes).toContainEqual(
          expect.objectContaining({ action: 'approved', id: connection?.id })
        )
        expect(run.summary).toMatch(/^\| ✅ Approval \|[^\n]*properties\.resourceId/m)
      },
      scenarioTimeoutMs
    )
  })

  describe('the endpoint states no properties.resourceId (no recording shows that; the fallback)', () => {
    const session = useEmulator(
      e2eScenario((scenario) => {
        scenario.factories[0].privateEndpointNameTemplate = '{endpoint}.{factory}'
        scenario.factories[0].omitPrivateEndpointResourceId = true
      })
    )

    test(
      'the run matches by <factory>.<endpoint>, fails within approval-timeout listing the connections it saw; the log shows them as they appear',
      async () => {
        await session.reset()
        const run = await session.run({ 'approval-timeout': '3s' })
        expect(run.exitCode).toBe(1)
        const error = run.errors.join('\n')
        expect(error).toContain(unexpectedName)
        expect(error).toContain(`adf-analytics.${ids.defaultEndpointName}`)
        expect(error).toContain(`${ids.factoryName}.${ids.defaultEndpointName}`)
        expect(error).toContain('properties.resourceId')
        const infoLines = run.stdout.split('\n').filter((line) => !line.startsWith('::'))
        expect(
          infoLines.some((line) => line.includes(unexpectedName) && /Pending/.test(line))
        ).toBe(true)
      },
      scenarioTimeoutMs
    )
  })
})

describe('a matrix: one factory connects to ten servers at once', () => {
  const servers = Array.from(
    { length: 10 },
    (_, index) => `pg-m${String(index + 1).padStart(2, '0')}`
  )
  const session = useEmulator(
    e2eScenario((scenario) => {
      const template = basicScenario().servers[0]
      scenario.servers = servers.map((name) => ({
        ...template,
        name,
        connections: [],
        roles: [{ name: ids.serverRole, password: canaries.password }]
      }))
      scenario.factories[0].refuseConcurrentEndpointCreation = true
      scenario.delays = {
        ...scenario.delays,
        endpointProvisioningMs: 300,
        connectionNotReadyMs: 300
      }
    })
  )

  test(
    'all ten runs exit 0 and all ten endpoints are approved',
    async () => {
      await session.reset()
      const runs = await Promise.all(servers.map((name) => session.run({ 'server-name': name })))
      runs.forEach(expectSucceeded)
      const state = session.state()
      const endpoints = factoryState(state).managedPrivateEndpoints
      expect(endpoints.map((endpoint) => endpoint.name).sort()).toEqual(
        servers.map((name) => `pg-${name}`)
      )
      for (const endpoint of endpoints) {
        expect(endpoint.properties.connectionState.status).toBe('Approved')
      }
      for (const name of servers) {
        const connection = connectionFrom(state, ids.factoryName, `pg-${name}`, name)
        expect(connection?.properties.privateLinkServiceConnectionState.status).toBe('Approved')
      }
    },
    2 * scenarioTimeoutMs
  )
})
