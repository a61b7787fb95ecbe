import { describe, expect, it } from '@jest/globals'
import {
  decideTeardown,
  findReferences,
  references,
  teardownDone,
  findEndpointUsers,
  postgresHostsOf,
  teardown
} from '../../src/steps/teardown.js'
import type { EndpointView } from '../../src/steps/endpoint.js'
import { gatewayFailure, restError, type GatewayOperations } from '../fixtures/fake-azure.js'
import { endpointView, fakeStepContext } from '../fixtures/step-context.js'

const fqdn = 'pg-demo.postgres.database.azure.com'
const serverId =
  '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-demo'

function linkedService(name: string, properties: Record<string, unknown>) {
  return { name, body: { name, properties } }
}
const runtimes = [
  {
    name: 'AutoResolveIntegrationRuntime',
    body: {
      properties: {
        type: 'Managed',
        managedVirtualNetwork: { type: 'ManagedVirtualNetworkReference', referenceName: 'default' }
      }
    }
  },
  { name: 'PublicIR', body: { properties: { type: 'Managed' } } }
]
const viaVnet = {
  referenceName: 'AutoResolveIntegrationRuntime',
  type: 'IntegrationRuntimeReference'
}
const target = {
  linkedService: 'PostgreSql_pg-demo_appdb',
  serverFqdn: fqdn,
  managedVirtualNetwork: 'default'
}

describe('postgresHostsOf', () => {
  it.each([
    ['a v2 server', { server: fqdn }, [fqdn]],
    ['a legacy Host=', { connectionString: `Host=${fqdn};Port=5432;Database=x` }, [fqdn]],
    [
      'a legacy Server= in a SecureString, with port and a second host',
      {
        connectionString: {
          type: 'SecureString',
          value: `server = ${fqdn}:5432,replica.example;Database=x`
        }
      },
      [fqdn, 'replica.example']
    ],
    [
      'a masked SecureString',
      { connectionString: { type: 'SecureString', value: '**********' } },
      undefined
    ],
    [
      'an expression',
      { server: { value: '@linkedService().server', type: 'Expression' } },
      undefined
    ],
    [
      'a Key Vault connection string',
      { connectionString: { type: 'AzureKeyVaultSecret' } },
      undefined
    ]
  ])('reads %s', (_what, typeProperties, hosts) => {
    expect(postgresHostsOf({ properties: { type: 'AzurePostgreSql', typeProperties } })).toEqual(
      hosts
    )
  })
})

describe('findEndpointUsers', () => {
  it('finds the other PostgreSQL linked services that reach the server through the managed VNet', () => {
    const services = [
      linkedService('reporting', {
        type: 'AzurePostgreSql',
        typeProperties: { server: fqdn.toUpperCase() },
        connectVia: viaVnet
      }),
      linkedService('legacy', {
        type: 'PostgreSql',
        typeProperties: { connectionString: `Host=${fqdn};Database=x` }
      }),
      linkedService('v2', {
        type: 'PostgreSqlV2',
        typeProperties: { server: fqdn },
        connectVia: viaVnet
      }),
      // Our own, a probe, another server, a public runtime, another type: none counts.
      linkedService('postgresql_PG-DEMO_appdb', {
        type: 'AzurePostgreSql',
        typeProperties: { server: fqdn },
        connectVia: viaVnet
      }),
      linkedService('adf-pg-private-link-probe-1-1-aa-ls', {
        type: 'AzurePostgreSql',
        typeProperties: { server: fqdn }
      }),
      linkedService('elsewhere', {
        type: 'AzurePostgreSql',
        typeProperties: { server: 'pg-other.postgres.database.azure.com' }
      }),
      linkedService('public', {
        type: 'AzurePostgreSql',
        typeProperties: { server: fqdn },
        connectVia: { ...viaVnet, referenceName: 'PublicIR' }
      }),
      linkedService('blob', {
        type: 'AzureBlobStorage',
        typeProperties: { serviceEndpoint: fqdn }
      }),
      linkedService('secret', {
        type: 'AzurePostgreSql',
        typeProperties: { connectionString: { type: 'AzureKeyVaultSecret' } }
      })
    ]
    expect(findEndpointUsers(services, runtimes, target)).toEqual({
      using: ['reporting', 'legacy', 'v2'],
      unreadable: ['secret']
    })
  })
})

describe('decideTeardown keeps an endpoint that others use', () => {
  const endpoint = endpointView(serverId, { connectionStatus: 'Approved' })
  const observed = {
    linkedServiceExists: true,
    datasets: [],
    pipelines: [],
    endpoint,
    endpointUsers: { using: ['reporting', 'legacy'], unreadable: [] }
  }
  const decide = { linkedService: 'ls', serverId, force: false }

  it('keeps the endpoint, names the others, still deletes its own linked service', () => {
    expect(decideTeardown(observed, decide)).toMatchObject({
      deleteLinkedService: true,
      deleteEndpoint: false,
      blocker: undefined,
      notes: [
        "endpoint 'pg-pg-demo' kept: linked services 'reporting', 'legacy' also reach the server through it (Azure allows one managed private endpoint per target); set force: true to delete it anyway"
      ]
    })
  })

  it('force: true deletes it anyway and says so', () => {
    expect(decideTeardown(observed, { ...decide, force: true })).toMatchObject({
      deleteEndpoint: true,
      notes: [
        "force: deleting endpoint 'pg-pg-demo' although linked services 'reporting', 'legacy' reach the server through it"
      ]
    })
  })

  it('deletes it when nobody else uses it, warning about linked services it cannot read', () => {
    const decision = decideTeardown(
      { ...observed, endpointUsers: { using: [], unreadable: ['secret'] } },
      decide
    )
    expect(decision.deleteEndpoint).toBe(true)
    expect(decision.notes).toEqual([
      "could not tell which server linked services 'secret' use (expression or secret connection string): check they do not need endpoint 'pg-pg-demo'"
    ])
  })
})

describe('teardown: a Disconnected connection left on the server', () => {
  const peBase =
    '/subscriptions/msft/resourceGroups/vnet/providers/Microsoft.Network/privateEndpoints/'
  const deletePermission =
    'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/delete'

  /** Destroy with the linked service and the managed private endpoint already gone. */
  function destroyContext(deleteConnection: () => Promise<void>) {
    const deleted: string[] = []
    const clients: GatewayOperations = {
      listConnections: async () => [
        {
          // Another factory's endpoint of the same name: never ours to delete.
          name: 'adf-other.pg-pg-demo.guid',
          id: '/connections/foreign',
          privateEndpoint: { id: `${peBase}adf-other.pg-pg-demo` },
          privateLinkServiceConnectionState: { status: 'Disconnected' }
        },
        {
          name: 'adf-demo.pg-pg-demo.guid',
          id: '/connections/c',
          privateEndpoint: { id: `${peBase}adf-demo.pg-pg-demo` },
          privateLinkServiceConnectionState: { status: 'Disconnected' }
        }
      ],
      deleteConnection: async (name) => {
        deleted.push(name)
        await deleteConnection()
      },
      findLinkedService: async () => undefined,
      listRaw: async () => [],
      listManagedPrivateEndpoints: async () => []
    }
    const { context, recorded } = fakeStepContext(clients, {
      mode: 'destroy',
      inputs: { mode: 'destroy' }
    })
    return { context, recorded, deleted }
  }

  // A 404 on the delete is gone already: the gateway answers it as done (azure/gateway.test.ts).
  it('deletes our Disconnected connection and records it', async () => {
    const { context, recorded, deleted } = destroyContext(async () => undefined)
    const outcome = await teardown(context)
    expect(deleted).toEqual(['adf-demo.pg-pg-demo.guid'])
    expect(recorded.changes).toEqual([
      { action: 'deleted', resource: 'private-endpoint-connection', id: '/connections/c' }
    ])
    expect(outcome.done).toBe(
      "deleted; including the endpoint's Disconnected connection on the server"
    )
    expect(recorded.warnings).toEqual([])
  })

  it('only warns, naming the delete permission and scope, when the delete is forbidden', async () => {
    const { context, recorded, deleted } = destroyContext(async () => {
      throw gatewayFailure(
        restError(403, 'AuthorizationFailed', 'The client has no access.'),
        'delete the Disconnected private endpoint connection',
        '/connections/c',
        deletePermission
      )
    })
    const outcome = await teardown(context)
    expect(deleted).toEqual(['adf-demo.pg-pg-demo.guid'])
    expect(recorded.changes).toEqual([])
    expect(outcome.done).toBe(
      "nothing deleted; the endpoint's Disconnected connection is left on the server (see the warning)"
    )
    expect(recorded.warnings).toHaveLength(1)
    expect(recorded.warnings[0]).toContain(
      "Could not delete the Disconnected private endpoint connection '/connections/c' (HTTP 403"
    )
    expect(recorded.warnings[0]).toContain(`lacks '${deletePermission}' on scope '/connections/c'`)
  })
})

describe('teardown decisions', () => {
  const endpoint = (overrides: Partial<EndpointView>) => endpointView(serverId, overrides)

  const ref = { referenceName: 'ls', type: 'LinkedServiceReference' }
  const probeDataset = {
    name: 'adf-pg-private-link-probe-1-1-aa-dataset',
    body: { properties: { linkedServiceName: ref } }
  }
  const probePipelineBody = {
    name: 'ADF-PG-PRIVATE-LINK-PROBE-1-1-aa-pipeline',
    body: {
      properties: {
        activities: [{ dataset: { referenceName: probeDataset.name, type: 'DatasetReference' } }]
      }
    }
  }
  const datasets = [
    { name: 'sales', body: { properties: { linkedServiceName: ref } } },
    probeDataset,
    {
      name: 'unrelated',
      body: { properties: { linkedServiceName: { ...ref, referenceName: 'other' } } }
    }
  ]
  const target = { linkedService: 'ls', serverId, force: false }
  const noUsers = { using: [], unreadable: [] }

  it('matches references of the given type by name, in any case and at any depth', () => {
    const body = { a: [{ b: { type: 'DatasetReference', referenceName: 'SALES' } }] }
    expect(references(body, 'DatasetReference', ['sales'])).toBe(true)
    expect(references(body, 'LinkedServiceReference', ['sales'])).toBe(false)
    expect(references(body, 'DatasetReference', ['sale'])).toBe(false)
    expect(references(body, 'DatasetReference', [])).toBe(false)
  })

  it("finds datasets and pipelines using the linked service, directly or via a dataset, but not the action's own", () => {
    const pipelines = [
      {
        name: 'nightly',
        body: {
          properties: {
            activities: [{ inputs: [{ referenceName: 'Sales', type: 'DatasetReference' }] }]
          }
        }
      },
      {
        name: 'script',
        body: {
          properties: { activities: [{ linkedServiceName: { ...ref, referenceName: 'LS' } }] }
        }
      },
      {
        // Runs a pipeline that happens to share the dataset's name: not a use of the dataset.
        name: 'orchestrator',
        body: {
          properties: {
            activities: [
              {
                type: 'ExecutePipeline',
                typeProperties: { pipeline: { referenceName: 'sales', type: 'PipelineReference' } }
              }
            ]
          }
        }
      },
      {
        // Uses an unrelated dataset whose name would match as a substring.
        name: 'other',
        body: {
          properties: { activities: [{ referenceName: 'unrelated', type: 'DatasetReference' }] }
        }
      },
      probePipelineBody,
      { name: 'idle', body: { properties: { activities: [] } } }
    ]
    expect(findReferences('ls', datasets, pipelines)).toEqual([
      "dataset 'sales'",
      "pipeline 'nightly'",
      "pipeline 'script'"
    ])
  })

  it('never lets the connection-test objects block (the leftover sweep removes them by age)', () => {
    const decision = decideTeardown(
      {
        linkedServiceExists: true,
        datasets: [probeDataset, datasets[2]],
        pipelines: [probePipelineBody],
        endpointUsers: noUsers
      },
      target
    )
    expect(decision).toEqual({
      deleteLinkedService: true,
      deleteEndpoint: false,
      blocker: undefined,
      notes: []
    })
  })

  it('blocks on references unless forced, and leaves an endpoint aimed elsewhere alone', () => {
    const used = { linkedServiceExists: true, datasets, pipelines: [], endpointUsers: noUsers }
    expect(decideTeardown({ ...used, endpoint: endpoint({}) }, target).blocker).toBe(
      "Linked service 'ls' is still used by dataset 'sales'."
    )
    expect(decideTeardown(used, { ...target, force: true })).toMatchObject({
      deleteLinkedService: true,
      blocker: undefined,
      notes: ["force: deleting although used by dataset 'sales'"]
    })
    // References to a linked service that is already gone block nothing.
    expect(decideTeardown({ ...used, linkedServiceExists: false }, target).blocker).toBe(undefined)
    expect(
      decideTeardown(
        {
          linkedServiceExists: false,
          datasets: [],
          pipelines: [],
          endpoint: endpoint({ privateLinkResourceId: '/other' }),
          endpointUsers: noUsers
        },
        target
      )
    ).toMatchObject({
      deleteEndpoint: false,
      deleteLinkedService: false
    })
    expect(
      decideTeardown(
        { linkedServiceExists: false, datasets: [], pipelines: [], endpointUsers: noUsers },
        target
      )
    ).toEqual({
      deleteLinkedService: false,
      deleteEndpoint: false,
      blocker: undefined,
      notes: []
    })
  })

  it.each([
    [true, 'dropped', 'deleted; the server dropped the connection'],
    [true, 'none', 'deleted'],
    [false, 'none', 'nothing to delete'],
    [
      true,
      'leftover-deleted',
      "deleted; including the endpoint's Disconnected connection on the server"
    ],
    [
      false,
      'leftover-kept',
      "nothing deleted; the endpoint's Disconnected connection is left on the server (see the warning)"
    ]
  ] as const)('says what was done: deleted %s, connection %s', (deleted, connection, text) => {
    expect(teardownDone(deleted, connection)).toBe(text)
  })
})
