// The gateway over the real SDK clients, answered by a transport in the test: each operation's
// ARM id, permission and explanation on failure, the 404s it reads as absent, the raw bodies it
// keeps and the approval's long-running operation.
import { describe, expect, it } from '@jest/globals'
import { DataFactoryManagementClient } from '@azure/arm-datafactory'
import { PostgreSQLManagementFlexibleServerClient } from '@azure/arm-postgresql-flexible'
import { createHttpHeaders, type HttpClient, type PipelineRequest } from '@azure/core-rest-pipeline'
import { privateEndpointIdHeader } from '../../src/azure/clients.js'
import {
  createGateway,
  permissions,
  type AzureGateway,
  type DatasetResource
} from '../../src/azure/gateway.js'
import { ActionError } from '../../src/errors.js'
import { settingsFrom } from '../fixtures/inputs.js'

interface Answer {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

const settings = settingsFrom()
const factoryId = `/subscriptions/${settings.factory.subscriptionId}/resourceGroups/rg-data/providers/Microsoft.DataFactory/factories/adf-demo`
const options = () => ({ abortSignal: new AbortController().signal })
const armError = (status: number, code: string, message = code): Answer => ({
  status,
  body: { error: { code, message } },
  headers: { 'content-type': 'application/json' }
})

/** The gateway over real SDK clients whose every request `answer` answers; `sent` lists them. */
function gatewayOver(answer: (request: PipelineRequest) => Answer) {
  const sent: PipelineRequest[] = []
  const httpClient: HttpClient = {
    sendRequest: async (request) => {
      sent.push(request)
      const { status, body, headers } = answer(request)
      return {
        request,
        status,
        headers: createHttpHeaders({ 'content-type': 'application/json', ...headers }),
        bodyAsText: body === undefined ? '' : JSON.stringify(body)
      }
    }
  }
  const credential = {
    getToken: async () => ({ token: 'test', expiresOnTimestamp: Date.now() + 3_600_000 })
  }
  const clientOptions = {
    httpClient,
    endpoint: 'https://management.azure.com',
    retryOptions: { maxRetries: 0 }
  }
  const clients = {
    dataFactory: new DataFactoryManagementClient(
      credential,
      settings.factory.subscriptionId,
      clientOptions
    ),
    postgres: new PostgreSQLManagementFlexibleServerClient(
      credential,
      settings.server.subscriptionId,
      clientOptions
    )
  }
  return { azure: createGateway(clients, settings), sent }
}

const failureOf = (call: Promise<unknown>) =>
  call.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (error: unknown) => error as ActionError
  )

describe('failures carry the full ARM id and the permission', () => {
  it('a 403 on the endpoint list names the managed virtual network by id and the read permission', async () => {
    const { azure } = gatewayOver(() =>
      armError(403, 'AuthorizationFailed', 'The client has no authorization.')
    )
    const failure = await failureOf(azure.listManagedPrivateEndpoints(options()))
    expect(failure).toBeInstanceOf(ActionError)
    expect(failure.resource).toBe(`${factoryId}/managedVirtualNetworks/default`)
    expect(failure.message).toMatch(/^Could not list the managed private endpoints '.*' \(HTTP 403/)
    expect(failure.hint).toContain(permissions.endpointRead)
  })

  it('a deleted probe names its id in the factory', async () => {
    const { azure } = gatewayOver(() => armError(500, 'InternalServerError'))
    const failure = await failureOf(azure.deletePipeline('adfpg-probe', options()))
    expect(failure.resource).toBe(`${factoryId}/pipelines/adfpg-probe`)
  })

  it('a run that cannot be cancelled names the run by id and the cancel permission', async () => {
    const { azure } = gatewayOver(() => armError(403, 'AuthorizationFailed'))
    const failure = await failureOf(azure.cancelPipelineRun('run-1', options()))
    expect(failure.resource).toBe(`${factoryId}/pipelineruns/run-1`)
    expect(failure.hint).toContain(permissions.runCancel)
  })
})

describe('404s', () => {
  it('a missing server is undefined; a missing resource group is a wrong input, thrown', async () => {
    const missing = gatewayOver(() => armError(404, 'ResourceNotFound'))
    await expect(missing.azure.findServer(options())).resolves.toBeUndefined()
    const wrongGroup = gatewayOver(() => armError(404, 'ResourceGroupNotFound'))
    const failure = await failureOf(wrongGroup.azure.findServer(options()))
    expect(failure.resource).toBe(settings.server.id)
    expect(failure.message).toContain('ResourceGroupNotFound')
  })

  it('readFactory throws on a 404 that findFactory answers undefined', async () => {
    const { azure } = gatewayOver(() => armError(404, 'ResourceNotFound'))
    await expect(azure.findFactory(options())).resolves.toBeUndefined()
    expect((await failureOf(azure.readFactory(options()))).resource).toBe(factoryId)
  })

  it('deleting a connection the server dropped meanwhile is done', async () => {
    const { azure, sent } = gatewayOver(() => armError(404, 'ResourceNotFound'))
    await expect(azure.deleteConnection('c', options())).resolves.toBeUndefined()
    expect(sent.map((request) => request.method)).toEqual(['DELETE'])
  })
})

describe('raw bodies', () => {
  it("keeps the AzurePostgreSql v2 typeProperties the SDK's model drops, with etag and id", async () => {
    const body = {
      id: `${factoryId}/linkedservices/ls`,
      name: 'ls',
      etag: '"e1"',
      properties: {
        type: 'AzurePostgreSql',
        version: '2.0',
        typeProperties: { server: 'pg-demo.postgres.database.azure.com', sslMode: 2 }
      }
    }
    const { azure } = gatewayOver(() => ({ status: 200, body }))
    await expect(azure.findRawLinkedService('ls', options())).resolves.toEqual({
      body,
      etag: '"e1"',
      id: body.id
    })
  })

  it('lists every page of a factory list as Azure sent it', async () => {
    const next = `https://management.azure.com${factoryId}/datasets?page=2`
    const { azure, sent } = gatewayOver((request) =>
      request.url.includes('page=2')
        ? { status: 200, body: { value: [{ name: 'b', properties: { extra: 2 } }] } }
        : {
            status: 200,
            body: { value: [{ name: 'a', properties: { extra: 1 } }], nextLink: next }
          }
    )
    await expect(azure.listRaw('datasets', options())).resolves.toEqual([
      { name: 'a', properties: { extra: 1 } },
      { name: 'b', properties: { extra: 2 } }
    ])
    expect(sent).toHaveLength(2)
  })

  it('writes a linked service with If-Match when an etag was read', async () => {
    const { azure, sent } = gatewayOver(() => ({
      status: 200,
      body: { name: 'ls', properties: { type: 'AzurePostgreSql', typeProperties: {} } }
    }))
    await azure.writeLinkedService(
      'ls',
      { type: 'AzurePostgreSql', typeProperties: {} },
      { ...options(), ifMatch: '"e1"' }
    )
    expect(sent[0].headers.get('if-match')).toBe('"e1"')
  })
})

describe('beginApproveConnection', () => {
  const status = 'https://management.azure.com/operations/op-1?api-version=2025-08-01'

  it("sends Approved with the description, carries the private endpoint id for the body policy, and follows Azure's Retry-After", async () => {
    let polls = 0
    const { azure, sent } = gatewayOver((request): Answer => {
      if (request.url.startsWith(status)) {
        polls++
        return {
          status: 200,
          body: { status: polls < 3 ? 'InProgress' : 'Succeeded' },
          headers: { 'retry-after': String(6 - 2 * polls) }
        }
      }
      if (request.method === 'GET') {
        return {
          status: 200,
          body: {
            name: 'c',
            properties: { privateLinkServiceConnectionState: { status: 'Approved' } }
          }
        }
      }
      return { status: 202, headers: { 'azure-asyncoperation': status, 'retry-after': '5' } }
    })
    const operation = await azure.beginApproveConnection(
      'c',
      { description: 'Data Factory adf-demo', privateEndpointId: '/pe/adf-demo.pg-pg-demo' },
      options()
    )
    // The SDK's begin already looked at the operation once: the latest Retry-After is that answer's.
    expect(operation.retryAfterMs).toBe(4_000)
    const [approval] = sent
    expect(approval.url).toContain(`${settings.server.id}/privateEndpointConnections/c`)
    expect(JSON.parse(String(approval.body))).toMatchObject({
      properties: {
        privateLinkServiceConnectionState: {
          status: 'Approved',
          description: 'Data Factory adf-demo'
        }
      }
    })
    expect(approval.headers.get(privateEndpointIdHeader)).toBe('/pe/adf-demo.pg-pg-demo')
    await expect(operation.poll(options())).resolves.toEqual({ done: false, retryAfterMs: 2_000 })
    await expect(operation.poll(options())).resolves.toMatchObject({ done: true })
  })

  it('an operation that fails is an ActionError naming the connection, its code and message', async () => {
    const { azure } = gatewayOver((request) =>
      request.url.startsWith(status)
        ? {
            status: 200,
            body: { status: 'Failed', error: { code: 'InternalServerError', message: 'Boom' } }
          }
        : { status: 202, headers: { 'azure-asyncoperation': status } }
    )
    // The SDK's begin looks at the operation once: a failed one fails the begin.
    const failure = await failureOf(
      azure.beginApproveConnection('c', { description: 'd', privateEndpointId: '' }, options())
    )
    expect(failure.resource).toBe(`${settings.server.id}/privateEndpointConnections/c`)
    expect(failure.message).toContain(
      "Azure accepted the request, but its operation on '" +
        `${settings.server.id}/privateEndpointConnections/c' failed (InternalServerError: Boom)`
    )
  })
})

describe('every operation', () => {
  const dataset: DatasetResource = {
    properties: {
      type: 'AzurePostgreSqlTable',
      linkedServiceName: { referenceName: 'ls', type: 'LinkedServiceReference' }
    }
  }
  const calls: Record<string, (azure: AzureGateway) => Promise<unknown>> = {
    findFactory: (azure) => azure.findFactory(options()),
    readFactory: (azure) => azure.readFactory(options()),
    findIntegrationRuntime: (azure) => azure.findIntegrationRuntime(options()),
    listManagedVirtualNetworks: (azure) => azure.listManagedVirtualNetworks(options()),
    listManagedPrivateEndpoints: (azure) => azure.listManagedPrivateEndpoints(options()),
    createManagedPrivateEndpoint: (azure) =>
      azure.createManagedPrivateEndpoint(
        'e',
        { privateLinkResourceId: settings.server.id, groupId: 'postgresqlServer' },
        options()
      ),
    deleteManagedPrivateEndpoint: (azure) => azure.deleteManagedPrivateEndpoint('e', options()),
    findLinkedService: (azure) => azure.findLinkedService('ls', options()),
    findRawLinkedService: (azure) => azure.findRawLinkedService('ls', options()),
    writeLinkedService: (azure) =>
      azure.writeLinkedService('ls', { type: 'AzurePostgreSql' }, options()),
    deleteLinkedService: (azure) => azure.deleteLinkedService('ls', options()),
    listRaw: (azure) => azure.listRaw('pipelines', options()),
    writeDataset: (azure) => azure.writeDataset('d', dataset, options()),
    deleteDataset: (azure) => azure.deleteDataset('d', options()),
    writePipeline: (azure) => azure.writePipeline('p', { activities: [] }, options()),
    deletePipeline: (azure) => azure.deletePipeline('p', options()),
    runPipeline: (azure) => azure.runPipeline('p', options()),
    readPipelineRun: (azure) => azure.readPipelineRun('r', options()),
    cancelPipelineRun: (azure) => azure.cancelPipelineRun('r', options()),
    queryActivityRuns: (azure) =>
      azure.queryActivityRuns('r', { after: new Date(0), before: new Date(1) }, options()),
    readServer: (azure) => azure.readServer(options()),
    findServer: (azure) => azure.findServer(options()),
    findPrivateLinkResources: (azure) => azure.findPrivateLinkResources(options()),
    listConnections: (azure) => azure.listConnections(options()),
    beginApproveConnection: (azure) =>
      azure.beginApproveConnection('c', { description: 'd', privateEndpointId: '' }, options()),
    deleteConnection: (azure) => azure.deleteConnection('c', options())
  }

  it.each(Object.entries(calls))(
    '%s: a refusal is an ActionError with the full ARM id of what failed and a permission to grant',
    async (_name, call) => {
      const { azure } = gatewayOver(() =>
        armError(403, 'AuthorizationFailed', 'The client has no authorization to perform action.')
      )
      const failure = await failureOf(call(azure))
      expect(failure).toBeInstanceOf(ActionError)
      expect(failure.resource).toMatch(
        /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.(DataFactory\/factories|DBforPostgreSQL\/flexibleServers)\/[^/]+/
      )
      expect(failure.hint).toMatch(/Microsoft\.(DataFactory|DBforPostgreSQL)\/[\w/]+/)
    }
  )

  it('the table above covers every operation of the gateway', () => {
    const { azure } = gatewayOver(() => ({ status: 200 }))
    expect(Object.keys(calls).sort()).toEqual(
      Object.keys(azure)
        .filter((name) => name !== 'ids')
        .sort()
    )
  })
})
