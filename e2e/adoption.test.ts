// Scenario 12: an endpoint made earlier by hand with the seed document's own `az resource create`;
// the action adopts it instead of creating a second one.
import { describe, expect, test } from '@jest/globals'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { azureCli, azureCliLogin } from '../emulator/index.js'
import {
  connectionFrom,
  e2eScenario,
  factoryId,
  factoryState,
  ids,
  onPath,
  scenarioTimeoutMs,
  serverId,
  useEmulator
} from './harness.js'

const azInstalled = onPath('az')
if (!azInstalled) {
  console.warn(
    "Skipping scenario 12: the Azure CLI (`az`) is not installed; `.ci/run` installs Debian's azure-cli."
  )
}

// `az resource create` polls a Provisioning resource every 30 s, its default: an endpoint that is
// Succeeded at once keeps this test to seconds, and the action's adoption is what is under test.
const session = useEmulator(
  e2eScenario((scenario) => {
    scenario.delays = { ...scenario.delays, endpointProvisioningMs: 0 }
  })
)
// A name of the user's choosing, as in the seed document's `<endpoint_name>`.
const handMadeEndpoint = 'pe-postgres-by-hand'
// The Azure CLI's Python start-up alone takes seconds per command.
const azureCliTimeoutMs = 90_000

describe('adoption', () => {
  ;(azInstalled ? test : test.skip)(
    '12 an endpoint created earlier with `az resource create --id …` is adopted, not duplicated (needs the Azure CLI)',
    async () => {
      const configDir = await mkdtemp(path.join(os.tmpdir(), 'adf-pg-e2e-az-'))
      try {
        const env = await azureCliLogin(session.emulator, configDir)
        const endpointId = `${factoryId()}/managedVirtualNetworks/default/managedPrivateEndpoints/${handMadeEndpoint}`
        const properties = JSON.stringify({
          privateLinkResourceId: serverId(),
          groupId: 'postgresqlServer'
        })
        const created = await azureCli(
          env,
          ['resource', 'create', '--id', endpointId, '--properties', properties],
          azureCliTimeoutMs
        )
        expect(created).toMatchObject({ exitCode: 0, stderr: '' })
        const writesBefore = session.emulator.admin.requestLog().filter((e) => e.method === 'PUT')
        expect(writesBefore.map((entry) => entry.path)).toEqual([endpointId])

        const run = await session.run()
        expect(run.errors).toEqual([])
        expect(run.exitCode).toBe(0)
        // Adopted: no endpoint PUT by the action, one endpoint in the factory, the outputs name it.
        expect(
          run.requests.filter(
            (entry) => entry.method === 'PUT' && entry.path.includes('/managedPrivateEndpoints/')
          )
        ).toEqual([])
        const endpoints = factoryState(session.state()).managedPrivateEndpoints
        expect(endpoints.map((endpoint) => endpoint.name)).toEqual([handMadeEndpoint])
        // ARM ids compare without case: Data Factory answers lower-cased segments (cliext-datafactory-2022_mpe-get.json).
        expect(run.outputs['private-endpoint-id'].toLowerCase()).toBe(endpointId.toLowerCase())
        expect(run.outputs).toMatchObject({
          'private-endpoint-name': handMadeEndpoint,
          'connection-state': 'Approved',
          'connection-test': 'succeeded'
        })
        expect(run.changes.map((change) => change.resource)).not.toContain(
          'managed-private-endpoint'
        )
        // The hand-made endpoint's connection is the one approved.
        const connection = connectionFrom(session.state(), ids.factoryName, handMadeEndpoint)
        expect(connection?.properties.privateLinkServiceConnectionState.status).toBe('Approved')
        expect(run.outputs['private-endpoint-connection-id']).toBe(connection?.id)
      } finally {
        await rm(configDir, { recursive: true, force: true })
      }
    },
    scenarioTimeoutMs + 2 * azureCliTimeoutMs
  )
})
