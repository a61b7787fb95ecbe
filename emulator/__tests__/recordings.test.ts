// The recorded-answer contract, emulator side: for every answer live Azure gave (../shared/reference/
// azure-recordings), the emulator is asked the same request in the same state and must answer with
// the same status, the same polling headers present or absent, and the same keys, value types and
// enum spellings. Names and ids are this scenario's; the PostgreSQL server stands in for the
// recordings' Storage targets (Data Factory answers endpoints alike). Time is Jest's fake clock.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import {
  compareAnswers,
  loadRecording,
  recordingFiles,
  renameKey,
  type Answer
} from '../../contract/recordings.js'
import { testDelays } from '../src/delays.js'
import { createResourceProviders } from '../src/providers.js'
import { Router } from '../src/router.js'
import type { Delays, EmuResponse, HttpMethod, Scenario } from '../src/types.js'

const subscriptionId = '11111111-2222-3333-4444-555555555555'
const resourceGroup = 'rg-data'
const providers = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers`
const serverPath = (name: string) =>
  `${providers}/Microsoft.DBforPostgreSQL/flexibleServers/${name}`
const factoryPath = (name: string) => `${providers}/Microsoft.DataFactory/factories/${name}`
const endpointsPath = (factory: string) =>
  `${factoryPath(factory)}/managedVirtualNetworks/default/managedPrivateEndpoints`
const adf = '?api-version=2018-06-01'
const pg = '?api-version=2025-08-01'
const foreignEndpoint = (name: string) =>
  `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/privateEndpoints/${name}`

const delays: Delays = { ...testDelays, endpointProvisioningMs: 1_000, connectionUpdateMs: 200 }

const factory = (name: string, older = false) => ({
  subscriptionId,
  resourceGroup,
  name,
  location: 'westeurope',
  managedVirtualNetwork: 'default',
  integrationRuntimes: [],
  ...(older && { omitPrivateEndpointResourceId: true })
})

const server = (name: string, connections: Scenario['servers'][number]['connections']) => ({
  subscriptionId,
  resourceGroup,
  name,
  location: 'westeurope',
  publicNetworkAccess: 'Disabled' as const,
  databases: [],
  roles: [{ name: 'pgadmin', password: 'not-used-in-this-suite' }],
  connections
})

/** pg-a: connections made without a request message (as the CLI's private endpoints); pg-one: just one. */
const scenario: Scenario = {
  tenantId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  subscriptions: [],
  principals: [],
  factories: [factory('adf-demo'), factory('adf-older', true)],
  servers: [
    server('pg-a', [
      { privateEndpointId: foreignEndpoint('pe-approve'), status: 'Pending' },
      { privateEndpointId: foreignEndpoint('pe-reject'), status: 'Pending' },
      { privateEndpointId: foreignEndpoint('pe-delete'), status: 'Pending' }
    ]),
    server('pg-one', [{ privateEndpointId: foreignEndpoint('pe-only'), status: 'Pending' }])
  ]
}

function emulate() {
  const { routes } = createResourceProviders({
    scenario,
    delays,
    postgresAddress: () => undefined,
    runLookup: async () => ({ ok: false, errorCode: 'x', message: 'unused' }),
    caPem: 'test-ca'
  })
  const router = new Router(routes)
  return async (method: HttpMethod, pathAndQuery: string, body?: unknown): Promise<Answer> => {
    const url = new URL(pathAndQuery, 'https://127.0.0.1')
    const match = router.match(method, url.pathname)
    if (!match) throw new Error(`no route for ${method} ${url.pathname}`)
    const answer = (await match.route.handle({
      method,
      path: url.pathname,
      params: match.params,
      query: url.searchParams,
      headers: { host: '127.0.0.1' },
      body
    })) as EmuResponse
    return { status: answer.status, headers: answer.headers ?? {}, body: answer.body }
  }
}

type Call = ReturnType<typeof emulate>

/** The pipe between a header's polling URL and the next call. */
function pathOf(answer: Answer, header: string): string {
  const url = new URL(String(answer.headers[header]))
  return url.pathname + url.search
}

async function connectionNamed(call: Call, serverName: string, endpoint: string) {
  const list = (await call('GET', `${serverPath(serverName)}/privateEndpointConnections${pg}`))
    .body as { value: { name: string; properties: { privateEndpoint: { id: string } } }[] }
  const found = list.value.find((connection) =>
    connection.properties.privateEndpoint.id.endsWith(`/${endpoint}`)
  )
  if (!found) throw new Error(`no connection from ${endpoint}`)
  return `${serverPath(serverName)}/privateEndpointConnections/${found.name}${pg}`
}

const approval = (status: string, description: string) => ({
  properties: { privateEndpoint: {}, privateLinkServiceConnectionState: { status, description } }
})

/** Everything the cases need, asked once in order (the emulator's state moves on as Azure's did). */
async function askEverything(): Promise<Record<string, Answer>> {
  const call = emulate()
  const answers: Record<string, Answer> = {}
  const pendingPath = await connectionNamed(call, 'pg-a', 'pe-approve')
  answers['azcli-postgresql_pec-get-pending.json'] = await call('GET', pendingPath)
  answers['azcli-postgresql_server-get-with-pending-connection.json'] = await call(
    'GET',
    `${serverPath('pg-one')}${pg}`
  )
  const approve = await call('PUT', pendingPath, approval('Approved', 'You are approved!'))
  answers['azcli-postgresql_pec-put-approve-202.json'] = approve
  answers['azcli-postgresql_asyncop-approve-inprogress.json'] = await call(
    'GET',
    pathOf(approve, 'Azure-AsyncOperation')
  )
  jest.advanceTimersByTime(delays.connectionUpdateMs)
  answers['azcli-postgresql_asyncop-approve-succeeded.json'] = await call(
    'GET',
    pathOf(approve, 'Azure-AsyncOperation')
  )
  answers['azcli-postgresql_pec-get-approved.json'] = await call('GET', pendingPath)

  const rejectPath = await connectionNamed(call, 'pg-a', 'pe-reject')
  await call('PUT', rejectPath, approval('Rejected', 'You are rejected!'))
  jest.advanceTimersByTime(delays.connectionUpdateMs)
  answers['azcli-postgresql_pec-get-rejected.json'] = await call('GET', rejectPath)
  const reapprove = await call('PUT', rejectPath, approval('Approved', 'You are approved!'))
  answers['azcli-postgresql_pec-put-approve-rejected-202.json'] = reapprove
  jest.advanceTimersByTime(delays.connectionUpdateMs)
  answers['azcli-postgresql_asyncop-approve-rejected-failed.json'] = await call(
    'GET',
    pathOf(reapprove, 'Azure-AsyncOperation')
  )
  answers['azcli-postgresql_pec-delete-202.json'] = await call(
    'DELETE',
    await connectionNamed(call, 'pg-a', 'pe-delete')
  )

  // Managed private endpoints while provisioning (the recordings' Storage target: the server here).
  const target = {
    properties: { groupId: 'postgresqlServer', privateLinkResourceId: serverPath('pg-a') }
  }
  answers['cliext-datafactory-2022_mpe-put-blob.json'] = await call(
    'PUT',
    `${endpointsPath('adf-demo')}/pe-pg${adf}`,
    target
  )
  answers['cliext-datafactory-2022_mpe-get.json'] = await call(
    'GET',
    `${endpointsPath('adf-demo')}/pe-pg${adf}`
  )
  answers['cliext-datafactory-2022_mpe-list.json'] = await call(
    'GET',
    `${endpointsPath('adf-demo')}${adf}`
  )
  answers['cliext-datafactory-2021_mpe-put-blob.json'] = await call(
    'PUT',
    `${endpointsPath('adf-older')}/pe-pg${adf}`,
    target
  )
  // The emulator has no factory PUT (the action never creates one): its GET answers the same resource.
  answers['cliext-datafactory-2022_factory-put.json'] = await call(
    'GET',
    `${factoryPath('adf-demo')}${adf}`
  )
  answers['cliext-datafactory-2022_managed-vnet-list.json'] = await call(
    'GET',
    `${factoryPath('adf-demo')}/managedVirtualNetworks${adf}`
  )
  answers['netsdk-datafactory_integrationruntime-get-missing-404.json'] = await call(
    'GET',
    `${factoryPath('adf-demo')}/integrationRuntimes/intergration781${adf}`
  )

  // Linked services: the recorded request bodies, sent as recorded.
  const linkedService = (name: string) => `${factoryPath('adf-demo')}/linkedservices/${name}${adf}`
  const sent = (file: string) => loadRecording(file).request.body
  answers['cliext-datafactory-main_linkedservice-put-securestring.json'] = await call(
    'PUT',
    linkedService('exampleLin000003'),
    sent('cliext-datafactory-main_linkedservice-put-securestring.json')
  )
  // "GET then PUT of what was read": the mask and this factory's own encryptedCredential.
  const read = (await call('GET', linkedService('exampleLin000003'))).body as {
    properties: Record<string, unknown>
  }
  answers['cliext-datafactory-main_linkedservice-put-masked-with-encryptedcredential.json'] =
    await call('PUT', linkedService('exampleLin000003'), {
      properties: { ...read.properties, description: 'Example description' }
    })
  answers['cliext-datafactory-main_child-delete.json'] = await call(
    'DELETE',
    linkedService('exampleLin000003')
  )
  answers['pwsh-datafactory_linkedservice-put-plainstring.json'] = await call(
    'PUT',
    linkedService('foo1'),
    sent('pwsh-datafactory_linkedservice-put-plainstring.json')
  )
  await call('PUT', linkedService('adf_linkedservice_akv_3741'), {
    properties: {
      type: 'AzureKeyVault',
      typeProperties: { baseUrl: 'https://kv.vault.azure.net/' }
    }
  })
  answers['netsdk-datafactory_linkedservice-put-azurepostgresql-keyvault.json'] = await call(
    'PUT',
    linkedService('adf_linkedservice_azurepostgre_5745'),
    sent('netsdk-datafactory_linkedservice-put-azurepostgresql-keyvault.json')
  )

  // Pipeline runs: queued right after createRun; failed once its activity failed.
  await call('PUT', `${factoryPath('adf-demo')}/pipelines/samplePipeline${adf}`, {
    properties: { activities: [{ name: 'MyCopyActivity_0_0', type: 'Copy' }] }
  })
  const createRun = await call(
    'POST',
    `${factoryPath('adf-demo')}/pipelines/samplePipeline/createRun${adf}`,
    { OutputBlobName: 'test' }
  )
  answers['cliext-datafactory-main_pipeline-createrun.json'] = createRun
  const runPath = `${factoryPath('adf-demo')}/pipelineruns/${(createRun.body as { runId: string }).runId}${adf}`
  answers['pwsh-datafactory_pipelinerun-get-queued.json'] = await call('GET', runPath)
  await jest.advanceTimersByTimeAsync(delays.pipelineQueuedMs + 10)
  answers['pwsh-datafactory_pipelinerun-get-failed.json'] = await call('GET', runPath)
  return answers
}

/**
 * Paths whose enum spelling may differ, with why: only this scenario's own data, never a state.
 */
const valuesMayDiffer: Record<string, string[]> = {}

let answers: Record<string, Answer>
beforeEach(async () => {
  jest.useFakeTimers({ now: Date.parse('2026-04-16T21:35:52Z') })
  answers = await askEverything()
})
afterEach(() => {
  jest.useRealTimers()
})

describe('the recorded-answer contract (emulator)', () => {
  it('has a case for every recording, and every case has its recording', () => {
    expect(Object.keys(answers).sort()).toEqual(recordingFiles())
  })

  it.each(recordingFiles())(
    '%s: same status, polling headers, keys, types and spellings',
    (file) => {
      const recorded = loadRecording(file).response
      expect(compareAnswers(recorded, answers[file], valuesMayDiffer[file])).toEqual([])
    }
  )

  it('fails on a recording altered by one key (a renamed properties.resourceId)', () => {
    const file = 'cliext-datafactory-2022_mpe-get.json'
    const recorded = loadRecording(file).response
    const altered = { ...recorded, body: renameKey(recorded.body, 'resourceId', 'resourceID') }
    expect(compareAnswers(altered, answers[file])).toEqual([
      'body.properties.resourceID: recorded string, emulator (no such key)',
      'body.properties.resourceId: recorded (no such key), emulator string'
    ])
  })

  it('fails on a recording altered by one spelling or one header', () => {
    const file = 'azcli-postgresql_pec-put-approve-202.json'
    const recorded = loadRecording(file).response
    const withRetryAfter = { ...recorded, headers: { ...recorded.headers, 'retry-after': '10' } }
    expect(compareAnswers(withRetryAfter, answers[file])).toEqual([
      'header retry-after: recorded present, emulator absent'
    ])
    const operation = loadRecording('azcli-postgresql_asyncop-approve-succeeded.json').response
    const spelled = { ...operation, body: { ...(operation.body as object), status: 'succeeded' } }
    expect(
      compareAnswers(spelled, answers['azcli-postgresql_asyncop-approve-succeeded.json'])
    ).toEqual(['body.status: recorded string "succeeded", emulator string "Succeeded"'])
  })
})
