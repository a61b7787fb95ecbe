// Preflight's request budget: which reads it sends (the runtime and the server always, the
// factory and its managed VNets only when needed), against a fake gateway that counts calls.
import { describe, expect, it } from '@jest/globals'
import { factoryReadNeeded, runPreflight, runtimeProvesVnet } from '../../src/steps/preflight.js'
import type {
  IntegrationRuntimeResource,
  LinkedServiceResource,
  Server
} from '../../src/azure/gateway.js'
import type { GatewayOperations } from '../fixtures/fake-azure.js'
import { fakeStepContext } from '../fixtures/step-context.js'

const managedRuntime = (vnet?: string): IntegrationRuntimeResource => ({
  name: 'AutoResolveIntegrationRuntime',
  properties: {
    type: 'Managed',
    ...(vnet
      ? { managedVirtualNetwork: { type: 'ManagedVirtualNetworkReference', referenceName: vnet } }
      : {})
  }
})

const readyServer: Server = {
  location: 'westeurope',
  id: '/subscriptions/s/resourceGroups/rg-data/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-demo',
  state: 'Ready',
  fullyQualifiedDomainName: 'pg-demo.postgres.database.azure.com',
  network: {},
  privateEndpointConnections: [
    {
      name: 'adf-demo.pg-pg-demo.guid',
      id: '/connections/c',
      privateEndpoint: { id: '/pe/adf-demo.pg-pg-demo' },
      privateLinkServiceConnectionState: { status: 'Approved', description: 'ok' },
      provisioningState: 'Succeeded'
    }
  ]
}

/** A fake gateway answering preflight's reads, recording which were sent. */
function clientsFor(
  runtime: IntegrationRuntimeResource | undefined,
  privateLinkGroups = ['postgresqlServer']
) {
  const calls: string[] = []
  const keyVault = { properties: { type: 'AzureKeyVault' } } as LinkedServiceResource
  const clients: GatewayOperations = {
    findFactory: async () => {
      calls.push('factory')
      return { id: '/f', identity: { principalId: 'p', type: 'SystemAssigned' } }
    },
    findIntegrationRuntime: async () => {
      calls.push('runtime')
      return runtime
    },
    listManagedVirtualNetworks: async () => {
      calls.push('managed VNet list')
      return [{ name: 'default', properties: {} }]
    },
    findLinkedService: async () => {
      calls.push('Key Vault linked service')
      return keyVault
    },
    findServer: async () => {
      calls.push('server')
      return readyServer
    },
    findPrivateLinkResources: async () => {
      calls.push('Private Link groups')
      return privateLinkGroups.map((groupId) => ({ name: groupId, groupId }))
    }
  }
  return { clients, calls }
}

describe('preflight reads', () => {
  it('reads the runtime and the server only, when the runtime names the managed VNet', async () => {
    const { clients, calls } = clientsFor(managedRuntime('default'))
    const { context } = fakeStepContext(clients)
    const outcome = await runPreflight(context)
    expect(calls.sort()).toEqual(['Private Link groups', 'runtime', 'server'])
    // The server's GET lists its connections: the endpoint step's first look needs no list call.
    expect(outcome.value.connections).toEqual([
      {
        name: 'adf-demo.pg-pg-demo.guid',
        id: '/connections/c',
        privateEndpointId: '/pe/adf-demo.pg-pg-demo',
        status: 'Approved',
        description: 'ok',
        provisioningState: 'Succeeded'
      }
    ])
  })

  it('reads the factory and its managed VNets to explain a runtime outside the VNet', async () => {
    const { clients, calls } = clientsFor(managedRuntime())
    const { context } = fakeStepContext(clients)
    await expect(runPreflight(context)).rejects.toThrow(
      /does not run in managed virtual network 'default'/
    )
    expect(calls.sort()).toEqual([
      'Private Link groups',
      'factory',
      'managed VNet list',
      'runtime',
      'server'
    ])
  })

  it('refuses a server that offers no postgresqlServer group, naming what it offers', async () => {
    const { clients } = clientsFor(managedRuntime('default'), ['otherGroup'])
    const { context } = fakeStepContext(clients)
    await expect(runPreflight(context)).rejects.toThrow(
      /offers no Private Link group 'postgresqlServer' \(its privateLinkResources list 'otherGroup'\)/
    )
  })

  it('reads the factory to tell a missing runtime from a missing factory', async () => {
    const { clients, calls } = clientsFor(undefined)
    const { context } = fakeStepContext(clients)
    await expect(runPreflight(context)).rejects.toThrow(/was not found in data factory/)
    expect(calls).toContain('factory')
  })

  it('reads the factory up front only when its identity matters', () => {
    const settings = (inputs: Record<string, string>) =>
      fakeStepContext({}, { inputs }).context.settings
    expect(factoryReadNeeded(settings({}))).toBe(false)
    expect(
      factoryReadNeeded(
        settings({ password: '', 'linked-service-auth': 'system-assigned-identity' })
      )
    ).toBe(true)
  })

  it('a Managed runtime naming the VNet (any case) proves it; another or none does not', () => {
    const { settings } = fakeStepContext({}).context
    expect(runtimeProvesVnet(managedRuntime('DEFAULT') as never, settings)).toBe(true)
    expect(runtimeProvesVnet(managedRuntime('other') as never, settings)).toBe(false)
    expect(runtimeProvesVnet(undefined, settings)).toBe(false)
  })
})
