// The recorded-answer contract, action side: every answer live Azure gave (../shared/reference/
// azure-recordings) goes through the real SDK clients (their models and long-running-operation
// pollers, over a transport that answers from the recordings) into the action's own steps and
// decision functions, and the decision is asserted. A recording altered in what the action reads
// makes its case fail (shown at the end).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { DataFactoryManagementClient } from '@azure/arm-datafactory'
import { PostgreSQLManagementFlexibleServerClient } from '@azure/arm-postgresql-flexible'
import { createHttpHeaders, type HttpClient } from '@azure/core-rest-pipeline'
import {
  loadRecording,
  recordingFiles,
  recordingsDir,
  renameKey,
  type Answer,
  type Recording
} from '../contract/recordings.js'
import type { AzureClients } from '../src/azure/clients.js'
import { createGateway, type AzureGateway } from '../src/azure/gateway.js'
import type { Settings } from '../src/settings.js'
import { ensureApproval, decideApproval } from '../src/steps/approval.js'
import { runState } from '../src/steps/connection-test.js'
import { matchConnection, toConnectionView } from '../src/steps/connections.js'
import { decideEndpointAction, ensureEndpoint, listEndpoints } from '../src/steps/endpoint.js'
import { gitFiles } from '../src/steps/export.js'
import {
  desiredLinkedService,
  diffLinkedService,
  mergeWithExisting
} from '../src/steps/linked-service.js'
import { gitIntegrationOf, runPreflight, type PreflightFacts } from '../src/steps/preflight.js'
import { fakeStepContext } from './fixtures/step-context.js'

type Load = (file: string) => Recording

/**
 * Where a request goes, names aside: `GET subscriptions/*‌/resourceGroups/*‌/providers/Microsoft.X/
 * factories/*‌/integrationRuntimes/*` (the provider namespace kept), so recordings made in different
 * subscriptions and resource groups answer one run.
 */
function routeOf(method: string, url: string): string {
  const segments = new URL(url).pathname.split('/').filter(Boolean)
  const shape = segments.map((segment, index) =>
    index % 2 === 0 || segments[index - 1]?.toLowerCase() === 'providers' ? segment : '*'
  )
  return `${method} ${shape.join('/').toLowerCase()}`
}

/** A transport that answers each route from its answers in order (the last one again when used up). */
function recordedTransport(answers: { method: string; uri: string; response: Answer }[]) {
  const queues = new Map<string, Answer[]>()
  for (const answer of answers) {
    const route = routeOf(answer.method, answer.uri)
    queues.set(route, [...(queues.get(route) ?? []), answer.response])
  }
  const sent: string[] = []
  const httpClient: HttpClient = {
    sendRequest: async (request) => {
      const route = routeOf(request.method, request.url)
      sent.push(route)
      const queue = queues.get(route)
      if (!queue?.length) throw new Error(`No recording answers ${route}`)
      const answer = queue.length > 1 ? (queue.shift() as Answer) : queue[0]
      const headers = createHttpHeaders(
        Object.fromEntries(
          Object.entries(answer.headers).filter((entry): entry is [string, string] => !!entry[1])
        )
      )
      return {
        request,
        status: answer.status,
        headers,
        bodyAsText: answer.body === undefined ? '' : JSON.stringify(answer.body)
      }
    }
  }
  return { httpClient, sent }
}

/** Recorded answers, each at its recorded request. */
const served = (load: Load, ...files: string[]) =>
  files.map((file) => {
    const recording = load(file)
    return {
      method: recording.request.method,
      uri: recording.request.uri,
      response: recording.response
    }
  })

/** A recorded body served at another route (the action lists where a recording shows one GET). */
const servedAs = (method: string, uri: string, body: unknown) => ({
  method,
  uri,
  response: { status: 200, headers: {}, body }
})

const subscriptionId = '00000000-0000-0000-0000-000000000000'

/** Call options for a gateway call that nothing cancels. */
const signal = () => ({ abortSignal: new AbortController().signal })

/** The real SDK clients over the recorded transport; no request leaves the process. */
function recordedClients(answers: ReturnType<typeof served>): AzureClients {
  const { httpClient } = recordedTransport(answers)
  const credential = {
    getToken: async () => ({ token: 'recorded', expiresOnTimestamp: Date.now() + 3_600_000 })
  }
  const options = {
    httpClient,
    endpoint: 'https://management.azure.com',
    retryOptions: { maxRetries: 0 }
  }
  return {
    dataFactory: new DataFactoryManagementClient(credential, subscriptionId, options),
    postgres: new PostgreSQLManagementFlexibleServerClient(credential, subscriptionId, options)
  }
}

/** The action's gateway over the real SDK clients over the recorded transport. */
function recordedGateway(answers: ReturnType<typeof served>) {
  return (settings: Settings): AzureGateway => createGateway(recordedClients(answers), settings)
}

/** The gateway for the default inputs' target over the recorded transport. */
function recordedGatewayFor(answers: ReturnType<typeof served>): AzureGateway {
  return fakeStepContext(recordedGateway(answers)).context.azure
}

const anyArm = 'https://management.azure.com/subscriptions/s/resourceGroups/g/providers'
const endpointsUri = `${anyArm}/Microsoft.DataFactory/factories/f/managedVirtualNetworks/default/managedPrivateEndpoints`
const connectionsUri = `${anyArm}/Microsoft.DBforPostgreSQL/flexibleServers/s/privateEndpointConnections`
const bodyOf = (load: Load, file: string) => load(file).response.body as Record<string, unknown>
const propertiesOf = (load: Load, file: string) =>
  bodyOf(load, file).properties as Record<string, unknown>

/** The endpoint views the action makes of a managed private endpoint answer (the action lists). */
async function endpointViewsOf(load: Load, file: string, listed: boolean) {
  const body = bodyOf(load, file)
  const { context } = fakeStepContext(
    recordedGateway([servedAs('GET', endpointsUri, listed ? body : { value: [body] })])
  )
  return listEndpoints(context)
}

/** An endpoint answer while provisioning: wait (reuse, not Succeeded), match by what it states. */
async function provisioningEndpoint(load: Load, file: string, listed: boolean) {
  const [view] = await endpointViewsOf(load, file, listed)
  const properties = (
    listed
      ? (bodyOf(load, file).value as { properties: Record<string, unknown> }[])[0].properties
      : propertiesOf(load, file)
  ) as { privateLinkResourceId: string; groupId: string; resourceId?: string }
  expect(view).toMatchObject({
    provisioningState: 'Provisioning',
    connectionStatus: '',
    isReserved: false,
    privateEndpointId: properties.resourceId ?? ''
  })
  const desired = {
    name: view.name,
    privateLinkResourceId: properties.privateLinkResourceId,
    groupId: properties.groupId
  }
  expect(decideEndpointAction([view], desired, 'fail')).toEqual({ kind: 'reuse', endpoint: view })
  const identity = {
    factoryName: 'exampleFa000001',
    endpointName: view.name,
    privateEndpointId: view.privateEndpointId
  }
  return matchConnection([], identity, false).basis
}

/** A created endpoint (the PUT's answer, then the list): the action waits while it provisions. */
async function createdEndpoint(load: Load, file: string) {
  const created = bodyOf(load, file)
  const { context } = fakeStepContext(
    recordedGateway([
      servedAs('GET', endpointsUri, { value: [] }),
      ...served(load, file),
      servedAs('GET', endpointsUri, { value: [created] })
    ]),
    { inputs: { timeout: '30s', 'endpoint-name': String(created.name) }, tickMs: 5_000 }
  )
  const preflight: PreflightFacts = {
    serverFqdn: 'x',
    serverId: String(
      (created.properties as { privateLinkResourceId: string }).privateLinkResourceId
    ),
    factoryRead: false,
    connections: []
  }
  await expect(ensureEndpoint(context, preflight)).rejects.toThrow(
    /waiting for managed private endpoint '.+' to reach provisioningState Succeeded .*last seen: Provisioning/
  )
}

/** The connection the SDK reads from a recorded GET, as the action views it. */
async function connectionViewOf(load: Load, file: string) {
  const { postgres } = recordedClients(served(load, file))
  return toConnectionView(await postgres.privateEndpointConnections.get('g', 's', 'c'))
}

/** The linked service decision over a recorded linked service answer, read as the action reads it. */
async function linkedServiceOver(load: Load, file: string) {
  const { context } = fakeStepContext(
    recordedGateway([
      servedAs(
        'GET',
        `${anyArm}/Microsoft.DataFactory/factories/f/linkedservices/l`,
        bodyOf(load, file)
      )
    ])
  )
  const read = await context.azure.findRawLinkedService('l', signal())
  const body = read?.body
  const desired = mergeWithExisting(
    desiredLinkedService(context.settings, 'pg-demo.postgres.database.azure.com'),
    body,
    'a-password'
  )
  expect(JSON.stringify(desired)).not.toContain('encryptedCredential')
  return { decision: diffLinkedService(body, desired), body, desired }
}

/** A pipeline run as the SDK reads it, and the action's state of it. */
async function pipelineRunOf(load: Load, file: string) {
  const run = await recordedGatewayFor(served(load, file)).readPipelineRun('r', signal())
  return { run, state: runState(run.status) }
}

const pendingFile = 'azcli-postgresql_pec-get-pending.json'

/** Preflight over the recorded factory, its VNets, the missing runtime and the server. */
/**
 * No recording lists a server's Private Link resources: preflight's read of them is answered with
 * Microsoft's own example (azure-examples/pg_PrivateLinkResourcesList_2026-01-01-preview.json).
 */
function privateLinkResourcesExample() {
  const example = JSON.parse(
    readFileSync(
      path.join(
        recordingsDir(),
        '..',
        'azure-examples',
        'pg_PrivateLinkResourcesList_2026-01-01-preview.json'
      ),
      'utf8'
    )
  ) as { responses: { 200: { body: unknown } } }
  return servedAs(
    'GET',
    `${anyArm}/Microsoft.DBforPostgreSQL/flexibleServers/s/privateLinkResources`,
    example.responses[200].body
  )
}

function preflightWithoutRuntime(load: Load, inputs: Record<string, string>) {
  const { context } = fakeStepContext(
    recordedGateway([
      ...served(
        load,
        'netsdk-datafactory_integrationruntime-get-missing-404.json',
        'cliext-datafactory-2022_managed-vnet-list.json',
        'azcli-postgresql_server-get-with-pending-connection.json'
      ),
      servedAs(
        'GET',
        `${anyArm}/Microsoft.DataFactory/factories/f`,
        bodyOf(load, 'cliext-datafactory-2022_factory-put.json')
      ),
      privateLinkResourcesExample()
    ]),
    { inputs }
  )
  return runPreflight(context)
}

/** Each recording's case: what the action decides from it. */
const cases: Record<string, (load: Load) => Promise<void>> = {
  'azcli-postgresql_pec-get-pending.json': async (load) => {
    const view = await connectionViewOf(load, pendingFile)
    expect(view).toMatchObject({
      status: 'Pending',
      description: '',
      provisioningState: 'Succeeded'
    })
    expect(decideApproval(view, 'auto')).toEqual({ kind: 'approve' })
    expect(decideApproval(view, 'wait')).toEqual({ kind: 'await-approval' })
  },
  'azcli-postgresql_pec-get-approved.json': async (load) => {
    const view = await connectionViewOf(load, 'azcli-postgresql_pec-get-approved.json')
    expect(decideApproval(view, 'auto')).toEqual({ kind: 'approved' })
  },
  'azcli-postgresql_pec-get-rejected.json': async (load) => {
    const view = await connectionViewOf(load, 'azcli-postgresql_pec-get-rejected.json')
    expect(decideApproval(view, 'auto')).toEqual({
      kind: 'refused',
      status: 'Rejected',
      description: 'You are rejected!'
    })
  },
  // The approval: 202 without Retry-After, InProgress, Succeeded, then the connection's GET.
  'azcli-postgresql_pec-put-approve-202.json': async (load) => {
    const { postgres } = recordedClients(
      served(load, 'azcli-postgresql_server-get-with-pending-connection.json')
    )
    const server = await postgres.servers.get('g', 's')
    const listed = (server.privateEndpointConnections ?? []).map(toConnectionView)
    const clients = recordedGateway(
      served(
        load,
        'azcli-postgresql_pec-put-approve-202.json',
        'azcli-postgresql_asyncop-approve-inprogress.json',
        'azcli-postgresql_asyncop-approve-succeeded.json',
        'azcli-postgresql_pec-get-approved.json'
      )
    )
    const { context, recorded } = fakeStepContext(clients)
    const outcome = await ensureApproval(context, {
      name: 'pe',
      id: '/endpoints/pe',
      privateEndpointId: listed[0].privateEndpointId,
      exists: true,
      isNew: false,
      connectionStatus: 'Approved',
      connections: listed
    })
    expect(outcome.done).toBe('approved; Data Factory sees it Approved')
    expect(outcome.found).toContain("matched by the endpoint's properties.resourceId")
    expect(recorded.changes).toEqual([
      { action: 'approved', resource: 'private-endpoint-connection', id: listed[0].id }
    ])
  },
  'azcli-postgresql_asyncop-approve-inprogress.json': (load) =>
    cases['azcli-postgresql_pec-put-approve-202.json'](load),
  'azcli-postgresql_asyncop-approve-succeeded.json': (load) =>
    cases['azcli-postgresql_pec-put-approve-202.json'](load),
  'azcli-postgresql_server-get-with-pending-connection.json': async (load) => {
    const file = 'azcli-postgresql_server-get-with-pending-connection.json'
    const { context } = fakeStepContext(
      recordedGateway([
        ...served(load, file),
        servedAs('GET', `${anyArm}/Microsoft.DataFactory/factories/f/integrationRuntimes/r`, {
          name: 'r',
          properties: {
            type: 'Managed',
            managedVirtualNetwork: {
              type: 'ManagedVirtualNetworkReference',
              referenceName: 'default'
            }
          }
        }),
        privateLinkResourcesExample()
      ])
    )
    const outcome = await runPreflight(context)
    expect(outcome.value.serverFqdn).toBe('azuredbclitest-000002.postgres.database.azure.com')
    expect(outcome.value.connections).toEqual([
      expect.objectContaining({
        status: 'Pending',
        description: '',
        provisioningState: 'Succeeded'
      })
    ])
  },
  // Approving a connection rejected after our read: 202, then Failed/InternalServerError.
  'azcli-postgresql_pec-put-approve-rejected-202.json': async (load) => {
    const rejected = bodyOf(load, 'azcli-postgresql_pec-get-rejected.json')
    // What this run read before the DBA rejected it: the same connection, Pending.
    const ourRead = await connectionViewOf(load, 'azcli-postgresql_pec-get-rejected.json')
    const clients = recordedGateway([
      ...served(
        load,
        'azcli-postgresql_pec-put-approve-rejected-202.json',
        'azcli-postgresql_asyncop-approve-rejected-failed.json'
      ),
      servedAs('GET', connectionsUri, { value: [rejected] })
    ])
    const { context } = fakeStepContext(clients)
    const failure = ensureApproval(context, {
      name: 'pe',
      id: '/endpoints/pe',
      privateEndpointId: ourRead.privateEndpointId,
      exists: true,
      isNew: false,
      connectionStatus: '',
      connections: [{ ...ourRead, status: 'Pending', description: '' }]
    })
    await expect(failure).rejects.toMatchObject({
      message: expect.stringMatching(
        /is Rejected \("You are rejected!"\)\. Azure accepted this run's approval .* \(202\), but its operation failed \(InternalServerError: An unexpected error occured/
      ),
      hint: expect.stringContaining('on-drift: recreate')
    })
  },
  'azcli-postgresql_asyncop-approve-rejected-failed.json': (load) =>
    cases['azcli-postgresql_pec-put-approve-rejected-202.json'](load),
  'azcli-postgresql_pec-delete-202.json': async (load) => {
    const accepted = load('azcli-postgresql_pec-delete-202.json')
    const { postgres } = recordedClients([
      ...served(load, 'azcli-postgresql_pec-delete-202.json'),
      // Its first status poll, as the recording's _observations report it (InProgress at +1 s).
      servedAs('GET', String(accepted.response.headers['azure-asyncoperation']), {
        name: 'op',
        status: 'InProgress',
        startTime: (accepted.response.body as { startTime: string }).startTime
      })
    ])
    const poller = await postgres.privateEndpointConnections.beginDelete('g', 's', 'c')
    // Accepted: the action's delete then polls the operation (beginDeleteAndWait).
    expect(poller.isDone()).toBe(false)
  },
  'cliext-datafactory-2022_mpe-put-blob.json': (load) =>
    createdEndpoint(load, 'cliext-datafactory-2022_mpe-put-blob.json'),
  'cliext-datafactory-2021_mpe-put-blob.json': async (load) => {
    await createdEndpoint(load, 'cliext-datafactory-2021_mpe-put-blob.json')
    // Without properties.resourceId the connection is found by <factory>.<endpoint>.
    expect(
      await provisioningEndpoint(load, 'cliext-datafactory-2021_mpe-put-blob.json', false)
    ).toBe('name')
  },
  'cliext-datafactory-2022_mpe-get.json': async (load) => {
    expect(await provisioningEndpoint(load, 'cliext-datafactory-2022_mpe-get.json', false)).toBe(
      'resourceId'
    )
  },
  'cliext-datafactory-2022_mpe-list.json': async (load) => {
    expect(await provisioningEndpoint(load, 'cliext-datafactory-2022_mpe-list.json', true)).toBe(
      'resourceId'
    )
  },
  'cliext-datafactory-2022_factory-put.json': async (load) => {
    const factory = await recordedGatewayFor([
      servedAs(
        'GET',
        `${anyArm}/Microsoft.DataFactory/factories/f`,
        bodyOf(load, 'cliext-datafactory-2022_factory-put.json')
      )
    ]).readFactory(signal())
    expect(factory.identity?.principalId).toBe('42bf85ee-d628-4b15-8fb1-fe990570596c')
    // Live mode: no Git integration to warn about.
    expect(gitIntegrationOf(factory.repoConfiguration)).toBeUndefined()
  },
  // A missing runtime: preflight reads the factory and its managed VNets to say what is wrong.
  'cliext-datafactory-2022_managed-vnet-list.json': async (load) => {
    // The recorded VNet is listed, so only the runtime is missing.
    await expect(
      preflightWithoutRuntime(load, { 'managed-virtual-network': 'exampleManagedVi000002' })
    ).rejects.toThrow(/^Integration runtime 'AutoResolveIntegrationRuntime' was not found/)
  },
  'netsdk-datafactory_integrationruntime-get-missing-404.json': async (load) => {
    // The 404 is a missing runtime (and VNet) the error names, not a failed request.
    await expect(preflightWithoutRuntime(load, {})).rejects.toThrow(
      /managed virtual network 'default'/
    )
  },
  'cliext-datafactory-main_child-delete.json': async (load) => {
    const azure = recordedGatewayFor(served(load, 'cliext-datafactory-main_child-delete.json'))
    // 200 with no body: done (the call throws on anything the SDK does not accept).
    await azure.deleteLinkedService('l', signal())
  },
  'cliext-datafactory-main_linkedservice-put-securestring.json': async (load) => {
    const { decision } = await linkedServiceOver(
      load,
      'cliext-datafactory-main_linkedservice-put-securestring.json'
    )
    expect(decision).toEqual({ kind: 'replace', existingType: 'AzureStorage' })
  },
  'cliext-datafactory-main_linkedservice-put-masked-with-encryptedcredential.json': async (
    load
  ) => {
    const { decision } = await linkedServiceOver(
      load,
      'cliext-datafactory-main_linkedservice-put-masked-with-encryptedcredential.json'
    )
    expect(decision).toEqual({ kind: 'replace', existingType: 'AzureStorage' })
  },
  'pwsh-datafactory_linkedservice-put-plainstring.json': async (load) => {
    const { decision } = await linkedServiceOver(
      load,
      'pwsh-datafactory_linkedservice-put-plainstring.json'
    )
    expect(decision).toEqual({ kind: 'replace', existingType: 'AzureStorage' })
  },
  // AzurePostgreSql 1.0 with Key Vault references: updated to 2.0; no encryptedCredential appears.
  'netsdk-datafactory_linkedservice-put-azurepostgresql-keyvault.json': async (load) => {
    const { decision, desired } = await linkedServiceOver(
      load,
      'netsdk-datafactory_linkedservice-put-azurepostgresql-keyvault.json'
    )
    expect(decision).toMatchObject({ kind: 'update', fields: expect.arrayContaining(['version']) })
    const exported = gitFiles({
      managedVirtualNetwork: 'default',
      endpoint: {
        name: 'pe',
        privateLinkResourceId: 'x',
        groupId: 'postgresqlServer',
        serverFqdn: 'x'
      },
      linkedService: { name: 'l', properties: desired }
    })
    expect(exported.files.map((file) => file.content).join('')).not.toContain('encryptedCredential')
  },
  'cliext-datafactory-main_pipeline-createrun.json': async (load) => {
    const runId = await recordedGatewayFor(
      served(load, 'cliext-datafactory-main_pipeline-createrun.json')
    ).runPipeline('p', signal())
    expect(runId).toBe('9c51f7b2-a656-11eb-9afd-84a93e64b16e')
  },
  // message is null until the run ends: the run is still running, nothing is read from it.
  'pwsh-datafactory_pipelinerun-get-queued.json': async (load) => {
    const { run, state } = await pipelineRunOf(load, 'pwsh-datafactory_pipelinerun-get-queued.json')
    expect(state).toBe('running')
    expect(run.message ?? undefined).toBeUndefined()
  },
  'pwsh-datafactory_pipelinerun-get-failed.json': async (load) => {
    const { run, state } = await pipelineRunOf(load, 'pwsh-datafactory_pipelinerun-get-failed.json')
    expect(state).toBe('failed')
    expect(run.message).toMatch(/^Operation on target MyCopyActivity_0_0 failed: /)
  }
}

const recorded: Load = (file) => loadRecording(file)

describe('the recorded-answer contract (action)', () => {
  it('finds the recordings beside the clone, and fails loudly where there are none', () => {
    expect(recordingFiles().length).toBeGreaterThanOrEqual(25)
    expect(() => recordingsDir('/nowhere/clone')).toThrow(
      /The recorded Azure answers are not at \/nowhere\/shared\/reference\/azure-recordings/
    )
  })

  it('has a case for every recording, and every case has its recording', () => {
    expect(Object.keys(cases).sort()).toEqual(recordingFiles())
  })

  it.each(recordingFiles())('%s: the SDK and the action read it as decided', async (file) => {
    await cases[file](recorded)
  })

  it("fails when a recording is altered in a key the action reads (the endpoint's resourceId)", async () => {
    const file = 'cliext-datafactory-2022_mpe-get.json'
    const altered: Load = (name) => {
      const recording = loadRecording(name)
      return name === file
        ? {
            ...recording,
            response: {
              ...recording.response,
              body: renameKey(recording.response.body, 'resourceId', 'resourceID')
            }
          }
        : recording
    }
    await expect(cases[file](altered)).rejects.toThrow()
  })

  it('fails when a recording is altered in a spelling the action compares (Rejected → rejected)', async () => {
    const file = 'azcli-postgresql_pec-get-rejected.json'
    const altered: Load = (name) => {
      const recording = loadRecording(name)
      const text = JSON.stringify(recording.response.body).replace('"Rejected"', '"Rejectd"')
      return name === file
        ? { ...recording, response: { ...recording.response, body: JSON.parse(text) } }
        : recording
    }
    await expect(cases[file](altered)).rejects.toThrow()
  })
})
