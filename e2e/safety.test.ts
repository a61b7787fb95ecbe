// Issue 8, "never break a working connection": apply proves a new linked service definition before
// it replaces the one that works, and no connection-test object outlives its run (post step, sweep).
import { DataFactoryManagementClient } from '@azure/arm-datafactory'
import { describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import type { RunningEmulator } from '../emulator/index.js'
import { runAction, runPostStep, type ActionResult, type ActionRun } from '../runner/index.js'
import {
  canaries,
  e2eScenario,
  factoryState,
  ids,
  scenarioTimeoutMs,
  useEmulator,
  type E2eSession,
  sleep,
  type EmulatorState
} from './harness.js'

const probePrefix = 'adf-pg-private-link-probe'

/** Every object of the factory that the connection test made (any kind), by name. */
function probeObjects(state: EmulatorState): string[] {
  const factory = factoryState(state)
  return [...factory.linkedservices, ...factory.datasets, ...factory.pipelines]
    .map((item) => item.name)
    .filter((name) => name.toLowerCase().startsWith(probePrefix))
}

function linkedServiceNames(state: EmulatorState): string[] {
  return factoryState(state)
    .linkedservices.map((item) => item.name)
    .filter((name) => !name.toLowerCase().startsWith(probePrefix))
}

function linkedService(state: EmulatorState, name: string = ids.defaultLinkedServiceName) {
  return factoryState(state).linkedservices.find((item) => item.name === name)
}

function warnings(result: ActionResult): string[] {
  return result.stdout.split('\n').filter((line) => line.startsWith('::warning'))
}

/** The main phase, run directly (for the state file and post steps); `extra` adds kill timers. */
async function runMain(
  session: E2eSession,
  overrides: Record<string, string> = {},
  extra: Partial<ActionRun> = {}
): Promise<{ run: ActionRun; result: ActionResult }> {
  const run: ActionRun = {
    inputs: session.inputs(overrides),
    env: session.emulator.env,
    killAfterMs: scenarioTimeoutMs - 5_000,
    ...extra
  }
  return { run, result: await runAction(run) }
}

/** The compact UTC time the action puts in probe names (Data Factory keeps no creation time). */
function probeStamp(time: Date): string {
  return time
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}

/** Holds the action's first look at its connection test run for `delayMs`. */
function holdFirstRunLook(session: E2eSession, delayMs: number): void {
  session.emulator.admin.injectFault({
    kind: 'delay',
    path: '/pipelineruns/[^/]+$',
    method: 'GET',
    count: 1,
    delayMs
  })
}

/** A colleague's edit of the linked service (its description), through Resource Manager. */
async function colleagueEdits(emulator: RunningEmulator, state: EmulatorState): Promise<void> {
  const clientId = emulator.principals[0].clientId
  const client = new DataFactoryManagementClient(
    {
      getToken: async () => ({
        token: await emulator.admin.issueAccessToken(clientId),
        expiresOnTimestamp: Date.now() + 600_000
      })
    },
    ids.subscriptionId,
    { endpoint: emulator.url, tlsOptions: { ca: emulator.caPem } }
  )
  const current = linkedService(state)
  if (!current) throw new Error('No linked service to edit')
  await client.linkedServices.createOrUpdate(ids.resourceGroup, ids.factoryName, current.name, {
    properties: { ...current.properties, description: 'Edited by a colleague' } as never
  })
}

/** A second PostgreSQL role, so a changed username and password still pass the test. */
const otherRole = { name: 'adfreader', password: `Other-${randomBytes(9).toString('hex')}` }

describe('never break a working connection', () => {
  const session = useEmulator(
    e2eScenario((scenario) => void scenario.servers[0].roles.push(otherRole))
  )

  test(
    '8.1 a re-run with a wrong password or a user@server username keeps the working linked service unchanged',
    async () => {
      await session.reset()
      const first = await session.run()
      expect(first.exitCode).toBe(0)
      const before = linkedService(session.state())
      expect(before).toBeDefined()
      const reruns: Record<string, string>[] = [
        { password: canaries.wrongPassword },
        { username: `${ids.serverRole}@${ids.serverName}` }
      ]
      for (const overrides of reruns) {
        const run = await session.run(overrides)
        expect(run.exitCode).toBe(1)
        expect(run.errors).toHaveLength(1)
        expect(run.errors[0]).toMatch(
          new RegExp(`existing linked service '${ids.defaultLinkedServiceName}' was kept unchanged`)
        )
        expect(run.summary).toMatch(/^\| ❌ Connection test \|/m)
        expect(run.summary).toContain('was kept unchanged')
        expect(run.changes).toEqual([])
        expect(run.outputs['connection-test']).toBe('failed')
        const state = session.state()
        expect(linkedService(state)).toEqual(before)
        expect(probeObjects(state)).toEqual([])
      }
    },
    scenarioTimeoutMs * 2
  )

  test(
    '8.1 with test-connection false a change is written directly, and the summary says it was not tested',
    async () => {
      await session.reset()
      const run = await session.run({ 'test-connection': 'false' })
      expect(run.exitCode).toBe(0)
      expect(run.summary).toMatch(
        /^\| ✅ Linked service \| no linked service \| created; not tested \(test-connection is false\) \|/m
      )
      expect(run.summary).toMatch(
        /^\| ✅ Connection test \| test-connection is false \| skipped \|/m
      )
      expect(linkedServiceNames(session.state())).toEqual([ids.defaultLinkedServiceName])
      expect(run.requests.filter((entry) => entry.path.includes(probePrefix))).toEqual([])
    },
    scenarioTimeoutMs
  )

  test(
    '8.2 a mistyped database leaves no linked service named after the typo; the corrected run converges',
    async () => {
      await session.reset()
      const typo = await session.run({ database: `${ids.database}x` })
      expect(typo.exitCode).toBe(1)
      expect(typo.errors).toHaveLength(1)
      expect(typo.errors[0]).toMatch(/does not exist/)
      expect(typo.errors[0]).toMatch(/no linked service was created/)
      expect(linkedServiceNames(session.state())).toEqual([])
      expect(probeObjects(session.state())).toEqual([])

      const corrected = await session.run()
      expect(corrected.exitCode).toBe(0)
      expect(corrected.outputs['connection-test']).toBe('succeeded')
      expect(linkedServiceNames(session.state())).toEqual([ids.defaultLinkedServiceName])
      expect(probeObjects(session.state())).toEqual([])
    },
    scenarioTimeoutMs * 2
  )

  test(
    '8.6 a temporary dataset that cannot be deleted is removed by the post step',
    async () => {
      await session.reset()
      session.emulator.admin.injectFault({
        kind: 'server-error',
        path: '/datasets/',
        method: 'DELETE',
        count: 4
      })
      const { run, result } = await runMain(session)
      expect(result.exitCode).toBe(0)
      expect(warnings(result).join('\n')).toMatch(/temporary dataset/)
      expect(factoryState(session.state()).datasets.map((item) => item.name)).toEqual([
        expect.stringMatching(new RegExp(`^${probePrefix}-`))
      ])

      const post = await runPostStep(run, result)
      expect(post.exitCode).toBe(0)
      expect(probeObjects(session.state())).toEqual([])

      // A clean main leaves the post step nothing to do: it sends no request at all.
      const clean = await runMain(session)
      expect(clean.result.exitCode).toBe(0)
      const since = session.emulator.admin.requestLog().at(-1)?.seq ?? 0
      const idle = await runPostStep(clean.run, clean.result)
      expect(idle.exitCode).toBe(0)
      expect(session.emulator.admin.requestLog({ since })).toEqual([])
    },
    scenarioTimeoutMs * 2
  )

  test(
    '8.6 a run killed after creating its probe objects leaves none once its post step ran',
    async () => {
      await session.reset()
      // So the kill lands after the probe objects exist.
      holdFirstRunLook(session, 30_000)
      const { run, result } = await runMain(session, {}, { killAfterMs: 15_000 })
      session.emulator.admin.clearFaults()
      expect(result.signal).toBe('SIGKILL')
      const left = probeObjects(session.state())
      // A fresh apply stages the linked service as a probe too: dataset, pipeline, linked service.
      expect(left).toHaveLength(3)
      expect(linkedServiceNames(session.state())).toEqual([])

      const post = await runPostStep(run, result)
      expect(post.exitCode).toBe(0)
      expect(probeObjects(session.state())).toEqual([])
    },
    scenarioTimeoutMs * 2
  )

  test(
    '8.1 a change someone makes while the new definition is tested is read again, not overwritten unseen',
    async () => {
      await session.reset()
      expect((await session.run()).exitCode).toBe(0)
      // So the colleague's edit lands before the swap.
      holdFirstRunLook(session, 3_000)
      const run = await session.run(
        { username: otherRole.name, password: otherRole.password },
        {
          meanwhile: async (emulator) => {
            const deadline = Date.now() + 20_000
            while (probeObjects(emulator.admin.snapshot() as EmulatorState).length < 3) {
              if (Date.now() > deadline) throw new Error('The staged linked service never appeared')
              await sleep(50)
            }
            await colleagueEdits(emulator, emulator.admin.snapshot() as EmulatorState)
          }
        }
      )
      expect(run.exitCode).toBe(0)
      const writes = run.requests
        .filter(
          (entry) =>
            entry.method === 'PUT' &&
            entry.path.endsWith(`/linkedservices/${ids.defaultLinkedServiceName}`)
        )
        .map((entry) => entry.status)
      // The colleague's write; ours with the etag read before the test, refused; ours after re-reading.
      expect(writes).toEqual([200, 412, 200])
      const written = linkedService(session.state())
      expect(written?.properties.description).toBe('Edited by a colleague')
      expect(written?.properties.typeProperties?.username).toBe(otherRole.name)
      expect(run.changes).toEqual([
        expect.objectContaining({ action: 'updated', resource: 'linked-service' })
      ])
      expect(probeObjects(session.state())).toEqual([])
    },
    scenarioTimeoutMs * 2
  )
})

describe('leftovers of earlier runs', () => {
  const old = probeStamp(new Date(Date.now() - 2 * 3600_000))
  const young = probeStamp(new Date())
  const oldBase = `${probePrefix}-${old}-99-1-aaaaaa`
  const youngBase = `${probePrefix}-${young}-98-1-bbbbbb`
  const session = useEmulator(
    e2eScenario((scenario) => {
      const dataset = (linkedService: string) => ({
        type: 'AzurePostgreSqlTable',
        linkedServiceName: { referenceName: linkedService, type: 'LinkedServiceReference' }
      })
      const pipeline = (dataset: string) => ({
        activities: [
          {
            name: 'LookupPostgreSql',
            type: 'Lookup',
            source: { type: 'AzurePostgreSqlSource', query: 'SELECT 1' },
            dataset: { referenceName: dataset, type: 'DatasetReference' }
          }
        ]
      })
      const staged = {
        type: 'AzurePostgreSql',
        version: '2.0',
        typeProperties: { server: 'x', database: 'y' }
      }
      scenario.factories[0].linkedServices = {
        [`${oldBase}-linkedservice`]: staged,
        [`${youngBase}-linkedservice`]: staged
      }
      scenario.factories[0].datasets = {
        [`${oldBase}-dataset`]: dataset(`${oldBase}-linkedservice`),
        [`${youngBase}-dataset`]: dataset(`${youngBase}-linkedservice`)
      }
      scenario.factories[0].pipelines = {
        [`${oldBase}-pipeline`]: pipeline(`${oldBase}-dataset`),
        [`${youngBase}-pipeline`]: pipeline(`${youngBase}-dataset`)
      }
    })
  )

  test(
    "8.6 a later apply removes probe objects older than the step's timeout, and only those",
    async () => {
      expect(probeObjects(session.state())).toHaveLength(6)
      const run = await session.run({ timeout: '10m' })
      expect(run.exitCode).toBe(0)
      expect(probeObjects(session.state()).sort()).toEqual(
        [`${youngBase}-dataset`, `${youngBase}-linkedservice`, `${youngBase}-pipeline`].sort()
      )
    },
    scenarioTimeoutMs
  )
})
