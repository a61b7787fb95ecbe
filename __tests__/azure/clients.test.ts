// The one place that builds the SDK clients: their endpoint and user agent, the approval body
// policy in the server client's pipeline, and the raw-body reads.
import { describe, expect, it } from '@jest/globals'
import {
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type PipelineRequest
} from '@azure/core-rest-pipeline'
import {
  createClients,
  listAll,
  listRawItems,
  privateEndpointIdHeader,
  withRawBody
} from '../../src/azure/clients.js'
import { settingsFrom } from '../fixtures/inputs.js'

const credential = {
  getToken: async () => ({ token: 'test', expiresOnTimestamp: Date.now() + 3_600_000 })
}

/** Sends `request` through the server client's pipeline to a transport that keeps it. */
async function throughServerPipeline(request: PipelineRequest): Promise<PipelineRequest> {
  const { postgres } = createClients(settingsFrom(), credential)
  let sent: PipelineRequest | undefined
  const httpClient: HttpClient = {
    sendRequest: async (outgoing) => {
      sent = outgoing
      return { request: outgoing, status: 200, headers: createHttpHeaders() }
    }
  }
  await postgres.pipeline.sendRequest(httpClient, request)
  if (!sent) throw new Error('nothing was sent')
  return sent
}

describe('createClients', () => {
  it("builds both clients for their own subscriptions against the cloud's Resource Manager", () => {
    const other = '11111111-2222-4333-8444-555555555555'
    const settings = settingsFrom({
      'server-name': '',
      'server-id': `/subscriptions/${other}/resourceGroups/rg-db/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-demo`
    })
    const { dataFactory, postgres } = createClients(settings, credential)
    expect(dataFactory.subscriptionId).toBe(settings.factory.subscriptionId)
    expect(postgres.subscriptionId).toBe(other)
    expect(dataFactory.$host).toBe(settings.signIn.cloud.resourceManagerEndpoint)
    expect(postgres.$host).toBe(settings.signIn.cloud.resourceManagerEndpoint)
  })

  it("puts the connection's private endpoint id into an approval's body and never sends the carrier header", async () => {
    const request = createPipelineRequest({
      url: 'https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg/privateEndpointConnections/c',
      method: 'PUT',
      headers: createHttpHeaders({ [privateEndpointIdHeader]: '/pe/adf-demo.pg-pg-demo' }),
      body: JSON.stringify({
        properties: { privateLinkServiceConnectionState: { status: 'Approved' } }
      })
    })
    const sent = await throughServerPipeline(request)
    expect(sent.headers.has(privateEndpointIdHeader)).toBe(false)
    expect(JSON.parse(String(sent.body))).toEqual({
      properties: {
        privateLinkServiceConnectionState: { status: 'Approved' },
        privateEndpoint: { id: '/pe/adf-demo.pg-pg-demo' }
      }
    })
    expect(sent.headers.get('user-agent')).toMatch(/^GitHubActions\/adf-pg-private-link/)
  })

  it('leaves a body alone when no private endpoint id comes with it', async () => {
    const body = JSON.stringify({ properties: { a: 1 } })
    const sent = await throughServerPipeline(
      createPipelineRequest({ url: 'https://management.azure.com/x', method: 'PUT', body })
    )
    expect(sent.body).toBe(body)
  })
})

describe('raw reads', () => {
  it('returns the JSON Azure sent, not the SDK model that dropped the v2 fields', async () => {
    const sent = {
      properties: { type: 'AzurePostgreSql', typeProperties: { server: 'pg', sslMode: 3 } }
    }
    const { value, body } = await withRawBody(async ({ onResponse }) => {
      onResponse({
        status: 200,
        parsedBody: { properties: { type: 'AzurePostgreSql' } },
        bodyAsText: JSON.stringify(sent)
      })
      return 'model'
    })
    expect(value).toBe('model')
    expect(body).toEqual(sent)
  })

  it("listRawItems collects every page's raw value items while the pages are read", async () => {
    const pages = ['{"value":[{"name":"a"}]}', '{"value":[{"name":"b"}]}']
    const items = await listRawItems(({ onResponse }) =>
      (async function* () {
        for (const page of pages) {
          onResponse({ status: 200, bodyAsText: page })
          yield {}
        }
      })()
    )
    expect(items).toEqual([{ name: 'a' }, { name: 'b' }])
  })

  it('listAll reads every item of a paged list', async () => {
    const paged = (async function* () {
      yield* [1, 2, 3]
    })()
    await expect(listAll(paged)).resolves.toEqual([1, 2, 3])
  })
})
