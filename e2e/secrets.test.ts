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

test(
  'step debug logging: each ARM request is one line with method, path, api-version, status and duration, and no secret',
  async () => {
    const inputs = { 'client-secret': canaries.clientSecret }
    // The runner sets RUNNER_DEBUG=1 when the ACTIONS_STEP_DEBUG secret is set
    const run = await session.run(inputs, { env: { ...noOidc, RUNNER_DEBUG: '1' } })
    expect(run.exitCode).toBe(0)
    const debugLines = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('::debug::ARM '))
      .map((line) => line.slice('::debug::'.length))
    const armRequests = run.requests.filter((entry) => entry.path.startsWith('/subscriptions/'))
    expect(armRequests.length).toBeGreaterThan(0)
    // One line per request the emulator saw, in the same words: method, path, api-version
    const expected = armRequests.map(
      (entry) =>
        `ARM ${entry.method} ${entry.path} api-version=${entry.query['api-version']} → ${entry.status}`
    )
    expect(debugLines.map((line) => line.replace(/ in \d+ ms.*$/, '')).sort()).toEqual(
      expected.sort()
    )
    for (const line of debugLines) expect(line).toMatch(/ in \d+ ms( \(request id \S+\))?$/)
    const debugText = debugLines.join('\n')
    for (const secret of [...secretsGiven(session.inputs(inputs)), ...Object.values(canaries)]) {
      expect(debugText).not.toContain(secret)
    }
    expect(debugText).not.toMatch(/Bearer|eyJ|[{}]/) // no token, no JSON body
  },
  scenarioTimeoutMs
)

test(
  'without step debug logging no request line is written',
  async () => {
    const run = await session.run({ 'client-secret': canaries.clientSecret }, { env: noOidc })
    expect(run.exitCode).toBe(0)
    expect(run.stdout).not.toContain('::debug::ARM ')
  },
  scenarioTimeoutMs
)
