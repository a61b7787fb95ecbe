import { describe, expect, test } from '@jest/globals'
import type { TokenCredential } from '@azure/identity'
import { createClients, requestLogPolicy } from '../src/azure.js'
import { settingsFrom } from './helpers.js'

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
