// Scenario 15: secret hygiene across sign-in methods, success and failure. (Every run in every file
// is also checked by the harness; here each path is exercised on purpose and the secret's use proven.)
import { beforeEach, expect, test } from '@jest/globals'
import {
  canaries,
  e2eScenario,
  expectSecretHygiene,
  ids,
  scenarioTimeoutMs,
  secretsGiven,
  useEmulator,
  type E2eRun
} from './harness.js'

const session = useEmulator(e2eScenario())
const noOidc = { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' }

beforeEach(() => session.reset())

interface HygieneCase {
  name: string
  inputs: Record<string, string>
  env?: Record<string, string>
  /** Proves the secret really went through the path under test (else the check would be empty). */
  secretWasUsed(run: E2eRun): void
}

const cases: HygieneCase[] = [
  {
    name: 'OIDC sign-in with a password that reaches PostgreSQL',
    inputs: {},
    secretWasUsed: (run) => {
      expect(run.exitCode).toBe(0)
      expect(run.outputs['connection-test']).toBe('succeeded')
    }
  },
  {
    name: 'client-secret sign-in with a password that reaches PostgreSQL',
    inputs: { 'client-secret': canaries.clientSecret },
    env: noOidc,
    secretWasUsed: (run) => {
      expect(run.exitCode).toBe(0)
      expect(run.outputs['connection-test']).toBe('succeeded')
      expect(run.requests.some((entry) => entry.path.endsWith('/oauth2/v2.0/token'))).toBe(true)
    }
  },
  {
    name: 'a wrong password that PostgreSQL refuses',
    inputs: { password: canaries.wrongPassword, 'client-secret': canaries.clientSecret },
    env: noOidc,
    secretWasUsed: (run) => {
      expect(run.exitCode).toBe(1)
      expect(run.errors.join('\n')).toContain(
        `password authentication failed for user "${ids.serverRole}"`
      )
    }
  },
  {
    name: 'inputs refused before any request (ssl-mode: disable)',
    inputs: { 'ssl-mode': 'disable', 'client-secret': canaries.clientSecret },
    env: noOidc,
    secretWasUsed: (run) => {
      expect(run.exitCode).toBe(1)
      expect(run.errors.join('\n')).toContain('ssl-mode')
      expect(run.requests).toEqual([])
    }
  }
]

test.each(cases)(
  '15 secret hygiene: $name',
  async ({ inputs, env, secretWasUsed }) => {
    const run = await session.run(inputs, { env })
    secretWasUsed(run)
    expectSecretHygiene(run, secretsGiven(session.inputs(inputs)))
  },
  scenarioTimeoutMs
)
