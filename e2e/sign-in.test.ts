// Scenario 14: sign-in with a client secret, and with GitHub OIDC tokens that expire during a long
// approval wait, so the credential must ask the runner for a fresh ID token.
import { beforeEach, describe, expect, test } from '@jest/globals'
import {
  canaries,
  dbaDecides,
  e2eScenario,
  ids,
  scenarioTimeoutMs,
  useEmulator,
  type DbaRecord
} from './harness.js'

// Tokens outlive a single exchange but not the approval wait below.
const oidcTokenLifetimeSeconds = 3
const approvalWaitMs = 4_000

const session = useEmulator(
  e2eScenario((scenario) => {
    scenario.delays = {
      ...scenario.delays,
      oidcTokenLifetimeSeconds,
      accessTokenLifetimeSeconds: oidcTokenLifetimeSeconds
    }
  })
)

const githubTokenPath = '/github-oidc/token'
const entraTokenPath = `/${ids.tenantId}/oauth2/v2.0/token`

beforeEach(() => session.reset())

describe('sign-in', () => {
  test(
    '14 client-secret sign-in: a full apply with the secret, and no OIDC',
    async () => {
      const run = await session.run(
        { 'client-secret': canaries.clientSecret },
        // A runner without `id-token: write`: auto must pick the client secret.
        { env: { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' } }
      )
      expect(run.errors).toEqual([])
      expect(run.exitCode).toBe(0)
      expect(run.stdout).toMatch(/Signing in with client-secret/)
      expect(run.outputs['connection-test']).toBe('succeeded')
      const tokenRequests = run.requests.filter((entry) => entry.path === entraTokenPath)
      expect(tokenRequests.length).toBeGreaterThan(0)
      for (const request of tokenRequests) {
        expect(request.status).toBe(200)
        expect(request.requestBody).toMatchObject({
          grant_type: 'client_credentials',
          client_id: ids.clientId,
          client_secret: '***'
        })
      }
      expect(run.requests.filter((entry) => entry.path.startsWith('/github-oidc'))).toEqual([])
    },
    scenarioTimeoutMs
  )

  test(
    '14 OIDC sign-in outlives its ID token: a long approval wait asks the runner for fresh tokens',
    async () => {
      const dba: Partial<DbaRecord> = {}
      const run = await session.run(
        { approval: 'wait', 'approval-timeout': '30s' },
        {
          meanwhile: (emulator) =>
            dbaDecides(emulator, { verdict: 'approve', afterMs: approvalWaitMs }, dba)
        }
      )
      expect(run.errors).toEqual([])
      expect(run.exitCode).toBe(0)
      expect(run.stdout).toMatch(/Signing in with oidc/)
      expect(run.outputs['connection-test']).toBe('succeeded')

      const idTokenRequests = run.requests.filter((entry) => entry.path === githubTokenPath)
      const exchanges = run.requests.filter((entry) => entry.path === entraTokenPath)
      expect(exchanges.every((entry) => entry.status === 200)).toBe(true)
      expect(
        exchanges.every(
          (entry) =>
            (entry.requestBody as Record<string, string>).client_assertion_type ===
            'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
        )
      ).toBe(true)
      // A new ID token was asked for after the first had expired, and exchanged successfully.
      const firstIdTokenAt = Date.parse(idTokenRequests[0].time)
      const afterExpiry = idTokenRequests.filter(
        (entry) => Date.parse(entry.time) > firstIdTokenAt + oidcTokenLifetimeSeconds * 1000
      )
      expect(afterExpiry.length).toBeGreaterThan(0)
      const lastExchangeAt = Date.parse(exchanges.at(-1)?.time ?? '')
      expect(lastExchangeAt).toBeGreaterThan(dba.decidedAt ?? Infinity)
    },
    scenarioTimeoutMs
  )
})
