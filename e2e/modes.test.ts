// Issue 5: `mode: plan` reads only, `on-drift: recreate` repairs a drifted endpoint, `mode: destroy`
// removes what apply made (refusing while a user pipeline still needs it), and the linked service
// can sign in with the factory's managed identity instead of a password.
import { beforeEach, describe, expect, test } from '@jest/globals'
import type { RequestLogEntry } from '../emulator/index.js'
import {
  armWrites,
  connectionFrom,
  describeRequests,
  e2eScenario,
  expectOnlyOurEndpointApproved,
  factoryId,
  factoryState,
  ids,
  scenarioTimeoutMs,
  serverConnections,
  serverId,
  useEmulator,
  type ChangeRecord,
  type E2eRun
} from './harness.js'

const legacyServer = 'pg-legacy'
/** Holds a user's dataset and pipeline that read through the action's linked service. */
const sharedFactory = 'adf-shared'
const userDataset = 'OrdersTable'
const userPipeline = 'LoadOrders'
/** The PostgreSQL role the emulator maps the factory's system-assigned identity to. */
const identityRole = 'adf_demo_identity'

interface DriftCase {
  /** What differs from the endpoint the action wants. */
  drift: string
  factory: string
  privateLinkResourceId: string
  groupId: string
  /** The server whose side holds the drifted endpoint's connection. */
  server: string
  /** Why the action recreates it, as the changes output and the summary say. */
  reason: string
}

const driftCases: DriftCase[] = [
  {
    drift: 'another server',
    factory: 'adf-drift-target',
    privateLinkResourceId: serverId(legacyServer),
    groupId: 'postgresqlServer',
    server: legacyServer,
    reason: `it targets ${serverId(legacyServer)} instead of ${serverId()}`
  },
  {
    drift: 'another group on the same server',
    factory: 'adf-drift-group',
    privateLinkResourceId: serverId(),
    groupId: 'postgresqlReplica',
    server: ids.serverName,
    reason: 'its group is postgresqlReplica instead of postgresqlServer'
  }
]

const session = useEmulator(
  e2eScenario((scenario) => {
    const [server] = scenario.servers
    const [factory] = scenario.factories
    scenario.servers.push({ ...server, name: legacyServer, connections: [] })
    // Deletion outlasts a poll, so the wait for the endpoint's disappearance is visible in the log.
    scenario.delays = { ...scenario.delays, endpointDeletionMs: 300 }
    for (const { factory: name, privateLinkResourceId, groupId } of driftCases) {
      scenario.factories.push({
        ...factory,
        name,
        managedPrivateEndpoints: [
          {
            name: ids.defaultEndpointName,
            privateLinkResourceId,
            groupId,
            connectionState: 'Approved'
          }
        ]
      })
    }
    const linkedServiceReference = {
      referenceName: ids.defaultLinkedServiceName,
      type: 'LinkedServiceReference'
    }
    scenario.factories.push({
      ...factory,
      name: sharedFactory,
      datasets: {
        [userDataset]: {
          properties: {
            type: 'AzurePostgreSqlTable',
            linkedServiceName: linkedServiceReference,
            typeProperties: { schema: 'public', table: 'orders' }
          }
        }
      },
      pipelines: {
        [userPipeline]: {
          properties: {
            activities: [
              {
                name: 'ReadOrders',
                type: 'Lookup',
                typeProperties: {
                  source: { type: 'AzurePostgreSqlSource' },
                  dataset: { referenceName: userDataset, type: 'DatasetReference' }
                }
              }
            ]
          }
        }
      }
    })
    // Only the first factory's identity maps to a role (set after the copies above).
    factory.identityPostgresRole = identityRole
  })
)

beforeEach(() => session.reset())

function endpointId(factory: string = ids.factoryName): string {
  return `${factoryId(factory)}/managedVirtualNetworks/default/managedPrivateEndpoints/${ids.defaultEndpointName}`
}

function linkedServiceId(factory: string = ids.factoryName): string {
  return `${factoryId(factory)}/linkedservices/${ids.defaultLinkedServiceName}`
}

/** What plan lists for a factory where the action has made nothing yet. */
function everythingToCreate(factory: string = ids.factoryName): ChangeRecord[] {
  return [
    { action: 'create', resource: 'managed-private-endpoint', id: endpointId(factory) },
    {
      action: 'approve',
      resource: 'private-endpoint-connection',
      id: `(the connection of ${factory}.${ids.defaultEndpointName})`
    },
    { action: 'create', resource: 'linked-service', id: linkedServiceId(factory) }
  ]
}

const writeMethods = ['PUT', 'POST', 'PATCH', 'DELETE']
// Signing in posts to the token endpoint; that changes nothing in Azure.
const signInTokenPath = /^\/[^/]+\/oauth2\/v2\.0\/token$/

/** Every PUT, POST, PATCH or DELETE that reached the emulator, anywhere, except signing in. */
function writesOtherThanSignIn(requests: RequestLogEntry[]): string[] {
  return describeRequests(
    requests.filter(
      (entry) => writeMethods.includes(entry.method) && !signInTokenPath.test(entry.path)
    )
  )
}

/** Runs plan and checks it wrote nothing and started no pipeline, whatever it lists. */
async function planRun(overrides: Record<string, string> = {}): Promise<E2eRun> {
  const runsBefore = session.state().pipelineRuns.length
  const run = await session.run({ mode: 'plan', ...overrides })
  expect(run.errors).toEqual([])
  expect(run.exitCode).toBe(0)
  expect(writesOtherThanSignIn(run.requests)).toEqual([])
  // It really signed in and looked (so the empty write list is not an empty run).
  expect(run.requests.some((entry) => signInTokenPath.test(entry.path))).toBe(true)
  expect(run.requests.filter((entry) => entry.method === 'GET').length).toBeGreaterThan(3)
  expect(session.state().pipelineRuns).toHaveLength(runsBefore)
  expect(run.outputs['connection-test']).toBe('skipped')
  expect(run.summary).toMatch(/^## adf-pg-private-link: plan succeeded$/m)
  return run
}

function expectPlanOfNothing(run: E2eRun): void {
  expect(run.outputs.changed).toBe('false')
  expect(run.changes).toEqual([])
  expect(run.summary).toContain('Apply would change nothing; nothing was written.')
  expect(run.summary).not.toContain('### Planned changes')
}

async function succeededRun(overrides: Record<string, string> = {}): Promise<E2eRun> {
  const run = await session.run(overrides)
  expect(run.errors).toEqual([])
  expect(run.exitCode).toBe(0)
  return run
}

/** The summary's change table row for one change. */
function changeRow(action: string, resource: string, id: string, details = ''): string {
  return `\n| ${action} | ${resource} | ${id} | ${details} |\n`
}

describe('plan', () => {
  test(
    'plan on an empty factory lists every create and sends no write',
    async () => {
      const run = await planRun()
      expect(run.outputs.changed).toBe('true')
      expect(run.changes).toEqual(everythingToCreate())
      expect(run.summary).toContain('Apply would make 3 change(s); nothing was written.')
      expect(run.summary).toContain('### Planned changes')
      for (const change of everythingToCreate()) {
        expect(run.summary).toContain(changeRow(change.action, change.resource, change.id))
      }
      const factory = factoryState(session.state())
      expect(factory.managedPrivateEndpoints).toEqual([])
      expect(factory.linkedservices).toEqual([])
      expect(connectionFrom(session.state(), ids.factoryName, ids.defaultEndpointName)).toBe(
        undefined
      )
    },
    scenarioTimeoutMs
  )

  test(
    'plan after apply reports no change and sends no write',
    async () => {
      const applied = await succeededRun()
      expect(applied.outputs.changed).toBe('true')
      const before = session.state()
      const run = await planRun()
      expectPlanOfNothing(run)
      // Plan reads what apply made and reports it in the same outputs.
      expect(run.outputs).toMatchObject({
        'private-endpoint-id': applied.outputs['private-endpoint-id'],
        'private-endpoint-connection-id': applied.outputs['private-endpoint-connection-id'],
        'connection-state': 'Approved',
        'linked-service-id': applied.outputs['linked-service-id']
      })
      expect(session.state().factories).toEqual(before.factories)
    },
    scenarioTimeoutMs
  )
})

describe('on-drift', () => {
  test.each(driftCases)(
    'an endpoint aimed at $drift fails by default and converges with on-drift: recreate',
    async ({ factory, server, reason }) => {
      const target = { 'factory-name': factory }
      const drifted = factoryState(session.state(), factory).managedPrivateEndpoints
      const driftedConnection = connectionFrom(
        session.state(),
        factory,
        ids.defaultEndpointName,
        server
      )
      expect(driftedConnection?.properties.privateLinkServiceConnectionState.status).toBe(
        'Approved'
      )

      // on-drift: fail (the default) refuses and changes nothing.
      const refused = await session.run(target)
      expect(refused.exitCode).toBe(1)
      expect(refused.errors).toHaveLength(1)
      expect(refused.errors[0]).toContain(
        `Managed private endpoint '${ids.defaultEndpointName}' exists but`
      )
      expect(refused.errors[0]).toMatch(/on-drift: recreate/)
      expect(refused.summary).toMatch(/^\| ❌ Managed private endpoint \|/m)
      expect(describeRequests(armWrites(refused.requests))).toEqual([])
      expect(refused.outputs).toMatchObject({ changed: 'false', changes: '[]' })
      expect(factoryState(session.state(), factory).managedPrivateEndpoints).toEqual(drifted)

      // Plan with recreate says what apply would do, and why.
      const planned = await planRun({ ...target, 'on-drift': 'recreate' })
      expect(planned.changes[0]).toEqual({
        action: 'recreate',
        resource: 'managed-private-endpoint',
        id: endpointId(factory),
        reason
      })

      const run = await succeededRun({ ...target, 'on-drift': 'recreate' })
      expect(run.changes[0]).toEqual({
        action: 'recreated',
        resource: 'managed-private-endpoint',
        id: endpointId(factory),
        reason
      })
      expect(run.changes.map((change) => `${change.action} ${change.resource}`)).toEqual([
        'recreated managed-private-endpoint',
        'approved private-endpoint-connection',
        'created linked-service'
      ])
      expect(run.outputs.changed).toBe('true')
      // The summary names what was recreated and why.
      expect(run.summary).toContain(
        changeRow('recreated', 'managed-private-endpoint', endpointId(factory), reason)
      )

      // Deleted, awaited until gone (a look still saw it Deleting), then created and approved.
      const endpointPath = endpointId(factory)
      const steps = run.requests
      const deletion = steps.findIndex((e) => e.method === 'DELETE' && e.path === endpointPath)
      const creation = steps.findIndex((e) => e.method === 'PUT' && e.path === endpointPath)
      expect(deletion).toBeGreaterThan(-1)
      expect(creation).toBeGreaterThan(deletion)
      const looksInBetween = steps
        .slice(deletion + 1, creation)
        .filter((e) => e.method === 'GET' && e.path.endsWith('/managedPrivateEndpoints'))
        .map((e) => JSON.stringify(e.responseBody).includes('"provisioningState":"Deleting"'))
      expect(looksInBetween[0]).toBe(true)
      expect(looksInBetween.at(-1)).toBe(false)
      expect(steps[creation].status).toBe(200)

      const state = session.state()
      expectOnlyOurEndpointApproved(state, factory)
      const connection = connectionFrom(state, factory, ids.defaultEndpointName)
      expect(connection?.properties.privateLinkServiceConnectionState.status).toBe('Approved')
      expect(connection?.name).not.toBe(driftedConnection?.name)
      expect(run.outputs['private-endpoint-connection-id']).toBe(connection?.id)
      // The drifted endpoint's connection is gone from its server.
      const driftedStill = serverConnections(state, server).filter(
        (candidate) => candidate.name === driftedConnection?.name
      )
      expect(driftedStill).toEqual([])
      expect(run.outputs['connection-test']).toBe('succeeded')

      expectPlanOfNothing(await planRun({ ...target, 'on-drift': 'recreate' }))
    },
    scenarioTimeoutMs
  )
})

describe('destroy', () => {
  test.each(driftCases)(
    'destroy leaves an endpoint of its name aimed at $drift alone, and finishes',
    async ({ factory, server }) => {
      const before = session.state()
      const connection = connectionFrom(before, factory, ids.defaultEndpointName, server)
      // A short limit: waiting for a connection that stays would fail, not stall the suite.
      const run = await succeededRun({ 'factory-name': factory, mode: 'destroy', timeout: '5s' })
      expect(run.outputs).toMatchObject({ changed: 'false', changes: '[]' })
      expect(run.warnings).toEqual([expect.stringMatching(/left alone$/)])
      expect(run.summary).toMatch(/^\| ✅ Teardown \| .*left alone \| nothing to delete \|/m)
      expect(describeRequests(armWrites(run.requests))).toEqual([])
      const after = session.state()
      expect(factoryState(after, factory).managedPrivateEndpoints).toEqual(
        factoryState(before, factory).managedPrivateEndpoints
      )
      expect(connectionFrom(after, factory, ids.defaultEndpointName, server)).toEqual(connection)
    },
    scenarioTimeoutMs
  )

  test(
    'destroy removes the endpoint, its connection and the linked service; again changes nothing; plan then shows everything to create',
    async () => {
      await succeededRun({ 'test-connection': 'false' })
      const connectionName = connectionFrom(
        session.state(),
        ids.factoryName,
        ids.defaultEndpointName
      )?.name
      expect(connectionName).toBeDefined()

      const run = await succeededRun({ mode: 'destroy' })
      expect(run.outputs.changed).toBe('true')
      expect(run.changes).toEqual([
        { action: 'deleted', resource: 'linked-service', id: linkedServiceId() },
        { action: 'deleted', resource: 'managed-private-endpoint', id: endpointId() }
      ])
      expect(run.summary).toMatch(/^## adf-pg-private-link: destroy succeeded$/m)
      expect(run.summary).toMatch(
        /^\| ✅ Teardown \| .* \| deleted; the server dropped the connection \|/m
      )
      expect(run.summary).toContain(changeRow('deleted', 'linked-service', linkedServiceId()))
      expect(run.summary).toContain(changeRow('deleted', 'managed-private-endpoint', endpointId()))
      expect(describeRequests(armWrites(run.requests))).toEqual([
        `DELETE ${linkedServiceId()} → 200`,
        `DELETE ${endpointId()} → 200`
      ])
      const state = session.state()
      expect(factoryState(state).managedPrivateEndpoints).toEqual([])
      expect(factoryState(state).linkedservices).toEqual([])
      expect(serverConnections(state).map((connection) => connection.name)).not.toContain(
        connectionName
      )
      expect(connectionFrom(state, ids.factoryName, ids.defaultEndpointName)).toBe(undefined)

      const again = await succeededRun({ mode: 'destroy' })
      expect(again.outputs.changed).toBe('false')
      expect(again.changes).toEqual([])
      expect(again.summary).toMatch(
        /^\| ✅ Teardown \| no linked service; no endpoint \| nothing to delete \|/m
      )
      expect(describeRequests(armWrites(again.requests))).toEqual([])

      const planned = await planRun()
      expect(planned.changes).toEqual(everythingToCreate())
    },
    scenarioTimeoutMs
  )

  test(
    'a linked service a user pipeline uses blocks destroy, naming the pipeline; force: true proceeds',
    async () => {
      const target = { 'factory-name': sharedFactory }
      await succeededRun({ ...target, 'test-connection': 'false' })
      const before = factoryState(session.state(), sharedFactory)

      const blocked = await session.run({ ...target, mode: 'destroy' })
      expect(blocked.exitCode).toBe(1)
      expect(blocked.errors).toHaveLength(1)
      for (const text of [blocked.errors[0], blocked.summary]) {
        expect(text).toContain(`pipeline '${userPipeline}'`)
        expect(text).toContain(`dataset '${userDataset}'`)
        expect(text).toContain('force: true')
      }
      expect(blocked.summary).toMatch(/^\| ❌ Teardown \|/m)
      expect(blocked.outputs).toMatchObject({ changed: 'false', changes: '[]' })
      expect(describeRequests(armWrites(blocked.requests))).toEqual([])
      expect(factoryState(session.state(), sharedFactory)).toEqual(before)

      const forced = await succeededRun({ ...target, mode: 'destroy', force: 'true' })
      expect(forced.warnings.join('\n')).toContain(`pipeline '${userPipeline}'`)
      expect(forced.changes).toEqual([
        { action: 'deleted', resource: 'linked-service', id: linkedServiceId(sharedFactory) },
        { action: 'deleted', resource: 'managed-private-endpoint', id: endpointId(sharedFactory) }
      ])
      const after = factoryState(session.state(), sharedFactory)
      expect(after.linkedservices).toEqual([])
      expect(after.managedPrivateEndpoints).toEqual([])
      // Force deletes what the action made, never the user's own dataset and pipeline.
      expect(after.datasets.map((dataset) => dataset.name)).toEqual([userDataset])
      expect(after.pipelines.map((pipeline) => pipeline.name)).toEqual([userPipeline])
      expect(connectionFrom(session.state(), sharedFactory, ids.defaultEndpointName)).toBe(
        undefined
      )
    },
    scenarioTimeoutMs
  )
})

describe('linked-service-auth', () => {
  test(
    "system-assigned-identity passes its Lookup as the factory's identity, with no password anywhere",
    async () => {
      const run = await succeededRun({
        'linked-service-auth': 'system-assigned-identity',
        username: identityRole,
        password: '',
        // The Lookup reports whom PostgreSQL signed in, proving the identity was used.
        'test-query': 'SELECT current_user AS signed_in_as'
      })
      expect(run.outputs['connection-test']).toBe('succeeded')
      expect(run.summary).toMatch(/^\| ✅ Connection test \|/m)
      const testRun = session
        .state()
        .pipelineRuns.find((candidate) => candidate.runId === run.outputs['connection-test-run-id'])
      expect(testRun?.status).toBe('Succeeded')
      expect(testRun?.activityRuns[0].output).toMatchObject({
        firstRow: { signed_in_as: identityRole }
      })

      const linkedService = factoryState(session.state()).linkedservices.find(
        (candidate) => candidate.name === ids.defaultLinkedServiceName
      )
      expect(linkedService?.properties.typeProperties).toMatchObject({
        authenticationType: 'SystemAssignedManagedIdentity'
      })
      expect(linkedService?.properties.typeProperties).not.toHaveProperty('password')
      // Neither what was stored nor what was sent holds a password, a SecureString or its fingerprint.
      const sent = run.requests.find(
        (entry) => entry.method === 'PUT' && entry.path === linkedServiceId()
      )
      expect(sent).toBeDefined()
      for (const body of [linkedService, sent?.requestBody]) {
        expect(JSON.stringify(body)).not.toMatch(/password|SecureString/i)
      }
    },
    scenarioTimeoutMs
  )
})
