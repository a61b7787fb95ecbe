// Scenarios 1, 2, 8 and 13: the apply path that succeeds, its idempotent re-run, verify-full SSL and
// a Key Vault password, against one emulator and its real PostgreSQL.
import { describe, expect, test } from '@jest/globals'
import {
  changeWrites,
  connectionFrom,
  declaredOutputs,
  describeRequests,
  e2eScenario,
  expectOnlyOurEndpointApproved,
  factoryState,
  ids,
  keyVault,
  nodeBinaryOfMajor,
  scenarioTimeoutMs,
  serverId,
  useEmulator,
  withKeyVault,
  type E2eRun
} from './harness.js'

const session = useEmulator(e2eScenario(withKeyVault))

function linkedService(name: string = ids.defaultLinkedServiceName) {
  const found = factoryState(session.state()).linkedservices.find((ls) => ls.name === name)
  if (!found) throw new Error(`No linked service ${name}`)
  return found
}

function expectConnectionTestSucceeded(run: E2eRun): void {
  expect(run.outputs['connection-test']).toBe('succeeded')
  const testRun = session
    .state()
    .pipelineRuns.find((candidate) => candidate.runId === run.outputs['connection-test-run-id'])
  expect(testRun?.status).toBe('Succeeded')
  // The Lookup really ran `SELECT 1` on PostgreSQL and returned its row.
  expect(JSON.stringify(testRun?.activityRuns[0].output)).toContain('firstRow')
  // The temporary pipeline and dataset are gone.
  const factory = factoryState(session.state())
  expect(factory.pipelines).toEqual([])
  expect(factory.datasets).toEqual([])
}

describe('apply', () => {
  let firstRun: E2eRun

  test(
    '1 fresh apply with OIDC creates, approves the right connection, writes the linked service and tests it',
    async () => {
      firstRun = await session.run()
      const run = firstRun
      expect(run.errors).toEqual([])
      expect(run.exitCode).toBe(0)
      expect(run.stdout).toMatch(/Signing in with oidc/)

      // Outputs: every declared output is set, with the values the emulator holds.
      // The health outputs are check's alone (action.yml): empty in apply.
      const unset = declaredOutputs().filter((name) => !run.outputs[name])
      expect(unset).toEqual(['healthy', 'drift', 'findings'])
      expect(run.outputs).toMatchObject({
        'private-endpoint-name': ids.defaultEndpointName,
        'provisioning-state': 'Succeeded',
        'connection-state': 'Approved',
        'server-fqdn': `${ids.serverName}.postgres.database.azure.com`,
        'linked-service-name': ids.defaultLinkedServiceName,
        changed: 'true'
      })
      expect(JSON.parse(run.outputs['approved-connections'])).toEqual([
        run.outputs['private-endpoint-connection-id']
      ])
      expect(run.changes.map(({ action, resource }) => `${action} ${resource}`).sort()).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^created managed-private-endpoint$/),
          expect.stringMatching(/^approved /),
          expect.stringMatching(/^created linked-service$/)
        ])
      )

      // The endpoint: created once, to the server, provisioned and approved in the factory's view.
      const state = session.state()
      expectOnlyOurEndpointApproved(state)
      // As Data Factory answers it: segment names lower-cased (cliext-datafactory-2022_mpe-get.json).
      expect(run.outputs['private-endpoint-id']).toMatch(
        new RegExp(`/managedPrivateEndpoints/${ids.defaultEndpointName}$`, 'i')
      )

      // The right connection: this factory's is approved, naming the run; the look-alike stays Pending.
      const ours = connectionFrom(state, ids.factoryName, ids.defaultEndpointName)
      const foreign = connectionFrom(state, 'adf-analytics', ids.defaultEndpointName)
      expect(ours?.properties.privateLinkServiceConnectionState.status).toBe('Approved')
      expect(ours?.properties.privateLinkServiceConnectionState.description).toContain(
        ids.runnerRepository
      )
      expect(ours?.properties.privateLinkServiceConnectionState.description).toContain(
        ids.runnerRunId
      )
      expect(run.outputs['private-endpoint-connection-id']).toBe(ours?.id)
      expect(foreign?.properties.privateLinkServiceConnectionState.status).toBe('Pending')
      const approvals = run.requests.filter(
        (entry) => entry.method === 'PUT' && entry.path.includes('/privateEndpointConnections/')
      )
      expect(approvals.map((entry) => entry.path)).toEqual([
        `${serverId()}/privateEndpointConnections/${ours?.name}`
      ])

      // The linked service: AzurePostgreSql 2.0, the FQDN from Azure, encrypted, via the managed runtime.
      const written = linkedService()
      expect(written.properties).toMatchObject({
        type: 'AzurePostgreSql',
        version: '2.0',
        connectVia: { referenceName: ids.managedRuntime, type: 'IntegrationRuntimeReference' },
        typeProperties: {
          server: `${ids.serverName}.postgres.database.azure.com`,
          database: ids.database,
          username: ids.serverRole
        }
      })
      expect(written.properties.typeProperties?.sslMode).toBeGreaterThanOrEqual(3)
      expect(run.outputs['linked-service-id']).toMatch(
        new RegExp(`/linkedservices/${ids.defaultLinkedServiceName}$`, 'i')
      )

      expectConnectionTestSucceeded(run)

      // The summary has a succeeded row for every step.
      for (const step of [
        'Preflight',
        'Managed private endpoint',
        'Approval',
        'Linked service',
        'Connection test'
      ]) {
        expect(run.summary).toMatch(new RegExp(`^\\| ✅ ${step} \\|`, 'm'))
      }
      expect(run.summary).not.toMatch(/❌/)
    },
    scenarioTimeoutMs
  )

  test(
    '2 re-run of 1 changes nothing: changed=false and no write but the connection test',
    async () => {
      expect(firstRun?.exitCode).toBe(0) // scenario 2 re-runs scenario 1's end state
      const run = await session.run()
      expect(run.errors).toEqual([])
      expect(run.exitCode).toBe(0)
      expect(run.changes).toEqual([])
      expect(run.outputs.changed).toBe('false')
      expect(run.changes).toEqual([])
      expect(describeRequests(changeWrites(run.requests))).toEqual([])
      for (const name of [
        'private-endpoint-id',
        'private-endpoint-connection-id',
        'linked-service-id',
        'server-fqdn'
      ]) {
        expect(run.outputs[name]).toBe(firstRun.outputs[name])
      }
      expectConnectionTestSucceeded(run)
      expect(factoryState(session.state()).managedPrivateEndpoints).toHaveLength(1)
      expect(run.summary).not.toMatch(/❌/)
    },
    scenarioTimeoutMs
  )

  test(
    '1b the same bundle works on Node 20 as well as on the runner Node 24',
    async () => {
      const node20 = nodeBinaryOfMajor(20)
      if (!node20) {
        console.warn('Skipping the Node 20 run: no Node 20 binary on PATH.')
        return
      }
      await session.reset()
      const run = await session.run({}, { node: node20 })
      expect(run.errors).toEqual([])
      expect(run.exitCode).toBe(0)
      expect(run.outputs.changed).toBe('true')
      expectConnectionTestSucceeded(run)
    },
    scenarioTimeoutMs
  )

  test(
    '8 ssl-mode verify-full checks the server certificate and writes sslMode 5',
    async () => {
      await session.reset()
      const run = await session.run({ 'ssl-mode': 'verify-full' })
      expect(run.errors).toEqual([])
      expect(run.exitCode).toBe(0)
      expect(linkedService().properties.typeProperties?.sslMode).toBe(5)
      expectConnectionTestSucceeded(run)
    },
    scenarioTimeoutMs
  )

  test(
    '13 Key Vault password: the linked service holds the reference, and the test uses the vault secret',
    async () => {
      await session.reset()
      const run = await session.run({
        password: '',
        'password-key-vault-linked-service': keyVault.linkedService,
        'password-secret-name': keyVault.secretName
      })
      expect(run.errors).toEqual([])
      expect(run.exitCode).toBe(0)
      const reference = {
        type: 'AzureKeyVaultSecret',
        store: { referenceName: keyVault.linkedService, type: 'LinkedServiceReference' },
        secretName: keyVault.secretName
      }
      expect(linkedService().properties.typeProperties?.password).toMatchObject(reference)
      // What the action sent holds the reference and no secret value at all.
      const put = run.requests.find(
        (entry) =>
          entry.method === 'PUT' &&
          entry.path.endsWith(`/linkedservices/${ids.defaultLinkedServiceName}`)
      )
      const sent = put?.requestBody as { properties: { typeProperties: Record<string, unknown> } }
      expect(sent.properties.typeProperties.password).toEqual(reference)
      expect(JSON.stringify(sent)).not.toContain('SecureString')
      expectConnectionTestSucceeded(run)
    },
    scenarioTimeoutMs
  )
})
