import { describe, expect, it } from '@jest/globals'
import { readSettings } from '../src/inputs.js'
import { createSecretMasker } from '../src/io.js'
import { approvalDescription, decideApproval } from '../src/steps/approval.js'
import {
  activityFailure,
  connectionTestHint,
  probePipeline,
  runState
} from '../src/steps/connection-test.js'
import { matchConnection, type ConnectionView } from '../src/steps/connections.js'
import { probeNames } from '../src/steps/probes.js'
import { decideEndpointAction, type EndpointView } from '../src/steps/endpoint.js'
import {
  desiredLinkedService,
  diffLinkedService,
  fingerprintPrefix,
  fingerprintSalt,
  mergeWithExisting,
  passwordFingerprint
} from '../src/steps/linked-service.js'
import { checkPreflight, type PreflightObservation } from '../src/steps/preflight.js'
import { decideTeardown, findReferences, references, teardownDone } from '../src/steps/teardown.js'
import { reader, validInputs } from './fixtures/inputs.js'
import { endpointView } from './fixtures/step-context.js'

const serverId =
  '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-demo'
const settingsWith = (overrides: Record<string, string> = {}) =>
  readSettings(
    reader({ ...validInputs, ...overrides }),
    createSecretMasker(() => undefined)
  )

function endpoint(overrides: Partial<EndpointView>): EndpointView {
  return endpointView(serverId, overrides)
}
const desired = { name: 'pg-pg-demo', privateLinkResourceId: serverId, groupId: 'postgresqlServer' }

describe('decideEndpointAction', () => {
  it('creates when nothing targets the server', () => {
    expect(
      decideEndpointAction(
        [endpoint({ name: 'other', privateLinkResourceId: '/elsewhere' })],
        desired,
        'fail'
      )
    ).toEqual({ kind: 'create' })
  })
  it('reuses an identical endpoint, comparing ids case-insensitively', () => {
    const same = endpoint({ name: 'PG-PG-DEMO', privateLinkResourceId: serverId.toLowerCase() })
    expect(decideEndpointAction([same], desired, 'fail')).toEqual({ kind: 'reuse', endpoint: same })
  })
  it('reports drift for the same name with another target or group, or recreates on request', () => {
    const drifted = endpoint({ groupId: 'sqlServer' })
    const decision = decideEndpointAction([drifted], desired, 'fail')
    expect(decision).toMatchObject({ kind: 'drift', endpoint: drifted })
    expect(decision.kind === 'drift' && decision.reason).toBe(
      'its group is sqlServer instead of postgresqlServer'
    )
    const moved = endpoint({ privateLinkResourceId: '/elsewhere' })
    expect(decideEndpointAction([moved], desired, 'fail')).toMatchObject({
      kind: 'drift',
      reason: `it targets /elsewhere instead of ${serverId}`
    })
    expect(decideEndpointAction([drifted], desired, 'recreate')).toMatchObject({ kind: 'recreate' })
  })
  it('reuses an endpoint of another name that already targets the server instead of a doomed PUT', () => {
    const other = endpoint({ name: 'hand-made' })
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
    const reserved = endpoint({ groupId: 'sqlServer', isReserved: true })
    expect(decideEndpointAction([reserved], desired, 'recreate')).toMatchObject({
      kind: 'drift',
      reason: 'its group is sqlServer instead of postgresqlServer (reserved by Data Factory)'
    })
  })
  it('reports the drift of the same name before reusing another endpoint to the server', () => {
    const moved = endpoint({ privateLinkResourceId: '/elsewhere' })
    const other = endpoint({ name: 'hand-made' })
    for (const onDrift of ['fail', 'recreate'] as const) {
      expect(decideEndpointAction([moved, other], desired, onDrift)).toEqual({
        kind: 'drift',
        endpoint: moved,
        reason: `it targets /elsewhere instead of ${serverId}, and endpoint 'hand-made' already targets this server (Azure allows one per target)`
      })
    }
  })
})

function connection(privateEndpointId: string, status = 'Pending'): ConnectionView {
  return {
    name: `${privateEndpointId.split('/').pop()}.guid`,
    id: `/c/${status}`,
    privateEndpointId,
    status,
    description: '',
    provisioningState: 'Succeeded'
  }
}
const peBase =
  '/subscriptions/msft/resourceGroups/vnet/providers/Microsoft.Network/privateEndpoints/'

describe('matchConnection', () => {
  const byName = { factoryName: 'adf-demo', endpointName: 'pg-pg-demo', privateEndpointId: '' }
  it("matches <factory>.<endpoint> case-insensitively and never another factory's endpoint of the same name", () => {
    const mine = connection(`${peBase}ADF-Demo.pg-pg-demo`)
    const foreign = connection(`${peBase}adf-analytics.pg-pg-demo`)
    expect(matchConnection([foreign, mine], byName, false)).toEqual({
      basis: 'name',
      kind: 'one',
      connection: mine
    })
    expect(matchConnection([foreign], byName, false)).toEqual({ basis: 'name', kind: 'none' })
    expect(matchConnection([connection(`${peBase}xadf-demo.pg-pg-demo`)], byName, false)).toEqual({
      basis: 'name',
      kind: 'none'
    })
  })
  it('lets no Disconnected leftover hide a live connection, and ignores it for a new endpoint', () => {
    const leftover = connection(`${peBase}adf-demo.pg-pg-demo`, 'Disconnected')
    const fresh = connection(`${peBase}adf-demo.pg-pg-demo`)
    expect(matchConnection([leftover, fresh], byName, false)).toEqual({
      basis: 'name',
      kind: 'one',
      connection: fresh
    })
    expect(matchConnection([leftover], byName, true)).toEqual({ basis: 'name', kind: 'none' })
    expect(matchConnection([leftover], byName, false)).toEqual({
      basis: 'name',
      kind: 'one',
      connection: leftover
    })
  })
  it('reports every match when more than one', () => {
    const a = connection(`${peBase}adf-demo.pg-pg-demo`)
    const b = connection(
      `/subscriptions/other/resourceGroups/r/providers/Microsoft.Network/privateEndpoints/adf-demo.pg-pg-demo`
    )
    expect(matchConnection([a, b], byName, false)).toEqual({
      basis: 'name',
      kind: 'many',
      connections: [a, b]
    })
  })
  it("with the endpoint's properties.resourceId, matches that private endpoint (case-insensitively), whatever its name", () => {
    const stated = `${peBase}pg-pg-demo.adf-demo`
    const mine = connection(stated)
    const namedLikeUs = connection(`${peBase}adf-demo.pg-pg-demo`)
    const identity = { ...byName, privateEndpointId: stated.toLowerCase() }
    expect(matchConnection([namedLikeUs, mine], identity, false)).toEqual({
      basis: 'resourceId',
      kind: 'one',
      connection: mine
    })
    expect(matchConnection([namedLikeUs], identity, false)).toEqual({
      basis: 'resourceId',
      kind: 'none'
    })
  })
  it('by resourceId too, a Disconnected leftover never hides a live connection', () => {
    const stated = `${peBase}adf-demo.pg-pg-demo`
    const leftover = connection(stated, 'Disconnected')
    const fresh = connection(stated)
    const identity = { ...byName, privateEndpointId: stated }
    expect(matchConnection([leftover, fresh], identity, false)).toMatchObject({
      kind: 'one',
      connection: fresh
    })
    expect(matchConnection([leftover], identity, true)).toMatchObject({ kind: 'none' })
  })
})

describe('decideApproval', () => {
  const pending = connection(`${peBase}f.e`)
  it.each([
    ['auto', 'approve'],
    ['wait', 'await-approval'],
    ['none', 'leave']
  ] as const)('a Pending connection in %s mode: %s', (mode, kind) => {
    expect(decideApproval(pending, mode).kind).toBe(kind)
    expect(decideApproval(undefined, mode).kind).toBe(kind)
  })
  it('does nothing to an Approved one and refuses Rejected/Disconnected at once', () => {
    expect(decideApproval({ ...pending, status: 'Approved' }, 'auto')).toEqual({ kind: 'approved' })
    expect(
      decideApproval({ ...pending, status: 'Rejected', description: 'no thanks' }, 'wait')
    ).toEqual({
      kind: 'refused',
      status: 'Rejected',
      description: 'no thanks'
    })
    expect(decideApproval({ ...pending, status: 'Disconnected' }, 'auto').kind).toBe('refused')
  })
  it('names the repository and run in the approval description', () => {
    expect(
      approvalDescription({
        repository: 'o/r',
        runId: '7',
        runAttempt: '1',
        runUrl: 'https://github.com/o/r/actions/runs/7'
      })
    ).toBe('Approved by adf-pg-private-link for o/r run 7 (https://github.com/o/r/actions/runs/7)')
  })
})

describe('linked service', () => {
  const fqdn = 'pg-demo.postgres.database.azure.com'

  it('builds the v2 body over the managed runtime', () => {
    const body = desiredLinkedService(settingsWith({ 'ssl-mode': 'verify-full' }), fqdn)
    expect(body).toEqual({
      type: 'AzurePostgreSql',
      version: '2.0',
      typeProperties: {
        server: fqdn,
        port: 5432,
        database: 'appdb',
        sslMode: 5,
        username: 'adfuser',
        authenticationType: 'BasicAuth',
        password: { type: 'SecureString', value: 'Sup3r-secret!' }
      },
      connectVia: {
        referenceName: 'AutoResolveIntegrationRuntime',
        type: 'IntegrationRuntimeReference'
      }
    })
  })

  it('references Key Vault, or stores no secret for the factory identity', () => {
    const kv = desiredLinkedService(
      settingsWith({
        password: '',
        'password-key-vault-linked-service': 'kv',
        'password-secret-name': 'pw',
        'password-secret-version': '0123456789abcdef0123456789abcdef'
      }),
      fqdn
    )
    expect((kv.typeProperties as Record<string, unknown>).password).toEqual({
      type: 'AzureKeyVaultSecret',
      store: { referenceName: 'kv', type: 'LinkedServiceReference' },
      secretName: 'pw',
      secretVersion: '0123456789abcdef0123456789abcdef'
    })
    const identity = desiredLinkedService(
      settingsWith({
        password: '',
        username: '',
        'linked-service-auth': 'system-assigned-identity'
      }),
      fqdn
    )
    expect(identity.typeProperties).toEqual({
      server: fqdn,
      port: 5432,
      database: 'appdb',
      sslMode: 3,
      authenticationType: 'SystemAssignedManagedIdentity'
    })
  })

  /** The linked service as Azure returns it after a write: the SecureString masked. */
  function asReturned(properties: Record<string, unknown>): unknown {
    const typeProperties = { ...(properties.typeProperties as Record<string, unknown>) }
    if (typeProperties.password)
      typeProperties.password = { type: 'SecureString', value: '**********' }
    return {
      id: '/ls',
      name: 'ls',
      properties: {
        ...properties,
        typeProperties: { ...typeProperties, port: String(typeProperties.port) }
      }
    }
  }

  it('creates when missing and finds nothing to change after its own write', () => {
    const settings = settingsWith()
    const first = mergeWithExisting(
      desiredLinkedService(settings, fqdn),
      undefined,
      'Sup3r-secret!'
    )
    expect(diffLinkedService(undefined, first)).toEqual({ kind: 'create' })
    const again = mergeWithExisting(
      desiredLinkedService(settings, fqdn),
      asReturned(first),
      'Sup3r-secret!'
    )
    expect(diffLinkedService(asReturned(first), again)).toEqual({ kind: 'same' })
  })

  it('detects a changed password through the fingerprint, without storing the password', () => {
    const put = mergeWithExisting(
      desiredLinkedService(settingsWith(), fqdn),
      undefined,
      'Sup3r-secret!'
    )
    // The SecureString is the one place the password may be; the fingerprint must not reveal it.
    const typeProperties = put.typeProperties as { password: { value: string } }
    expect(typeProperties.password.value).toBe('Sup3r-secret!')
    const withoutSecureString = {
      ...put,
      typeProperties: { ...typeProperties, password: { ...typeProperties.password, value: '' } }
    }
    expect(JSON.stringify(withoutSecureString)).not.toContain('Sup3r-secret!')
    expect(put.annotations).toEqual([expect.stringMatching(new RegExp(`^${fingerprintPrefix}`))])
    const [annotation] = put.annotations as string[]
    expect(annotation).toBe(passwordFingerprint('Sup3r-secret!', fingerprintSalt(annotation) ?? ''))
    const stored = asReturned(put)
    const changed = mergeWithExisting(
      desiredLinkedService(settingsWith({ password: 'new-one' }), fqdn),
      stored,
      'new-one'
    )
    expect(diffLinkedService(stored, changed)).toEqual({ kind: 'update', fields: ['password'] })
  })

  it('salts the fingerprint', () => {
    expect(passwordFingerprint('pw', 'AAAA')).not.toBe(passwordFingerprint('pw', 'BBBB'))
    expect(passwordFingerprint('pw', 'AAAA')).toBe(passwordFingerprint('pw', 'AAAA'))
  })

  it('names each differing field, and keeps what others set', () => {
    const first = mergeWithExisting(
      desiredLinkedService(settingsWith(), fqdn),
      undefined,
      'Sup3r-secret!'
    )
    const stored = asReturned({
      ...first,
      description: 'mine',
      annotations: [...(first.annotations as string[]), 'team-a'],
      typeProperties: { ...(first.typeProperties as object), commandTimeout: 30 }
    })
    const next = mergeWithExisting(
      desiredLinkedService(
        settingsWith({ 'ssl-mode': 'verify-ca', port: '6432', 'integration-runtime': 'ir-2' }),
        fqdn
      ),
      stored,
      'Sup3r-secret!'
    )
    expect(diffLinkedService(stored, next)).toEqual({
      kind: 'update',
      fields: ['connectVia.referenceName', 'typeProperties.port', 'typeProperties.sslMode']
    })
    expect(next).toMatchObject({ description: 'mine', typeProperties: { commandTimeout: 30 } })
    expect(next.annotations).toEqual(expect.arrayContaining(['team-a']))
  })

  it('calls a linked service of another type a replacement', () => {
    const legacy = { properties: { type: 'PostgreSql', typeProperties: { connectionString: 'x' } } }
    expect(diffLinkedService(legacy, desiredLinkedService(settingsWith(), fqdn))).toEqual({
      kind: 'replace',
      existingType: 'PostgreSql'
    })
  })

  it('updates the v1 connector to version 2.0', () => {
    const v1 = {
      properties: {
        type: 'AzurePostgreSql',
        version: '1.0',
        typeProperties: { connectionString: 'host=x' }
      }
    }
    const decision = diffLinkedService(
      v1,
      mergeWithExisting(desiredLinkedService(settingsWith(), fqdn), v1, 'Sup3r-secret!')
    )
    expect(decision.kind === 'update' && decision.fields).toEqual(
      expect.arrayContaining([
        'version',
        'typeProperties.connectionString',
        'typeProperties.server'
      ])
    )
  })
})

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
    expect(checkPreflight(healthy, settingsWith())).toEqual([])
  })
  it('stops at a missing factory', () => {
    const findings = checkPreflight({ managedVirtualNetworks: [] }, settingsWith())
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
      settingsWith()
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
      settingsWith()
    )
    expect(findings[0].message).toMatch(
      /integrated into a virtual network .*Private Link cannot be used/
    )
    expect(findings[0].hint).toMatch(/Public access \(allowed IP addresses\)/)
    expect(findings[1].message).toMatch(/is Stopped, not Ready/)
  })
  it('checks the Key Vault linked service type and the factory identity when they are needed', () => {
    const kvSettings = settingsWith({
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
    const identitySettings = settingsWith({
      password: '',
      'linked-service-auth': 'system-assigned-identity'
    })
    expect(
      checkPreflight({ ...healthy, factory: { id: '/f' } }, identitySettings)[0].message
    ).toMatch(/no system-assigned managed identity/)
  })
})

describe('connection test decisions', () => {
  it('names temporary resources uniquely per run and attempt, with their creation time', () => {
    expect(probeNames(new Date('2026-11-30T17:20:05.123Z'), '123', '2', 'abcdef')).toEqual({
      linkedService: 'adf-pg-private-link-probe-20261130T172005Z-123-2-abcdef-linkedservice',
      dataset: 'adf-pg-private-link-probe-20261130T172005Z-123-2-abcdef-dataset',
      pipeline: 'adf-pg-private-link-probe-20261130T172005Z-123-2-abcdef-pipeline'
    })
  })
  it('builds one Lookup over the dataset with the test query', () => {
    expect(probePipeline('ds', 'SELECT 2').activities).toEqual([
      expect.objectContaining({
        type: 'Lookup',
        source: { type: 'AzurePostgreSqlSource', query: 'SELECT 2' },
        dataset: { referenceName: 'ds', type: 'DatasetReference' },
        firstRowOnly: true
      })
    ])
  })
  it('reads run states', () => {
    expect(
      ['Queued', 'InProgress', 'Canceling', 'Succeeded', 'Failed', 'Cancelled'].map(runState)
    ).toEqual(['running', 'running', 'running', 'succeeded', 'failed', 'failed'])
  })
  it("surfaces the failed activity's own message and a fitting hint", () => {
    const message = activityFailure([
      { status: 'Succeeded', error: { message: '' } },
      {
        status: 'Failed',
        error: { errorCode: '2200', message: 'password authentication failed for user "adfuser"' }
      }
    ] as never)
    expect(message).toBe('password authentication failed for user "adfuser" (error code 2200)')
    expect(connectionTestHint(message ?? '')).toMatch(/refused the sign-in/)
    expect(connectionTestHint('connection timed out')).toMatch(/could not reach the server/)
    expect(connectionTestHint('database "x" does not exist')).toMatch(/database does not exist/)
  })
})

describe('teardown decisions', () => {
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
