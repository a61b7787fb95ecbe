// Preflight's request budget: which reads it sends (the runtime and the server always, the
// factory and its managed VNets only when needed), against a fake gateway that counts calls.
import { describe, expect, it } from '@jest/globals'
import {
  checkPreflight,
  factoryReadNeeded,
  runPreflight,
  runtimeProvesVnet,
  type PreflightObservation
} from '../../src/steps/preflight.js'
import { settingsFrom } from '../fixtures/inputs.js'
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

const serverId =
  '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-demo'

describe('checkPreflight', () => {
  const healthy: PreflightObservation = {
    factory: { id: '/f', identity: { type: 'SystemAssigned', principalId: 'p' } as never },
    managedVirtualNetworks: ['default'],
    integrationRuntime: {
      properties: {
        type: 'Managed',
        managedVirtualNetwork: { type: 'ManagedVirtualNetworkReference', referenceName: 'default' }
      }
    } as never,
    server: {
      id: serverId,
      state: 'Ready',
      fullyQualifiedDomainName: 'pg-demo.postgres.database.azure.com',
      network: {}
    }
  }
  it('finds nothing wrong with a healthy setup', () => {
    expect(checkPreflight(healthy, settingsFrom())).toEqual([])
  })
  it('stops at a missing factory', () => {
    const findings = checkPreflight({ managedVirtualNetworks: [] }, settingsFrom())
    expect(findings).toHaveLength(1)
    expect(findings[0].message).toMatch(/Data factory 'adf-demo' was not found/)
  })
  it('explains a missing managed VNet and a runtime outside it', () => {
    const findings = checkPreflight(
      {
        ...healthy,
        managedVirtualNetworks: [],
        integrationRuntime: { properties: { type: 'Managed' } } as never
      },
      settingsFrom()
    )
    expect(findings.map((f) => f.message)).toEqual([
      "Data factory 'adf-demo' has no managed virtual network 'default' (found: none).",
      "Integration runtime 'AutoResolveIntegrationRuntime' does not run in managed virtual network 'default' (its managed virtual network: none)."
    ])
  })
  it('explains that a VNet-integrated server cannot use Private Link, and a server not Ready', () => {
    const findings = checkPreflight(
      {
        ...healthy,
        server: {
          ...healthy.server,
          state: 'Stopped',
          network: { delegatedSubnetResourceId: '/subnet' }
        }
      },
      settingsFrom()
    )
    expect(findings[0].message).toMatch(
      /integrated into a virtual network .*Private Link cannot be used/
    )
    expect(findings[0].hint).toMatch(/Public access \(allowed IP addresses\)/)
    expect(findings[1].message).toMatch(/is Stopped, not Ready/)
  })
  it('checks the Key Vault linked service type and the factory identity when they are needed', () => {
    const kvSettings = settingsFrom({
      password: '',
      'password-key-vault-linked-service': 'kv',
      'password-secret-name': 'pw'
    })
    const store = (type?: string) => ({ ...healthy, keyVaultStore: { name: 'kv', type } })
    expect(checkPreflight(store('AzureKeyVault'), kvSettings)).toEqual([])
    expect(checkPreflight(store('AzureBlobStorage'), kvSettings)[0].message).toMatch(
      /Linked service 'kv' is of type AzureBlobStorage, not AzureKeyVault/
    )
    expect(checkPreflight(store(undefined), kvSettings)[0].message).toMatch(
      /Key Vault linked service 'kv' was not found/
    )
    const identitySettings = settingsFrom({
      password: '',
      'linked-service-auth': 'system-assigned-identity'
    })
    expect(
      checkPreflight({ ...healthy, factory: { id: '/f' } }, identitySettings)[0].message
    ).toMatch(/no system-assigned managed identity/)
  })
})
