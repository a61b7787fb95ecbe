// The emulator's behaviours for runs that overlap and servers that disagree with the factory:
// 409s while another operation runs or right after a connection appears, the approval
// description cap, refused endpoint creation in a busy managed VNet, private endpoint naming,
// and the factory's lagging view of a rejection or disconnection. Time is Jest's fake clock.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { createResourceProviders } from '../src/providers.js'
import { Router } from '../src/router.js'
import type { Delays, EmuResponse, FactorySeed, HttpMethod, Scenario } from '../src/types.js'

const subscriptionId = '11111111-2222-3333-4444-555555555555'
const resourceGroup = 'rg-data'
const group = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers`
const serverId = (name: string) => `${group}/Microsoft.DBforPostgreSQL/flexibleServers/${name}`
const endpointsPath = `${group}/Microsoft.DataFactory/factories/adf-demo/managedVirtualNetworks/default/managedPrivateEndpoints`
const adf = '?api-version=2018-06-01'
const pgVersion = '?api-version=2025-08-01'

const delays: Delays = {
  endpointProvisioningMs: 100,
  connectionAppearsMs: 50,
  connectionUpdateMs: 200,
  approvalDiscoveryMs: 1_000,
  endpointDeletionMs: 50,
  pipelineQueuedMs: 20,
  blockedNetworkTimeoutMs: 80,
  oidcTokenLifetimeSeconds: 300,
  accessTokenLifetimeSeconds: 3600,
  connectionNotReadyMs: 300
}

function scenario(factory: Partial<FactorySeed> = {}): Scenario {
  return {
    tenantId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    subscriptions: [],
    principals: [],
    factories: [
      {
        subscriptionId,
        resourceGroup,
        name: 'adf-demo',
        location: 'westeurope',
        managedVirtualNetwork: 'default',
        integrationRuntimes: [],
        ...factory
      }
    ],
    servers: ['pg-a', 'pg-b'].map((name) => ({
      subscriptionId,
      resourceGroup,
      name,
      location: 'westeurope',
      databases: [],
      roles: []
    }))
  }
}

interface Connection {
  name: string
  properties: {
    privateEndpoint: { id: string }
    privateLinkServiceConnectionState: { status: string; description: string }
  }
}

function emulate(seed: Scenario) {
  const { routes, admin } = createResourceProviders({
    scenario: seed,
    delays,
    postgresAddress: () => undefined,
    runLookup: async () => ({ ok: false, errorCode: 'x', message: 'unused' }),
    caPem: 'test-ca'
  })
  const router = new Router(routes)
  const call = async (method: HttpMethod, pathAndQuery: string, body?: unknown) => {
    const url = new URL(pathAndQuery, 'https://127.0.0.1')
    const match = router.match(method, url.pathname)
    if (!match) throw new Error(`no route for ${method} ${url.pathname}`)
    return (await match.route.handle({
      method,
      path: url.pathname,
      params: match.params,
      query: url.searchParams,
      headers: { host: '127.0.0.1' },
      body
    })) as EmuResponse
  }
  const putEndpoint = (name: string, server: string) =>
    call('PUT', `${endpointsPath}/${name}${adf}`, {
      properties: { privateLinkResourceId: serverId(server), groupId: 'postgresqlServer' }
    })
  const connections = (server: string) => admin.listConnections(serverId(server)) as Connection[]
  const approve = (server: string, connection: string, description = 'ok') =>
    call('PUT', `${serverId(server)}/privateEndpointConnections/${connection}${pgVersion}`, {
      properties: { privateLinkServiceConnectionState: { status: 'Approved', description } }
    })
  const factoryStatus = async (name: string) =>
    (
      (await call('GET', `${endpointsPath}/${name}${adf}`)).body as {
        properties: { connectionState: { status: string } }
      }
    ).properties.connectionState.status
  return { admin, call, putEndpoint, connections, approve, factoryStatus }
}

const errorCode = (response: EmuResponse) =>
  (response.body as { error?: { code?: string } } | undefined)?.error?.code

beforeEach(() => {
  jest.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') })
})
afterEach(() => {
  jest.useRealTimers()
})

/** Creates the endpoint and lets its connection appear. */
async function withConnection(emulator: ReturnType<typeof emulate>, server = 'pg-a') {
  expect((await emulator.putEndpoint(`pe-${server}`, server)).status).toBe(200)
  jest.advanceTimersByTime(delays.endpointProvisioningMs + delays.connectionAppearsMs)
  const [connection] = emulator.connections(server)
  return connection
}

describe('approving a connection', () => {
  it('answers 409 Conflict right after the connection appears, then accepts', async () => {
    const emulator = emulate(scenario())
    const connection = await withConnection(emulator)
    const early = await emulator.approve('pg-a', connection.name)
    expect(early.status).toBe(409)
    expect(errorCode(early)).toBe('Conflict')
    jest.advanceTimersByTime(delays.connectionNotReadyMs ?? 0)
    expect((await emulator.approve('pg-a', connection.name)).status).toBe(202)
  })

  it('answers 409 AnotherOperationInProgress while another approval runs on it', async () => {
    const emulator = emulate(scenario())
    const connection = await withConnection(emulator)
    jest.advanceTimersByTime(delays.connectionNotReadyMs ?? 0)
    expect((await emulator.approve('pg-a', connection.name)).status).toBe(202)
    const second = await emulator.approve('pg-a', connection.name)
    expect(second.status).toBe(409)
    expect(errorCode(second)).toBe('AnotherOperationInProgress')
    jest.advanceTimersByTime(delays.connectionUpdateMs)
    expect(
      emulator.connections('pg-a')[0].properties.privateLinkServiceConnectionState.status
    ).toBe('Approved')
  })

  it('refuses a description over 140 characters with 400 and takes one of 140', async () => {
    const emulator = emulate(scenario())
    const connection = await withConnection(emulator)
    jest.advanceTimersByTime(delays.connectionNotReadyMs ?? 0)
    const long = await emulator.approve('pg-a', connection.name, 'x'.repeat(141))
    expect(long.status).toBe(400)
    expect(errorCode(long)).toBe('InvalidRequestContent')
    expect((await emulator.approve('pg-a', connection.name, 'x'.repeat(140))).status).toBe(202)
  })
})

describe('managed private endpoints in one managed virtual network', () => {
  it('refuses a new endpoint with 409 while another is provisioning, when the scenario says so', async () => {
    const emulator = emulate(scenario({ refuseConcurrentEndpointCreation: true }))
    expect((await emulator.putEndpoint('pe-a', 'pg-a')).status).toBe(200)
    const busy = await emulator.putEndpoint('pe-b', 'pg-b')
    expect(busy.status).toBe(409)
    expect(JSON.stringify(busy.body)).toContain("'pe-a'")
    // The same endpoint again is no new change: still answered 200.
    expect((await emulator.putEndpoint('pe-a', 'pg-a')).status).toBe(200)
    jest.advanceTimersByTime(delays.endpointProvisioningMs)
    expect((await emulator.putEndpoint('pe-b', 'pg-b')).status).toBe(200)
  })

  it('accepts overlapping creation by default', async () => {
    const emulator = emulate(scenario())
    expect((await emulator.putEndpoint('pe-a', 'pg-a')).status).toBe(200)
    expect((await emulator.putEndpoint('pe-b', 'pg-b')).status).toBe(200)
  })

  it('names the private endpoint by the scenario template, and the factory still follows it', async () => {
    const emulator = emulate(scenario({ privateEndpointNameTemplate: '{endpoint}.{factory}' }))
    const connection = await withConnection(emulator)
    expect(connection.properties.privateEndpoint.id).toMatch(
      /\/providers\/Microsoft\.Network\/privateEndpoints\/pe-pg-a\.adf-demo$/
    )
    jest.advanceTimersByTime(delays.connectionNotReadyMs ?? 0)
    await emulator.approve('pg-a', connection.name)
    jest.advanceTimersByTime(delays.connectionUpdateMs + delays.approvalDiscoveryMs)
    expect(await emulator.factoryStatus('pe-pg-a')).toBe('Approved')
  })
})

describe("the factory's view lags the server's", () => {
  it.each([
    ['reject', 'Rejected'],
    ['disconnect', 'Disconnected']
  ] as const)(
    'a DBA who chooses %s is seen by the factory approvalDiscoveryMs later',
    async (verdict, status) => {
      const emulator = emulate(scenario())
      const connection = await withConnection(emulator)
      emulator.admin.setConnectionState(serverId('pg-a'), connection.name, 'Approved', 'ok')
      jest.advanceTimersByTime(delays.approvalDiscoveryMs)
      expect(await emulator.factoryStatus('pe-pg-a')).toBe('Approved')
      emulator.admin.setConnectionState(serverId('pg-a'), connection.name, status, verdict)
      jest.advanceTimersByTime(delays.approvalDiscoveryMs - 1)
      expect(await emulator.factoryStatus('pe-pg-a')).toBe('Approved')
      jest.advanceTimersByTime(1)
      expect(await emulator.factoryStatus('pe-pg-a')).toBe(status)
    }
  )
})
