// The nightly health check: `mode: check` writes nothing but the connection test's temporary
// objects, reports drift and health in its outputs, and keeps exactly one GitHub issue per target
// open while something is wrong (created once, updated in place, closed with a comment when clean).
import { beforeAll, describe, expect, test } from '@jest/globals'
import {
  changeWrites,
  describeRequests,
  e2eScenario,
  ids,
  scenarioTimeoutMs,
  useEmulator,
  type E2eRun
} from './harness.js'

const session = useEmulator(e2eScenario())

/** What a runner gives a scheduled job: the event's name and GitHub's API. */
const scheduled = () => ({
  env: { GITHUB_EVENT_NAME: 'schedule', GITHUB_API_URL: session.emulator.github.apiUrl },
  jobToken: session.emulator.github.writeToken
})

const issues = () => session.emulator.github.issues(ids.runnerRepository)
const githubWrites = (run: E2eRun) =>
  run.requests.filter((entry) => entry.path.startsWith('/github-api') && entry.method !== 'GET')

beforeAll(async () => {
  const setUp = await session.run()
  expect(setUp.exitCode).toBe(0)
}, scenarioTimeoutMs)

describe('mode: check', () => {
  test(
    'on a healthy target writes nothing but the test objects and opens no issue',
    async () => {
      const run = await session.run({ mode: 'check' }, scheduled())
      expect(run.errors).toEqual([])
      expect(run.exitCode).toBe(0)
      expect(run.outputs).toMatchObject({
        healthy: 'true',
        drift: 'false',
        findings: '[]',
        'connection-test': 'succeeded',
        changed: 'false'
      })
      expect(describeRequests(changeWrites(run.requests))).toEqual([])
      expect(githubWrites(run)).toEqual([])
      expect(issues()).toEqual([])
      expect(run.summary).toContain('check succeeded: healthy')
    },
    scenarioTimeoutMs
  )

  test(
    'after a DBA deletes the connection: one issue opened, then updated, repaired by apply, closed by the next check',
    async () => {
      session.emulator.admin.deleteConnection({
        server: ids.serverName,
        privateEndpointName: ids.defaultEndpointName,
        factoryName: ids.factoryName
      })
      const first = await session.run({ mode: 'check' }, scheduled())
      expect(first.exitCode).toBe(1) // drift fails the job unless fail-on-drift is false
      expect(first.outputs.healthy).toBe('false')
      expect(first.outputs.drift).toBe('true')
      const findings = JSON.parse(first.outputs.findings) as { kind: string; detail: string }[]
      expect(findings).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            kind: 'drift',
            detail: expect.stringMatching(/lists no connection from it/)
          })
        ])
      )
      expect(describeRequests(changeWrites(first.requests))).toEqual([])
      expect(issues()).toMatchObject([
        {
          number: 1,
          state: 'open',
          labels: ['adf-pg-private-link'],
          body: expect.stringContaining('lists no connection from it')
        }
      ])
      expect(first.stdout).toContain('Opened issue #1')

      const second = await session.run({ mode: 'check', 'fail-on-drift': 'false' }, scheduled())
      expect(second.exitCode).toBe(0)
      expect(second.outputs.healthy).toBe('false')
      expect(second.stdout).toContain('Updated issue #1')
      expect(second.summary).toContain('check found drift')
      expect(issues()).toHaveLength(1)
      expect(issues()[0]).toMatchObject({ state: 'open' })

      const repair = await session.run({ 'on-drift': 'recreate' })
      expect(repair.errors).toEqual([])
      expect(repair.exitCode).toBe(0)

      const third = await session.run({ mode: 'check' }, scheduled())
      expect(third.exitCode).toBe(0)
      expect(third.outputs.healthy).toBe('true')
      expect(third.stdout).toContain('Closed issue #1')
      expect(issues()).toMatchObject([{ number: 1, state: 'closed', stateReason: 'completed' }])
      expect(session.emulator.github.comments(ids.runnerRepository, 1)).toEqual([
        expect.objectContaining({ body: expect.stringContaining('healthy again') })
      ])
    },
    scenarioTimeoutMs * 2
  )

  test(
    "without 'issues: write' the check warns naming the permission and still reports",
    async () => {
      session.emulator.admin.deleteConnection({
        server: ids.serverName,
        privateEndpointName: ids.defaultEndpointName,
        factoryName: ids.factoryName
      })
      const before = issues()
      const run = await session.run(
        { mode: 'check', 'github-token': session.emulator.github.readOnlyToken },
        { env: scheduled().env }
      )
      expect(run.outputs.healthy).toBe('false')
      expect(run.warnings.join('\n')).toContain('permissions: issues: write')
      expect(issues()).toEqual(before)
    },
    scenarioTimeoutMs
  )
})
