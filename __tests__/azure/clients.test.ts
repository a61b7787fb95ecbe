// The one place that builds the SDK clients: their endpoint and user agent, the approval body
// policy in the server client's pipeline, and the raw-body reads.
import { describe, expect, it, test } from '@jest/globals'
import type { TokenCredential } from '@azure/identity'
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
  requestLogPolicy,
  withRawBody
} from '../../src/azure/clients.js'
import { settingsFrom } from '../fixtures/inputs.js'

/** No step debug logging in these tests. */
const quiet = { debug: () => undefined }

const credential = {
  getToken: async () => ({ token: 'test', expiresOnTimestamp: Date.now() + 3_600_000 })
}

/** Sends `request` through the server client's pipeline to a transport that keeps it. */
async function throughServerPipeline(request: PipelineRequest): Promise<PipelineRequest> {
  const { postgres } = createClients(settingsFrom(), credential, quiet)
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
    const { dataFactory, postgres } = createClients(settings, credential, quiet)
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

type Policy = ReturnType<typeof requestLogPolicy>
type Request = Parameters<Policy['sendRequest']>[0]
type Next = Parameters<Policy['sendRequest']>[1]

const factoryPath =
  '/subscriptions/0b9e4f3a-7c21-4d58-a6e3-2f8b1c9d0e47/resourceGroups/rg-data/providers/Microsoft.DataFactory/factories/adf-demo'
const secretBody = JSON.stringify({ properties: { password: 'Sup3r-secret!' } })
const token = 'eyJhbGciOiJSUzI1NiJ9.secret-token'

/** A request as the pipeline hands it to the last policy: signed, with a body and a secret query value. */
function signedRequest(method: string, url: string): Request {
  const headers = new Map([['authorization', `Bearer ${token}`]])
  return { method, url, body: secretBody, headers } as unknown as Request
}

function answer(status: number, requestId?: string): Next {
  const headers = new Map(requestId ? [['x-ms-request-id', requestId]] : [])
  return async (request) =>
    ({ request, status, headers, bodyAsText: secretBody }) as unknown as Awaited<ReturnType<Next>>
}

/** A clock that advances `stepMs` on every reading. */
function clock(stepMs: number): () => number {
  let now = 1_000
  return () => (now += stepMs)
}

describe('requestLogPolicy', () => {
  test('one line per request: method, path, api-version, status, duration and request id', async () => {
    const lines: string[] = []
    const policy = requestLogPolicy({ debug: (line) => lines.push(line) }, clock(42))
    const url = `https://management.azure.com${factoryPath}?api-version=2018-06-01&%24skipToken=opaque-secret`
    const response = await policy.sendRequest(
      signedRequest('GET', url),
      answer(200, '7f3c9a-request')
    )
    expect(response.status).toBe(200)
    expect(lines).toEqual([
      `ARM GET ${factoryPath} api-version=2018-06-01 → 200 in 42 ms (request id 7f3c9a-request)`
    ])
  })

  test('never a body, a token or another query value; an error status is still one line', async () => {
    const lines: string[] = []
    const policy = requestLogPolicy({ debug: (line) => lines.push(line) }, clock(5))
    const url = `https://management.azure.com${factoryPath}/linkedservices/ls?api-version=2018-06-01&sig=opaque-secret`
    await policy.sendRequest(signedRequest('PUT', url), answer(403))
    expect(lines).toEqual([
      `ARM PUT ${factoryPath}/linkedservices/ls api-version=2018-06-01 → 403 in 5 ms`
    ])
    expect(lines.join('\n')).not.toMatch(/Sup3r-secret|secret-token|opaque-secret|Bearer|[{}]/)
  })

  test('a request that gets no response is logged with its error code and rethrown', async () => {
    const lines: string[] = []
    const policy = requestLogPolicy({ debug: (line) => lines.push(line) }, clock(7))
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), {
      code: 'ECONNREFUSED'
    })
    await expect(
      policy.sendRequest(
        signedRequest('DELETE', `https://management.azure.com${factoryPath}`),
        async () => {
          throw refused
        }
      )
    ).rejects.toBe(refused)
    expect(lines).toEqual([`ARM DELETE ${factoryPath} → no response (ECONNREFUSED) in 7 ms`])
  })
})

describe('createClients', () => {
  test('both clients send every request, after retries and sign-in, through the request log', () => {
    const credential: TokenCredential = { getToken: async () => null }
    const clients = createClients(settingsFrom(), credential, { debug: () => undefined })
    for (const client of [clients.dataFactory, clients.postgres]) {
      const names = client.pipeline.getOrderedPolicies().map((policy) => policy.name)
      const logged = names.indexOf(requestLogPolicy({ debug: () => undefined }).name)
      expect(logged).toBeGreaterThan(names.indexOf('defaultRetryPolicy'))
      expect(logged).toBeGreaterThan(names.indexOf('bearerTokenAuthenticationPolicy'))
      expect(names.indexOf('defaultRetryPolicy')).toBeGreaterThanOrEqual(0)
    }
  })
})
