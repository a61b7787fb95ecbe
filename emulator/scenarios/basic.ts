// A complete, realistic scenario: one tenant, subscription and resource group holding a managed-VNet
// factory and a Ready PostgreSQL server, a deployer principal, and a look-alike foreign connection.
import { clouds } from '../../src/clouds.js'
import { microsoftManagedSubscriptionId } from '../src/datafactory.js'
import { testDelays } from '../src/delays.js'
import { emulatorUrlPlaceholder, type Scenario } from '../src/types.js'

export const basicIds = {
  tenantId: '5f1c7e2a-3b4d-4c6e-8f90-1a2b3c4d5e6f',
  subscriptionId: '0b9e4f3a-7c21-4d58-a6e3-2f8b1c9d0e47',
  resourceGroup: 'rg-data-platform',
  location: 'westeurope',
  factoryName: 'adf-demo',
  serverName: 'pg-demo',
  database: 'appdb',
  clientId: '3c8d2e1f-6a5b-4f7e-9d0c-8b1a2f3e4d5c',
  objectId: '9a7b6c5d-4e3f-4a1b-8c2d-1e0f9a8b7c6d',
  githubSubject: 'repo:octo-org/octo-repo:ref:refs/heads/main'
} as const

/** The endpoint name the action picks by default for pg-demo (`pg-<server>`), also used by the look-alike. */
const defaultEndpointNameForDemo = `pg-${basicIds.serverName}`

export function basicScenario(overrides: Partial<Scenario> = {}): Scenario {
  const { tenantId, subscriptionId, resourceGroup, location } = basicIds
  const resourceGroupScope = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`
  const scenario: Scenario = {
    tenantId,
    github: { repository: 'octo-org/octo-repo', ref: 'refs/heads/main' },
    subscriptions: [
      {
        id: subscriptionId,
        displayName: 'Data Platform (dev)',
        resourceGroups: [{ name: resourceGroup, location }]
      }
    ],
    principals: [
      {
        displayName: 'github-octo-repo-deployer',
        clientId: basicIds.clientId,
        objectId: basicIds.objectId,
        clientSecret: 'emulator-only-secret~7Qm2vX9pL4',
        federatedCredentials: [
          {
            issuer: `${emulatorUrlPlaceholder}/github-oidc`,
            subject: basicIds.githubSubject,
            audience: clouds.AzureCloud.oidcAudience
          }
        ],
        roles: [{ scope: resourceGroupScope, role: 'Contributor' }]
      }
    ],
    factories: [
      {
        subscriptionId,
        resourceGroup,
        name: basicIds.factoryName,
        location,
        managedVirtualNetwork: 'default',
        integrationRuntimes: [
          { name: 'AutoResolveIntegrationRuntime', managedVirtualNetwork: 'default' }
        ]
      }
    ],
    servers: [
      {
        subscriptionId,
        resourceGroup,
        name: basicIds.serverName,
        location,
        state: 'Ready',
        databases: [basicIds.database],
        roles: [{ name: 'adfuser', password: 'emulator-only-Pg-p4ss' }],
        connections: [
          {
            // Another team's factory asked for the same endpoint name: only the factory name tells them apart.
            privateEndpointId: `/subscriptions/${microsoftManagedSubscriptionId}/resourceGroups/vnet-7e1f0c2b9a8d4e6f/providers/Microsoft.Network/privateEndpoints/adf-analytics.${defaultEndpointNameForDemo}`,
            status: 'Pending',
            description: 'Requested by Data Factory adf-analytics'
          }
        ]
      }
    ],
    delays: testDelays
  }
  return { ...scenario, ...overrides, delays: { ...testDelays, ...overrides.delays } }
}
