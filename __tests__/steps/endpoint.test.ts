import { describe, expect, it } from '@jest/globals'
import {
  decideEndpointAction,
  endpointToVault,
  ensureEndpoint,
  type EndpointView
} from '../../src/steps/endpoint.js'
import type { PreflightFacts } from '../../src/steps/preflight.js'
import type { ManagedPrivateEndpointResource } from '../../src/azure/gateway.js'
import { gatewayFailure, restError, type GatewayOperations } from '../fixtures/fake-azure.js'
import { endpointView, fakeStepContext } from '../fixtures/step-context.js'

const serverId =
  '/subscriptions/0b9e4f3a-7c21-4d58-a6e3-2f8b1c9d0e47/resourceGroups/rg-data/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-demo'
const desired = { name: 'pg-pg-demo', privateLinkResourceId: serverId, groupId: 'postgresqlServer' }

function endpoint(overrides: Partial<EndpointView> = {}): EndpointView {
  return endpointView(serverId, { connectionStatus: 'Approved', ...overrides })
}

describe("decideEndpointAction reads the server's view of the connection", () => {
  it.each(['Disconnected', 'Rejected'])(
    'a %s connection on the server is drift while Data Factory still shows Approved',
    (status) => {
      const reason = `its connection 'c1' is ${status} on the server (Data Factory still shows Approved)`
      const server = { name: 'c1', status }
      expect(decideEndpointAction([endpoint()], desired, 'recreate', server)).toEqual({
        kind: 'recreate',
        endpoint: endpoint(),
        reason
      })
      expect(decideEndpointAction([endpoint()], desired, 'fail', server)).toEqual({
        kind: 'drift',
        endpoint: endpoint(),
        reason
      })
    }
  )

  it('a Rejected connection counts while Data Factory still shows Pending', () => {
    const pending = endpoint({ connectionStatus: 'Pending' })
    expect(
      decideEndpointAction([pending], desired, 'recreate', { name: 'c1', status: 'Rejected' }).kind
    ).toBe('recreate')
  })

  it("a Disconnected one while Data Factory shows Pending may be a predecessor's leftover: reused", () => {
    const pending = endpoint({ connectionStatus: 'Pending' })
    expect(
      decideEndpointAction([pending], desired, 'recreate', { name: 'old', status: 'Disconnected' })
    ).toEqual({ kind: 'reuse', endpoint: pending })
  })

  it('a connection missing on the server is drift only when Data Factory had seen it Approved', () => {
    const missing = {
      kind: 'missing' as const,
      why: "server 'pg-demo' lists no connection from it"
    }
    expect(decideEndpointAction([endpoint()], desired, 'recreate', missing)).toEqual({
      kind: 'recreate',
      endpoint: endpoint(),
      reason: "server 'pg-demo' lists no connection from it (Data Factory still shows it Approved)"
    })
    expect(decideEndpointAction([endpoint()], desired, 'fail', missing).kind).toBe('drift')
    const pending = endpoint({ connectionStatus: 'Pending' })
    expect(decideEndpointAction([pending], desired, 'fail', missing)).toEqual({
      kind: 'reuse',
      endpoint: pending
    })
  })

  it('an Approved or unlisted connection changes nothing', () => {
    expect(
      decideEndpointAction([endpoint()], desired, 'fail', { name: 'c1', status: 'Approved' }).kind
    ).toBe('reuse')
    expect(decideEndpointAction([endpoint()], desired, 'fail', undefined).kind).toBe('reuse')
  })
})

describe('ensureEndpoint', () => {
  const preflight: PreflightFacts = {
    serverId,
    serverFqdn: 'pg-demo',
    connections: [],
    factoryRead: false
  }

  /** A gateway whose factory lists `looks` one after the other and whose PUT answers `puts` (no server list: preflight's GET gave it). */
  function clientsFor(looks: ManagedPrivateEndpointResource[][], puts: (Error | undefined)[]) {
    let look = 0
    const sent: string[] = []
    const clients: GatewayOperations = {
      listManagedPrivateEndpoints: async () => looks[Math.min(look++, looks.length - 1)],
      createManagedPrivateEndpoint: async (name) => {
        sent.push(name)
        const answer = puts.shift()
        if (answer) throw gatewayFailure(answer, 'create the managed private endpoint')
        // Azure answers the PUT with the endpoint, still Provisioning.
        return listedEndpoint('Provisioning')
      }
    }
    return { clients, sent }
  }
  const listedEndpoint = (
    provisioningState: string,
    status = 'Pending'
  ): ManagedPrivateEndpointResource => ({
    name: 'pg-pg-demo',
    id: '/x/pg-pg-demo',
    properties: {
      privateLinkResourceId: serverId,
      groupId: 'postgresqlServer',
      provisioningState,
      connectionState: { status }
    }
  })

  it('waits out a 409 for another endpoint of the managed VNet and sends the PUT again', async () => {
    const busy = restError(
      409,
      'Conflict',
      "Managed private endpoint 'pg-other' is still being provisioned"
    )
    const { clients, sent } = clientsFor([[], [], [listedEndpoint('Succeeded')]], [busy, undefined])
    const { context, recorded } = fakeStepContext(clients)
    const outcome = await ensureEndpoint(context, preflight)
    expect(sent).toEqual(['pg-pg-demo', 'pg-pg-demo'])
    expect(outcome.done).toBe('created; provisioningState Succeeded')
    expect(recorded.infos.join('\n')).toContain('Data Factory answered 409')
  })

  it('adopts the endpoint when a 409 came from a run creating the same one', async () => {
    const { clients, sent } = clientsFor(
      [[], [listedEndpoint('Provisioning')], [listedEndpoint('Succeeded')]],
      [restError(409, 'Conflict')]
    )
    const { context } = fakeStepContext(clients)
    const outcome = await ensureEndpoint(context, preflight)
    expect(sent).toEqual(['pg-pg-demo'])
    expect(outcome.value).toMatchObject({ name: 'pg-pg-demo', isNew: true })
  })

  it('fails at once on another refusal, naming the permission', async () => {
    const { clients } = clientsFor([[]], [restError(403, 'AuthorizationFailed')])
    const { context } = fakeStepContext(clients)
    await expect(ensureEndpoint(context, preflight)).rejects.toThrow(
      /Could not create the managed private endpoint/
    )
  })

  it("outputs the server's state when it differs, and fails with it under on-drift: fail", async () => {
    const { clients } = clientsFor([[listedEndpoint('Succeeded', 'Approved')]], [])
    const { context, recorded } = fakeStepContext(clients, { inputs: { 'on-drift': 'fail' } })
    // The server's view comes from preflight's server GET (its privateEndpointConnections).
    const connections = [
      {
        name: 'adf-demo.pg-pg-demo.guid',
        id: '/connections/c',
        privateEndpointId: '/pe/adf-demo.pg-pg-demo',
        status: 'Disconnected',
        description: '',
        provisioningState: 'Succeeded'
      }
    ]
    await expect(ensureEndpoint(context, { ...preflight, connections })).rejects.toThrow(
      "its connection 'adf-demo.pg-pg-demo.guid' is Disconnected on the server (Data Factory still shows Approved)"
    )
    expect(recorded.outputs['connection-state']).toBe('Disconnected')
  })
})

describe('endpointToVault', () => {
  const vaultId =
    '/subscriptions/0b9e4f3a-7c21-4d58-a6e3-2f8b1c9d0e47/resourceGroups/rg-sec/providers/Microsoft.KeyVault/vaults/KV-Data'
  const toVault = (overrides: Partial<EndpointView> = {}) =>
    endpointView(vaultId, {
      name: 'kv',
      groupId: 'vault',
      connectionStatus: 'Approved',
      ...overrides
    })

  it("finds a live endpoint of group 'vault' to the vault of that name (any case)", () => {
    expect(endpointToVault([endpoint(), toVault()], 'kv-data')?.name).toBe('kv')
    expect(endpointToVault([toVault({ connectionStatus: 'Pending' })], 'kv-data')).toBeDefined()
  })

  it('ignores other vaults, other groups, other resource types and refused connections', () => {
    expect(endpointToVault([toVault()], 'kv-other')).toBeUndefined()
    expect(endpointToVault([toVault({ groupId: 'blob' })], 'kv-data')).toBeUndefined()
    expect(endpointToVault([endpoint()], 'pg-demo')).toBeUndefined()
    expect(endpointToVault([toVault({ connectionStatus: 'Rejected' })], 'kv-data')).toBeUndefined()
  })
})

/** A provisioned endpoint to the server, its connection Pending (the decisions' starting point). */
const pendingEndpoint = (overrides: Partial<EndpointView> = {}) => endpointView(serverId, overrides)

describe('decideEndpointAction', () => {
  it('creates when nothing targets the server', () => {
    expect(
      decideEndpointAction(
        [pendingEndpoint({ name: 'other', privateLinkResourceId: '/elsewhere' })],
        desired,
        'fail'
      )
    ).toEqual({ kind: 'create' })
  })
  it('reuses an identical endpoint, comparing ids case-insensitively', () => {
    const same = pendingEndpoint({
      name: 'PG-PG-DEMO',
      privateLinkResourceId: serverId.toLowerCase()
    })
    expect(decideEndpointAction([same], desired, 'fail')).toEqual({ kind: 'reuse', endpoint: same })
  })
  it('reports drift for the same name with another target or group, or recreates on request', () => {
    const drifted = pendingEndpoint({ groupId: 'sqlServer' })
    const decision = decideEndpointAction([drifted], desired, 'fail')
    expect(decision).toMatchObject({ kind: 'drift', endpoint: drifted })
    expect(decision.kind === 'drift' && decision.reason).toBe(
      'its group is sqlServer instead of postgresqlServer'
    )
    const moved = pendingEndpoint({ privateLinkResourceId: '/elsewhere' })
    expect(decideEndpointAction([moved], desired, 'fail')).toMatchObject({
      kind: 'drift',
      reason: `it targets /elsewhere instead of ${serverId}`
    })
    expect(decideEndpointAction([drifted], desired, 'recreate')).toMatchObject({ kind: 'recreate' })
  })
  it('reuses an endpoint of another name that already targets the server instead of a doomed PUT', () => {
    const other = pendingEndpoint({ name: 'hand-made' })
    expect(decideEndpointAction([other], desired, 'fail')).toEqual({
      kind: 'reuse-other',
      endpoint: other
    })
    expect(decideEndpointAction([{ ...other, isReserved: true }], desired, 'fail')).toEqual({
      kind: 'create'
    })
  })
  it.each([
    [{ provisioningState: 'Failed' }, 'its provisioningState is Failed'],
    [{ connectionStatus: 'Rejected' }, 'its connection is Rejected'],
    [{ connectionStatus: 'disconnected' }, 'its connection is disconnected']
  ])('recreates an endpoint of ours that is %o, or fails as drift', (state, reason) => {
    const broken = endpoint(state)
    expect(decideEndpointAction([broken], desired, 'recreate')).toEqual({
      kind: 'recreate',
      endpoint: broken,
      reason
    })
    expect(decideEndpointAction([broken], desired, 'fail')).toEqual({
      kind: 'drift',
      endpoint: broken,
      reason
    })
  })
  it('never recreates a reserved endpoint of the same name', () => {
    const reserved = pendingEndpoint({ groupId: 'sqlServer', isReserved: true })
    expect(decideEndpointAction([reserved], desired, 'recreate')).toMatchObject({
      kind: 'drift',
      reason: 'its group is sqlServer instead of postgresqlServer (reserved by Data Factory)'
    })
  })
  it('reports the drift of the same name before reusing another endpoint to the server', () => {
    const moved = pendingEndpoint({ privateLinkResourceId: '/elsewhere' })
    const other = pendingEndpoint({ name: 'hand-made' })
    for (const onDrift of ['fail', 'recreate'] as const) {
      expect(decideEndpointAction([moved, other], desired, onDrift)).toEqual({
        kind: 'drift',
        endpoint: moved,
        reason: `it targets /elsewhere instead of ${serverId}, and endpoint 'hand-made' already targets this server (Azure allows one per target)`
      })
    }
  })
})
