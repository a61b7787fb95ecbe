// The emulator's platform against the real clients: @azure/identity (MSAL Node), an ARM SDK, raw HTTPS.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { request } from 'node:https'
import { DataFactoryManagementClient } from '@azure/arm-datafactory'
import {
  ClientAssertionCredential,
  ClientSecretCredential,
  type TokenCredential
} from '@azure/identity'
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { basicIds, basicScenario, startEmulator, type RunningEmulator } from '../index.js'

interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: any // eslint-disable-line @typescript-eslint/no-explicit-any
}

let emulator: RunningEmulator

/** One HTTPS call that trusts only the emulator's CA, as a client with NODE_EXTRA_CA_CERTS would. */
function call(
  method: string,
  path: string,
  options: {
    token?: string
    body?: unknown
    form?: Record<string, string>
    headers?: Record<string, string>
  } = {}
): Promise<HttpAnswer> {
  const payload = options.form
    ? new URLSearchParams(options.form).toString()
    : options.body === undefined
      ? ''
      : JSON.stringify(options.body)
  const headers: Record<string, string> = {
    ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
    ...(payload
      ? { 'Content-Type': options.form ? 'application/x-www-form-urlencoded' : 'application/json' }
      : {}),
    ...options.headers
  }
  return new Promise((resolve, reject) => {
    const req = request(
      `${emulator.url}${path}`,
      { method, headers, ca: emulator.caPem },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text ? JSON.parse(text) : undefined
          })
        )
      }
    )
    req.on('error', reject)
    req.end(payload)
  })
}

const principal = () => emulator.principals[0]
const credentialOptions = () => ({
  authorityHost: emulator.url,
  disableInstanceDiscovery: true,
  tlsOptions: { ca: emulator.caPem }
})
const armScope = () => `${emulator.url}/.default`
const resourceGroupPath = `/subscriptions/${basicIds.subscriptionId}/resourceGroups/${basicIds.resourceGroup}`
const factoryPath = `${resourceGroupPath}/providers/Microsoft.DataFactory/factories/${basicIds.factoryName}`

function secretCredential(secret = principal().clientSecret ?? ''): TokenCredential {
  return new ClientSecretCredential(
    emulator.tenantId,
    principal().clientId,
    secret,
    credentialOptions()
  )
}

async function githubToken(audience = 'api://AzureADTokenExchange'): Promise<string> {
  const requestUrl = new URL(
    `${emulator.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent(audience)}`
  )
  const answer = await call('GET', requestUrl.pathname + requestUrl.search, {
    token: emulator.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
  })
  expect(answer.status).toBe(200)
  return answer.body.value
}

async function armToken(): Promise<string> {
  return (await secretCredential().getToken(armScope()))!.token
}

beforeAll(async () => {
  emulator = await startEmulator({ scenario: basicScenario(), postgres: false })
})

afterAll(async () => {
  await emulator?.stop()
})

beforeEach(async () => {
  await emulator.admin.reset()
})

describe('Entra ID as MSAL Node uses it', () => {
  it('issues an access token for the emulated Resource Manager to a client secret', async () => {
    const token = await secretCredential().getToken(armScope())
    const claims = decodeJwt(token!.token)
    expect(claims).toMatchObject({
      aud: emulator.url,
      appid: principal().clientId,
      oid: principal().objectId,
      tid: emulator.tenantId
    })
    expect(claims.exp! - claims.iat!).toBe(emulator.delays.accessTokenLifetimeSeconds)
  })

  it('refuses a wrong secret with AADSTS7000215', async () => {
    await expect(secretCredential('not-the-secret').getToken(armScope())).rejects.toThrow(
      /AADSTS7000215/
    )
  })

  it("resolves the tenant's verified domain to the tenant, and refuses an unknown one like Entra (AADSTS90002)", async () => {
    const byDomain = new ClientSecretCredential(
      'emulator.onmicrosoft.com',
      principal().clientId,
      principal().clientSecret ?? '',
      credentialOptions()
    )
    const token = await byDomain.getToken(armScope())
    expect(decodeJwt(token!.token)).toMatchObject({ tid: emulator.tenantId })
    const discovery = await call('GET', '/contoso.example/v2.0/.well-known/openid-configuration')
    expect(discovery.status).toBe(400)
    expect(discovery.body).toMatchObject({ error: 'invalid_tenant', error_codes: [90002] })
    expect(discovery.body.error_description).toMatch(
      /^AADSTS90002: Tenant 'contoso.example' not found\./
    )
    const unknown = new ClientSecretCredential(
      'contoso.example',
      principal().clientId,
      principal().clientSecret ?? '',
      credentialOptions()
    )
    await expect(unknown.getToken(armScope())).rejects.toThrow(/endpoints_resolution_error/)
  })

  it('refuses an application the tenant does not know with AADSTS700016', async () => {
    const stranger = new ClientSecretCredential(
      emulator.tenantId,
      '00000000-1111-4222-8333-444444444444',
      'whatever',
      credentialOptions()
    )
    await expect(stranger.getToken(armScope())).rejects.toThrow(/AADSTS700016/)
  })

  it('exchanges a GitHub OIDC token for an access token (ClientAssertionCredential)', async () => {
    const credential = new ClientAssertionCredential(
      emulator.tenantId,
      principal().clientId,
      () => githubToken(),
      credentialOptions()
    )
    const claims = decodeJwt((await credential.getToken(armScope()))!.token)
    expect(claims).toMatchObject({ oid: principal().objectId, appidacr: '2' })
  })

  it('refuses an assertion from another branch (AADSTS700213) and for another audience (AADSTS700212)', async () => {
    const otherBranch = await emulator.admin.issueGithubToken({
      audience: 'api://AzureADTokenExchange',
      subject: 'repo:octo-org/octo-repo:ref:refs/heads/feature'
    })
    const credential = (assertion: string) =>
      new ClientAssertionCredential(
        emulator.tenantId,
        principal().clientId,
        async () => assertion,
        credentialOptions()
      )
    await expect(credential(otherBranch).getToken(armScope())).rejects.toThrow(
      /AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:octo-org\/octo-repo:ref:refs\/heads\/feature'/
    )
    await expect(
      credential(await githubToken('api://SomethingElse')).getToken(armScope())
    ).rejects.toThrow(/AADSTS700212/)
  })

  it('refuses an expired assertion (AADSTS700024) and one signed by another key', async () => {
    const expired = await emulator.admin.issueGithubToken({
      audience: 'api://AzureADTokenExchange',
      issuedAt: Math.floor(Date.now() / 1000) - 3600,
      lifetimeSeconds: 300
    })
    const forged = await selfSigned({ ...decodeJwt(await githubToken()) })
    const exchange = (assertion: string) =>
      call('POST', `/${emulator.tenantId}/oauth2/v2.0/token`, {
        form: {
          grant_type: 'client_credentials',
          client_id: principal().clientId,
          scope: armScope(),
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion
        }
      })
    const late = await exchange(expired)
    expect(late.status).toBe(400)
    expect(late.body).toMatchObject({ error: 'invalid_client', error_codes: [700024] })
    expect(late.body.error_description).toMatch(
      /^AADSTS700024: Client assertion is not within its valid time range/
    )
    expect(late.body.trace_id).toEqual(expect.any(String))
    expect(late.body.correlation_id).toEqual(expect.any(String))
    expect((await exchange(forged)).body.error_codes).toEqual([50013])
  })

  it('serves the GitHub OIDC token only to the runner request token', async () => {
    const path = new URL(emulator.env.ACTIONS_ID_TOKEN_REQUEST_URL).pathname
    expect((await call('GET', `${path}?api-version=2.0`, { token: 'guess' })).status).toBe(401)
    const claims = decodeJwt(await githubToken())
    expect(claims).toMatchObject({
      iss: `${emulator.url}/github-oidc`,
      sub: basicIds.githubSubject,
      aud: 'api://AzureADTokenExchange'
    })
  })
})

/** A token with the same claims, signed by a key the emulator never saw. */
async function selfSigned(claims: Record<string, unknown>): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const kid = (await exportJWK(publicKey)).n!.slice(0, 8)
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey)
}

describe("Resource Manager's checks", () => {
  const factoryUrl = `${factoryPath}?api-version=2018-06-01`

  it('answers 401 with ARM wording and a WWW-Authenticate challenge', async () => {
    const missing = await call('GET', factoryUrl)
    expect(missing.status).toBe(401)
    expect(missing.body.error.code).toBe('AuthenticationFailed')
    expect(missing.headers['www-authenticate']).toMatch(
      /^Bearer authorization_uri="https:\/\/127\.0\.0\.1:\d+\//
    )

    const claims = decodeJwt(await armToken())
    const forged = await call('GET', factoryUrl, { token: await selfSigned(claims) })
    expect(forged.body.error).toEqual({
      code: 'InvalidAuthenticationToken',
      message: 'The access token is invalid.'
    })
  })

  it('refuses a token for another audience and an expired one', async () => {
    const wrongAudience = await call('GET', factoryUrl, {
      token: await emulatorToken({ audience: 'https://vault.azure.net' })
    })
    expect(wrongAudience.status).toBe(401)
    expect(wrongAudience.body.error.code).toBe('InvalidAuthenticationTokenAudience')
    expect(wrongAudience.body.error.message).toContain(
      "wrong audience or resource 'https://vault.azure.net'"
    )

    const expired = await call('GET', factoryUrl, {
      token: await emulatorToken({
        issuedAt: Math.floor(Date.now() / 1000) - 7200,
        lifetimeSeconds: 3600
      })
    })
    expect(expired.status).toBe(401)
    expect(expired.body.error.code).toBe('ExpiredAuthenticationToken')
    expect(expired.body.error.message).toMatch(
      /^The access token expiry UTC time '\d+\/\d+\/\d{4} \d+:\d{2}:\d{2} [AP]M' is earlier than current UTC time/
    )
  })

  it("answers 403 AuthorizationFailed in ARM's exact words when the role does not cover the action", async () => {
    emulator.admin.setRoles(principal().clientId, [{ scope: resourceGroupPath, role: 'Reader' }])
    const action =
      'Microsoft.DataFactory/factories/managedVirtualNetworks/managedPrivateEndpoints/write'
    const endpoint = `${factoryPath}/managedVirtualNetworks/default/managedPrivateEndpoints/pg-pg-demo`
    const answer = await call('PUT', `${endpoint}?api-version=2018-06-01`, {
      token: await armToken(),
      body: { properties: { privateLinkResourceId: 'x', groupId: 'postgresqlServer' } }
    })
    expect(answer.status).toBe(403)
    expect(answer.body.error).toEqual({
      code: 'AuthorizationFailed',
      message: `The client '${principal().clientId}' with object id '${principal().objectId}' does not have authorization to perform action '${action}' over scope '${endpoint}' or the scope is invalid. If access was recently granted, please refresh your credentials.`
    })
    expect((await call('GET', factoryUrl, { token: await armToken() })).status).toBe(200)
  })

  it('checks the action against custom actions and notActions, and scopes POST actions to their resource', async () => {
    emulator.admin.setRoles(principal().clientId, [
      {
        scope: resourceGroupPath,
        actions: ['Microsoft.DataFactory/*'],
        notActions: ['*/createrun/action']
      }
    ])
    const answer = await call(
      'POST',
      `${factoryPath}/pipelines/probe/createRun?api-version=2018-06-01`,
      {
        token: await armToken(),
        body: {}
      }
    )
    expect(answer.status).toBe(403)
    expect(answer.body.error.message).toContain(
      `perform action 'Microsoft.DataFactory/factories/pipelines/createrun/action' over scope '${factoryPath}/pipelines/probe'`
    )
  })

  it('approving a connection also needs the Private Link approval action on the server', async () => {
    const serverPath = `${resourceGroupPath}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${basicIds.serverName}`
    const [pending] = emulator.admin.listConnections(basicIds.serverName) as { name: string }[]
    const write = 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write'
    const approval =
      'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnectionsApproval/action'
    const approve = async (actions: string[]) => {
      emulator.admin.setRoles(principal().clientId, [{ scope: serverPath, actions }])
      return call(
        'PUT',
        `${serverPath}/privateEndpointConnections/${pending.name}?api-version=2024-08-01`,
        {
          token: await armToken(),
          body: { properties: { privateLinkServiceConnectionState: { status: 'Approved' } } }
        }
      )
    }
    const refused = await approve([write])
    expect(refused.status).toBe(403)
    expect(refused.body.error.message).toContain(
      `perform action '${approval}' over scope '${serverPath}' or the scope is invalid.`
    )
    expect((await approve([write, approval])).status).toBe(202)
  })

  it('checks api-version as ARM does', async () => {
    const token = await armToken()
    const missing = await call('GET', factoryPath, { token })
    expect(missing.body.error).toEqual({
      code: 'MissingApiVersionParameter',
      message: 'The api-version query parameter (?api-version=) is required for all requests.'
    })
    const malformed = await call('GET', `${factoryPath}?api-version=latest`, { token })
    expect(malformed.status).toBe(400)
    expect(malformed.body.error.code).toBe('InvalidApiVersionParameter')
    expect(malformed.body.error.message).toContain(
      "The api-version 'latest' is invalid. The supported versions are"
    )
    const unsupported = await call('GET', `${factoryPath}?api-version=2099-01-01`, { token })
    expect(unsupported.body.error.code).toBe('NoRegisteredProviderFound')
    expect(unsupported.body.error.message).toContain(
      "for type 'factories'. The supported api-versions are '2018-06-01'"
    )
    const group = await call('GET', `${resourceGroupPath}?api-version=1999-01-01`, { token })
    expect(group.body.error.code).toBe('InvalidApiVersionParameter')
  })

  it('answers a factory in a resource group that does not exist with 403 to a caller without rights there, 404 with them', async () => {
    const typo = `/subscriptions/${basicIds.subscriptionId}/resourceGroups/rg-typo/providers/Microsoft.DataFactory/factories/${basicIds.factoryName}`
    const hidden = await call('GET', `${typo}?api-version=2018-06-01`, { token: await armToken() })
    expect(hidden.status).toBe(403)
    expect(hidden.body.error.code).toBe('AuthorizationFailed')
    expect(hidden.body.error.message).toContain(
      `perform action 'Microsoft.DataFactory/factories/read' over scope '${typo}' or the scope is invalid.`
    )
    emulator.admin.setRoles(principal().clientId, [
      { scope: `/subscriptions/${basicIds.subscriptionId}`, role: 'Reader' }
    ])
    const missing = await call('GET', `${typo}?api-version=2018-06-01`, { token: await armToken() })
    expect(missing.status).toBe(404)
    expect(missing.body.error).toEqual({
      code: 'ResourceGroupNotFound',
      message: "Resource group 'rg-typo' could not be found."
    })
  })

  it('answers missing resource groups, unknown types and unknown namespaces like ARM', async () => {
    const token = await armToken()
    emulator.admin.setRoles(principal().clientId, [
      { scope: `/subscriptions/${basicIds.subscriptionId}`, role: 'Reader' }
    ])
    const group = await call(
      'GET',
      `/subscriptions/${basicIds.subscriptionId}/resourcegroups/nope?api-version=2021-04-01`,
      {
        token
      }
    )
    expect(group.status).toBe(404)
    expect(group.body.error).toEqual({
      code: 'ResourceGroupNotFound',
      message: "Resource group 'nope' could not be found."
    })
    const type = await call('GET', `${factoryPath}/gadgets/x?api-version=2018-06-01`, { token })
    expect(type.status).toBe(404)
    expect(type.body.error.code).toBe('InvalidResourceType')
    const namespace = await call(
      'GET',
      `${resourceGroupPath}/providers/Microsoft.Nope/things/x?api-version=2020-01-01`,
      {
        token
      }
    )
    expect(namespace.body.error.code).toBe('InvalidResourceNamespace')
  })

  it('describes providers from their routes, and lists the subscriptions the caller can see', async () => {
    const token = await armToken()
    const provider = await call(
      'GET',
      `/subscriptions/${basicIds.subscriptionId}/providers/Microsoft.DataFactory?api-version=2021-04-01`,
      {
        token
      }
    )
    const types = provider.body.resourceTypes.map(
      (type: { resourceType: string }) => type.resourceType
    )
    expect(types).toEqual(
      expect.arrayContaining([
        'factories',
        'factories/managedVirtualNetworks/managedPrivateEndpoints'
      ])
    )
    const subscriptions = await call('GET', '/subscriptions?api-version=2022-12-01', { token })
    expect(
      subscriptions.body.value.map((s: { subscriptionId: string }) => s.subscriptionId)
    ).toEqual([basicIds.subscriptionId])
    expect(subscriptions.headers['x-ms-request-id']).toEqual(expect.any(String))
    expect(subscriptions.headers['x-ms-correlation-request-id']).toEqual(expect.any(String))
  })
})

/** A Resource Manager token signed by the emulator's own key, with chosen audience and lifetime. */
function emulatorToken(options: {
  audience?: string
  issuedAt?: number
  lifetimeSeconds?: number
}) {
  return emulator.admin.issueAccessToken(principal().clientId, options)
}

describe('fault injection and the request log', () => {
  function factoryClient() {
    return new DataFactoryManagementClient(secretCredential(), basicIds.subscriptionId, {
      endpoint: emulator.url,
      tlsOptions: { ca: emulator.caPem }
    })
  }

  it('throttles with 429 + Retry-After, and the SDK waits and retries', async () => {
    const client = factoryClient()
    await client.factories.get(basicIds.resourceGroup, basicIds.factoryName) // warm the token
    emulator.admin.clearRequestLog()
    emulator.admin.injectFault({
      kind: 'throttle',
      method: 'GET',
      path: '/factories/adf-demo$',
      retryAfterSeconds: 1
    })
    const started = Date.now()
    const factory = await client.factories.get(basicIds.resourceGroup, basicIds.factoryName)
    expect(factory.name).toBe(basicIds.factoryName)
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
    const log = emulator.admin
      .requestLog()
      .filter((entry) => entry.path.endsWith('/factories/adf-demo'))
    expect(log.map((entry) => [entry.status, entry.fault])).toEqual([
      [429, 'throttle'],
      [200, undefined]
    ])
  })

  it('answers 500 and 503, drops connections and delays, for a count or a rate', async () => {
    const token = await armToken()
    const url = `${factoryPath}?api-version=2018-06-01`
    emulator.admin.injectFault({ kind: 'server-error', path: 'factories', count: 2 })
    expect((await call('GET', url, { token })).status).toBe(500)
    expect((await call('GET', url, { token })).body.error.code).toBe('InternalServerError')
    expect((await call('GET', url, { token })).status).toBe(200)

    emulator.admin.injectFault({
      kind: 'unavailable',
      path: 'factories',
      rate: 0.5,
      retryAfterSeconds: 3
    })
    const statuses = []
    for (let attempt = 0; attempt < 4; attempt++)
      statuses.push((await call('GET', url, { token })).status)
    expect(statuses).toEqual([200, 503, 200, 503])
    emulator.admin.clearFaults()

    emulator.admin.injectFault({ kind: 'drop-connection', path: 'factories' })
    await expect(call('GET', url, { token })).rejects.toThrow(/socket hang up|ECONNRESET/)

    emulator.admin.injectFault({ kind: 'delay', path: 'factories', delayMs: 150 })
    const started = Date.now()
    expect((await call('GET', url, { token })).status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('logs requests with every secret removed', async () => {
    await secretCredential().getToken(armScope())
    const password = basicScenario().servers[0].roles[0].password
    await call('PUT', `${factoryPath}/linkedservices/PostgreSql_pg_demo?api-version=2018-06-01`, {
      token: await armToken(),
      body: {
        properties: {
          type: 'AzurePostgreSql',
          version: '2.0',
          typeProperties: {
            server: 'pg-demo.postgres.database.azure.com',
            username: 'adfuser',
            password: { type: 'SecureString', value: password },
            connectionString: `host=pg-demo;password=${password};sslmode=require`
          }
        }
      }
    })
    const log = emulator.admin.requestLog()
    const text = JSON.stringify(log)
    expect(text).not.toContain(principal().clientSecret)
    expect(text).not.toContain(password)
    expect(text).not.toMatch(/eyJ[\w-]+\.eyJ/)
    const tokenRequest = log.find((entry) => entry.path.endsWith('/oauth2/v2.0/token'))
    expect(tokenRequest).toMatchObject({
      caller: principal().clientId,
      requestBody: { client_secret: '***' }
    })
    const put = log.find((entry) => entry.method === 'PUT')
    expect(put).toMatchObject({
      caller: principal().clientId,
      requestHeaders: { authorization: '***' }
    })
    expect(put?.requestBody).toMatchObject({
      properties: { typeProperties: { password: { type: 'SecureString', value: '***' } } }
    })
  })

  it('serves the same admin API over HTTP', async () => {
    const fault = await call('POST', '/_emulator/faults', {
      body: { kind: 'server-error', path: 'factories' }
    })
    expect(fault.status).toBe(201)
    expect((await call('GET', '/_emulator/faults')).body).toHaveLength(1)
    const approve = await call('POST', '/_emulator/connections/approve', {
      body: {
        server: basicIds.serverName,
        privateEndpointName: 'pg-pg-demo',
        factoryName: 'adf-analytics'
      }
    })
    expect(approve.status).toBe(200)
    const ambiguous = await call('POST', '/_emulator/connections/reject', {
      body: { server: basicIds.serverName, privateEndpointName: 'nothing-like-it' }
    })
    expect(ambiguous.status).toBe(404)
    expect((await call('POST', '/_emulator/reset')).status).toBe(200)
    expect((await call('GET', '/_emulator/faults')).body).toEqual([])
  })

  it('refuses a landing-zone setting it cannot apply, naming the missing field (400)', async () => {
    const refused = [
      ['/_emulator/policies', [{}], 'assignment.name'],
      ['/_emulator/policies', { assignment: {} }, 'a JSON array'],
      ['/_emulator/locks', [{ name: 'l', scope: '/subscriptions/s', level: 'Frozen' }], 'level'],
      ['/_emulator/key-vaults', [{ vaultBaseUrl: 'https://v.vault.azure.net/' }], 'id'],
      [`/_emulator/servers/${basicIds.serverName}/private-link-groups`, [1], 'string']
    ] as const
    for (const [route, body, named] of refused) {
      const answer = await call('PUT', route, { body })
      expect(answer.status).toBe(400)
      expect(JSON.stringify(answer.body)).toContain(named)
    }
    const lock = { name: 'l', scope: '/subscriptions/s/resourceGroups/g', level: 'ReadOnly' }
    expect((await call('PUT', '/_emulator/locks', { body: [lock] })).status).toBe(200)
    expect((await call('POST', '/_emulator/reset')).status).toBe(200)
  })
})
