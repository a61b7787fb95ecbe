// The resource providers through HTTPS with the real Azure SDK clients (a minimal in-test server
// stands in for the platform: no token checks, but the same routing and api-version checks).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { mkdtemp, rm } from 'node:fs/promises'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { DataFactoryManagementClient } from '@azure/arm-datafactory'
import { PostgreSQLManagementFlexibleServerClient } from '@azure/arm-postgresql-flexible'
import type { TokenCredential } from '@azure/core-auth'
import { createCertificateAuthority } from '../src/ca.js'
import { createResourceProviders, identityCredentials } from '../src/providers.js'
import { Router } from '../src/router.js'
import type {
  Delays,
  EmuResponse,
  HttpMethod,
  LookupRequest,
  LookupResult,
  Scenario
} from '../src/types.js'

const subscriptionId = '11111111-2222-3333-4444-555555555555'
const resourceGroup = 'rg-data'
const factoryName = 'adf-demo'
const serverId = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-demo`
const vnetServerId = serverId.replace('pg-demo', 'pg-vnet')
const factoryPath = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.DataFactory/factories/${factoryName}`
const foreignEndpointId =
  '/subscriptions/99999999-0000-0000-0000-000000000000/resourceGroups/other/providers/Microsoft.Network/privateEndpoints/otherfactory.pe-pg'

const delays: Delays = {
  endpointProvisioningMs: 40,
  connectionAppearsMs: 40,
  connectionUpdateMs: 60,
  approvalDiscoveryMs: 120,
  endpointDeletionMs: 50,
  pipelineQueuedMs: 20,
  blockedNetworkTimeoutMs: 80,
  oidcTokenLifetimeSeconds: 300,
  accessTokenLifetimeSeconds: 3600
}

const scenario: Scenario = {
  tenantId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  subscriptions: [
    {
      id: subscriptionId,
      displayName: 'data',
      resourceGroups: [{ name: resourceGroup, location: 'westeurope' }]
    }
  ],
  principals: [],
  factories: [
    {
      subscriptionId,
      resourceGroup,
      name: factoryName,
      location: 'westeurope',
      managedVirtualNetwork: 'default',
      integrationRuntimes: [
        { name: 'ManagedVnetIR', managedVirtualNetwork: 'default' },
        { name: 'PublicIR' }
      ],
      linkedServices: {
        KeyVault: {
          properties: {
            type: 'AzureKeyVault',
            typeProperties: { baseUrl: 'https://kv-demo.vault.azure.net/' }
          }
        }
      },
      identityPostgresRole: 'adf-demo-identity'
    },
    {
      subscriptionId,
      resourceGroup,
      name: 'adf-git',
      location: 'westeurope',
      integrationRuntimes: [],
      repoConfiguration: {
        type: 'FactoryVSTSConfiguration',
        accountName: 'contoso',
        projectName: 'data',
        repositoryName: 'adf',
        collaborationBranch: 'main',
        rootFolder: '/'
      }
    }
  ],
  servers: [
    {
      subscriptionId,
      resourceGroup,
      name: 'pg-demo',
      location: 'westeurope',
      databases: ['appdb'],
      roles: [{ name: 'app', password: 'app-password' }],
      connections: [{ privateEndpointId: foreignEndpointId, status: 'Pending' }]
    },
    {
      subscriptionId,
      resourceGroup,
      name: 'pg-vnet',
      location: 'westeurope',
      delegatedSubnetResourceId: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/pg`,
      databases: ['appdb'],
      roles: []
    }
  ],
  keyVaultSecrets: [
    {
      vaultBaseUrl: 'https://kv-demo.vault.azure.net',
      name: 'pg-password',
      value: 'old-secret',
      version: 'v1'
    },
    {
      vaultBaseUrl: 'https://kv-demo.vault.azure.net',
      name: 'pg-password',
      value: 'kv-secret',
      version: 'v2'
    },
    {
      vaultBaseUrl: 'https://kv-demo.vault.azure.net',
      name: 'pg-password-other-team',
      value: 'kv-secret',
      readers: ['adf-other-team']
    }
  ]
}

const lookupCalls: LookupRequest[] = []
const runLookup = jest.fn(async (req: LookupRequest): Promise<LookupResult> => {
  lookupCalls.push(req)
  return req.password === 'kv-secret'
    ? { ok: true, firstRow: { ok: 1 } }
    : {
        ok: false,
        errorCode: '28P01',
        message: `password authentication failed for user "${req.user}"`
      }
})

const { routes, admin } = createResourceProviders({
  scenario,
  delays,
  postgresAddress: (id) =>
    id.toLowerCase() === serverId.toLowerCase() ? { host: '127.0.0.1', port: 65432 } : undefined,
  runLookup,
  caPem: 'test-ca'
})
type Call = (
  method: HttpMethod,
  pathAndQuery: string,
  body?: unknown,
  headers?: Record<string, string>
) => Promise<EmuResponse>

/** Dispatches like the platform: route match, api-version check, then the handler. */
function dispatcher(router: Router): Call {
  return async (method, pathAndQuery, body, headers = {}) => {
    const url = new URL(pathAndQuery, 'https://127.0.0.1')
    const match = router.match(method, url.pathname)
    if (!match) return { status: 404, body: { error: { code: 'NoRoute', message: url.pathname } } }
    const apiVersion = url.searchParams.get('api-version') ?? ''
    if (match.route.apiVersions && !match.route.apiVersions.includes(apiVersion)) {
      return {
        status: 400,
        body: { error: { code: 'InvalidApiVersionParameter', message: apiVersion } }
      }
    }
    return match.route.handle({
      method,
      path: url.pathname,
      params: match.params,
      query: url.searchParams,
      headers: { host: '127.0.0.1', ...headers },
      body
    })
  }
}
const call = dispatcher(new Router(routes))

const adfVersion = '?api-version=2018-06-01'
const credential: TokenCredential = {
  getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 })
}

async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 3000
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await probe()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`Timed out waiting for ${what}`)
}

let tempDir: string
let server: https.Server
let adf: DataFactoryManagementClient
let pg: PostgreSQLManagementFlexibleServerClient

beforeAll(async () => {
  tempDir = await mkdtemp(path.join(os.tmpdir(), 'providers-test-'))
  const ca = await createCertificateAuthority(tempDir)
  const { certPem, keyPem } = await ca.issue(['localhost'], ['127.0.0.1'])
  server = https.createServer({ cert: certPem, key: keyPem }, async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString()
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string'
      )
    )
    const response = await call(
      req.method as HttpMethod,
      req.url ?? '/',
      text ? JSON.parse(text) : undefined,
      headers
    )
    res.writeHead(response.status, { 'content-type': 'application/json', ...response.headers })
    res.end(response.body === undefined ? undefined : JSON.stringify(response.body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  const options = { endpoint, tlsOptions: { ca: ca.certPem }, retryOptions: { maxRetries: 0 } }
  adf = new DataFactoryManagementClient(credential, subscriptionId, options)
  pg = new PostgreSQLManagementFlexibleServerClient(credential, subscriptionId, options)
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  await rm(tempDir, { recursive: true, force: true })
})

async function restError(
  promise: Promise<unknown>
): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await promise
  } catch (error) {
    return error as { statusCode?: number; code?: string; message: string }
  }
  throw new Error('expected the call to fail')
}

const endpointBody = (target = serverId) => ({
  properties: { privateLinkResourceId: target, groupId: 'postgresqlServer' }
})

async function factorySideStatus(name: string): Promise<string | undefined> {
  const endpoint = await adf.managedPrivateEndpoints.get(
    resourceGroup,
    factoryName,
    'default',
    name
  )
  return endpoint.properties.connectionState?.status
}

async function ourConnection(endpointName: string) {
  const connections = []
  for await (const connection of pg.privateEndpointConnections.listByServer(
    resourceGroup,
    'pg-demo'
  )) {
    connections.push(connection)
  }
  return connections.find((connection) =>
    connection.privateEndpoint?.id?.endsWith(`/privateEndpoints/${factoryName}.${endpointName}`)
  )
}

describe('Microsoft.DataFactory factory, VNet and runtimes', () => {
  it('answers the factory with its system-assigned identity', async () => {
    const factory = await adf.factories.get(resourceGroup, factoryName)
    expect(factory.identity).toMatchObject({ type: 'SystemAssigned', tenantId: scenario.tenantId })
    expect(factory.identity?.principalId).toMatch(/^[0-9a-f-]{36}$/)
    const missing = await restError(adf.factories.get(resourceGroup, 'nope'))
    expect(missing).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' })
  })

  it("answers a Git-integrated factory's repoConfiguration as the SDK reads it", async () => {
    expect((await adf.factories.get(resourceGroup, factoryName)).repoConfiguration).toBeUndefined()
    expect((await adf.factories.get(resourceGroup, 'adf-git')).repoConfiguration).toEqual({
      type: 'FactoryVSTSConfiguration',
      accountName: 'contoso',
      projectName: 'data',
      repositoryName: 'adf',
      collaborationBranch: 'main',
      rootFolder: '/'
    })
  })

  it('lists the managed VNet and tells managed runtimes from public ones', async () => {
    const vnets = []
    for await (const vnet of adf.managedVirtualNetworks.listByFactory(resourceGroup, factoryName))
      vnets.push(vnet)
    expect(vnets.map((vnet) => vnet.name)).toEqual(['default'])
    expect(vnets[0].properties.alias).toBe(factoryName)
    const managed = await call(
      'GET',
      `${factoryPath}/integrationRuntimes/ManagedVnetIR${adfVersion}`
    )
    expect(managed.body).toMatchObject({
      properties: {
        type: 'Managed',
        managedVirtualNetwork: { type: 'ManagedVirtualNetworkReference', referenceName: 'default' }
      }
    })
    const publicRuntime = await call(
      'GET',
      `${factoryPath}/integrationRuntimes/PublicIR${adfVersion}`
    )
    expect(publicRuntime.body).not.toHaveProperty('properties.managedVirtualNetwork')
    expect(
      (await call('GET', `${factoryPath}/managedVirtualNetworks/other${adfVersion}`)).status
    ).toBe(404)
  })

  it('refuses api-versions Data Factory does not speak', async () => {
    const response = await call('GET', `${factoryPath}?api-version=2017-09-01-preview`)
    expect(response.status).toBe(400)
  })
})

describe('managed private endpoint to PostgreSQL: provisioning, connection, approval', () => {
  it('answers 400 (not 404) for an endpoint that does not exist', async () => {
    const error = await restError(
      adf.managedPrivateEndpoints.get(resourceGroup, factoryName, 'default', 'missing')
    )
    expect(error.statusCode).toBe(400)
    expect(error.code).toBe('BadRequest')
  })

  it('provisions, shows the Pending connection, and follows a long-running approval after discovery', async () => {
    const created = await adf.managedPrivateEndpoints.createOrUpdate(
      resourceGroup,
      factoryName,
      'default',
      'pe-pg',
      endpointBody()
    )
    // As recorded while provisioning (cliext-datafactory-2022_mpe-put-blob.json): empty connection
    // state, fqdns [], no etag and no isReserved.
    expect(created.properties).toMatchObject({
      provisioningState: 'Provisioning',
      groupId: 'postgresqlServer',
      fqdns: [],
      connectionState: { status: '', description: '', actionsRequired: '' }
    })
    expect(created).not.toHaveProperty('etag')
    expect(created.properties).not.toHaveProperty('isReserved')

    const identical = await adf.managedPrivateEndpoints.createOrUpdate(
      resourceGroup,
      factoryName,
      'default',
      'pe-pg',
      endpointBody()
    )
    expect(identical.properties.provisioningState).toBe('Provisioning')

    const modified = await restError(
      adf.managedPrivateEndpoints.createOrUpdate(
        resourceGroup,
        factoryName,
        'default',
        'pe-pg',
        endpointBody(vnetServerId)
      )
    )
    expect(modified.statusCode).toBe(400)
    expect(modified.message).toContain('same name but different properties')

    const duplicate = await restError(
      adf.managedPrivateEndpoints.createOrUpdate(
        resourceGroup,
        factoryName,
        'default',
        'pe-pg-2',
        endpointBody()
      )
    )
    expect(duplicate).toMatchObject({ statusCode: 400, code: 'InvalidResourceRequest' })
    expect(duplicate.message).toBe(
      "Invalid resource request. Resource type: 'ManagedPrivateEndpoint', Resource name: 'pe-pg-2' 'Error: A managed private endpoint to the data source already exist.'."
    )

    expect(await ourConnection('pe-pg')).toBeUndefined()
    await waitFor(async () => {
      const endpoint = await adf.managedPrivateEndpoints.get(
        resourceGroup,
        factoryName,
        'default',
        'pe-pg'
      )
      return endpoint.properties.provisioningState === 'Succeeded' ? true : undefined
    }, 'endpoint Succeeded')
    const connection = await waitFor(() => ourConnection('pe-pg'), 'connection to appear')
    expect(connection.name).toMatch(new RegExp(`^${factoryName}\\.pe-pg\\.[0-9a-f-]{36}$`))
    expect(connection.privateEndpoint?.id).toMatch(
      new RegExp(
        `^/subscriptions/[0-9a-f-]{36}/resourceGroups/[^/]+/providers/Microsoft.Network/privateEndpoints/${factoryName}\\.pe-pg$`
      )
    )
    expect(connection.privateEndpoint?.id).not.toContain(subscriptionId)
    expect(connection.groupIds).toEqual(['postgresqlServer'])
    expect(connection.privateLinkServiceConnectionState).toMatchObject({
      status: 'Pending',
      actionsRequired: 'None'
    })
    expect(connection.privateLinkServiceConnectionState?.description).toMatch(
      /^Requested by Data Factory/
    )

    const started = Date.now()
    const approved = await pg.privateEndpointConnections.beginUpdateAndWait(
      resourceGroup,
      'pg-demo',
      connection.name as string,
      {
        privateLinkServiceConnectionState: { status: 'Approved', description: 'Approved by test' }
      },
      { updateIntervalInMs: 10 }
    )
    expect(Date.now() - started).toBeGreaterThanOrEqual(delays.connectionUpdateMs - 5)
    expect(approved.privateLinkServiceConnectionState).toMatchObject({
      status: 'Approved',
      description: 'Approved by test'
    })
    expect(await factorySideStatus('pe-pg')).toBe('Pending')
    await waitFor(
      async () => ((await factorySideStatus('pe-pg')) === 'Approved' ? true : undefined),
      'discovery'
    )
    expect(Date.now() - started).toBeGreaterThanOrEqual(
      delays.connectionUpdateMs + delays.approvalDiscoveryMs - 5
    )
  })

  it('answers the approve PUT with 202, both polling headers and no Retry-After, as recorded', async () => {
    const foreign = (
      admin.listConnections(serverId) as {
        name: string
        properties: { privateEndpoint: { id: string } }
      }[]
    ).find((connection) => connection.properties.privateEndpoint.id === foreignEndpointId)
    const connectionPath = `${serverId}/privateEndpointConnections/${foreign?.name}?api-version=2024-08-01`
    const response = await call('PUT', connectionPath, {
      properties: {
        privateLinkServiceConnectionState: { status: 'Rejected', description: 'not ours' }
      }
    })
    expect(response.status).toBe(202)
    expect(response.headers?.['Azure-AsyncOperation']).toMatch(
      /^https:\/\/127\.0\.0\.1\/subscriptions\/.+\/providers\/Microsoft\.DBforPostgreSQL\/locations\/westeurope\/azureAsyncOperation\/[0-9a-f-]+\?api-version=2024-08-01$/
    )
    expect(response.headers?.Location).toContain('/operationResults/')
    expect(response.headers).not.toHaveProperty('Retry-After')
    expect(response.body).toMatchObject({
      operation: 'UpsertPrivateEndpointConnectionManagementOperation'
    })
    const statusPath = new URL(response.headers?.['Azure-AsyncOperation'] as string)
    const inProgress = await call('GET', statusPath.pathname + statusPath.search)
    expect(inProgress.body).toMatchObject({ status: 'InProgress' })
    expect(inProgress.body).not.toHaveProperty('endTime')
    const busy = await call('PUT', connectionPath, {
      properties: { privateLinkServiceConnectionState: { status: 'Approved', description: '' } }
    })
    expect(busy.status).toBe(409)
    const locationPath = new URL(response.headers?.Location as string)
    expect((await call('GET', locationPath.pathname + locationPath.search)).status).toBe(202)
    await new Promise((resolve) => setTimeout(resolve, delays.connectionUpdateMs + 10))
    expect((await call('GET', statusPath.pathname + statusPath.search)).body).toMatchObject({
      status: 'Succeeded'
    })
    const done = await call('GET', locationPath.pathname + locationPath.search)
    expect(done).toMatchObject({
      status: 200,
      body: { properties: { privateLinkServiceConnectionState: { status: 'Rejected' } } }
    })

    const reapprove = await call('PUT', connectionPath, {
      properties: { privateLinkServiceConnectionState: { status: 'Approved', description: '' } }
    })
    // Accepted; only the operation fails (azcli-postgresql_asyncop-approve-rejected-failed.json).
    expect(reapprove.status).toBe(202)
    await new Promise((resolve) => setTimeout(resolve, delays.connectionUpdateMs + 10))
    const failedPath = new URL(reapprove.headers?.['Azure-AsyncOperation'] as string)
    expect((await call('GET', failedPath.pathname + failedPath.search)).body).toMatchObject({
      status: 'Failed',
      error: { code: 'InternalServerError' }
    })
    expect(
      (admin.listConnections(serverId) as { name: string; properties: unknown }[]).find(
        (connection) => connection.name === foreign?.name
      )?.properties
    ).toMatchObject({ privateLinkServiceConnectionState: { status: 'Rejected' } })
  })

  it('lets an endpoint to a VNet-integrated server fail provisioning without a connection', async () => {
    await adf.managedPrivateEndpoints.createOrUpdate(
      resourceGroup,
      factoryName,
      'default',
      'pe-vnet',
      endpointBody(vnetServerId)
    )
    await new Promise((resolve) =>
      setTimeout(resolve, delays.endpointProvisioningMs + delays.connectionAppearsMs + 20)
    )
    const endpoint = await adf.managedPrivateEndpoints.get(
      resourceGroup,
      factoryName,
      'default',
      'pe-vnet'
    )
    expect(endpoint.properties.provisioningState).toBe('Failed')
    expect(admin.listConnections(vnetServerId)).toEqual([])
    const unknown = await restError(
      adf.managedPrivateEndpoints.createOrUpdate(
        resourceGroup,
        factoryName,
        'default',
        'pe-x',
        endpointBody(serverId.replace('pg-demo', 'pg-nope'))
      )
    )
    expect(unknown).toMatchObject({ statusCode: 400, code: 'InvalidResourceRequest' })
  })
})

describe('linked services, datasets and pipelines', () => {
  it('masks SecureStrings, honours If-Match and checks references', async () => {
    const linkedService = {
      properties: {
        type: 'AzurePostgreSql',
        version: '2.0',
        typeProperties: {
          server: 'pg-demo.postgres.database.azure.com',
          port: 5432,
          database: 'appdb',
          username: 'app',
          sslMode: 3,
          password: { type: 'SecureString', value: 'app-password' }
        },
        connectVia: { referenceName: 'ManagedVnetIR', type: 'IntegrationRuntimeReference' }
      }
    }
    const put = await call(
      'PUT',
      `${factoryPath}/linkedservices/PgSecure${adfVersion}`,
      linkedService
    )
    expect(put.status).toBe(200)
    expect(put.body).toMatchObject({
      name: 'PgSecure',
      type: 'Microsoft.DataFactory/factories/linkedservices',
      properties: { typeProperties: { password: { type: 'SecureString', value: '**********' } } }
    })
    const stale = await call(
      'PUT',
      `${factoryPath}/linkedservices/PgSecure${adfVersion}`,
      linkedService,
      { 'if-match': 'stale' }
    )
    expect(stale.status).toBe(412)
    const badReference = await call('PUT', `${factoryPath}/datasets/Ds${adfVersion}`, {
      properties: {
        type: 'AzurePostgreSqlTable',
        linkedServiceName: { referenceName: 'Nope', type: 'LinkedServiceReference' }
      }
    })
    expect(badReference).toMatchObject({
      status: 400,
      body: {
        error: {
          message: "The document creation or update failed because of invalid reference 'Nope'."
        }
      }
    })
    expect((await call('GET', `${factoryPath}/pipelines/absent${adfVersion}`)).status).toBe(404)
    expect((await call('DELETE', `${factoryPath}/pipelines/absent${adfVersion}`)).status).toBe(204)
    expect(JSON.stringify(admin.snapshot())).not.toContain('app-password')
  })
})

describe('pipeline runs with the Lookup activity', () => {
  async function definePipeline(
    name: string,
    password: unknown,
    runtime = 'ManagedVnetIR',
    send: Call = call
  ) {
    const put = async (kind: string, entity: string, properties: unknown) =>
      expect(
        (await send('PUT', `${factoryPath}/${kind}/${entity}${adfVersion}`, { properties })).status
      ).toBe(200)
    await put('linkedservices', `${name}Ls`, {
      type: 'AzurePostgreSql',
      version: '2.0',
      typeProperties: {
        server: 'pg-demo.postgres.database.azure.com',
        port: 5432,
        database: 'appdb',
        username: 'app',
        sslMode: 5,
        password
      },
      connectVia: { referenceName: runtime, type: 'IntegrationRuntimeReference' }
    })
    await put('datasets', `${name}Ds`, {
      type: 'AzurePostgreSqlTable',
      linkedServiceName: { referenceName: `${name}Ls`, type: 'LinkedServiceReference' },
      typeProperties: {}
    })
    await put('pipelines', name, {
      activities: [
        {
          name: 'ProbePostgres',
          type: 'Lookup',
          typeProperties: {
            source: { type: 'AzurePostgreSqlSource', query: 'SELECT 1 AS ok' },
            dataset: { referenceName: `${name}Ds`, type: 'DatasetReference' },
            firstRowOnly: true
          }
        }
      ]
    })
  }

  interface RunBody {
    status: string
    message: string
    durationInMs?: number
  }
  interface ActivityBody {
    output: unknown
    error: { errorCode: string; message: string; failureType: string; target: string }
  }

  async function runToEnd(name: string, send: Call = call) {
    const created = await send(
      'POST',
      `${factoryPath}/pipelines/${name}/createRun${adfVersion}`,
      {}
    )
    const { runId } = created.body as { runId: string }
    const runPath = `${factoryPath}/pipelineruns/${runId}${adfVersion}`
    expect((await send('GET', runPath)).body).toMatchObject({ status: 'Queued' })
    const run = await waitFor(async () => {
      const current = (await send('GET', runPath)).body as RunBody
      return current.status === 'Succeeded' || current.status === 'Failed' ? current : undefined
    }, `run ${name}`)
    const window = {
      lastUpdatedAfter: new Date(Date.now() - 60_000).toISOString(),
      lastUpdatedBefore: new Date(Date.now() + 60_000).toISOString()
    }
    const activities = await send(
      'POST',
      `${factoryPath}/pipelineruns/${runId}/queryActivityruns${adfVersion}`,
      window
    )
    return { runId, run, activity: (activities.body as { value: ActivityBody[] }).value[0] }
  }

  function expectBlocked(run: RunBody, activity: ActivityBody) {
    expect(run.status).toBe('Failed')
    expect(run.message).toMatch(
      /^Operation on target ProbePostgres failed: Failure happened on 'Source' side\./
    )
    expect(run.message).toContain('Failed to connect to pg-demo.postgres.database.azure.com:5432')
    expect(run.message).toContain('timed out')
    expect(activity.error).toMatchObject({
      errorCode: '2200',
      failureType: 'UserError',
      target: 'ProbePostgres'
    })
  }

  it('fails like a blocked network while the endpoint is not approved, without reaching PostgreSQL', async () => {
    const fresh = createResourceProviders({
      scenario,
      delays,
      postgresAddress: () => ({ host: '127.0.0.1', port: 65432 }),
      runLookup,
      caPem: ''
    })
    const send = dispatcher(new Router(fresh.routes))
    const endpointPath = `${factoryPath}/managedVirtualNetworks/default/managedPrivateEndpoints/pe-pg${adfVersion}`
    expect((await send('PUT', endpointPath, endpointBody())).status).toBe(200)
    await definePipeline(
      'Pending',
      { type: 'SecureString', value: 'kv-secret' },
      'ManagedVnetIR',
      send
    )
    const calls = runLookup.mock.calls.length
    const started = Date.now()
    const { run, activity } = await runToEnd('Pending', send)
    expectBlocked(run, activity)
    expect(Date.now() - started).toBeGreaterThanOrEqual(
      delays.pipelineQueuedMs + delays.blockedNetworkTimeoutMs - 5
    )
    expect(runLookup.mock.calls.length).toBe(calls)
  })

  it('fails like a blocked network through a public runtime even with an approved endpoint', async () => {
    await waitFor(
      async () => ((await factorySideStatus('pe-pg')) === 'Approved' ? true : undefined),
      'approved endpoint'
    )
    await definePipeline('Public', { type: 'SecureString', value: 'kv-secret' }, 'PublicIR')
    const calls = runLookup.mock.calls.length
    const { run, activity } = await runToEnd('Public')
    expectBlocked(run, activity)
    expect(runLookup.mock.calls.length).toBe(calls)
  })

  it('runs the Lookup over the approved endpoint with a Key Vault password', async () => {
    await waitFor(
      async () => ((await factorySideStatus('pe-pg')) === 'Approved' ? true : undefined),
      'approved endpoint'
    )
    await definePipeline('Probe', {
      type: 'AzureKeyVaultSecret',
      store: { referenceName: 'KeyVault', type: 'LinkedServiceReference' },
      secretName: 'pg-password'
    })
    const { runId, run, activity } = await runToEnd('Probe')
    expect(run.status).toBe('Succeeded')
    expect((await adf.pipelineRuns.get(resourceGroup, factoryName, runId)).status).toBe('Succeeded')
    const window = {
      lastUpdatedAfter: new Date(Date.now() - 60_000),
      lastUpdatedBefore: new Date(Date.now() + 60_000)
    }
    const viaSdk = await adf.activityRuns.queryByPipelineRun(
      resourceGroup,
      factoryName,
      runId,
      window
    )
    expect(viaSdk.value[0].output).toEqual(activity.output)
    expect(run.durationInMs).toBeGreaterThanOrEqual(delays.pipelineQueuedMs - 5)
    expect(activity.output).toEqual({
      firstRow: { ok: 1 },
      effectiveIntegrationRuntime: 'ManagedVnetIR (westeurope)'
    })
    expect(lookupCalls.at(-1)).toMatchObject({
      address: { host: '127.0.0.1', port: 65432 },
      serverName: 'pg-demo.postgres.database.azure.com',
      database: 'appdb',
      user: 'app',
      password: 'kv-secret',
      sslMode: 5,
      query: 'SELECT 1 AS ok'
    })
  })

  it("reports PostgreSQL's own error and Key Vault's missing secret", async () => {
    await definePipeline('WrongPassword', { type: 'SecureString', value: 'wrong' })
    const wrong = await runToEnd('WrongPassword')
    expect(wrong.run.status).toBe('Failed')
    expect(wrong.run.message).toContain('password authentication failed for user "app"')
    expect(wrong.activity.error.message).toContain('password authentication failed')

    await definePipeline('MissingSecret', {
      type: 'AzureKeyVaultSecret',
      store: { referenceName: 'KeyVault', type: 'LinkedServiceReference' },
      secretName: 'absent'
    })
    const missing = await runToEnd('MissingSecret')
    expect(missing.run.message).toContain(
      'Failed to get the secret from key vault, secretName: absent, secretVersion: , vaultBaseUrl: https://kv-demo.vault.azure.net/.'
    )
    expect(missing.activity.error.message).toContain(
      'A secret with (name/id) absent was not found in this key vault.'
    )
    expect(JSON.stringify(admin.snapshot())).not.toContain('kv-secret')
  })

  it("refuses a Key Vault secret the factory's identity may not get, as Data Factory reports it", async () => {
    await definePipeline('LockedSecret', {
      type: 'AzureKeyVaultSecret',
      store: { referenceName: 'KeyVault', type: 'LinkedServiceReference' },
      secretName: 'pg-password-other-team'
    })
    const locked = await runToEnd('LockedSecret')
    expect(locked.run.status).toBe('Failed')
    expect(locked.activity.error).toMatchObject({
      errorCode: '2200',
      message:
        "Failed to get the secret from key vault, secretName: pg-password-other-team, secretVersion: , vaultBaseUrl: https://kv-demo.vault.azure.net/. The error message is: Operation returned an invalid status code 'Forbidden'."
    })
  })

  it('signs a managed identity in with the emulator-only credential', () => {
    const [credentials] = identityCredentials(scenario)
    expect(credentials.role).toBe('adf-demo-identity')
    expect(credentials.password).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(JSON.stringify(scenario)).not.toContain(credentials.password)
  })

  it('requires the update window to query activity runs', async () => {
    const { runId } = await adf.pipelines.createRun(resourceGroup, factoryName, 'Probe')
    const response = await call(
      'POST',
      `${factoryPath}/pipelineruns/${runId}/queryActivityruns${adfVersion}`,
      {}
    )
    expect(response.status).toBe(400)
    expect(
      (await call('POST', `${factoryPath}/pipelineruns/${runId}/cancel${adfVersion}`)).status
    ).toBe(200)
    expect((await adf.pipelineRuns.get(resourceGroup, factoryName, runId)).status).toBe('Cancelled')
  })
})

describe('deleting', () => {
  it('keeps a deleted endpoint listed as Deleting, then removes it and its connection', async () => {
    const connection = await ourConnection('pe-pg')
    expect(connection).toBeDefined()
    await adf.managedPrivateEndpoints.delete(resourceGroup, factoryName, 'default', 'pe-pg')
    const listed = []
    for await (const endpoint of adf.managedPrivateEndpoints.listByFactory(
      resourceGroup,
      factoryName,
      'default'
    )) {
      listed.push(endpoint)
    }
    expect(listed.find((endpoint) => endpoint.name === 'pe-pg')?.properties.provisioningState).toBe(
      'Deleting'
    )
    await new Promise((resolve) => setTimeout(resolve, delays.endpointDeletionMs + 10))
    expect(
      (
        await restError(
          adf.managedPrivateEndpoints.get(resourceGroup, factoryName, 'default', 'pe-pg')
        )
      ).statusCode
    ).toBe(400)
    expect(await ourConnection('pe-pg')).toBeUndefined()
  })

  it('deletes a server-side connection through the SDK long-running delete', async () => {
    const foreign = (admin.listConnections(serverId) as { name: string }[])[0]
    await pg.privateEndpointConnections.beginDeleteAndWait(resourceGroup, 'pg-demo', foreign.name, {
      updateIntervalInMs: 10
    })
    expect(admin.listConnections(serverId)).toEqual([])
    const again = await call(
      'DELETE',
      `${serverId}/privateEndpointConnections/${foreign.name}?api-version=2025-08-01`
    )
    expect(again.status).toBe(204)
  })
})
