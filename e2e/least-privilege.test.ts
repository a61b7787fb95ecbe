// Least privilege, proven: the deployer holds only the custom role in roles/ (on the factory and on
// the server), and plan, apply and destroy succeed; then each action, taken away alone, makes the
// run that needs it fail naming the action and its scope. The first part also guards against drift:
// a new Azure call whose action is not in the role makes the emulator answer 403, and it fails.
import { describe, expect, test } from '@jest/globals'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { repositoryRoot } from '../runner/index.js'
import {
  connectionFrom,
  e2eScenario,
  factoryId,
  factoryState,
  ids,
  scenarioTimeoutMs,
  serverConnections,
  serverId,
  useEmulator,
  type E2eRun,
  type E2eSession
} from './harness.js'

/** The actions of a role definition file (its shape is checked by __tests__/roles.test.ts). */
function readRole(file: string): { Actions: string[] } {
  return JSON.parse(readFileSync(path.join(repositoryRoot, 'roles', file), 'utf8')) as {
    Actions: string[]
  }
}

const deployer = readRole('adf-pg-private-link.json')
const planner = readRole('adf-pg-private-link-plan.json')

/** The role's actions, one assignment on the factory and one on the server (nothing wider). */
function grant(session: E2eSession, actions: string[]): void {
  session.emulator.admin.setRoles(ids.clientId, [
    { scope: factoryId(), actions },
    { scope: serverId(), actions }
  ])
}

function grantAllBut(session: E2eSession, missing: string): void {
  expect(deployer.Actions).toContain(missing)
  grant(
    session,
    deployer.Actions.filter((action) => action !== missing)
  )
}

/** The resource an action is checked on: the server's actions on the server, the rest on the factory. */
function scopeOf(action: string): string {
  return action.startsWith('Microsoft.DBforPostgreSQL/') ? serverId() : factoryId()
}

/** ARM's words for the refusal, as the action passes them on (action names are case-insensitive). */
function refusalOf(action: string): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  return new RegExp(
    `perform action '${escape(action)}' over scope '${escape(scopeOf(action))}[^']*'`,
    'i'
  )
}

/**
 * The run failed (exit 1), and its error names the missing action and the scope ARM refused it on;
 * a missing write or action names the factory or server to grant it on.
 */
function expectRefused(run: E2eRun, action: string): void {
  expect(run.exitCode).toBe(1)
  const error = run.errors.join('\n')
  expect(error).toMatch(refusalOf(action))
  if (!action.endsWith('/read'))
    expect(error.toLowerCase()).toContain(`on '${scopeOf(action).toLowerCase()}'`)
}

/** Best-effort cleanup: the run succeeds, and a warning names the missing action and its scope. */
function expectWarned(run: E2eRun, action: string): void {
  expect(run.errors).toEqual([])
  expect(run.exitCode).toBe(0)
  expect(run.warnings.join('\n')).toMatch(refusalOf(action))
}

function expectSucceeded(run: E2eRun): void {
  expect(run.errors).toEqual([])
  expect(run.exitCode).toBe(0)
}

const probePrefix = 'adf-pg-private-link-probe-'

describe('with only the role', () => {
  const session = useEmulator(e2eScenario())

  test(
    'plan (planner role), apply, plan again, a re-run with the connection test, and destroy all succeed',
    async () => {
      grant(session, planner.Actions)
      const firstPlan = await session.run({ mode: 'plan' })
      expectSucceeded(firstPlan)
      expect(firstPlan.changes.map((change) => change.action)).toContain('create')

      grant(session, deployer.Actions)
      const apply = await session.run()
      expectSucceeded(apply)
      expect(apply.outputs['connection-test']).toBe('succeeded')

      // With the endpoint in place, plan also reads the server's connections.
      grant(session, planner.Actions)
      const secondPlan = await session.run({ mode: 'plan' })
      expectSucceeded(secondPlan)
      expect(secondPlan.changes).toEqual([])

      grant(session, deployer.Actions)
      const rerun = await session.run()
      expectSucceeded(rerun)
      expect(rerun.changes).toEqual([])
      expect(rerun.outputs['connection-test']).toBe('succeeded')

      const destroy = await session.run({ mode: 'destroy' })
      expectSucceeded(destroy)
      const state = session.state()
      expect(factoryState(state).managedPrivateEndpoints).toEqual([])
      expect(factoryState(state).linkedservices).toEqual([])
    },
    4 * scenarioTimeoutMs
  )
})

describe('each action of the role is needed', () => {
  const session = useEmulator(e2eScenario())
  const factoryAction = (action: string) => `Microsoft.DataFactory/factories/${action}`
  const serverAction = (action: string) => `Microsoft.DBforPostgreSQL/flexibleServers/${action}`

  // Nothing exists yet: plan reads the runtime, endpoints, the server (with its connections) and
  // the linked service, and, since it would write, whether the factory is Git-integrated.
  test.each([
    factoryAction('read'),
    factoryAction('integrationruntimes/read'),
    factoryAction('managedVirtualNetworks/managedPrivateEndpoints/read'),
    factoryAction('linkedServices/read'),
    serverAction('read'),
    serverAction('privateLinkResources/read')
  ])(
    'plan fails without %s',
    async (action) => {
      grantAllBut(session, action)
      expectRefused(await session.run({ mode: 'plan' }), action)
    },
    scenarioTimeoutMs
  )

  test(
    'apply fails without the endpoint write, and creates nothing',
    async () => {
      const action = factoryAction('managedVirtualNetworks/managedPrivateEndpoints/write')
      grantAllBut(session, action)
      expectRefused(await session.run(), action)
      expect(factoryState(session.state()).managedPrivateEndpoints).toEqual([])
    },
    scenarioTimeoutMs
  )

  // The endpoint is made; approving its connection needs both the write and the approval action.
  test.each([
    serverAction('privateEndpointConnections/write'),
    serverAction('privateEndpointConnectionsApproval/action')
  ])(
    'apply (approval: auto) fails without %s once approval-timeout passes',
    async (action) => {
      grantAllBut(session, action)
      const run = await session.run({ 'approval-timeout': '1s' })
      expectRefused(run, action)
      expect(run.errors.join('\n')).toMatch(/approval-timeout/)
      const connection = connectionFrom(session.state(), ids.factoryName, ids.defaultEndpointName)
      expect(connection?.properties.privateLinkServiceConnectionState.status).toBe('Pending')
    },
    scenarioTimeoutMs
  )

  test(
    'with the whole role, apply approves the pending connection and finishes the setup',
    async () => {
      grant(session, deployer.Actions)
      const run = await session.run()
      expectSucceeded(run)
      expect(run.outputs['connection-test']).toBe('succeeded')
    },
    scenarioTimeoutMs
  )

  // The managed VNet list is read only to explain a runtime that is missing or outside it. (The
  // server's connections come with its GET; their list is read by apply for a new endpoint and by
  // destroy, below.)
  test(
    'a plan whose runtime is missing fails without reading the managed virtual networks',
    async () => {
      const action = factoryAction('managedVirtualNetworks/read')
      grantAllBut(session, action)
      const run = await session.run({ mode: 'plan', 'integration-runtime': 'NoSuchRuntime' })
      expectRefused(run, action)
    },
    scenarioTimeoutMs
  )

  // The connection test, in its order: dataset, pipeline, run, its status.
  test.each([
    factoryAction('datasets/write'),
    factoryAction('pipelines/write'),
    factoryAction('pipelines/createrun/action'),
    factoryAction('pipelineruns/read')
  ])(
    'apply with the connection test fails without %s',
    async (action) => {
      grantAllBut(session, action)
      expectRefused(await session.run(), action)
    },
    scenarioTimeoutMs
  )

  test(
    'a failed connection test cannot say why without querying the activity runs',
    async () => {
      const action = factoryAction('pipelineruns/queryactivityruns/action')
      grantAllBut(session, action)
      const run = await session.run({ 'test-query': 'SELECT 1/0' })
      expectRefused(run, action)
      expect(run.errors.join('\n')).not.toMatch(/division by zero/)
    },
    scenarioTimeoutMs
  )

  test(
    'apply fails to write a new linked service without the linked service write',
    async () => {
      const action = factoryAction('linkedServices/write')
      grantAllBut(session, action)
      const run = await session.run({
        'linked-service-name': 'PostgreSql_least_privilege',
        'test-connection': 'false'
      })
      expectRefused(run, action)
      expect(factoryState(session.state()).linkedservices.map((entry) => entry.name)).toEqual([
        ids.defaultLinkedServiceName
      ])
    },
    scenarioTimeoutMs
  )

  // Removing the connection test's temporary objects is best effort by design: the run succeeds,
  // warns naming the action, and the object stays behind (later runs sweep it once it is old).
  test.each<{
    action: string
    kind: 'pipelines' | 'datasets' | 'linkedservices'
    inputs: Record<string, string>
  }>([
    { action: factoryAction('pipelines/delete'), kind: 'pipelines', inputs: {} },
    { action: factoryAction('datasets/delete'), kind: 'datasets', inputs: {} },
    {
      // A changed definition is tested through a temporary copy of the linked service.
      action: factoryAction('linkedServices/delete'),
      kind: 'linkedservices',
      inputs: { 'ssl-mode': 'verify-full' }
    }
  ])(
    'without $action the connection test leaves its temporary $kind behind and warns',
    async ({ action, kind, inputs }) => {
      grantAllBut(session, action)
      const run = await session.run(inputs)
      expectWarned(run, action)
      const left = factoryState(session.state())[kind].filter((entry) =>
        entry.name.startsWith(probePrefix)
      )
      expect(left.length).toBeGreaterThan(0)
    },
    scenarioTimeoutMs
  )

  test(
    'a connection test over test-timeout is cancelled only with the cancel action',
    async () => {
      const action = factoryAction('pipelineruns/cancel/action')
      const slow = { 'test-query': 'SELECT pg_sleep(4)', 'test-timeout': '1s' }
      const cancels = (run: E2eRun) =>
        run.requests.filter((entry) => entry.method === 'POST' && /\/cancel$/i.test(entry.path))
      const runStatus = (run: E2eRun) =>
        session
          .state()
          .pipelineRuns.find((entry) => entry.runId === run.outputs['connection-test-run-id'])
          ?.status

      grant(session, deployer.Actions)
      const allowed = await session.run(slow)
      expect(allowed.exitCode).toBe(1)
      expect(cancels(allowed).map((entry) => entry.status)).toEqual([200])
      expect(runStatus(allowed)).toBe('Cancelled')

      grantAllBut(session, action)
      const refused = await session.run(slow)
      // The run fails on test-timeout either way; a refused cancel (the run goes on in Azure) is a
      // warning naming the action, since cancelling only tidies up.
      expect(refused.exitCode).toBe(1)
      expect(cancels(refused).map((entry) => entry.status)).toEqual([403])
      expect(runStatus(refused)).not.toBe('Cancelled')
      expect(refused.warnings).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /Could not cancel the connection test run .*pipelineruns\/cancel\/action/
          )
        ])
      )
    },
    2 * scenarioTimeoutMs
  )

  // Destroy lists what still uses the linked service, then deletes it, then the endpoint, then waits
  // for the server to drop the connection.
  test.each([
    factoryAction('datasets/read'),
    factoryAction('pipelines/read'),
    factoryAction('linkedServices/delete'),
    factoryAction('managedVirtualNetworks/managedPrivateEndpoints/delete'),
    serverAction('privateEndpointConnections/read')
  ])(
    'destroy fails without %s',
    async (action) => {
      grantAllBut(session, action)
      expectRefused(await session.run({ mode: 'destroy' }), action)
    },
    scenarioTimeoutMs
  )

  test(
    'with the whole role, destroy finishes',
    async () => {
      grant(session, deployer.Actions)
      expectSucceeded(await session.run({ mode: 'destroy' }))
      expect(factoryState(session.state()).managedPrivateEndpoints).toEqual([])
    },
    scenarioTimeoutMs
  )
})

describe("deleting an endpoint's Disconnected connection left on the server", () => {
  // An endpoint deleted in Data Factory leaves its connection Disconnected on the server; the
  // emulator drops it at once, so the scenario starts with one already left there.
  const session = useEmulator(
    e2eScenario((scenario) => {
      scenario.servers[0].connections = [
        ...(scenario.servers[0].connections ?? []),
        {
          privateEndpointId: `/subscriptions/${ids.subscriptionId}/resourceGroups/managed-vnet/providers/Microsoft.Network/privateEndpoints/${ids.factoryName}.${ids.defaultEndpointName}`,
          status: 'Disconnected'
        }
      ]
    })
  )
  const action = 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/delete'
  const leftover = () => connectionFrom(session.state(), ids.factoryName, ids.defaultEndpointName)

  test(
    'destroy without the connection delete keeps it and warns; with it, deletes it',
    async () => {
      grantAllBut(session, action)
      expectWarned(await session.run({ mode: 'destroy' }), action)
      expect(leftover()?.properties.privateLinkServiceConnectionState.status).toBe('Disconnected')

      grant(session, deployer.Actions)
      expectSucceeded(await session.run({ mode: 'destroy' }))
      expect(leftover()).toBeUndefined()
      // Another team's connection on the same server is left alone.
      expect(serverConnections(session.state()).length).toBeGreaterThan(0)
    },
    2 * scenarioTimeoutMs
  )
})

describe('separation of duties: the data team checks, the DBA approves', () => {
  const session = useEmulator(e2eScenario())
  const team = readRole('adf-pg-private-link-data-team.json')
  const dba = readRole('adf-pg-private-link-dba.json')
  const dbaInputs = { mode: 'approve', database: '', username: '', password: '' }
  const factoryAction = (action: string) => `Microsoft.DataFactory/factories/${action}`
  const serverAction = (action: string) => `Microsoft.DBforPostgreSQL/flexibleServers/${action}`

  function grantAllOfBut(actions: string[], missing?: string): void {
    if (missing) expect(actions).toContain(missing)
    grant(
      session,
      actions.filter((action) => action !== missing)
    )
  }

  /** The data team's endpoint, its connection left Pending for the DBA (approval: none). */
  async function pendingConnection(): Promise<void> {
    await session.reset()
    grantAllOfBut(team.Actions)
    expectSucceeded(await session.run({ approval: 'none' }))
  }

  test(
    'with only their roles, the DBA approves and the data team finishes, then checks',
    async () => {
      await pendingConnection()
      grantAllOfBut(dba.Actions)
      const approved = await session.run(dbaInputs)
      expectSucceeded(approved)
      expect(JSON.parse(approved.outputs['approved-connections'])).toHaveLength(1)
      grantAllOfBut(team.Actions)
      expectSucceeded(await session.run({ approval: 'wait' }))
      const check = await session.run({ mode: 'check' })
      expectSucceeded(check)
      expect(check.outputs.healthy).toBe('true')
    },
    3 * scenarioTimeoutMs
  )

  // Check reads what plan reads, then runs the connection test (dataset, pipeline, run, status).
  test.each([
    factoryAction('integrationruntimes/read'),
    factoryAction('managedVirtualNetworks/managedPrivateEndpoints/read'),
    factoryAction('linkedServices/read'),
    serverAction('read'),
    factoryAction('datasets/write'),
    factoryAction('pipelines/write'),
    factoryAction('pipelines/createrun/action'),
    factoryAction('pipelineruns/read')
  ])(
    'check fails without %s',
    async (action) => {
      grantAllOfBut(team.Actions, action)
      expectRefused(await session.run({ mode: 'check' }), action)
    },
    scenarioTimeoutMs
  )

  test.each(dba.Actions)(
    'approve fails without %s',
    async (action) => {
      await pendingConnection()
      grantAllOfBut(dba.Actions, action)
      expectRefused(await session.run(dbaInputs), action)
    },
    2 * scenarioTimeoutMs
  )
})
