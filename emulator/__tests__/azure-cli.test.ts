// The seed document's own command, `az resource create --id …/managedPrivateEndpoints/<name>`, run by the
// real Azure CLI against the emulator, creates the endpoint there.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {
  azureCli,
  azureCliLogin,
  azureCliMissing,
  basicIds,
  basicScenario,
  startEmulator,
  type RunningEmulator
} from '../index.js'

const missing = await azureCliMissing()
if (missing) console.warn(`Skipping the Azure CLI test: ${missing}.`)

const describeWithAzureCli = missing ? describe.skip : describe

describeWithAzureCli('Azure CLI against the emulator', () => {
  let emulator: RunningEmulator
  let configDir: string

  beforeAll(async () => {
    // The CLI polls a Provisioning resource every 30 s, as against Azure: let the endpoint provision at once.
    const scenario = basicScenario({ delays: { endpointProvisioningMs: 0 } })
    emulator = await startEmulator({ scenario, postgres: false })
    configDir = await mkdtemp(path.join(os.tmpdir(), 'adf-pg-az-'))
  })

  afterAll(async () => {
    await emulator?.stop()
    if (configDir) await rm(configDir, { recursive: true, force: true })
  })

  it('creates the managed private endpoint with `az resource create --id` (needs the Azure CLI)', async () => {
    const env = await azureCliLogin(emulator, configDir)
    const { subscriptionId, resourceGroup, factoryName, serverName } = basicIds
    const serverId = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${serverName}`
    const endpointId = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.DataFactory/factories/${factoryName}/managedVirtualNetworks/default/managedPrivateEndpoints/from-az-cli`
    const properties = JSON.stringify({
      privateLinkResourceId: serverId,
      groupId: 'postgresqlServer'
    })

    const created = await azureCli(env, [
      'resource',
      'create',
      '--id',
      endpointId,
      '--properties',
      properties
    ])

    expect(created.stderr).toBe('')
    expect(created.exitCode).toBe(0)
    const answer = JSON.parse(created.stdout) as { id: string }
    // ARM ids compare without case: Data Factory answers lower-cased segments (cliext-datafactory-2022_mpe-get.json).
    expect(answer.id.toLowerCase()).toBe(endpointId.toLowerCase())
    expect(answer).toMatchObject({
      properties: {
        privateLinkResourceId: serverId,
        groupId: 'postgresqlServer',
        provisioningState: 'Succeeded'
      }
    })
    expect(JSON.stringify(emulator.admin.snapshot()).toLowerCase()).toContain(
      endpointId.toLowerCase()
    )
    const put = emulator.admin.requestLog().find((entry) => entry.method === 'PUT')
    expect(put).toMatchObject({
      caller: emulator.principals[0].clientId,
      query: { 'api-version': '2018-06-01' },
      requestBody: { properties: { privateLinkResourceId: serverId, groupId: 'postgresqlServer' } }
    })
  }, 120_000)
})
