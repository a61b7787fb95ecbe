import { describe, expect, it } from '@jest/globals'
import { armIds } from '../../src/azure/ids.js'
import { settingsFrom } from '../fixtures/inputs.js'

describe('armIds', () => {
  const settings = settingsFrom({ 'server-resource-group': 'rg-db' })
  const ids = armIds(settings)
  const factory =
    '/subscriptions/0b9e4f3a-7c21-4d58-a6e3-2f8b1c9d0e47/resourceGroups/rg-data/providers/Microsoft.DataFactory/factories/adf-demo'

  it('builds the factory, its managed VNet and endpoints, and its children as Resource Manager names them', () => {
    expect(ids.factory).toBe(factory)
    expect(ids.managedVirtualNetwork).toBe(`${factory}/managedVirtualNetworks/default`)
    expect(ids.managedPrivateEndpoint('pg-pg-demo')).toBe(
      `${factory}/managedVirtualNetworks/default/managedPrivateEndpoints/pg-pg-demo`
    )
    expect(ids.factoryChild('linkedservices', 'ls')).toBe(`${factory}/linkedservices/ls`)
  })

  it("puts the server's connections under the server's own id (its resource group, not the factory's)", () => {
    expect(ids.server).toBe(settings.server.id)
    expect(ids.server).toContain('/resourceGroups/rg-db/')
    expect(ids.connection('c')).toBe(`${settings.server.id}/privateEndpointConnections/c`)
  })
})
