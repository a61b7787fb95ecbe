// Plan on pull requests: on a pull_request event, `mode: plan` writes its plan to one comment on the
// pull request (found again by a hidden marker and updated in place); a read-only token only warns.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { e2eScenario, ids, scenarioTimeoutMs, useEmulator } from './harness.js'

const session = useEmulator(e2eScenario())
const pullRequestNumber = 17
let eventDir: string

/** What a runner gives a job triggered by a pull request: the event's name and payload file. */
function pullRequestEvent(): Record<string, string> {
  return {
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: path.join(eventDir, 'event.json'),
    GITHUB_API_URL: session.emulator.github.apiUrl
  }
}

beforeAll(async () => {
  eventDir = await mkdtemp(path.join(os.tmpdir(), 'adf-pg-e2e-event-'))
  await writeFile(
    path.join(eventDir, 'event.json'),
    JSON.stringify({ pull_request: { number: pullRequestNumber }, number: pullRequestNumber })
  )
})
afterAll(async () => {
  await rm(eventDir, { recursive: true, force: true })
})

const comments = () => session.emulator.github.comments(ids.runnerRepository, pullRequestNumber)

describe('plan comment on a pull request', () => {
  test(
    'is created with the job token, then updated in place by the next plan',
    async () => {
      const first = await session.run(
        { mode: 'plan' },
        { env: pullRequestEvent(), jobToken: session.emulator.github.writeToken }
      )
      expect(first.exitCode).toBe(0)
      expect(first.stdout).toContain(`Wrote the plan on pull request #${pullRequestNumber}.`)
      expect(comments()).toHaveLength(1)
      const [created] = comments()
      expect(created.body).toMatch(
        /^<!-- adf-pg-private-link plan: .*adf-demo\/PostgreSql_pg-demo_appdb -->\n/
      )
      expect(created.body).toContain('Apply would make 3 change(s)')
      expect(created.body).toContain('| create | managed-private-endpoint |')

      await session.run({ 'test-connection': 'false' })
      const second = await session.run(
        { mode: 'plan' },
        { env: pullRequestEvent(), jobToken: session.emulator.github.writeToken }
      )
      expect(second.stdout).toContain(`Updated the plan on pull request #${pullRequestNumber}.`)
      expect(comments()).toEqual([
        { id: created.id, body: expect.stringContaining('Apply would change nothing') }
      ])
    },
    scenarioTimeoutMs
  )

  test(
    "a read-only token (a fork's pull request) warns with the permission and the plan still succeeds",
    async () => {
      const before = comments()
      const run = await session.run(
        { mode: 'plan', 'github-token': session.emulator.github.readOnlyToken },
        { env: pullRequestEvent() }
      )
      expect(run.exitCode).toBe(0)
      expect(run.warnings).toEqual([
        expect.stringMatching(
          new RegExp(`pull request #${pullRequestNumber}.*permissions: pull-requests: write`)
        )
      ])
      expect(comments()).toEqual(before)
      expect(run.summary).toContain('plan succeeded')
    },
    scenarioTimeoutMs
  )

  test(
    'apply and push events write no comment',
    async () => {
      const before = comments()
      const run = await session.run(
        { 'test-connection': 'false' },
        { env: pullRequestEvent(), jobToken: session.emulator.github.writeToken }
      )
      expect(run.exitCode).toBe(0)
      const push = await session.run(
        { mode: 'plan' },
        {
          env: { GITHUB_API_URL: session.emulator.github.apiUrl },
          jobToken: session.emulator.github.writeToken
        }
      )
      expect(push.exitCode).toBe(0)
      expect(comments()).toEqual(before)
      expect(
        [...run.requests, ...push.requests].filter((entry) => entry.path.startsWith('/github-api'))
      ).toEqual([])
    },
    scenarioTimeoutMs
  )
})
