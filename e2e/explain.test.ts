// Issue 9: every failure says what failed, on which resource, the likely cause and the fix (naming
// the input, or the exact permission and scope); sign-in fails as sign-in; waits and writes speak.
import { beforeEach, describe, expect, test } from '@jest/globals'
import { emulatorUrlPlaceholder } from '../emulator/index.js'
import {
  canaries,
  dbaDecides,
  e2eScenario,
  ids,
  scenarioTimeoutMs,
  serverId,
  useEmulator,
  type E2eRun
} from './harness.js'

const approvePermission =
  'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write'
const approveActionPermission =
  'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnectionsApproval/action'

/** An app whose federated credential trusts only jobs in the `production` environment. */
const environmentApp = {
  clientId: '7d1e0f2a-4b3c-4d5e-8f6a-0b1c2d3e4f5a',
  objectId: '1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e',
  subject: 'repo:octo-org/octo-repo:environment:production'
}

const keyVault = {
  linkedService: 'ls-keyvault-platform',
  baseUrl: 'https://kv-data-platform.vault.azure.net/',
  secretName: 'pg-adfuser-password',
  lockedSecretName: 'pg-adfuser-password-locked'
}

const session = useEmulator(
  e2eScenario((scenario) => {
    const [deployer] = scenario.principals
    scenario.principals.push({
      ...deployer,
      displayName: 'github-octo-repo-production',
      clientId: environmentApp.clientId,
      objectId: environmentApp.objectId,
      clientSecret: undefined,
      federatedCredentials: [
        {
          issuer: `${emulatorUrlPlaceholder}/github-oidc`,
          subject: environmentApp.subject,
          audience: 'api://AzureADTokenExchange'
        }
      ]
    })
    scenario.factories[0].linkedServices = {
      [keyVault.linkedService]: {
        properties: { type: 'AzureKeyVault', typeProperties: { baseUrl: keyVault.baseUrl } }
      }
    }
    const password = scenario.servers[0].roles[0].password
    scenario.keyVaultSecrets = [
      { vaultBaseUrl: keyVault.baseUrl, name: keyVault.secretName, value: password },
      // Only another factory's identity may read this one.
      {
        vaultBaseUrl: keyVault.baseUrl,
        name: keyVault.lockedSecretName,
        value: password,
        readers: ['adf-other-team']
      }
    ]
  })
)

const noOidc = { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' }

beforeEach(() => session.reset())

/** One error, its summary, and the step row that failed. */
function failedAt(run: E2eRun, step: string): string {
  expect(run.exitCode).toBe(1)
  expect(run.errors).toHaveLength(1)
  expect(run.summary).toMatch(new RegExp(`^\\| ❌ ${step} \\|`, 'm'))
  expect(run.summary).toContain('Likely cause and fix')
  return run.errors[0]
}

/** Sign-in failed before any Resource Manager request, in its own row, naming what was presented. */
function signInFailure(run: E2eRun): string {
  const error = failedAt(run, 'Sign-in')
  expect(run.summary).not.toMatch(/^\| ❌ Preflight/m)
  expect(run.requests.filter((entry) => entry.path.startsWith('/subscriptions/'))).toEqual([])
  expect(error).not.toMatch(/factory 'factory/)
  return error
}

describe('sign-in failures are sign-in failures', () => {
  test(
    'AADSTS700212: a federated credential for the public audience, a run presenting the USGov one',
    async () => {
      const run = await session.run({ environment: 'AzureUSGovernment' })
      const error = signInFailure(run)
      expect(error).toContain('AADSTS700212')
      expect(error).toContain("audience 'api://AzureADTokenExchangeUSGov'")
      expect(error).toContain(`client id ${ids.clientId}`)
      expect(error).toContain(`tenant ${ids.tenantId}`)
      expect(error).toContain('cloud AzureUSGovernment')
      // The fix names the inputs and the credential's field.
      expect(error).toMatch(/'audience'/)
      expect(error).toMatch(/'environment'/)
      expect(error).toMatch(/federated credential/)
      expect(run.summary).toContain('AADSTS700212')
    },
    scenarioTimeoutMs
  )

  test(
    'AADSTS700213: the credential trusts another subject than the job presents',
    async () => {
      const run = await session.run({ 'client-id': environmentApp.clientId })
      const error = signInFailure(run)
      expect(error).toContain('AADSTS700213')
      expect(error).toContain(`subject '${ids.githubSubject}'`)
      expect(error).toMatch(/environment:<name>/)
      expect(error).toMatch(/federated credential/)
    },
    scenarioTimeoutMs
  )

  test(
    'AADSTS700016: a client id the tenant does not know',
    async () => {
      const unknownClient = '00000000-1111-4222-8333-444444444444'
      const run = await session.run({ 'client-id': unknownClient })
      const error = signInFailure(run)
      expect(error).toContain('AADSTS700016')
      expect(error).toContain(`client id ${unknownClient}`)
      expect(error).toMatch(/'client-id'/)
      expect(error).toMatch(/'tenant-id'/)
    },
    scenarioTimeoutMs
  )

  test(
    'AADSTS7000215: a wrong client secret',
    async () => {
      const run = await session.run(
        { auth: 'client-secret', 'client-secret': canaries.wrongPassword },
        { env: noOidc }
      )
      const error = signInFailure(run)
      expect(error).toContain('AADSTS7000215')
      expect(error).toContain('client-secret')
      expect(error).toMatch(/secret's value, not its ID/)
    },
    scenarioTimeoutMs
  )

  test(
    'AADSTS90002: a tenant domain the authority does not know; a known domain signs in',
    async () => {
      const run = await session.run({ 'tenant-id': 'contoso.example' })
      const error = signInFailure(run)
      expect(error).toMatch(/AADSTS90002|endpoints_resolution_error/)
      expect(error).toContain("tenant 'contoso.example'")
      expect(error).toMatch(/'tenant-id'/)
      expect(error).toMatch(/'authority-host'|'environment'/)

      const known = await session.run({ 'tenant-id': 'emulator.onmicrosoft.com' })
      expect(known.errors).toEqual([])
      expect(known.exitCode).toBe(0)
    },
    scenarioTimeoutMs
  )

  test(
    'auth auto with client-id and tenant-id but no id-token: write names the missing permission',
    async () => {
      const run = await session.run({}, { env: noOidc })
      const error = signInFailure(run)
      expect(error).toContain('permissions: id-token: write')
      expect(error).toMatch(/client-id and tenant-id/)
    },
    scenarioTimeoutMs
  )
})

describe('a scope that does not exist, or that the identity cannot see', () => {
  test(
    'a typo in resource-group (403 from ARM) names the input and both fixes',
    async () => {
      const typo = 'rg-data-platfrom'
      const run = await session.run({ 'resource-group': typo })
      const error = failedAt(run, 'Preflight')
      expect(error).toContain(`/resourceGroups/${typo}`)
      expect(error).toMatch(/does not exist, or the identity cannot see it/)
      expect(error).toMatch(/'resource-group'/)
      expect(error).toMatch(/Microsoft\.DataFactory\/factories\/read/)
      expect(error).not.toMatch(/factory 'factory/)
    },
    scenarioTimeoutMs
  )

  test(
    'a typo in server-resource-group names that input, as 403 and as 404 ResourceGroupNotFound',
    async () => {
      const typo = 'rg-databse'
      const hidden = await session.run({ 'server-resource-group': typo })
      const error = failedAt(hidden, 'Preflight')
      expect(error).toContain(`/resourceGroups/${typo}`)
      expect(error).toMatch(/does not exist, or the identity cannot see it/)
      expect(error).toMatch(/'server-resource-group'/)
      expect(error).not.toMatch(/'resource-group'/)

      // With rights on the whole subscription, ARM says the group is missing.
      session.emulator.admin.setRoles(ids.clientId, [
        { scope: `/subscriptions/${ids.subscriptionId}`, role: 'Reader' },
        { scope: ids.resourceGroupScope, role: 'Contributor' }
      ])
      const missing = await session.run({ 'server-resource-group': typo })
      const notFound = failedAt(missing, 'Preflight')
      expect(notFound).toContain(`Resource group '${typo}' does not exist`)
      expect(notFound).toMatch(/'server-resource-group'/)
    },
    scenarioTimeoutMs
  )
})

describe('Key Vault secrets the factory cannot use', () => {
  const keyVaultInputs = (secretName: string) => ({
    password: '',
    'password-key-vault-linked-service': keyVault.linkedService,
    'password-secret-name': secretName
  })

  test(
    'a secret that does not exist names the vault, the secret and the input',
    async () => {
      const run = await session.run(keyVaultInputs('pg-adfuser-pasword'))
      const error = failedAt(run, 'Connection test')
      expect(error).toContain('pg-adfuser-pasword')
      expect(error).toContain(keyVault.baseUrl)
      expect(error).toMatch(/'password-secret-name'/)
      expect(error).toMatch(/does not exist in the vault/)
    },
    scenarioTimeoutMs
  )

  test(
    "a secret the factory's identity may not read names the role and the identity",
    async () => {
      const run = await session.run(keyVaultInputs(keyVault.lockedSecretName))
      const error = failedAt(run, 'Connection test')
      expect(error).toContain(keyVault.lockedSecretName)
      expect(error).toMatch(/Key Vault Secrets User/)
      expect(error).toMatch(/data factory's managed identity/)
      expect(error).toContain(ids.factoryName)
    },
    scenarioTimeoutMs
  )
})

describe('approval without the right to approve', () => {
  test(
    'the final error and the summary name both permissions and the server as scope',
    async () => {
      session.emulator.admin.setRoles(ids.clientId, [
        { scope: ids.resourceGroupScope, role: 'Contributor', notActions: [approvePermission] }
      ])
      const run = await session.run({ approval: 'auto', 'approval-timeout': '2s' })
      const error = failedAt(run, 'Approval')
      expect(error).toMatch(/approval-timeout/)
      for (const text of [error, run.summary]) {
        expect(text).toContain(approvePermission)
        expect(text).toContain(approveActionPermission)
        expect(text).toContain(serverId())
      }
      expect(error).not.toMatch(/give the identity the right to approve/)
    },
    scenarioTimeoutMs
  )
})

describe('waiting speaks, and each write is logged when it happens', () => {
  const dbaAfterMs = 31_000
  test('a heartbeat during a long poll-interval, a line when the state changes, and the writes in order', async () => {
    const run = await session.run(
      { approval: 'wait', 'approval-timeout': '45s', 'poll-interval': '2m', timeout: '55s' },
      {
        meanwhile: (emulator) => dbaDecides(emulator, { verdict: 'approve', afterMs: dbaAfterMs })
      }
    )
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    const lines = run.stdout.split('\n')
    const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line))
    const created = at(/^Created managed-private-endpoint .*\/managedPrivateEndpoints\/pg-pg-demo/)
    const heartbeat = at(
      /^Still waiting for someone to approve .*: Pending \(\d+s elapsed, limit 'approval-timeout' \(45s\)\)/
    )
    const approved = at(/^Done waiting for someone to approve .* after \d+s/)
    const linkedService = at(/^Created linked-service .*\/linkedservices\//)
    expect({ created, heartbeat, approved, linkedService }).toEqual({
      created: expect.any(Number),
      heartbeat: expect.any(Number),
      approved: expect.any(Number),
      linkedService: expect.any(Number)
    })
    expect(created).toBeGreaterThan(-1)
    expect(heartbeat).toBeGreaterThan(created)
    expect(approved).toBeGreaterThan(heartbeat)
    expect(linkedService).toBeGreaterThan(approved)
  }, 75_000)
})
